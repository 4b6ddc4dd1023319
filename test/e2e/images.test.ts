// Scenario: a developer's day with images, through the `berth` command only: push an image to a
// registry on loopback (Debian's docker-registry, started here), pull it back, let `compose up`
// pull what is missing, build a service from its Dockerfile (`compose build`, `up --build` after
// a source change), commit a container, save and load, and get clear errors for an unknown image,
// an unreachable registry and a bad Dockerfile. Intent: the engine's one door carries all of it,
// and what the user sees (exit codes, output, what runs) is what docker users expect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { berth, berthOk, cleanupRoots, importBusybox, makeRoots, removeAllContainers, stopEngine, type TestRoots } from '../helpers/env.js';
import { freePort, haveRegistry, startRegistry, type TestRegistry } from '../helpers/registry.js';

const skip = !haveRegistry() ? 'docker-registry is not installed (apt-get install docker-registry)' : process.getuid?.() !== 0 ? 'needs root' : false;

let roots: TestRoots;
let registry: TestRegistry;
let project: string;
/** <registry>/e2e/bb:1, pushed by berth in before() */
let remote: string;

const compose = (...args: string[]): string[] => ['compose', '-f', join(project, 'compose.yaml'), ...args];

before(async () => {
  if (skip) return;
  roots = makeRoots();
  registry = await startRegistry();
  await importBusybox(roots, 'bb');
  remote = `${registry.host}/e2e/bb:1`;
  // bb's layer with a config of its own: another image, which shares bb's layer
  await berthOk(roots, ['import', '-c', 'ENV E2E=1', join(roots.dir, 'busybox.tar'), remote]);
  const pushed = await berthOk(roots, ['push', remote], { timeoutMs: 60_000 });
  assert.match(pushed, /^The push refers to repository \[127\.0\.0\.1:\d+\/e2e\/bb\]$/m);
  assert.match(pushed, /: Pushed$/m);
  assert.match(pushed, /^1: digest: sha256:[0-9a-f]{64} size: \d+$/m);
  // and a third, which the store does not have once untagged
  await berthOk(roots, ['import', '-c', 'ENV E2E=2', join(roots.dir, 'busybox.tar'), `${registry.host}/e2e/bb:2`]);
  await berthOk(roots, ['push', `${registry.host}/e2e/bb:2`], { timeoutMs: 60_000 });
  await berthOk(roots, ['rmi', remote, `${registry.host}/e2e/bb:2`]);
  project = join(roots.dir, 'project');
  mkdirSync(project);
});

after(async () => {
  if (skip) return;
  await berth(roots, compose('down', '-t', '1'), { timeoutMs: 60_000 });
  await stopEngine(roots);
  await removeAllContainers(roots);
  const ids = (await berth(roots, ['images', '-q'])).stdout.split('\n').filter((l) => l !== '');
  if (ids.length > 0) await berth(roots, ['rmi', '-f', ...ids]);
  await cleanupRoots(roots);
  await registry.stop();
});

async function imageTags(): Promise<string[]> {
  return (await berthOk(roots, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').filter((l) => l !== '');
}

test('push then pull must bring the image back from the registry, and a second pull finds it up to date', { skip }, async () => {
  assert.ok(!(await imageTags()).includes(remote), 'untagged in before()');
  const out = await berthOk(roots, ['pull', remote], { timeoutMs: 60_000 });
  const lines = out.trim().split('\n');
  assert.equal(lines[0], '1: Pulling from e2e/bb');
  assert.match(out, /^[0-9a-f]{12}: Already exists$/m, 'the layer is shared with bb, which the store has');
  assert.match(out, /^Digest: sha256:[0-9a-f]{64}$/m);
  assert.match(out, /^Status: Downloaded newer image for /m);
  assert.equal(lines.at(-1), remote, 'the reference last, as docker prints it');
  assert.ok((await imageTags()).includes(remote));
  // it runs
  assert.equal((await berthOk(roots, ['run', '--rm', remote, 'echo', 'pulled'])).trim(), 'pulled');
  const again = await berthOk(roots, ['pull', remote], { timeoutMs: 60_000 });
  assert.match(again, /^Status: Image is up to date for /m);
});

test('pull of an unknown image, or from a registry that does not answer, must fail with a clear error', { skip }, async () => {
  const unknown = await berth(roots, ['pull', `${registry.host}/e2e/nope:1`], { timeoutMs: 60_000 });
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /^Error: .*e2e\/nope.*(not found|unknown)/im);
  assert.doesNotMatch(unknown.stderr, /bug in berth|at .*\.js:\d+/);
  const port = await freePort();
  const unreachable = await berth(roots, ['pull', `127.0.0.1:${port}/e2e/bb:1`], { timeoutMs: 60_000 });
  assert.notEqual(unreachable.code, 0);
  assert.match(unreachable.stderr, new RegExp(`^Error: .*127\\.0\\.0\\.1:${port}.*(refused|ECONNREFUSED|unreachable)`, 'im'));
  assert.doesNotMatch(unreachable.stderr, /bug in berth|at .*\.js:\d+/);
});

test('compose up must pull a missing image before it creates anything, and pull_policy never must refuse one', { skip }, async () => {
  const image = `${registry.host}/e2e/bb:2`;
  assert.ok(!(await imageTags()).includes(image));
  writeFileSync(join(project, 'compose.yaml'), `name: e2e-images\nservices:\n  web:\n    image: ${image}\n    command: ["sleep", "1000"]\n    pull_policy: never\n`);
  const never = await berth(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  assert.notEqual(never.code, 0);
  assert.match(never.stderr, /pull_policy is "never"/);
  assert.equal((await berthOk(roots, ['ps', '-aq'])).trim(), '', 'nothing created');
  // a pull that fails: docker compose exits 1 (not 125) and creates nothing
  writeFileSync(join(project, 'compose.yaml'), `name: e2e-images\nservices:\n  web:\n    image: ${registry.host}/e2e/nope:1\n    command: ["sleep", "1000"]\n`);
  const failed = await berth(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /pulling .*e2e\/nope:1 \(service web\)/);
  assert.equal((await berthOk(roots, ['ps', '-aq'])).trim(), '', 'nothing created');
  writeFileSync(join(project, 'compose.yaml'), `name: e2e-images\nservices:\n  web:\n    image: ${image}\n    command: ["sleep", "1000"]\n`);
  const up = await berthOk(roots, compose('up', '-d'), { timeoutMs: 120_000 });
  assert.match(up, /^Digest: sha256:/m, 'the pull shows');
  assert.ok(up.indexOf('Digest:') < up.indexOf('Started'), `pulled before anything started:\n${up}`);
  assert.ok((await imageTags()).includes(image));
  const rows = await berthOk(roots, compose('images'));
  assert.match(rows, new RegExp(`^e2e-images-web-1\\s+127\\.0\\.0\\.1:\\d+/e2e/bb\\s+2\\s+[0-9a-f]{12}\\s`, 'm'));
  await berthOk(roots, compose('down', '-t', '1'), { timeoutMs: 60_000 });
});

test('compose build must build a service from its Dockerfile, and up --build must rebuild and recreate it after a change', { skip }, async () => {
  const app = join(project, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'Dockerfile'), `FROM ${remote}\nRUN echo built-by-run > /built.txt\nCOPY message.txt /message.txt\nCMD ["sleep", "1000"]\n`);
  writeFileSync(join(app, 'message.txt'), 'first\n');
  writeFileSync(join(project, 'compose.yaml'), 'name: e2e-images\nservices:\n  app:\n    build: ./app\n');
  const built = await berth(roots, compose('build'), { timeoutMs: 180_000 });
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stdout, /RUN echo built-by-run/);
  assert.ok((await imageTags()).includes('e2e-images-app:latest'), 'named <project>-<service>, as docker compose names it');
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 120_000 });
  const read = async (): Promise<string> => (await berthOk(roots, compose('exec', '-T', 'app', 'cat', '/built.txt', '/message.txt'))).trim();
  assert.equal(await read(), 'built-by-run\nfirst');
  const firstId = (await berthOk(roots, ['inspect', '-f', '{{.Id}}', 'e2e-images-app-1'])).trim();

  // nothing changed: every step from the cache
  const cached = await berthOk(roots, compose('build', '--progress', 'plain'), { timeoutMs: 120_000 });
  assert.match(cached, /RUN echo built-by-run > \/built\.txt\n#\d+ CACHED/);

  writeFileSync(join(app, 'message.txt'), 'second\n');
  const rebuilt = await berthOk(roots, compose('up', '-d', '--build'), { timeoutMs: 180_000 });
  assert.match(rebuilt, /RUN echo built-by-run > \/built\.txt\n#\d+ CACHED/, 'the RUN before the COPY comes from the cache');
  assert.match(rebuilt, /COPY message\.txt \/message\.txt\n(?!#\d+ CACHED)/, 'the COPY that sees the change runs again');
  assert.match(rebuilt, /Container e2e-images-app-1 {2}Removed\n[\s\S]*Container e2e-images-app-1 {2}Created\n/, 'the container of the old image is recreated');
  assert.equal(await read(), 'built-by-run\nsecond');
  assert.notEqual((await berthOk(roots, ['inspect', '-f', '{{.Id}}', 'e2e-images-app-1'])).trim(), firstId);
  await berthOk(roots, compose('down', '-t', '1'), { timeoutMs: 60_000 });
});

test('a bad Dockerfile must fail naming the file and line, and create nothing', { skip }, async () => {
  const bad = join(project, 'bad');
  mkdirSync(bad, { recursive: true });
  writeFileSync(join(bad, 'Dockerfile'), 'FROM bb\nRUN true\nFROBNICATE now\n');
  const r = await berth(roots, ['build', '-t', 'bad:1', bad], { timeoutMs: 60_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Dockerfile:3\b/);
  assert.match(r.stderr, /FROBNICATE/i);
  assert.doesNotMatch(r.stderr, /bug in berth/);
  assert.ok(!(await imageTags()).includes('bad:1'));
  // a RUN that fails: its exit code and the step
  writeFileSync(join(bad, 'Dockerfile'), 'FROM bb\nRUN echo about-to-fail && exit 3\n');
  const failed = await berth(roots, ['build', '--progress', 'plain', '-t', 'bad:1', bad], { timeoutMs: 60_000 });
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr, /about-to-fail/);
  assert.match(failed.stderr, /^Error: Dockerfile:2: RUN .*exited with code 3$/m);
  assert.equal(failed.code, 1, 'docker build exits 1 when a step fails');
  assert.equal((await berthOk(roots, ['ps', '-aq'])).trim(), '', 'no build step container is left');
});

test('named contexts: compose build must build a service: context first and build on it; berth build takes --build-context and exports its cache to a directory; a cycle fails naming file and line', { skip }, async () => {
  const dir = join(roots.dir, 'ctx');
  mkdirSync(join(dir, 'base'), { recursive: true });
  mkdirSync(join(dir, 'app'), { recursive: true });
  mkdirSync(join(dir, 'shared'), { recursive: true });
  writeFileSync(join(dir, 'base', 'Dockerfile'), 'FROM bb\nRUN echo base-v1 > /base.txt\n');
  writeFileSync(join(dir, 'shared', 'note.txt'), 'shared note\n');
  writeFileSync(join(dir, 'app', 'Dockerfile'), 'FROM baseimg\nCOPY --from=shared note.txt /note.txt\nRUN cat /base.txt /note.txt > /seen.txt\n');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, [
    'name: e2e-ctx', 'services:',
    '  app:', '    build:', '      context: ./app', '      additional_contexts:', '        baseimg: service:base', '        shared: ./shared',
    '  base:', '    build: ./base', '',
  ].join('\n'));
  const ctxCompose = (...args: string[]) => ['compose', '-f', file, ...args];
  // only app is named: base is built first, because app's build needs its image
  const built = await berthOk(roots, ctxCompose('build', '--progress', 'plain', 'app'), { timeoutMs: 180_000 });
  assert.ok(built.indexOf('RUN echo base-v1') >= 0 && built.indexOf('RUN echo base-v1') < built.indexOf('RUN cat /base.txt'), built);
  assert.equal((await berthOk(roots, ['run', '--rm', 'e2e-ctx-app', 'cat', '/seen.txt'], { timeoutMs: 60_000 })).trim(), 'base-v1\nshared note');
  // base changes: app is rebuilt on the new base image
  writeFileSync(join(dir, 'base', 'Dockerfile'), 'FROM bb\nRUN echo base-v2 > /base.txt\n');
  await berthOk(roots, ctxCompose('build', 'app'), { timeoutMs: 180_000 });
  assert.equal((await berthOk(roots, ['run', '--rm', 'e2e-ctx-app', 'cat', '/seen.txt'], { timeoutMs: 60_000 })).trim(), 'base-v2\nshared note');

  // berth build: --build-context (relative to the working directory), --cache-to a relative dir, then --cache-from after the cache is gone
  const cacheDir = join(dir, 'cache');
  const direct = await berth(roots, ['build', '-t', 'e2e-ctx-direct', '--build-context', 'baseimg=docker-image://e2e-ctx-base', '--build-context', 'shared=shared', '--cache-to', 'type=local,dest=cache', 'app'], { timeoutMs: 180_000, cwd: dir });
  assert.equal(direct.code, 0, direct.stderr);
  assert.ok(statSync(join(cacheDir, 'berth-build-cache.json')).size > 0);
  // a bad value names the flag
  const bad = await berth(roots, ['build', '--build-context', 'shared=https://example.invalid/x.tar', join(dir, 'app')], { timeoutMs: 60_000 });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--build-context shared: "https:\/\/example\.invalid\/x\.tar": https build contexts are not supported/);

  // a cycle: a located error before anything is built
  writeFileSync(file, [
    'name: e2e-ctx', 'services:',
    '  app:', '    build:', '      context: ./app', '      additional_contexts:', '        baseimg: service:base',
    '  base:', '    build:', '      context: ./base', '      additional_contexts:', '        up: service:app', '',
  ].join('\n'));
  const cycle = await berth(roots, ctxCompose('build'), { timeoutMs: 60_000 });
  assert.notEqual(cycle.code, 0);
  assert.match(cycle.stderr, /compose\.yaml:(7|12):\d+.*additional_contexts/);
  assert.match(cycle.stderr, /the cycle (app -> base -> app|base -> app -> base)/);
  assert.doesNotMatch(cycle.stderr, /bug in berth/);
  await berthOk(roots, ['rmi', 'e2e-ctx-app', 'e2e-ctx-base', 'e2e-ctx-direct']);
});

test('commit must make an image of a container\'s changes that runs, and save/load must round-trip it', { skip }, async () => {
  await berthOk(roots, ['run', '--name', 'e2e-commit', 'bb', 'sh', '-c', 'echo committed > /note'], { timeoutMs: 60_000 });
  const id = (await berthOk(roots, ['commit', '-m', 'a note', '-c', 'CMD ["cat", "/note"]', 'e2e-commit', 'noted:1'])).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  await berthOk(roots, ['rm', 'e2e-commit']);
  assert.equal((await berthOk(roots, ['run', '--rm', 'noted:1'])).trim(), 'committed');
  const history = await berthOk(roots, ['history', 'noted:1']);
  assert.match(history.split('\n')[1]!, /a note/);

  const file = join(roots.dir, 'noted.tar');
  await berthOk(roots, ['save', '-o', file, 'noted:1'], { timeoutMs: 60_000 });
  assert.ok(statSync(file).size > 1024);
  assert.deepEqual(readdirSync(roots.dir).filter((n) => n.includes('.berth-')), [], 'no temp file left beside the archive');
  await berthOk(roots, ['rmi', 'noted:1']);
  assert.ok(!(await imageTags()).includes('noted:1:'));
  const loaded = await berthOk(roots, ['load', '-i', file], { timeoutMs: 60_000 });
  assert.match(loaded, /Loaded image: noted:1/);
  assert.equal((await berthOk(roots, ['run', '--rm', 'noted:1'])).trim(), 'committed');
  // and to stdout, piped
  const piped = await berth(roots, ['save', 'noted:1'], { timeoutMs: 60_000 });
  assert.equal(piped.code, 0);
  assert.ok(piped.stdout.length > 1024, 'the archive on stdout');
  await berthOk(roots, ['rmi', 'noted:1']);
});

test('run must pull an image it does not have (stderr), and run it (stdout)', { skip }, async () => {
  const image = `${registry.host}/e2e/bb:2`;
  if ((await imageTags()).includes(image)) await berthOk(roots, ['rmi', image]);
  const r = await berth(roots, ['run', '--rm', image, 'echo', 'auto-pulled'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'auto-pulled\n', 'only the container on stdout');
  assert.match(r.stderr, new RegExp(`^Unable to find image '${image.replace(/\./g, '\\.')}' locally$`, 'm'));
  assert.match(r.stderr, /^Status: (Downloaded newer image|Image is up to date) for /m);
  assert.ok((await imageTags()).includes(image));
});
