import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { WatchRule } from '../spec/model.js';
import {
  compileRules, ignores, wantsDirectory, containerPath, watchRoots, planBatch, formatPlan, restartDependents, isEditorTemp,
  type WatchedService, type PathKind, type CompiledProject,
} from './rules.js';

const rule = (r: Partial<WatchRule> & Pick<WatchRule, 'path' | 'action'>): WatchRule => ({ ignore: [], include: [], initial_sync: false, ...r });

function project(services: WatchedService[], kinds: Record<string, PathKind>, ignoreFiles: Record<string, string> = {}): CompiledProject {
  return compileRules({
    services,
    pathKinds: new Map(Object.entries(kinds)),
    ignoreFiles: new Map(Object.entries(ignoreFiles).map(([svc, text]) => [svc, { file: `/p/${svc}/.dockerignore`, text }])),
    composeFiles: ['/p/compose.yaml'],
  });
}

const web: WatchedService = {
  name: 'web',
  build: { context: '/p/web', dockerfile: 'Dockerfile' },
  buildKey: 'web',
  workingDir: '/app',
  dependsOn: {},
  rules: [
    rule({ path: '/p/web/src', action: 'sync', target: '/app/src', ignore: ['*.log', 'cache/', '!cache/keep.txt'] }),
    rule({ path: '/p/web', action: 'rebuild', ignore: ['src/'] }),
  ],
};

test('compile: every unusable rule is named at once', () => {
  assert.throws(() => project([
    { name: 'a', dependsOn: {}, rules: [rule({ path: '/p/missing', action: 'sync', target: '/x' }), rule({ path: '/p/a', action: 'sync' })] },
    { name: 'b', dependsOn: {}, rules: [rule({ path: '/p/b', action: 'sync', target: '/x', ignore: ['!'] })] },
  ], { '/p/a': 'dir', '/p/b': 'dir' }), (err: Error) => {
    assert.match(err.message, /service "a" develop\.watch\[0\]: path \/p\/missing does not exist/);
    assert.match(err.message, /service "a" develop\.watch\[1\]: the sync action needs a target/);
    assert.match(err.message, /service "b" develop\.watch\[0\]\.ignore:1: illegal exclusion pattern/);
    return true;
  });
});

test('ignores: .git, editor temp files, the rule\'s patterns with ! exceptions', () => {
  const p = project([web], { '/p/web/src': 'dir', '/p/web': 'dir' });
  const sync = p.rules[0]!;
  assert.equal(ignores(sync, '/p/web/src/app.js'), false);
  for (const f of ['.git/HEAD', 'sub/.git/index', '.app.js.swp', 'app.js~', '.#app.js', '#app.js#', '4913', '.DS_Store', 'app.js___jb_tmp___', 'x.log', 'cache/a', 'cache/deep/b']) {
    assert.equal(ignores(sync, `/p/web/src/${f}`), true, f);
  }
  assert.equal(ignores(sync, '/p/web/src/cache/keep.txt'), false, '! exception');
  assert.equal(ignores(sync, '/other/app.js'), true, 'outside the rule');
  assert.equal(isEditorTemp('notes.swp'), true);
  assert.equal(isEditorTemp('swap.js'), false);
});

test('ignores: the context .dockerignore (with ! exceptions) applies inside the context only', () => {
  const svc: WatchedService = { ...web, rules: [rule({ path: '/p', action: 'sync', target: '/srv' })] };
  const p = project([svc], { '/p': 'dir' }, { web: 'node_modules\n*.md\n!README.md\n' });
  const r = p.rules[0]!;
  assert.equal(ignores(r, '/p/web/node_modules/x/index.js'), true);
  assert.equal(ignores(r, '/p/web/CHANGES.md'), true);
  assert.equal(ignores(r, '/p/web/README.md'), false, '! exception (docker/compose#12236)');
  assert.equal(ignores(r, '/p/other/CHANGES.md'), false, 'outside the context');
});

test('ignores: the Dockerfile, its ignore file and the compose files are never synced, but trigger a rebuild', () => {
  const p = project([web], { '/p/web/src': 'dir', '/p/web': 'dir' });
  const svc: WatchedService = { ...web, rules: [rule({ path: '/p', action: 'sync', target: '/srv' }), rule({ path: '/p', action: 'rebuild' })] };
  const q = project([svc], { '/p': 'dir' });
  for (const f of ['/p/web/Dockerfile', '/p/web/Dockerfile.dockerignore', '/p/compose.yaml', '/p/docker-compose.override.yml']) {
    assert.equal(ignores(q.rules[0]!, f), true, `sync ${f}`);
  }
  assert.equal(ignores(q.rules[1]!, '/p/web/Dockerfile'), false, 'rebuild on a Dockerfile change');
  assert.equal(ignores(p.rules[1]!, '/p/web/src/a.js'), true, 'the rebuild rule ignores src/');
  assert.equal(ignores(p.rules[1]!, '/p/web/package.json'), false);
});

test('include: only matching paths count', () => {
  const p = project([{ name: 's', dependsOn: {}, rules: [rule({ path: '/p/s', action: 'sync', target: '/s', include: ['*.py', 'conf/'] })] }], { '/p/s': 'dir' });
  const r = p.rules[0]!;
  assert.equal(ignores(r, '/p/s/app.py'), false);
  assert.equal(ignores(r, '/p/s/conf/a.ini'), false);
  assert.equal(ignores(r, '/p/s/README'), true);
});

test('wantsDirectory: a directory ignored whole is not watched, unless an exception reaches below it', () => {
  const p = project([
    { name: 'a', dependsOn: {}, rules: [rule({ path: '/p/a', action: 'sync', target: '/a', ignore: ['node_modules/', 'build/', '!build/keep'] })] },
    { name: 'f', dependsOn: {}, rules: [rule({ path: '/p/f/package.json', action: 'rebuild' })] },
  ], { '/p/a': 'dir', '/p/f/package.json': 'file' });
  const [a, f] = p.rules;
  assert.equal(wantsDirectory(a!, '/p/a'), true);
  assert.equal(wantsDirectory(a!, '/p/a/src'), true);
  assert.equal(wantsDirectory(a!, '/p/a/node_modules'), false);
  assert.equal(wantsDirectory(a!, '/p/a/build'), true);
  assert.equal(wantsDirectory(a!, '/p/a/.git'), false);
  assert.equal(wantsDirectory(f!, '/p/f'), true);
  assert.equal(wantsDirectory(f!, '/p/f/src'), false);
});

test('containerPath: below the target; relative targets against working_dir; file rules map to the target', () => {
  const p = project([
    { name: 'a', workingDir: '/app', dependsOn: {}, rules: [rule({ path: '/p/a', action: 'sync', target: 'src' }), rule({ path: '/p/a.conf', action: 'sync', target: '/etc/a.conf' }), rule({ path: '/p/r', action: 'sync', target: '/' })] },
  ], { '/p/a': 'dir', '/p/a.conf': 'file', '/p/r': 'dir' });
  const [dir, file, root] = p.rules;
  assert.equal(dir!.target, '/app/src');
  assert.equal(containerPath(dir!, '/p/a/x/y.js'), '/app/src/x/y.js');
  assert.equal(containerPath(dir!, '/p/a'), '/app/src');
  assert.equal(containerPath(dir!, '/p/ab/x'), undefined, 'a sibling with a common prefix is not inside');
  assert.equal(containerPath(file!, '/p/a.conf'), '/etc/a.conf');
  assert.equal(containerPath(file!, '/p/a.conf.bak'), undefined);
  assert.equal(containerPath(root!, '/p/r/x'), '/x');
});

test('watchRoots: one recursive watch per tree, file rules watch their directory alone', () => {
  const p = project([
    { name: 'a', dependsOn: {}, rules: [rule({ path: '/p/src', action: 'sync', target: '/s' }), rule({ path: '/p/src/lib', action: 'sync+restart', target: '/l' }), rule({ path: '/p/package.json', action: 'rebuild' })] },
    { name: 'b', dependsOn: {}, rules: [rule({ path: '/p/src/lib/x.conf', action: 'restart' }), rule({ path: '/p/Dockerfile', action: 'rebuild' })] },
  ], { '/p/src': 'dir', '/p/src/lib': 'dir', '/p/package.json': 'file', '/p/src/lib/x.conf': 'file', '/p/Dockerfile': 'file' });
  assert.deepEqual(watchRoots(p.rules), [{ path: '/p', recursive: false }, { path: '/p/src', recursive: true }]);
});

const stack = (): CompiledProject => project([
  { name: 'api', build: { context: '/p/api' }, buildKey: 'api', dependsOn: { db: { restart: true } }, rules: [
    rule({ path: '/p/api/src', action: 'sync+restart', target: '/app/src' }),
    rule({ path: '/p/api/package.json', action: 'rebuild' }),
    rule({ path: '/p/api/static', action: 'sync+exec', target: '/app/static', exec: { command: ['npm', 'run', 'assets'], privileged: false, environment: {} } }),
  ] },
  { name: 'worker', build: { context: '/p/api' }, buildKey: 'api', dependsOn: { api: { restart: false } }, rules: [] },
  { name: 'web', buildKey: 'web', dependsOn: { api: { restart: true } }, rules: [rule({ path: '/p/web/nginx.conf', action: 'restart' })] },
  { name: 'db', dependsOn: {}, rules: [rule({ path: '/p/db/conf', action: 'sync+restart', target: '/etc/db' })] },
], { '/p/api/src': 'dir', '/p/api/package.json': 'file', '/p/api/static': 'dir', '/p/web/nginx.conf': 'file', '/p/db/conf': 'dir' });

test('planBatch: many files of a sync+restart rule are one restart, sync+exec one exec', () => {
  const files = Array.from({ length: 500 }, (_, i) => `/p/api/src/f${i}.js`);
  const plan = planBatch(stack(), [...files, '/p/api/static/a.css', '/p/api/static/b.css']);
  assert.equal(formatPlan(plan), [
    'sync api develop.watch[0] → /app/src: 500 paths',
    'sync api develop.watch[2] → /app/static: 2 paths',
    'restart api',
    'restart web',
    'exec api develop.watch[2]: npm run assets',
  ].join('\n'));
});

test('planBatch: a rebuild supersedes syncs, builds a shared image once and recreates its users and restart dependents', () => {
  const plan = planBatch(stack(), ['/p/api/package.json', '/p/api/src/a.js']);
  assert.equal(formatPlan(plan), [
    'build api for api, worker',
    'recreate api',
    'recreate web',
    'recreate worker',
  ].join('\n'));
});

test('planBatch: restart without sync; depends_on.restart dependents restart transitively; ignored paths ask nothing', () => {
  const plan = planBatch(stack(), ['/p/web/nginx.conf', '/p/db/conf/my.cnf', '/p/db/conf/.my.cnf.swp', '/p/elsewhere/x']);
  assert.equal(formatPlan(plan), [
    'sync db develop.watch[0] → /etc/db: 1 path',
    'restart api',
    'restart db',
    'restart web',
  ].join('\n'));
  assert.deepEqual(planBatch(stack(), ['/p/db/conf/.my.cnf.swp', '/p/api/src/.git/x']).services, []);
  assert.deepEqual(restartDependents(stack(), ['db']), ['api', 'web']);
});
