// The whole pipeline on in-memory files: discovery, .env, merge of several files, extends,
// include, profiles, project name, semantic errors with positions.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { load, normalizeProjectName, type LoadOptions } from './load.js';
import { SpecError } from './errors.js';
import { memoryFiles } from './testing.js';

function run(files: Record<string, string>, opts: Partial<LoadOptions> = {}) {
  return load({ env: {}, cwd: '/p', ...opts }, memoryFiles(files));
}
function issues(files: Record<string, string>, opts: Partial<LoadOptions> = {}) {
  try { run(files, opts); } catch (e) { if (e instanceof SpecError) return e.issues; throw e; }
  assert.fail('expected a SpecError');
}

test('discovery: compose.yaml found upward, with its override twin', () => {
  const r = run({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n', '/p/compose.override.yaml': 'services:\n  a:\n    environment: [A=1]\n' }, { cwd: '/p/sub/dir' });
  assert.deepEqual(r.project.compose_files, ['/p/compose.yaml', '/p/compose.override.yaml']);
  assert.equal(r.project.name, 'p');
  assert.deepEqual(r.project.services['a']!.environment, { A: '1' });
});

test('discovery: compose.yaml preferred over docker-compose.yml; COMPOSE_FILE list', () => {
  const files = { '/p/compose.yaml': 'services: {a: {image: x}}\n', '/p/docker-compose.yml': 'services: {b: {image: x}}\n', '/p/extra.yml': 'services: {c: {image: y}}\n' };
  assert.deepEqual(Object.keys(run(files).project.services), ['a']);
  assert.deepEqual(Object.keys(run(files, { env: { COMPOSE_FILE: 'docker-compose.yml:extra.yml' } }).project.services), ['b', 'c']);
  assert.throws(() => run({}, { cwd: '/nowhere' }), SpecError);
});

test('.env feeds interpolation; the shell wins; --env-file replaces .env', () => {
  const files = { '/p/compose.yaml': 'services:\n  a:\n    image: "img:${TAG}"\n    environment: ["X=${X:-none}"]\n', '/p/.env': 'TAG=fromdotenv\nX=dx\n', '/p/other.env': 'TAG=other\n' };
  assert.equal(run(files).project.services['a']!.image, 'img:fromdotenv');
  assert.equal(run(files, { env: { TAG: 'shell' } }).project.services['a']!.image, 'img:shell');
  const o = run(files, { envFiles: ['other.env'] }).project.services['a']!;
  assert.equal(o.image, 'img:other');
  assert.deepEqual(o.environment, { X: 'none' });
});

test('project name: -p, COMPOSE_PROJECT_NAME, name:, directory (normalized)', () => {
  const files = { '/p/My Dir.x/compose.yaml': 'name: fromfile\nservices: {a: {image: x}}\n', '/p/Other_Dir!/compose.yaml': 'services: {a: {image: x}}\n' };
  assert.equal(run(files, { cwd: '/p/My Dir.x' }).project.name, 'fromfile');
  assert.equal(run(files, { cwd: '/p/My Dir.x', env: { COMPOSE_PROJECT_NAME: 'envname' } }).project.name, 'envname');
  assert.equal(run(files, { cwd: '/p/My Dir.x', projectName: 'flag' }).project.name, 'flag');
  assert.equal(run(files, { cwd: '/p/Other_Dir!' }).project.name, 'other_dir');
  assert.throws(() => run(files, { cwd: '/p/My Dir.x', projectName: 'Bad Name' }), SpecError);
  assert.equal(normalizeProjectName('-My.Project_1'), 'myproject_1');
});

test('profiles: --profile and COMPOSE_PROFILES', () => {
  const files = { '/p/compose.yaml': 'services:\n  web: {image: x}\n  debug: {image: y, profiles: [debug]}\n  mock: {image: z, profiles: [dev, test]}\n' };
  assert.deepEqual(Object.keys(run(files).project.services), ['web']);
  assert.deepEqual(Object.keys(run(files, { profiles: ['dev'] }).project.services), ['web', 'mock']);
  assert.deepEqual(Object.keys(run(files, { env: { COMPOSE_PROFILES: 'debug,test' } }).project.services), ['web', 'debug', 'mock']);
  assert.deepEqual(Object.keys(run(files, { profiles: ['*'] }).project.services), ['web', 'debug', 'mock']);
  assert.deepEqual(run(files).project.all_profiles, ['debug', 'dev', 'test']);
});

test('extends: same file and another file, paths kept relative to their own file', () => {
  const r = run({
    '/p/compose.yaml': 'services:\n  base:\n    image: b\n    environment: {A: "1"}\n  web:\n    extends: base\n    environment: {B: "2"}\n  other:\n    extends:\n      file: lib/common.yaml\n      service: common\n    command: run\n',
    '/p/lib/common.yaml': 'services:\n  common:\n    image: c\n    volumes: ["./data:/data"]\n    command: ["old"]\n',
  });
  assert.deepEqual(r.project.services['web']!.environment, { A: '1', B: '2' });
  assert.equal(r.project.services['web']!.image, 'b');
  assert.deepEqual(r.project.services['other']!.command, ['run']);
  assert.equal(r.project.services['other']!.volumes[0]!.source, '/p/lib/data');
});

test('extends: cycles and missing services are located errors', () => {
  const i = issues({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n' });
  assert.match(i[0]!.found, /cycle/);
  const j = issues({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    extends: nope\n' });
  assert.equal(j[0]!.line, 4);
  assert.match(j[0]!.found, /nope/);
});

test('include: resources of the included project join, paths relative to it; conflicts are errors', () => {
  const r = run({
    '/p/compose.yaml': 'include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: w\n    depends_on: [db]\n',
    '/p/sub/compose.yaml': 'services:\n  db:\n    image: "db:${V}"\n    volumes: ["./init:/init"]\n',
    '/p/sub/.env': 'V=15\n',
  });
  assert.equal(r.project.services['db']!.image, 'db:15');
  assert.equal(r.project.services['db']!.volumes[0]!.source, '/p/sub/init');
  const i = issues({ '/p/compose.yaml': 'include: [sub.yaml]\nservices:\n  db:\n    image: x\n', '/p/sub.yaml': 'services:\n  db:\n    image: y\n' });
  assert.match(i[0]!.found, /defined in both/);
});

test('semantic errors: unknown dependency, undefined network/volume/secret, cycles — each located', () => {
  const i = issues({ '/p/compose.yaml': [
    'services:', '  a:', '    image: x', '    depends_on: [nope]', '    networks: [ghost]', '    volumes: ["data:/d"]', '    secrets: [s]',
    '  b:', '    image: x', '    depends_on: [c]', '  c:', '    image: x', '    depends_on: [b]', '    network_mode: "service:zzz"', '',
  ].join('\n') });
  const found = i.map((x) => `${x.line}:${x.keyPath}:${x.found}`);
  assert.ok(found.some((f) => f.startsWith('4:services.a.depends_on[0]:undefined service "nope"')), found.join('\n'));
  assert.ok(found.some((f) => f.startsWith('5:services.a.networks[0]:undefined network')), found.join('\n'));
  assert.ok(found.some((f) => f.startsWith('6:services.a.volumes[0]:undefined volume')), found.join('\n'));
  assert.ok(found.some((f) => f.startsWith('7:services.a.secrets[0]:undefined secret')), found.join('\n'));
  assert.ok(found.some((f) => f.includes('cycle')), found.join('\n'));
  assert.ok(found.some((f) => f.includes('zzz')), found.join('\n'));
});

test('schema errors name file, line, column, key path, expected and found', () => {
  const i = issues({ '/p/compose.yaml': 'services:\n  web:\n    image: nginx\n    prots: ["80"]\n    ports:\n      - "80"\n      - [1]\n' });
  const unknown = i.find((x) => x.found.includes('prots'))!;
  assert.deepEqual([unknown.file, unknown.line, unknown.col, unknown.keyPath], ['/p/compose.yaml', 4, 5, 'services.web.prots']);
  assert.match(unknown.note ?? '', /ports/);
  const port = i.find((x) => x.keyPath === 'services.web.ports[1]')!;
  assert.equal(port.line, 7);
  assert.match(port.expected, /port/);
  assert.match(port.frame ?? '', /> 7 \|/);
});

test('stdin (-f -) and multi-file merge order', () => {
  const r = run({ '/p/b.yaml': 'services:\n  a:\n    image: second\n' }, { files: ['-', 'b.yaml'], stdin: 'services:\n  a:\n    image: first\n    tty: true\n' });
  assert.equal(r.project.services['a']!.image, 'second');
  assert.equal(r.project.services['a']!.tty, true);
});

test('stdin (-f -): extends.file and include are relative to the project directory, as in docker compose', () => {
  const files = {
    '/proj/lib/base.yaml': 'services:\n  base:\n    image: b\n    build: ./ctx\n',
    '/proj/inc/compose.yaml': 'services:\n  extra:\n    image: e\n',
  };
  const stdin = 'services:\n  web:\n    extends: {file: lib/base.yaml, service: base}\ninclude: [inc/compose.yaml]\n';
  // no other file: the working directory is the project directory
  const r = run(files, { files: ['-'], cwd: '/proj', stdin });
  assert.equal(r.project.services['web']!.image, 'b');
  assert.equal(r.project.services['web']!.build!.context, '/proj/lib/ctx'); // the base's paths stay relative to its own file
  assert.equal(r.project.services['extra']!.image, 'e');
  // --project-directory wins over the working directory
  assert.equal(run(files, { files: ['-'], cwd: '/elsewhere', projectDirectory: '/proj', stdin }).project.services['web']!.image, 'b');
  // with another -f file, the project directory is that file's directory
  const withFile = run({ ...files, '/proj/x.yaml': 'services: {}\n' }, { files: ['-', '/proj/x.yaml'], cwd: '/elsewhere', stdin });
  assert.equal(withFile.project.working_dir, '/proj');
  assert.equal(withFile.project.services['web']!.image, 'b');
  // not found is a located error naming the resolved path
  const i = issues(files, { files: ['-'], cwd: '/other', stdin: 'services:\n  web:\n    extends: {file: lib/base.yaml, service: base}\n' });
  assert.match(i[0]!.found, /\/other\/lib\/base\.yaml not found/);
  assert.equal(i[0]!.file, '<stdin>');
  assert.equal(i[0]!.line, 3);
});

test('unsupported keys are named in warnings, never dropped', () => {
  const r = run({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    gpus: all\n    runtime: runc\n' });
  assert.ok(r.warnings.some((w) => w.includes('services.a.gpus')));
  assert.deepEqual(r.project.services['a']!.unsupported, { gpus: 'all', runtime: 'runc' });
});

test('scale, deploy.replicas and the model of resources/restart', () => {
  const r = run({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    deploy: {replicas: 3, restart_policy: {condition: on-failure, max_attempts: 2}}\n    mem_limit: 1g\n    stop_grace_period: 1m30s\n' });
  const a = r.project.services['a']!;
  assert.equal(a.scale, 3);
  assert.deepEqual(a.restart, { name: 'on-failure', max_attempts: 2 });
  assert.equal(a.resources.mem_limit, 1024 ** 3);
  assert.equal(a.stop_grace_period, 90_000);
  assert.ok(issues({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n' }).length === 1);
});

test('lifecycle hooks: post_start and pre_stop in shell and exec form, interpolated, an override appends its hooks; a hook without a command is located', () => {
  const r = run({
    '/p/compose.yaml': [
      'services:',
      '  a:',
      '    image: x',
      '    post_start:',
      '      - command: chown -R 1001:1001 /data',
      '        user: root',
      '        privileged: "${PRIV:-true}"',
      '        working_dir: /data',
      '        environment: ["MODE=${MODE}", UNSET]',
      '    pre_stop:',
      '      - command: ["./flush.sh", "--now"]',
      '',
    ].join('\n'),
    '/p/compose.override.yaml': 'services:\n  a:\n    pre_stop:\n      - command: ["./other.sh"]\n',
  }, { env: { MODE: 'fast' } });
  const a = r.project.services['a']!;
  assert.deepEqual(a.post_start, [{ command: ['chown', '-R', '1001:1001', '/data'], user: 'root', privileged: true, working_dir: '/data', environment: { MODE: 'fast', UNSET: null } }]);
  // a list of hooks is appended to by an override, as compose merges sequences
  assert.deepEqual(a.pre_stop!.map((h) => h.command), [['./flush.sh', '--now'], ['./other.sh']]);
  assert.ok(!r.warnings.some((w) => w.includes('post_start') || w.includes('pre_stop')), r.warnings.join('\n'));
  assert.equal(run({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n' }).project.services['a']!.post_start, undefined);
  const i = issues({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    post_start:\n      - user: root\n' });
  assert.ok(i.some((x) => x.keyPath.startsWith('services.a.post_start[0]') && x.line === 5), JSON.stringify(i));
});
