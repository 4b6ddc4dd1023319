// Health checks on real containers (root, real kernel): execCaptured inside a running container,
// its timeout killing everything it started, and a HealthMonitor on the real clock going
// starting → healthy → unhealthy. Each test leaves nothing behind.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { importBusybox, makeRoots, berthOk, leftovers, cleanupRoots, repoRoot, eventually, type TestRoots } from '../helpers/env.js';
import { engineHost } from '../../src/engine/host.js';
import type { ContainerRuntime, ExecRequest } from '../../src/runtime/container.js';
import { realClock } from '../../src/lib/clock.js';
import { hostCgroupDriver } from '../../src/runtime/cgroups/detect.js';
import { HealthMonitor, type HealthStatus } from '../../src/engine/health.js';

let roots: TestRoots;
let runtime: ContainerRuntime;

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'bb:latest');
  // The facilities as the engine composes them (src/engine/host.ts), on the test roots.
  runtime = engineHost(roots, repoRoot, roots.env, realClock).runtime;
});

afterEach(async () => {
  const ids = (await berthOk(roots, ['ps', '-aq', '--no-trunc'])).split('\n').filter((l) => l !== '');
  if (ids.length > 0) await berthOk(roots, ['rm', '-f', ...ids]);
  assert.deepEqual(leftovers(roots), [], 'nothing left: no mount, cgroup or process');
});

after(async () => {
  await berthOk(roots, ['rmi', 'bb:latest']);
  await cleanupRoots(roots);
});

const cmd = (...args: string[]): ExecRequest => ({ args, env: [], tty: false, stdin: false });

/** The pids in the container's cgroup (first hierarchy), zombies excluded. */
function containerPids(id: string): number[] {
  const procsDir = hostCgroupDriver().placement(runtime.find(id).record.cgroupName).procsDirs[0]!;
  return readFileSync(join(procsDir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number).filter((pid) => {
    try { return !/^\S+ Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')); } catch { return false; }
  }).sort((a, b) => a - b);
}

test('execCaptured returns the exit code and the interleaved output of a command run in the container namespaces', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--hostname', 'harbor', 'bb', 'sleep', '100'])).trim();
  const pid = runtime.find(id).observed.started!.pid;
  const r = await runtime.execCaptured(id, cmd('sh', '-c', 'hostname; readlink /proc/self/ns/pid; sleep 0.1; echo to-stderr >&2; exit 3'), { timeoutMs: 10_000 });
  assert.equal(r.timedOut, false);
  assert.equal(r.exitCode, 3);
  assert.equal(r.output, `harbor\n${readlinkSync(`/proc/${pid}/ns/pid`)}\nto-stderr\n`);

  const ok = await runtime.execCaptured(id, cmd('hostname'), { timeoutMs: 10_000 });
  assert.deepEqual(ok, { exitCode: 0, output: 'harbor\n', timedOut: false });

  const big = await runtime.execCaptured(id, cmd('sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" x'), { timeoutMs: 10_000 });
  assert.equal(big.exitCode, 0);
  assert.equal(big.output, 'x'.repeat(4096) + '...', 'output kept up to 4096 bytes, as Docker does');
  const small = await runtime.execCaptured(id, cmd('echo', 'hello world'), { timeoutMs: 10_000, maxOutput: 5 });
  assert.equal(small.output, 'hello...');

  const missing = await runtime.execCaptured(id, cmd('no-such-command'), { timeoutMs: 10_000 });
  assert.equal(missing.exitCode, 127);
  assert.match(missing.output, /no-such-command/);
});

test('a command exceeding the timeout is killed with everything it started, and reported as timedOut', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--init', 'bb', 'sleep', '100'])).trim();
  const before = containerPids(id);
  const t0 = Date.now();
  const r = await runtime.execCaptured(id, cmd('sh', '-c', 'echo started; sleep 31 & sleep 32; echo never'), { timeoutMs: 500 });
  const took = Date.now() - t0;
  assert.equal(r.timedOut, true);
  assert.equal(r.exitCode, -1);
  assert.equal(r.output, 'started\n');
  assert.ok(took >= 500 && took < 3_000, `returned ${took} ms after the start`);
  await eventually(() => JSON.stringify(containerPids(id)) === JSON.stringify(before), 10_000, 'the container cgroup holds only its own processes again');

  // Aborting kills the same way and rejects.
  const controller = new AbortController();
  const running = runtime.execCaptured(id, cmd('sh', '-c', 'sleep 33 & sleep 34'), { timeoutMs: 30_000, signal: controller.signal });
  await eventually(() => containerPids(id).length >= before.length + 2, 5_000, 'the aborted command runs');
  controller.abort();
  await assert.rejects(running, { name: 'AbortError' });
  await eventually(() => JSON.stringify(containerPids(id)) === JSON.stringify(before), 10_000, 'the aborted command is gone');
});

test('a HealthMonitor on the real clock goes starting → healthy when /tmp/ready appears → unhealthy after retries when it goes', async () => {
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sleep', '100'])).trim();
  const startedAt = Date.parse(runtime.find(id).observed.started!.startedAt);
  const transitions: HealthStatus[] = [];
  const monitor = new HealthMonitor({
    clock: realClock,
    check: { test: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 200, timeout: 5_000, startPeriod: 60_000, startInterval: 200, retries: 2 },
    startedAt,
    probe: (argv, timeoutMs, signal) => runtime.execCaptured(id, cmd(...argv), { timeoutMs, signal }),
    onChange: (status) => { if (transitions.at(-1) !== status) transitions.push(status); },
  });
  monitor.start();
  try {
    await eventually(() => monitor.state().log.length >= 2, 5_000, 'two failing probes inside the start period');
    assert.equal(monitor.state().status, 'starting');
    assert.equal(monitor.state().failingStreak, 0, 'failures inside the start period do not count');
    assert.deepEqual(monitor.state().log.slice(0, 2).map((e) => e.exitCode), [1, 1]);

    await runtime.execCaptured(id, cmd('touch', '/tmp/ready'), { timeoutMs: 5_000 });
    await eventually(() => monitor.state().status === 'healthy', 5_000, 'healthy');
    assert.equal(monitor.state().log.at(-1)!.exitCode, 0);

    await runtime.execCaptured(id, cmd('rm', '/tmp/ready'), { timeoutMs: 5_000 });
    await eventually(() => monitor.state().status === 'unhealthy', 5_000, 'unhealthy');
    const s = monitor.state();
    assert.equal(s.failingStreak, 2);
    assert.deepEqual(s.log.slice(-2).map((e) => e.exitCode), [1, 1]);
    assert.ok(s.log.length <= 5);
    for (const e of s.log) assert.ok(Date.parse(e.start) <= Date.parse(e.end), 'RFC3339 start ≤ end');
    assert.deepEqual(transitions, ['starting', 'healthy', 'unhealthy']);
  } finally {
    monitor.stop();
    await monitor.stopped();
  }
});
