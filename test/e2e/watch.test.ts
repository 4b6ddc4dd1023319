// Scenario: a developer runs `berth compose watch` (or `up --watch`) on a project whose service has
// develop.watch rules, and edits files on the host. Intent: an edit appears in the running
// container without a rebuild; a sync+restart change restarts the service once with the new file
// in place; a sync+exec change runs its command in the container; a rebuild rule of a service
// without a build section says so clearly and touches nothing; Ctrl-C ends the watch and leaves the containers
// running; `down` ends a watch another terminal runs; nothing is left behind (no berth-notify).
// Every wait is for the state itself (the file's content, a new PID 1, a line printed), with a deadline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { berth, berthOk, backgroundBerth, eventually, stopEngine, type Background, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';
import { inContainer, notifyHelpers as helpersWatching } from '../helpers/watch.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('watch');
  ({ roots, dir } = scenario);
  for (const d of ['site', 'conf', 'hook', 'deps']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'site', 'index.html'), 'v1\n');
  writeFileSync(join(dir, 'conf', 'app.conf'), 'level=1\n');
  writeFileSync(join(dir, 'deps', 'package.json'), '{}\n');
});

after(() => tearDownScenario(scenario));

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];

async function inspect(name: string): Promise<any> {
  return JSON.parse(await berthOk(roots, ['inspect', name]))[0];
}

/** The host pid of a running container's PID 1. */
async function pidOf(name: string): Promise<number> {
  const pid = (await inspect(name)).State.Pid as number;
  assert.ok(pid > 0, `${name} runs`);
  return pid;
}

const notifyHelpers = (): string[] => helpersWatching(dir);

const background = (args: readonly string[]): Background => backgroundBerth(roots, args);

const ready = (p: { out: () => string; err: () => string }, what: string): Promise<true> =>
  eventually(() => /Watch enabled for "web"/.test(p.out()) || (p.err().includes('Error') ? Promise.reject(new Error(`${what} failed: ${p.err()}`)) : false), 60_000, `${what} to be watching`);

test('compose watch must bring the project up and sync, restart and exec on host edits; Ctrl-C leaves the containers running', async () => {
  const w = background(compose('watch'));
  try {
    await ready(w, 'compose watch');
    assert.match(w.err(), /develop\.watch\[3\]: action rebuild, but the service has no build section/, 'the rebuild rule is named at start');
    // it brought the services up (both: watch starts the project as up does)
    assert.equal((await inspect('e2e-watch-web-1')).State.Status, 'running');
    assert.equal((await inspect('e2e-watch-db-1')).State.Status, 'running');

    const web = await pidOf('e2e-watch-web-1');
    // sync: an edit, a new file in a new directory, then a deletion
    writeFileSync(join(dir, 'site', 'index.html'), 'v2\n');
    mkdirSync(join(dir, 'site', 'css'));
    writeFileSync(join(dir, 'site', 'css', 'a.css'), 'body{}\n');
    writeFileSync(join(dir, 'site', 'scratch.tmp'), 'ignored\n');
    await eventually(() => inContainer(web, '/www/index.html') === 'v2\n' && inContainer(web, '/www/css/a.css') === 'body{}\n', 15_000, 'the edit and the new file in the container');
    rmSync(join(dir, 'site', 'css'), { recursive: true });
    writeFileSync(join(dir, 'site', 'after.html'), 'after\n'); // written after the ignored file: once it is there, so would the ignored one be
    await eventually(() => inContainer(web, '/www/after.html') === 'after\n' && inContainer(web, '/www/css/a.css') === undefined, 15_000, 'the deletion in the container');
    assert.equal(inContainer(web, '/www/scratch.tmp'), undefined, 'an ignored file is not synced');
    await eventually(() => /Syncing service "web" after \d+ changed files? \(1 container/.test(w.out()), 5_000, 'the sync line');

    // sync+restart: the service restarts (a new PID 1) with the new file in place
    const before = await inspect('e2e-watch-web-1');
    writeFileSync(join(dir, 'conf', 'app.conf'), 'level=2\n');
    await eventually(async () => {
      const now = await inspect('e2e-watch-web-1');
      return now.State.Status === 'running' && now.State.Pid !== before.State.Pid && inContainer(now.State.Pid, '/etc/app/app.conf') === 'level=2\n';
    }, 30_000, 'a restarted web with the new conf');
    await eventually(() => /Restarted service "web"/.test(w.out()), 10_000, 'the restart line');
    assert.equal((await inspect('e2e-watch-web-1')).Id, before.Id, 'restarted, not recreated');

    // sync+exec: the command runs in the container after the sync
    const restarted = await pidOf('e2e-watch-web-1');
    writeFileSync(join(dir, 'hook', 'n'), '42\n');
    // exec.privileged: the hook gets every capability (web itself has Docker's default set)
    const hostBnd = /^CapBnd:\s+(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    await eventually(() => inContainer(restarted, '/tmp/hooked') === `42\n${hostBnd}\n`, 15_000, 'the exec hook to run, privileged');
    await eventually(() => /Ran "sh -c .*" in service "web"/.test(w.out()), 10_000, 'the exec line');

    // rebuild of a service without a build section: the build door's error, the container is kept
    const pidBefore = (await inspect('e2e-watch-web-1')).State.Pid;
    writeFileSync(join(dir, 'deps', 'package.json'), '{"a":1}\n');
    await eventually(() => /rebuild of web failed, the running containers are kept: .*no service to build: web has no build section/.test(w.err()), 15_000, 'the rebuild error');
    assert.equal((await inspect('e2e-watch-web-1')).State.Pid, pidBefore, 'a failed rebuild leaves the container alone');
  } finally {
    const code = await w.interrupt(20_000);
    assert.equal(code, 0, `compose watch after Ctrl-C\nstdout: ${w.out()}\nstderr: ${w.err()}`);
  }
  // the engine stopped the watch (its helper is gone); the containers keep running
  await eventually(() => notifyHelpers().length === 0, 15_000, 'the berth-notify helper to exit');
  assert.equal((await inspect('e2e-watch-web-1')).State.Status, 'running');
  // an edit while nothing watches (the next test checks that it stayed on the host)
  writeFileSync(join(dir, 'site', 'index.html'), 'v3\n');
});

test('down must end a watch another terminal runs, and a second watch of the same project is refused while it runs', async () => {
  const w = background(compose('watch', '--no-up', 'web'));
  try {
    await ready(w, 'compose watch --no-up');
    const second = await berth(roots, compose('watch', '--no-up'), { timeoutMs: 30_000 });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /project "e2e-watch" is already being watched/);
    // --no-up and no initial_sync: what changed while nothing watched stays as it was
    assert.equal(inContainer(await pidOf('e2e-watch-web-1'), '/www/index.html'), 'v2\n');
    await berthOk(roots, compose('down', '-t', '1'), { timeoutMs: 60_000 });
    const timer = setTimeout(() => w.child.kill('SIGKILL'), 30_000);
    const code = await w.closed;
    clearTimeout(timer);
    assert.equal(code, 0, `stdout: ${w.out()}\nstderr: ${w.err()}`);
    assert.match(w.out(), /Watch stopped: the project was taken down/);
    assert.deepEqual(notifyHelpers(), []);
  } finally {
    await w.interrupt();
  }
});

test('up --watch must follow the logs and sync edits across a restart; Ctrl-C stops the watch, then the containers', async () => {
  const w = background(compose('up', '--watch', 'web'));
  try {
    await ready(w, 'up --watch');
    await eventually(() => /Attaching to web-1/.test(w.out()), 15_000, 'the attach line');
    const web = await pidOf('e2e-watch-web-1');
    writeFileSync(join(dir, 'site', 'index.html'), 'v5\n');
    await eventually(() => inContainer(web, '/www/index.html') === 'v5\n', 15_000, 'the edit in the container');
    // a sync+restart stops the followed container for a moment: up goes on following and watching
    writeFileSync(join(dir, 'conf', 'app.conf'), 'level=3\n');
    const restarted = await eventually(async () => {
      const now = await inspect('e2e-watch-web-1');
      return now.State.Status === 'running' && now.State.Pid !== web && inContainer(now.State.Pid, '/etc/app/app.conf') === 'level=3\n' ? now.State.Pid as number : undefined;
    }, 30_000, 'a restarted web with the new conf');
    writeFileSync(join(dir, 'site', 'index.html'), 'v6\n');
    await eventually(() => inContainer(restarted, '/www/index.html') === 'v6\n', 15_000, 'an edit after the restart in the container');
    assert.equal(w.child.exitCode, null, `up --watch still runs\nstdout: ${w.out()}\nstderr: ${w.err()}`);
  } finally {
    const code = await w.interrupt(20_000);
    assert.equal(code, 130, `stdout: ${w.out()}\nstderr: ${w.err()}`);
  }
  await eventually(() => notifyHelpers().length === 0, 15_000, 'the berth-notify helper to exit');
  assert.notEqual((await inspect('e2e-watch-web-1')).State.Status, 'running');
});

test('a replica that starts while the watch runs (scale up, a recreate) must get what was synced into the others', async () => {
  await berthOk(roots, compose('up', '-d', 'web'), { timeoutMs: 60_000 });
  const w = background(compose('watch', '--no-up', 'web'));
  try {
    await ready(w, 'compose watch --no-up');
    const first = await pidOf('e2e-watch-web-1');
    writeFileSync(join(dir, 'site', 'index.html'), 'v7\n');
    await eventually(() => inContainer(first, '/www/index.html') === 'v7\n', 15_000, 'the edit in web-1');
    // scale up: the new replica's root is the image's, the watch fills it in
    await berthOk(roots, compose('up', '-d', '--no-recreate', '--scale', 'web=2', 'web'), { timeoutMs: 60_000 });
    const second = await pidOf('e2e-watch-web-2');
    await eventually(() => inContainer(second, '/www/index.html') === 'v7\n' && inContainer(second, '/www/after.html') === 'after\n', 15_000, 'the synced files in the new replica web-2');
    // a recreate: a new container, a new root
    const before = (await inspect('e2e-watch-web-1')).Id;
    await berthOk(roots, compose('up', '-d', '--force-recreate', '--scale', 'web=1', 'web'), { timeoutMs: 60_000 });
    const recreated = await inspect('e2e-watch-web-1');
    assert.notEqual(recreated.Id, before, 'recreated');
    await eventually(() => inContainer(recreated.State.Pid, '/www/index.html') === 'v7\n', 15_000, 'the synced file in the recreated web-1');
    assert.equal(w.child.exitCode, null, `the watch still runs\nstdout: ${w.out()}\nstderr: ${w.err()}`);
  } finally {
    const code = await w.interrupt(20_000);
    assert.equal(code, 0, `compose watch after Ctrl-C\nstdout: ${w.out()}\nstderr: ${w.err()}`);
  }
});

test('watch must refuse clearly: a service without rules, a rule whose path is missing, --watch with --no-start', async () => {
  const none = await berth(roots, compose('watch', '--no-up', 'db'), { timeoutMs: 30_000 });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /none of the selected services is configured for watch/);
  assert.doesNotMatch(none.stderr, /at .*\.js/, 'no stack trace');

  const file = join(dir, 'missing.yaml');
  writeFileSync(file, 'name: e2e-watch-missing\nservices:\n  web:\n    image: bb\n    develop:\n      watch:\n        - path: ./nowhere\n          target: /x\n          action: sync\n');
  const missing = await berth(roots, ['compose', '-f', file, 'watch'], { timeoutMs: 30_000 });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /develop\.watch\[0\]: path .*nowhere does not exist/);
  assert.equal((await berth(roots, ['compose', '-f', file, 'ps', '-a', '-q'])).stdout.trim(), '', 'nothing was started for a bad rule');

  const noStart = await berth(roots, compose('up', '--no-start', '--watch'), { timeoutMs: 30_000 });
  assert.notEqual(noStart.code, 0);
  assert.match(noStart.stderr, /--watch cannot be combined with --no-start/);
  assert.equal(existsSync(join(dir, 'nowhere')), false);
});

test('an engine that stops must end the watches it holds, leaving no berth-notify behind', async () => {
  await berthOk(roots, compose('up', '-d', 'web'), { timeoutMs: 60_000 });
  const w = background(compose('watch', '--no-up'));
  try {
    await ready(w, 'compose watch --no-up');
    assert.equal(notifyHelpers().length, 1, 'one helper while watching');
    await stopEngine(roots);
    const timer = setTimeout(() => w.child.kill('SIGKILL'), 30_000);
    await w.closed;
    clearTimeout(timer);
    // through the Node CLI the stream ends with the watch's last line; a warm CLI runs inside the
    // engine that stopped, and says that the engine went away
    assert.match(w.out() + w.err(), /Watch stopped|the engine closed the connection/, `stdout: ${w.out()}\nstderr: ${w.err()}`);
    assert.deepEqual(notifyHelpers(), []);
  } finally {
    await w.interrupt();
  }
});

test('rebuild: a change in a built service\'s context builds its image again and recreates the service with it', async () => {
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'Dockerfile'), 'FROM bb\nCOPY v.txt /v.txt\nCMD ["sleep", "100000"]\n');
  writeFileSync(join(app, 'v.txt'), 'v1\n');
  const file = join(dir, 'built.yaml');
  writeFileSync(file, [
    'name: e2e-watch-built',
    'services:',
    '  app:',
    '    build: ./app',
    '    init: true',
    '    stop_grace_period: 1s',
    '    develop:',
    '      watch:',
    '        - path: ./app',
    '          action: rebuild',
    '',
  ].join('\n'));
  const built = (...args: string[]): string[] => ['compose', '-f', file, ...args];
  const w = background(built('watch'));
  try {
    await eventually(() => /Watch enabled for "app"/.test(w.out()) || (w.err().includes('Error') ? Promise.reject(new Error(`watch failed: ${w.err()}`)) : false), 120_000, 'the built project to be watched');
    const first = await inspect('e2e-watch-built-app-1');
    assert.equal(inContainer(first.State.Pid, '/v.txt'), 'v1\n', 'up built the image before the watch began');
    const firstImage = first.Image as string;
    writeFileSync(join(app, 'v.txt'), 'v2\n');
    await eventually(async () => {
      const now = await inspect('e2e-watch-built-app-1').catch(() => undefined);
      return now !== undefined && now.Id !== first.Id && now.State.Status === 'running' && inContainer(now.State.Pid, '/v.txt') === 'v2\n';
    }, 120_000, 'a new container from the rebuilt image');
    // --prune (compose's default): the image the rebuild replaced is removed once nothing uses it
    await eventually(async () => (await berth(roots, ['image', 'inspect', firstImage])).code !== 0, 30_000, 'the replaced image to be pruned');
  } finally {
    const code = await w.interrupt(20_000);
    assert.equal(code, 0, `compose watch after Ctrl-C\nstdout: ${w.out()}\nstderr: ${w.err()}`);
    await berthOk(roots, built('down', '-t', '1'), { timeoutMs: 60_000 });
    await berthOk(roots, ['rmi', 'e2e-watch-built-app']);
  }
});
