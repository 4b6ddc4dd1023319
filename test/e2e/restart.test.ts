// Scenario: services with restart policies under the engine. Intent: a failing container is
// restarted with Docker's back-off (100 ms doubling) and on-failure:3 gives up after 3 restarts;
// a container the user stopped stays stopped; an exit while no engine runs is acted on by the
// next one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../helpers/seeded.js';
import { berth, berthOk, cgroupDirs, eventually, engineStatus, twoMoreLooks, processGone, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('restart');
  ({ roots, dir } = scenario);
});

after(() => tearDownScenario(scenario));

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];
const inspect = async (name: string): Promise<any> => JSON.parse(await berthOk(roots, ['inspect', name]))[0];

test('on-failure:3 must restart a failing container 3 times with a doubling back-off, then give up', async () => {
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  const info = await eventually(async () => {
    const i = await inspect('e2e-restart-flaky-1');
    return i.RestartCount === 3 && i.State.Status === 'exited' ? i : undefined;
  }, 30_000, 'the third restart to exit');
  assert.equal(info.State.ExitCode, 3);
  // no fourth restart: once the supervisor has acted on that exit, nothing is pending
  await twoMoreLooks(roots);
  assert.equal((await engineStatus(roots)).PendingRestarts, 0, 'no restart pending');
  assert.equal((await inspect('e2e-restart-flaky-1')).RestartCount, 3, 'no fourth restart');
  // the log has one line per run; the gaps between runs grow with the back-off (100, 200, 400 ms)
  const times = readFileSync(info.LogPath, 'utf8').trim().split('\n').map((l) => Date.parse(JSON.parse(l).time));
  assert.equal(times.length, 4);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  // (lower bounds only: on a loaded machine a first restart may take longer than its 100 ms)
  assert.ok(gaps[0]! >= 100 && gaps[1]! >= 200 && gaps[2]! >= 400, `gaps ${gaps.join(', ')} ms follow the back-off`);
});

test('a container stopped by the user must not be restarted, even with restart: always', async () => {
  await berthOk(roots, compose('stop', '-t', '1', 'steady'), { timeoutMs: 30_000 });
  await twoMoreLooks(roots);
  assert.equal((await engineStatus(roots)).PendingRestarts, 0, 'no restart pending');
  const info = await inspect('e2e-restart-steady-1');
  assert.equal(info.State.Status, 'exited');
  assert.equal(info.RestartCount, 0);
  await berthOk(roots, compose('start', 'steady'));
  assert.equal((await inspect('e2e-restart-steady-1')).State.Status, 'running');
});

test('restart: always must bring back a container whose process died', async () => {
  const before = await inspect('e2e-restart-steady-1');
  process.kill(before.State.Pid, 'SIGKILL'); // the process dies on its own, not by the user's berth stop
  const info = await eventually(async () => {
    const i = await inspect('e2e-restart-steady-1');
    return i.State.Status === 'running' && i.State.Pid !== before.State.Pid ? i : undefined;
  }, 20_000, 'the container to run again');
  assert.equal(info.RestartCount, before.RestartCount + 1);
});

test('live restore: an exit while the engine was down is seen and acted on by the next engine', async () => {
  const before = await inspect('e2e-restart-steady-1');
  assert.equal(before.State.Status, 'running');
  const enginePid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8'));
  process.kill(enginePid, 'SIGKILL');
  await eventually(() => processGone(enginePid), 10_000, 'the engine to be gone');
  process.kill(before.State.Pid, 'SIGKILL');
  // the container's own supervisor records the exit, with no engine running
  const exited = join(roots.root, 'containers', before.Id, 'exited');
  await eventually(() => existsSync(exited), 10_000, 'the exit record');
  assert.equal(JSON.parse(readFileSync(exited, 'utf8')).exitCode, 137, 'the exit code is kept while no engine runs');
  await berthOk(roots, compose('ps')); // any verb starts a new engine
  const info = await eventually(async () => {
    const i = await inspect('e2e-restart-steady-1');
    return i.State.Status === 'running' ? i : undefined;
  }, 20_000, 'restart: always to bring it back under the new engine');
  assert.equal(info.RestartCount, before.RestartCount + 1);
});

/** The shim of a held restart of container `id` (berth-shim run --detach --hold-until=… …/<id>/launch), if one runs. */
function heldShim(id: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let argv: string[];
    try { argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (argv.some((a) => a.startsWith('--hold-until=')) && argv.some((a) => a.endsWith(`${id}/launch`)) && !processGone(Number(pid))) return Number(pid);
  }
  return undefined;
}

/** Every pid in the container's cgroups, in every hierarchy. */
function cgroupPids(id: string): number[] {
  const out: number[] = [];
  for (const d of cgroupDirs()) {
    try { out.push(...readFileSync(join(d, roots.cgroupParent, id, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number)); } catch { /* not in this hierarchy */ }
  }
  return out;
}

test('a restart made during its back-off (held at the execve) must be undone by a user stop and by rm -f: nothing runs, nothing is left', async () => {
  for (const how of ['stop', 'rm'] as const) {
    // exits at once, over and over: each restart is held while its back-off runs
    const id = (await berthOk(roots, ['run', '-d', '--restart', 'always', '--network', 'none', '--name', `crashloop-${how}`, 'bb', 'sh', '-c', 'exit 1'])).trim();
    // four restarts in (1.5 s): from then on each back-off is ≥ 1.6 s, its last second held
    await eventually(async () => (await inspect(id)).RestartCount >= 4, 20_000, `four restarts of crashloop-${how}`);
    const shim = await eventually(() => { const pid = heldShim(id); return pid !== undefined && cgroupPids(id).length > 0 ? pid : undefined; }, 20_000, `a held restart of crashloop-${how}, its process in the cgroup`);
    if (how === 'stop') {
      await berthOk(roots, ['stop', '-t', '1', id]);
      await eventually(() => processGone(shim), 10_000, 'the held shim to go');
      await eventually(() => cgroupPids(id).length === 0, 10_000, 'the held process to go');
      await twoMoreLooks(roots);
      const info = await inspect(id);
      assert.equal(info.State.Status, 'exited', 'stopped, and not started by the cancelled restart');
      await twoMoreLooks(roots);
      assert.equal((await inspect(id)).RestartCount, info.RestartCount, 'no restart after the stop');
      assert.equal(heldShim(id), undefined, 'no new restart was made');
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(id), 'its rootfs is not mounted');
      await berthOk(roots, ['rm', id]);
    } else {
      await berthOk(roots, ['rm', '-f', id]);
      await eventually(() => processGone(shim), 10_000, 'the held shim to go');
      assert.deepEqual(cgroupPids(id), []);
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(id), 'its rootfs is not mounted');
      assert.ok(!existsSync(join(roots.root, 'containers', id)), 'the container is gone');
    }
  }
});

test('a user stop or kill racing a held restart\'s deadline must never leave the container running (seeded rounds)', async () => {
  // The held restart goes by itself at the back-off's end (exit + 100 ms); the user's verb is sent
  // around that moment, each round at a seeded offset. Either the cancellation wins (the start is
  // undone) or the deadline does (the container runs, and the verb, which decides under the
  // container's lock after the shim's answer, stops it). Both end stopped.
  const seed = Number(process.env['BERTH_TEST_SEED'] ?? Date.now() % 1_000_000);
  const rand = seededRandom(seed);
  const rounds = Number(process.env['BERTH_RACE_ROUNDS'] ?? 12);
  const id = (await berthOk(roots, ['run', '-d', '--restart', 'always', '--network', 'none', '--name', 'deadline-race', 'bb', 'sleep', '1000'])).trim();
  const outcomes = { went: 0, cancelled: 0 };
  let restartsLogged = 0;
  for (let round = 0; round < rounds; round++) {
    const where = `seed ${seed}, round ${round}`;
    const verb = rand() < 0.5 ? 'stop' : 'kill';
    // sent around the deadline (the verb itself takes some ms to reach the engine): -100 … +20 ms
    const offsetMs = Math.round(-100 + rand() * 120);
    const before = await eventually(async () => { const i = await inspect(id); return i.State.Status === 'running' ? i : undefined; }, 20_000, `running (${where})`);
    const killedAt = Date.now();
    process.kill(before.State.Pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 100 + offsetMs - Date.now()))); // the race's stimulus, not a synchronisation
    const r = await berth(roots, verb === 'stop' ? ['stop', '-t', '1', id] : ['kill', id]);
    // kill of a container whose restart was cancelled: not running, docker's error
    if (r.code !== 0) assert.match(r.stderr, /is not running/, `${verb}: ${r.stderr} (${where})`);
    const after = await inspect(id);
    assert.equal(after.State.Status, 'exited', `${verb} at deadline ${offsetMs >= 0 ? '+' : ''}${offsetMs} ms: ${after.State.Status} (${where})`);
    assert.equal(heldShim(id), undefined, `no held restart left (${where})`);
    await eventually(() => cgroupPids(id).length === 0, 10_000, `no process left in the cgroup (${where})`);
    await twoMoreLooks(roots);
    const later = await inspect(id);
    assert.equal(later.State.Status, 'exited', `still stopped two looks later (${where})`);
    assert.equal(later.RestartCount, after.RestartCount, `no restart after the ${verb} (${where})`);
    // which one won: a restart that went is logged by the engine (`restart of NAME …`)
    const went = readFileSync(join(roots.run, 'engine.log'), 'utf8').split('\n').filter((l) => l.includes('restart of deadline-race (')).length;
    if (went > restartsLogged) outcomes.went++;
    else outcomes.cancelled++;
    restartsLogged = went;
    await berthOk(roots, ['start', id]);
  }
  process.stdout.write(`# deadline race, seed ${seed}: ${outcomes.went} went then stopped, ${outcomes.cancelled} cancelled\n`);
  await berthOk(roots, ['rm', '-f', id]);
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(id), 'its rootfs is not mounted');
});
