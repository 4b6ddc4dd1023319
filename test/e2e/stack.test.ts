// Scenario: a developer runs `berth up` on a stack with an init job, a healthy-gated database and
// a web service. Intent: the stack comes up in dependency order, stays as declared (idempotent,
// recreating only what changed, scaling), survives the engine's death, and `down` leaves nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { berth, berthOk, leftovers, stopEngine, eventually, processGone, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('stack');
  ({ roots, dir } = scenario);
});

after(() => tearDownScenario(scenario));

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];

async function inspect(name: string): Promise<any> {
  return JSON.parse(await berthOk(roots, ['inspect', name]))[0];
}

test('up -d must start the stack in dependency order and gate web on db being healthy', async () => {
  const out = await berthOk(roots, [...compose('up', '-d')], { timeoutMs: 60_000 });
  assert.match(out, /Container e2e-stack-web-1 {2}Started/);
  const init = await inspect('e2e-stack-init-1');
  const db = await inspect('e2e-stack-db-1');
  const web = await inspect('e2e-stack-web-1');
  assert.equal(init.State.Status, 'exited');
  assert.equal(init.State.ExitCode, 0);
  assert.equal(db.State.Health.Status, 'healthy');
  assert.ok(Date.parse(web.State.StartedAt) >= Date.parse(init.State.FinishedAt), 'web starts after init completed');
  assert.ok(Date.parse(web.State.StartedAt) >= Date.parse(db.State.StartedAt) + 500, 'web starts after db became healthy');
  assert.equal(web.Config.Labels['com.docker.compose.project'], 'e2e-stack');
  assert.equal(web.Config.Labels['com.docker.compose.service'], 'web');
  assert.equal(web.Config.Labels['com.docker.compose.container-number'], '1');
  assert.match(web.Config.Labels['com.docker.compose.config-hash'], /^[0-9a-f]{64}$/);
  assert.equal(web.HostConfig.Memory, 64 * 1024 * 1024);
});

test('up must be idempotent: nothing changes when the file did not', async () => {
  const before = (await inspect('e2e-stack-web-1')).Id;
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  assert.equal((await inspect('e2e-stack-web-1')).Id, before);
});

test('a changed service must be recreated, and only that one', async () => {
  const dbBefore = (await inspect('e2e-stack-db-1')).Id;
  const webBefore = (await inspect('e2e-stack-web-1')).Id;
  const r = await berth(roots, compose('up', '-d'), { timeoutMs: 60_000, env: { GREETING: 'ahoy' } });
  assert.equal(r.code, 0, r.stderr);
  const web = await inspect('e2e-stack-web-1');
  assert.notEqual(web.Id, webBefore);
  assert.ok(web.Config.Env.includes('GREETING=ahoy'));
  assert.equal((await inspect('e2e-stack-db-1')).Id, dbBefore);
});

test('ps must list the running containers of the project', async () => {
  const rows = (await berthOk(roots, compose('ps', '--format', 'json'))).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r: any) => r.Name).sort(), ['e2e-stack-db-1', 'e2e-stack-web-1']);
  assert.match(rows.find((r: any) => r.Service === 'db').Status, /\(healthy\)/);
});

test('--scale must add and remove replicas', async () => {
  await berthOk(roots, compose('up', '-d', '--scale', 'web=3'), { timeoutMs: 60_000 });
  let names = (await berthOk(roots, compose('ps', '--format', 'json'))).trim().split('\n').map((l) => JSON.parse(l).Name).sort();
  assert.deepEqual(names, ['e2e-stack-db-1', 'e2e-stack-web-1', 'e2e-stack-web-2', 'e2e-stack-web-3']);
  await berthOk(roots, compose('up', '-d', '--scale', 'web=1'), { timeoutMs: 60_000 });
  names = (await berthOk(roots, compose('ps', '-a', '--format', 'json'))).trim().split('\n').map((l) => JSON.parse(l).Name).sort();
  assert.deepEqual(names, ['e2e-stack-db-1', 'e2e-stack-init-1', 'e2e-stack-web-1']);
});

test('pause must freeze a service and unpause thaw it', async () => {
  await berthOk(roots, compose('pause', 'web'));
  let web = await inspect('e2e-stack-web-1');
  assert.equal(web.State.Status, 'paused');
  assert.equal(web.State.Paused, true);
  assert.equal(readFileSync(join('/sys/fs/cgroup/freezer', roots.cgroupParent, web.Id, 'freezer.state'), 'utf8').trim(), 'FROZEN');
  await berthOk(roots, compose('unpause', 'web'));
  web = await inspect('e2e-stack-web-1');
  assert.equal(web.State.Status, 'running');
});

test('compose exec must run a command in the service container', async () => {
  const web = await inspect('e2e-stack-web-1');
  assert.equal(await berthOk(roots, compose('exec', '-T', 'web', 'hostname')), `${web.Id.slice(0, 12)}\n`);
  assert.equal((await berth(roots, compose('exec', '-T', 'web', 'sh', '-c', 'exit 4'))).code, 4);
});

test('the engine killed with SIGKILL must not take the containers with it; the next command converges', async () => {
  const web = await inspect('e2e-stack-web-1');
  const pid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await eventually(() => processGone(pid), 10_000, 'the engine to be gone');
  assert.equal(processGone(web.State.Pid), false, 'the container still runs with no engine');
  assert.equal((await inspect('e2e-stack-web-1')).State.Pid, web.State.Pid, 'and the next engine finds it running');
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  assert.equal((await inspect('e2e-stack-web-1')).Id, web.Id, 'nothing recreated');
  assert.equal((await inspect('e2e-stack-init-1')).State.ExitCode, 0, 'exit codes are kept');
});

test('attached up must stream each service\'s logs with its prefix and return when they stop', async () => {
  const other = join(roots.dir, 'attached');
  mkdirSync(other);
  writeFileSync(join(other, 'compose.yaml'), 'name: e2e-attached\nservices:\n  talk:\n    image: bb\n    command: ["sh", "-c", "echo one; sleep 0.2; echo two"]\n');
  const out = await berthOk(roots, ['up', '-f', join(other, 'compose.yaml')], { timeoutMs: 30_000 });
  assert.match(out, /^talk-1 +\| one$/m);
  assert.match(out, /^talk-1 +\| two$/m);
  await berthOk(roots, ['down', '-f', join(other, 'compose.yaml')]);
});

test('compose run must start a one-off container for a service, with its exit code, and --rm remove it', async () => {
  const r = await berth(roots, compose('run', '--rm', '-T', '--no-deps', 'web', 'sh', '-c', 'echo $GREETING; exit 6'), { timeoutMs: 30_000 });
  assert.equal(r.code, 6, r.stderr);
  assert.equal(r.stdout, 'hello\n');
  const all = (await berthOk(roots, ['ps', '-a', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l).Names);
  assert.ok(!all.some((n: string) => n.includes('-run-')), 'the one-off container is gone');
});

test('compose run before any up must make the networks the service attaches to, as up would, and down remove them', async () => {
  const other = join(roots.dir, 'runfirst');
  mkdirSync(other);
  writeFileSync(join(other, 'compose.yaml'), 'name: e2e-runfirst\nservices:\n  job:\n    image: bb\n    networks: [back]\n    command: ["sh", "-c", "ip -o -4 addr show eth0 | wc -l"]\nnetworks:\n  back: {}\n');
  const r = await berth(roots, ['compose', '-f', join(other, 'compose.yaml'), 'run', '--rm', '-T', 'job'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1\n', 'the one-off has its address on the project network');
  const names = (await berthOk(roots, ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
  assert.ok(names.includes('e2e-runfirst_back'), names.join(' '));
  await berthOk(roots, ['compose', '-f', join(other, 'compose.yaml'), 'down']);
  assert.ok(!(await berthOk(roots, ['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('e2e-runfirst_back'));
});

test('up --exit-code-from must stop the stack when that service exits and return its code', async () => {
  const other = join(roots.dir, 'abort');
  mkdirSync(other);
  writeFileSync(join(other, 'compose.yaml'), 'name: e2e-abort\nservices:\n  server:\n    image: bb\n    init: true\n    command: ["sleep", "100"]\n  tester:\n    image: bb\n    command: ["sh", "-c", "sleep 0.3; exit 7"]\n');
  const r = await berth(roots, ['up', '-f', join(other, 'compose.yaml'), '--exit-code-from', 'tester'], { timeoutMs: 30_000 });
  assert.equal(r.code, 7, r.stderr);
  const server = await inspect('e2e-abort-server-1');
  assert.equal(server.State.Status, 'exited', 'the rest of the stack was stopped');
  await berthOk(roots, ['down', '-f', join(other, 'compose.yaml')]);
});

test('down must stop and remove everything, leaving nothing behind', async () => {
  await berthOk(roots, compose('down', '-t', '2'), { timeoutMs: 60_000 });
  assert.equal((await berthOk(roots, ['ps', '-a', '-q'])).trim(), '');
  await stopEngine(roots);
  assert.deepEqual(leftovers(roots), []);
});

