// Scenario: a developer runs `berth watch -d` (or `berth up -d --watch`), closes the terminal and
// keeps editing. Intent: the engine keeps syncing after the CLI exited; the desired state is in
// the project's state file, so an engine stopped and started again — or killed with SIGKILL and
// started by the next command — watches again and catches up the edits made while it was down;
// `ls`/`ps` mark the project and its watched service; `watch --stop` ends the watch and forgets it
// (the containers keep running); `down` ends it too and leaves no berth-notify, state or snapshot;
// a symlink the container made to /etc cannot lead a detached sync to the host's /etc.
// Every wait is for the state itself (a file's content in the container, a helper process, a line
// of ls), with a deadline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { berth, berthOk, eventually, processGone, stopEngine, setUpScenario, tearDownScenario, type Scenario, type TestRoots } from '../helpers/env.js';
import { inContainer, notifyHelpers as helpersWatching } from '../helpers/watch.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('watch-detached');
  ({ roots, dir } = scenario);
  mkdirSync(join(dir, 'site'));
  writeFileSync(join(dir, 'site', 'index.html'), 'v1\n');
});

after(() => tearDownScenario(scenario));

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];

async function inspect(name: string): Promise<any> {
  return JSON.parse(await berthOk(roots, ['inspect', name]))[0];
}

async function webPid(): Promise<number> {
  const pid = (await inspect('e2e-watchd-web-1')).State.Pid as number;
  assert.ok(pid > 0, 'web runs');
  return pid;
}

const notifyHelpers = (): string[] => helpersWatching(dir);

const stateFile = (): string => join(roots.root, 'projects', 'e2e-watchd.json');
const recordedWatch = (): unknown => (existsSync(stateFile()) ? JSON.parse(readFileSync(stateFile(), 'utf8')).watch : undefined);
const snapshotFile = (): string => join(roots.root, 'watch', 'e2e-watchd.snapshot.json');

async function lsRow(): Promise<{ Name: string; Status: string; Watch: string } | undefined> {
  const rows = JSON.parse(await berthOk(roots, ['ls', '--format', 'json'])) as { Name: string; Status: string; Watch: string }[];
  return rows.find((r) => r.Name === 'e2e-watchd');
}

function enginePid(): number {
  return Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim());
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

test('watch -d must return once watching, and the engine must keep syncing after the CLI exited; ls and ps mark the watch', async () => {
  const r = await berth(roots, compose('watch', '-d'), { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stdout, /Watch enabled for "web" \(1 directory\) in the background/);
  // the CLI is gone; the engine watches
  const pid = await webPid();
  assert.equal(inContainer(pid, '/app/index.html'), 'v1\n', 'initial_sync copied the tree');
  assert.equal(notifyHelpers().length, 1, 'one helper watches');
  writeFileSync(join(dir, 'site', 'index.html'), 'v2\n');
  await eventually(() => inContainer(pid, '/app/index.html') === 'v2\n', 15_000, 'the edit in the container after the CLI exited');

  assert.equal((await lsRow())?.Watch, 'detached');
  assert.match(await berthOk(roots, ['ls']), /e2e-watchd\s+running\(1\), watched \(detached\)/);
  const ps = JSON.parse((await berthOk(roots, compose('ps', '--format', 'json'))).trim().split('\n')[0]!);
  assert.equal(ps.Watch, 'detached');
  assert.match(await berthOk(roots, compose('ps')), /Up .*, watched \(detached\)/);
  assert.deepEqual(recordedWatch() !== undefined && (recordedWatch() as { services: string[] }).services, [], 'the desired state is in projects/e2e-watchd.json');

  // an attached watch of the same project is refused, naming the way out
  const second = await berth(roots, compose('watch', '--no-up'), { timeoutMs: 30_000 });
  assert.notEqual(second.code, 0);
  assert.match(second.stderr, /already being watched in the background: berth watch --stop ends that watch/);
  assert.doesNotMatch(second.stderr, /at .*\.js/, 'no stack trace');
});

test('a detached watch must survive engine stop and start, catching up the edits made while the engine was down', async () => {
  const pid = await webPid();
  await berthOk(roots, ['engine', 'stop'], { timeoutMs: 30_000 });
  await eventually(() => notifyHelpers().length === 0, 15_000, 'the helper to end with the engine');
  assert.notEqual(recordedWatch(), undefined, 'an engine stop keeps the desired state');
  // edits while nothing watches
  writeFileSync(join(dir, 'site', 'index.html'), 'v3\n');
  writeFileSync(join(dir, 'site', 'offline.txt'), 'made while the engine was down\n');
  // the next command starts the engine, which starts the watch again
  assert.equal((await lsRow())?.Watch, 'detached');
  await eventually(() => inContainer(pid, '/app/index.html') === 'v3\n' && inContainer(pid, '/app/offline.txt') === 'made while the engine was down\n', 30_000, 'the offline edits caught up');
  assert.equal(await webPid(), pid, 'the container kept running across the engine restart');
  await eventually(() => notifyHelpers().length === 1, 15_000, 'one helper again');
  writeFileSync(join(dir, 'site', 'index.html'), 'v4\n');
  await eventually(() => inContainer(pid, '/app/index.html') === 'v4\n', 15_000, 'an edit after the restart');
});

test('a detached watch must survive a SIGKILLed engine: the next command starts the engine and the watch', async () => {
  const pid = await webPid();
  const engine = enginePid();
  process.kill(engine, 'SIGKILL');
  await eventually(() => processGone(engine), 15_000, 'the killed engine to be gone');
  await eventually(() => notifyHelpers().length === 0, 15_000, 'the helper to die with its parent (PR_SET_PDEATHSIG)');
  writeFileSync(join(dir, 'site', 'index.html'), 'v5\n');
  await berthOk(roots, compose('ps'), { timeoutMs: 60_000 });
  await eventually(() => inContainer(pid, '/app/index.html') === 'v5\n', 30_000, 'the edit made while the engine was dead');
  writeFileSync(join(dir, 'site', 'index.html'), 'v6\n');
  await eventually(() => inContainer(pid, '/app/index.html') === 'v6\n', 15_000, 'an edit after the restart');
  assert.equal(notifyHelpers().length, 1, 'exactly one helper after the restart');
});

test('a symlink the container made to /etc cannot make a detached sync write the host\'s /etc', async () => {
  const pid = await webPid();
  assert.ok(lstatSync(`/proc/${pid}/root/app/evil`).isSymbolicLink(), 'the container made /app/evil -> /etc');
  const probe = `berth-watchd-probe-${randomBytes(4).toString('hex')}`;
  const hostPasswd = sha('/etc/passwd');
  const containerPasswd = sha(`/proc/${pid}/root/etc/passwd`);
  mkdirSync(join(dir, 'site', 'evil'), { recursive: true });
  writeFileSync(join(dir, 'site', 'evil', probe), 'must never reach the host\n');
  writeFileSync(join(dir, 'site', 'evil', 'passwd'), 'root::0:0::/:/bin/sh\n');
  // batches apply in order: once a later file is there, the evil ones were handled
  writeFileSync(join(dir, 'site', 'after-evil.txt'), 'after\n');
  await eventually(() => inContainer(pid, '/app/after-evil.txt') === 'after\n', 15_000, 'the sync after the symlinked one');
  assert.equal(existsSync(join('/etc', probe)), false, 'nothing written in the host\'s /etc');
  assert.equal(sha('/etc/passwd'), hostPasswd, 'the host\'s /etc/passwd untouched');
  // inside the container the write stayed inside its root: either in its own /etc through its
  // own link, or the link replaced by the host's directory
  const viaLink = existsSync(`/proc/${pid}/root/etc/${probe}`);
  const st = lstatSync(`/proc/${pid}/root/app/evil`);
  assert.ok(viaLink || (st.isDirectory() && existsSync(`/proc/${pid}/root/app/evil/${probe}`)), 'the probe landed inside the container');
  if (!viaLink) assert.equal(sha(`/proc/${pid}/root/etc/passwd`), containerPasswd, 'the container\'s /etc/passwd untouched when the link was replaced');
});

test('watch --stop must end a detached watch and forget it; the containers keep running', async () => {
  const pid = await webPid();
  const r = await berthOk(roots, compose('watch', '--stop'));
  assert.match(r, /Watch stopped for project "e2e-watchd"/);
  assert.deepEqual(notifyHelpers(), [], 'the helper is gone once --stop returns');
  assert.equal(recordedWatch(), undefined, 'the state file no longer asks for a watch');
  assert.equal(existsSync(snapshotFile()), false, 'no snapshot left');
  assert.equal((await lsRow())?.Watch, '');
  assert.equal(await webPid(), pid, 'web still runs');
  // an engine restart does not bring it back (the engine claims recorded watches before it answers)
  await stopEngine(roots);
  assert.equal((await lsRow())?.Watch, '');
  assert.deepEqual(notifyHelpers(), []);
  const again = await berth(roots, compose('watch', '--stop'));
  assert.equal(again.code, 0);
  assert.match(again.stderr, /project "e2e-watchd" is not being watched/);
});

test('up -d --watch must bring the project up and watch in the background; down ends the watch and leaves no helper, state or snapshot', async () => {
  writeFileSync(join(dir, 'site', 'index.html'), 'v7\n');
  const r = await berth(roots, compose('up', '-d', '--watch'), { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stdout, /Watch enabled for "web".*in the background/);
  const pid = await webPid();
  await eventually(() => inContainer(pid, '/app/index.html') === 'v7\n', 15_000, 'the initial sync');
  writeFileSync(join(dir, 'site', 'index.html'), 'v8\n');
  await eventually(() => inContainer(pid, '/app/index.html') === 'v8\n', 15_000, 'an edit after up -d --watch returned');
  assert.equal(notifyHelpers().length, 1);
  assert.equal(existsSync(snapshotFile()), true, 'the snapshot for catching up is kept');
  // asked again (as after an edit of the compose file): the watch is replaced, not doubled
  await berthOk(roots, compose('up', '-d', '--watch'), { timeoutMs: 60_000 });
  assert.equal(notifyHelpers().length, 1, 'one helper after a second up -d --watch');

  await berthOk(roots, compose('down', '-t', '1'), { timeoutMs: 60_000 });
  assert.deepEqual(notifyHelpers(), [], 'down ended the watch before returning');
  assert.equal(existsSync(stateFile()), false, 'no project state left');
  assert.equal(existsSync(snapshotFile()), false, 'no snapshot left');
  await stopEngine(roots);
  assert.equal(await lsRow(), undefined, 'an engine restart finds nothing to watch');
  assert.deepEqual(notifyHelpers(), []);
});
