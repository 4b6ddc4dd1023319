// Warm container slots (issue 13, docs/slots.md). Intent: a start that takes a waiting
// `berth-shim slot` cannot be told from a cold one — same exit code, output, log, limits, cgroup,
// ps and inspect — while the pool refills behind it, empties with the engine's stop, leaves
// nothing behind an engine SIGKILLed at any point, and BERTH_SLOTS=0 leaves the cold path alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { berth, berthOk, engineStatus, eventually, leftovers, poolNamespaces, processGone, removeAllContainers, repoRoot, slotPids, stopEngine, tearDownRoots, type TestRoots, warmAndColdRoots } from '../helpers/env.js';

interface Slots { Size: number; Idle: number; Claimed: number }

let roots: TestRoots;
let cold: TestRoots;

async function slots(r: TestRoots): Promise<Slots> {
  return ((await engineStatus(r)) as unknown as { Slots: Slots }).Slots;
}

/** Waits until the pool of `r` is full again and returns its slots' pids. */
async function fullPool(r: TestRoots): Promise<number[]> {
  return eventually(async () => {
    const s = await slots(r);
    const pids = slotPids(r);
    return s.Idle === s.Size && pids.length === s.Size ? pids : false;
  }, 30_000, 'the slot pool to be full');
}

before(async () => { ({ roots, cold } = await warmAndColdRoots('BERTH_SLOTS')); });
after(() => tearDownRoots(roots, cold));

/** `berth-shim slot <root>` run by hand, `input` written to its control socket (Node's stdin pipe is a socket pair), then EOF. */
function slotBy(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(repoRoot, 'native', 'build', 'berth-shim'), ['slot', roots.root], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

test('a slot ends quietly (0) at EOF and refuses a malformed claim (125) without starting anything', async () => {
  assert.deepEqual(await slotBy(''), { code: 0, stdout: '', stderr: '' });
  assert.deepEqual(await slotBy('nonsense\n'), { code: 125, stdout: '', stderr: 'berth-shim: slot: malformed claim\n' });
  assert.deepEqual(await slotBy('claim\tattached\tkeep\tkeep\tkeep\trelative/launch\n'), { code: 125, stdout: '', stderr: 'berth-shim: slot: the launch file must be an absolute path\n' });
  assert.deepEqual(await slotBy('claim\tattached\tfd\tkeep\tkeep\t/nonexistent/launch\n'), { code: 125, stdout: '', stderr: 'berth-shim: slot: the claim names more descriptors than it sent\n' });
  assert.deepEqual(await slotBy('claim\tsideways\tkeep\tkeep\tkeep\t/nonexistent/launch\n'), { code: 125, stdout: '', stderr: 'berth-shim: slot: unknown mode \'sideways\' in the claim\n' });
  assert.deepEqual(await slotBy('claim\tdetached\tkeep\tkeep\tkeep\t/nonexistent'), { code: 125, stdout: '', stderr: 'berth-shim: slot: the claim ended before its line did\n' });
  // a well-formed claim becomes `berth-shim run`, which reports the missing launch file as a cold shim would
  const r = await slotBy('claim\tattached\tnull\tkeep\tkeep\t/nonexistent/launch\n');
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^berth-shim: .*\/nonexistent\/launch/);
});

test('the pool fills to BERTH_SLOTS (default 2) in the background; BERTH_SLOTS=0 keeps none', async () => {
  const pids = await fullPool(roots);
  assert.equal(pids.length, 2);
  assert.deepEqual(await slots(cold), { Size: 0, Idle: 0, Claimed: 0 });
  assert.deepEqual(slotPids(cold), []);
});

test('run --rm through a slot: the same exit code, output and removal as without slots', async () => {
  const before = await fullPool(roots);
  const claimed = (await slots(roots)).Claimed;
  const args = ['run', '--rm', '--network', 'none', 'bb', 'sh', '-c', 'echo out; echo err >&2; exit 7'];
  const warm = await berth(roots, args);
  const coldRun = await berth(cold, args);
  assert.deepEqual(warm, coldRun);
  assert.deepEqual(warm, { code: 7, stdout: 'out\n', stderr: 'err\n' });
  assert.equal((await slots(roots)).Claimed, claimed + 1, 'the run took a slot');
  // the slot it took is gone (it became the run's supervisor, which exited); new ones replace it
  const after = await fullPool(roots);
  assert.equal(after.filter((p) => !before.includes(p)).length, 1, 'one new slot');
  assert.equal(await berthOk(roots, ['ps', '-aq']), '', 'removed');
});

test('run -i through a slot: the caller\'s stdin reaches the container (the slot\'s socket carries it), warm and through the Node CLI', async () => {
  for (const env of [{}, { BERTH_NO_WARM: '1' }]) {
    await fullPool(roots);
    const claimed = (await slots(roots)).Claimed;
    const r = await berth(roots, ['run', '--rm', '-i', '--network', 'none', 'bb', 'sh', '-c', 'cat; echo done'], { input: 'line one\nline two\n', env });
    assert.deepEqual(r, { code: 0, stdout: 'line one\nline two\ndone\n', stderr: '' }, JSON.stringify(env));
    assert.equal((await slots(roots)).Claimed, claimed + 1, 'the run took a slot');
  }
});

test('run -d through a slot: its supervisor is the slot process, and ps, inspect, logs, limits, cgroup and stop are a cold one\'s', async () => {
  const pool = await fullPool(roots);
  const id = (await berthOk(roots, ['run', '-d', '--network', 'none', '--memory', '64m', '--pids-limit', '50', '--name', 'warm1', 'bb', 'sh', '-c', 'echo hello; exec sleep 1000'])).trim();
  const started = JSON.parse(readFileSync(join(roots.root, 'containers', id, 'started'), 'utf8')) as { pid: number; shimPid: number };
  // the first shim process (the slot, same pid) forked the supervisor: its parent is that slot
  const argv = readFileSync(`/proc/${started.shimPid}/cmdline`, 'utf8').split('\0');
  assert.deepEqual(argv.slice(1, 4), ['run', '--detach', join(roots.root, 'containers', id, 'launch')], 'a cold shim\'s argv');
  assert.ok(!slotPids(roots).includes(started.shimPid), 'no longer an idle slot');
  assert.equal((await slots(roots)).Claimed > 0, true);
  assert.equal(pool.length, 2);
  const [info] = JSON.parse(await berthOk(roots, ['inspect', 'warm1'])) as [{ State: { Status: string; Pid: number }; HostConfig: { Memory: number; Cgroup: string } }];
  assert.equal(info.State.Status, 'running');
  assert.equal(info.State.Pid, started.pid);
  assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(info.HostConfig.Cgroup, `${roots.cgroupParent}/${id}`);
  assert.match(await berthOk(roots, ['ps']), /warm1/);
  await eventually(async () => (await berthOk(roots, ['logs', 'warm1'])) === 'hello\n', 10_000, 'the log line');
  // the container's process is in its own cgroup, with the limits applied (v1 or v2 alike)
  const cgroupOf = readFileSync(`/proc/${started.pid}/cgroup`, 'utf8');
  assert.ok(cgroupOf.includes(`/${roots.cgroupParent}/${id}`), cgroupOf);
  const memoryLimit = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup'].map((d) => join(d, roots.cgroupParent, id)).map((d) => [join(d, 'memory.limit_in_bytes'), join(d, 'memory.max')]).flat().find((f) => existsSync(f));
  assert.ok(memoryLimit, 'a memory limit file');
  assert.equal(Number(readFileSync(memoryLimit, 'utf8').trim()), 64 * 1024 * 1024);
  // and the supervisor is not in it (it must not count against its limits)
  assert.ok(!readFileSync(`/proc/${started.shimPid}/cgroup`, 'utf8').includes(id), 'the shim stays out of the container\'s cgroup');
  await berthOk(roots, ['stop', '-t', '1', 'warm1']);
  const [stopped] = JSON.parse(await berthOk(roots, ['inspect', 'warm1'])) as [{ State: { Status: string } }];
  assert.equal(stopped.State.Status, 'exited');
  await berthOk(roots, ['start', 'warm1']);
  assert.match(await berthOk(roots, ['ps']), /warm1/, 'started again (through another slot)');
  await berthOk(roots, ['rm', '-f', 'warm1']);
  assert.deepEqual(leftovers(roots), []);
});

test('a failed start through a slot reports as a cold one: exit 127 and the message', async () => {
  await fullPool(roots);
  const args = ['run', '--rm', '--network', 'none', 'bb', 'no-such-command'];
  const warm = await berth(roots, args);
  const coldRun = await berth(cold, args);
  assert.equal(warm.code, 127);
  assert.deepEqual(warm, coldRun);
  const d = await berth(roots, ['run', '-d', '--name', 'broken', '--network', 'none', 'bb', 'no-such-command']);
  const dc = await berth(cold, ['run', '-d', '--name', 'broken', '--network', 'none', 'bb', 'no-such-command']);
  assert.equal(d.code, 127);
  assert.deepEqual({ code: d.code, stderr: d.stderr }, { code: dc.code, stderr: dc.stderr });
  await berthOk(roots, ['rm', '-f', 'broken']);
  await berthOk(cold, ['rm', '-f', 'broken']);
});

test('a slot that dies while idle leaves the pool, and starts go on (cold or through its replacement)', async () => {
  const [victim] = await fullPool(roots);
  process.kill(victim!, 'SIGKILL');
  await eventually(() => processGone(victim!), 10_000, 'the killed slot to go');
  assert.equal((await berth(roots, ['run', '--rm', '--network', 'none', 'bb', 'true'])).code, 0);
  const pool = await fullPool(roots);
  assert.ok(!pool.includes(victim!));
});

test('200 runs through the slots and the pre-made network sandboxes leak nothing: no container, process, namespace or engine descriptor beyond the two pools', { timeout: 900_000 }, async () => {
  await fullPool(roots);
  const enginePid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim());
  const fds = (): number => readdirSync(`/proc/${enginePid}/fd`).length;
  const fdsBefore = fds();
  const claimedBefore = (await slots(roots)).Claimed;
  for (let i = 0; i < 200; i++) {
    // every other one on the default network: it takes a pre-made sandbox (src/network/pool.ts)
    const r = await berth(roots, i % 2 === 0 ? ['run', '--rm', 'bb', 'true'] : ['run', '--rm', '--network', 'none', 'bb', 'true'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `run ${i}: ${r.stderr}`);
  }
  await fullPool(roots);
  assert.ok((await slots(roots)).Claimed - claimedBefore >= 50, 'the runs went through slots');
  assert.equal((await berthOk(roots, ['ps', '-aq'])).trim(), '');
  await eventually(() => poolNamespaces(roots).length <= 2, 30_000, 'the sandbox pool to hold at most its size');
  assert.deepEqual(leftovers(roots), []);
  assert.ok(fds() <= fdsBefore + 8, `the engine's descriptors went from ${fdsBefore} to ${fds()}`);
  assert.equal(Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim()), enginePid, 'one engine all along');
});

test('the engine\'s stop ends every idle slot; an engine SIGKILLed during starts leaves no slot, and the next engine repairs what the runs left', async () => {
  await fullPool(roots);
  await stopEngine(roots);
  assert.deepEqual(slotPids(roots), [], 'engine stop empties the pool');
  assert.deepEqual(leftovers(roots, { withEngine: true }), []);

  // seeded: SIGKILL of the engine at a point 0–300 ms into a run
  const seed = Number(process.env.BERTH_TEST_SEED ?? Date.now() % 100_000);
  let state = seed;
  const random = (): number => { state = (state * 1103515245 + 12345) % 2 ** 31; return state / 2 ** 31; };
  for (let round = 0; round < 4; round++) {
    await berthOk(roots, ['ps']); // an engine (the first verb starts one)
    await fullPool(roots);
    const enginePid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim());
    const pool = slotPids(roots);
    const delay = Math.floor(random() * 300);
    const child = spawn(join(repoRoot, 'bin', 'berth'), ['run', '-d', '--network', 'none', 'bb', 'sleep', '1000'], { env: roots.env, stdio: 'ignore' });
    const closed = new Promise((resolve) => child.on('close', resolve));
    await new Promise((r) => setTimeout(r, delay));
    process.kill(enginePid, 'SIGKILL');
    await closed;
    // the kernel closed the engine's ends of the slots' sockets: every idle slot ends by itself,
    // those it spawned after `pool` was read too. A slot left is a new engine's: the run's client,
    // finding no engine when the kill came before its request, starts one (its pool is its own)
    const parentOf = (pid: number): number => Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    const orphans = (): number[] => slotPids(roots).filter((p) => {
      try { return parentOf(p) === enginePid || !/berth(\.mjs)? engine/.test(readFileSync(`/proc/${parentOf(p)}/cmdline`, 'utf8').replace(/\0/g, ' ')); } catch { return false; }
    });
    await eventually(() => pool.every((p) => processGone(p)) && orphans().length === 0, 10_000, `the slots of the killed engine to end (seed ${seed}, ${delay} ms)`);
    // the next engine: whatever the run had made is a container (running or not) or was repaired away
    await removeAllContainers(roots);
    assert.deepEqual(leftovers(roots), [], `seed ${seed}, round ${round}, kill at ${delay} ms`);
  }
});
