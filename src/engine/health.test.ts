// Health checks on a manual clock with a scripted probe: Docker's state machine and schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../lib/clock.js';
import {
  HealthMonitor, resolveHealthcheck, probeArgv, limitOutput, HEALTH_DEFAULTS,
  type ResolvedHealthcheck, type HealthState, type HealthStatus, type ProbeResult,
} from './health.js';

/** One scripted probe run: its result, how long it takes on the clock, or hang until cancelled. */
type Step = Partial<ProbeResult> & { readonly takes?: number; readonly hang?: boolean; readonly throws?: string };

interface Harness {
  readonly clock: ManualClock;
  readonly monitor: HealthMonitor;
  /** clock.now() at each probe's start */
  readonly probeStarts: number[];
  /** every onChange call */
  readonly changes: { status: HealthStatus; state: HealthState }[];
  /** the signals the probes were given */
  readonly signals: AbortSignal[];
  maxInFlight(): number;
}

const check = (over: Partial<ResolvedHealthcheck> = {}): ResolvedHealthcheck => ({
  test: ['CMD', 'true'], interval: 10_000, timeout: 3_000, startPeriod: 0, startInterval: 5_000, retries: 3, ...over,
});

/** A monitor whose probe plays `steps` in order (then repeats the last one). */
function harness(c: ResolvedHealthcheck, steps: readonly Step[], extra: { initial?: HealthState } = {}): Harness {
  const clock = new ManualClock(0);
  const probeStarts: number[] = [];
  const changes: { status: HealthStatus; state: HealthState }[] = [];
  const signals: AbortSignal[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let i = 0;
  const monitor = new HealthMonitor({
    clock,
    check: c,
    startedAt: 0,
    ...extra,
    onChange: (status, state) => changes.push({ status, state }),
    probe: async (_argv, _timeout, signal) => {
      const step = steps[Math.min(i++, steps.length - 1)]!;
      probeStarts.push(clock.now());
      signals.push(signal);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (step.hang) await new Promise((_r, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true }));
        if (step.takes) await clock.sleep(step.takes, signal);
        if (step.throws) throw new Error(step.throws);
        return { exitCode: step.exitCode ?? 0, output: step.output ?? '', timedOut: step.timedOut ?? false };
      } finally {
        inFlight--;
      }
    },
  });
  return { clock, monitor, probeStarts, changes, signals, maxInFlight: () => maxInFlight };
}

const ok: Step = { exitCode: 0 };
const fail: Step = { exitCode: 1 };

test('the status is starting until the first success, then healthy; the first probe runs one interval after the start', async () => {
  const h = harness(check(), [ok]);
  h.monitor.start();
  assert.deepEqual(h.changes.map((c) => c.status), ['starting'], 'start() reports the initial state');
  await h.clock.advance(9_999);
  assert.deepEqual(h.probeStarts, []);
  assert.equal(h.monitor.state().status, 'starting');
  await h.clock.advance(1);
  assert.deepEqual(h.probeStarts, [10_000]);
  const s = h.monitor.state();
  assert.equal(s.status, 'healthy');
  assert.equal(s.failingStreak, 0);
  assert.deepEqual(s.log, [{ start: '1970-01-01T00:00:10.000Z', end: '1970-01-01T00:00:10.000Z', exitCode: 0, output: '' }]);
  assert.deepEqual(h.changes.map((c) => c.status), ['starting', 'healthy']);
  h.monitor.stop();
  await h.monitor.stopped();
});

test('retries consecutive failures make it unhealthy; any non-zero code fails; a success resets the streak', async () => {
  const h = harness(check({ retries: 3 }), [fail, { exitCode: 2 }, fail, ok, fail]);
  h.monitor.start();
  await h.clock.advance(20_000);
  assert.equal(h.monitor.state().status, 'starting');
  assert.equal(h.monitor.state().failingStreak, 2);
  await h.clock.advance(10_000);
  assert.equal(h.monitor.state().status, 'unhealthy');
  assert.equal(h.monitor.state().failingStreak, 3);
  await h.clock.advance(10_000);
  assert.equal(h.monitor.state().status, 'healthy');
  assert.equal(h.monitor.state().failingStreak, 0);
  await h.clock.advance(10_000);
  assert.equal(h.monitor.state().status, 'healthy', 'one failure after healthy stays healthy');
  assert.equal(h.monitor.state().failingStreak, 1);
  assert.deepEqual(h.monitor.state().log.map((e) => e.exitCode), [1, 2, 1, 0, 1]);
  h.monitor.stop();
  await h.monitor.stopped();
});

test('failures inside the start period do not count while starting; the first one after it does', async () => {
  const h = harness(check({ startPeriod: 30_000, startInterval: 5_000, retries: 1 }), [fail]);
  h.monitor.start();
  await h.clock.advance(25_000);
  assert.deepEqual(h.probeStarts, [5_000, 10_000, 15_000, 20_000, 25_000]);
  assert.equal(h.monitor.state().status, 'starting');
  assert.equal(h.monitor.state().failingStreak, 0);
  assert.equal(h.monitor.state().log.length, 5, 'uncounted failures are still logged');
  await h.clock.advance(5_000);
  assert.deepEqual(h.probeStarts.at(-1), 30_000);
  assert.equal(h.monitor.state().status, 'unhealthy', 'a probe starting at the end of the start period counts');
  assert.equal(h.monitor.state().failingStreak, 1);
  h.monitor.stop();
  await h.monitor.stopped();
});

test('a success inside the start period makes it healthy, and failures count from then on', async () => {
  const h = harness(check({ startPeriod: 60_000, startInterval: 5_000, interval: 10_000, retries: 1 }), [fail, ok, fail]);
  h.monitor.start();
  await h.clock.advance(10_000);
  assert.equal(h.monitor.state().status, 'healthy');
  await h.clock.advance(10_000);
  assert.deepEqual(h.probeStarts, [5_000, 10_000, 20_000], 'healthy: the regular interval, even inside the start period');
  assert.equal(h.monitor.state().status, 'unhealthy');
  assert.equal(h.monitor.state().failingStreak, 1);
  h.monitor.stop();
  await h.monitor.stopped();
});

test('start_interval while starting inside the start period (capped by what is left of it), interval after', async () => {
  const h = harness(check({ startPeriod: 12_000, startInterval: 5_000, interval: 20_000, retries: 100 }), [fail]);
  h.monitor.start();
  await h.clock.advance(60_000);
  assert.deepEqual(h.probeStarts, [5_000, 10_000, 12_000, 32_000, 52_000]);
  h.monitor.stop();
  await h.monitor.stopped();

  const noPeriod = harness(check({ startPeriod: 0, startInterval: 1_000, interval: 20_000 }), [fail]);
  noPeriod.monitor.start();
  await noPeriod.clock.advance(40_000);
  assert.deepEqual(noPeriod.probeStarts, [20_000, 40_000], 'without a start period start_interval is never used');
  noPeriod.monitor.stop();
  await noPeriod.monitor.stopped();
});

test('the next probe waits an interval after the previous one finished: a slow probe never overlaps the next', async () => {
  const h = harness(check({ interval: 10_000, timeout: 60_000 }), [{ exitCode: 0, takes: 25_000 }]);
  h.monitor.start();
  await h.clock.advance(100_000);
  assert.deepEqual(h.probeStarts, [10_000, 45_000, 80_000]);
  assert.equal(h.maxInFlight(), 1);
  assert.deepEqual(h.monitor.state().log.map((e) => [e.start, e.end]), [
    ['1970-01-01T00:00:10.000Z', '1970-01-01T00:00:35.000Z'],
    ['1970-01-01T00:00:45.000Z', '1970-01-01T00:01:10.000Z'],
  ]);
  h.monitor.stop();
  await h.monitor.stopped();
});

test('a probe that timed out is a failure logged with exit code -1 and Docker\'s message', async () => {
  const h = harness(check({ timeout: 3_000, retries: 2 }), [{ exitCode: 137, timedOut: true, output: 'half a line' }, { hang: true }]);
  h.monitor.start();
  await h.clock.advance(10_000);
  assert.deepEqual(h.monitor.state().log[0], { start: '1970-01-01T00:00:10.000Z', end: '1970-01-01T00:00:10.000Z', exitCode: -1, output: 'Health check exceeded timeout (3s): half a line' });
  assert.equal(h.monitor.state().failingStreak, 1);
  // A probe that does not honour its timeout is cancelled by the monitor's backstop.
  await h.clock.advance(10_000 + 3_000 + 999);
  assert.equal(h.monitor.state().log.length, 1, 'still running just before the backstop');
  await h.clock.advance(1);
  assert.equal(h.signals[1]!.aborted, true, 'the hung probe was cancelled');
  assert.deepEqual(h.monitor.state().log[1], { start: '1970-01-01T00:00:20.000Z', end: '1970-01-01T00:00:24.000Z', exitCode: -1, output: 'Health check exceeded timeout (3s)' });
  assert.equal(h.monitor.state().status, 'unhealthy');
  h.monitor.stop();
  await h.monitor.stopped();
});

test('a probe that cannot run is a failure logged with -1 and the error', async () => {
  const h = harness(check(), [{ throws: 'container abc is not running' }]);
  h.monitor.start();
  await h.clock.advance(10_000);
  assert.deepEqual(h.monitor.state().log.map((e) => [e.exitCode, e.output]), [[-1, 'container abc is not running']]);
  assert.equal(h.monitor.state().failingStreak, 1);
  h.monitor.stop();
  await h.monitor.stopped();
});

test('the log keeps the last 5 results, each output cut to 4096 bytes then "..."', async () => {
  const steps: Step[] = [1, 2, 3, 4, 5, 6].map((n) => ({ exitCode: 0, output: `run ${n}\n` }));
  steps.push({ exitCode: 1, output: 'x'.repeat(10_000) });
  const h = harness(check(), steps);
  h.monitor.start();
  await h.clock.advance(70_000);
  const log = h.monitor.state().log;
  assert.equal(log.length, 5);
  assert.deepEqual(log.slice(0, 4).map((e) => e.output), ['run 3\n', 'run 4\n', 'run 5\n', 'run 6\n']);
  assert.equal(log[4]!.output, 'x'.repeat(4096) + '...');
  h.monitor.stop();
  await h.monitor.stopped();
});

test('output limiting: on a character boundary, and idempotent on an output execCaptured already limited', () => {
  assert.equal(limitOutput('é'.repeat(3000)), 'é'.repeat(2048) + '...');
  assert.equal(limitOutput('€'.repeat(2000)), '€'.repeat(1365) + '...', '3-byte characters: 1365 fit in 4096 bytes');
  const limited = 'y'.repeat(4096) + '...';
  assert.equal(limitOutput(limited), limited);
  assert.equal(limitOutput('short'), 'short');
});

test('stop() cancels a pending wait and a running probe; nothing is recorded after it', async () => {
  const idle = harness(check(), [ok]);
  idle.monitor.start();
  await idle.clock.advance(5_000);
  idle.monitor.stop();
  await idle.monitor.stopped();
  assert.equal(idle.clock.pending(), 0);
  await idle.clock.advance(60_000);
  assert.deepEqual(idle.probeStarts, []);

  const busy = harness(check({ timeout: 60_000 }), [{ exitCode: 0, takes: 30_000 }]);
  busy.monitor.start();
  await busy.clock.advance(15_000);
  assert.equal(busy.probeStarts.length, 1);
  const before = busy.changes.length;
  busy.monitor.stop();
  await busy.monitor.stopped();
  assert.equal(busy.signals[0]!.aborted, true);
  await busy.clock.advance(60_000);
  assert.equal(busy.changes.length, before, 'no result after stop()');
  assert.equal(busy.monitor.state().status, 'starting');
  assert.equal(busy.clock.pending(), 0);
});

test('the state is plain data: it round-trips through JSON and a monitor can go on from it', async () => {
  const first = harness(check({ retries: 3 }), [fail]);
  first.monitor.start();
  await first.clock.advance(20_000);
  first.monitor.stop();
  await first.monitor.stopped();
  const saved = JSON.parse(JSON.stringify(first.monitor.state())) as HealthState;
  assert.deepEqual(saved, first.monitor.state());
  assert.equal(saved.failingStreak, 2);

  const second = harness(check({ retries: 3 }), [fail], { initial: saved });
  second.monitor.start();
  assert.deepEqual(second.changes[0]!.state, saved);
  await second.clock.advance(10_000);
  assert.equal(second.monitor.state().status, 'unhealthy', 'the persisted streak carries on');
  assert.equal(second.monitor.state().log.length, 3);
  second.monitor.stop();
  await second.monitor.stopped();
});

test('CMD runs its argv; CMD-SHELL runs /bin/sh -c (or the given shell)', () => {
  assert.deepEqual(probeArgv(['CMD', 'curl', '-f', 'http://localhost/']), ['curl', '-f', 'http://localhost/']);
  assert.deepEqual(probeArgv(['CMD-SHELL', 'test -f /tmp/ready']), ['/bin/sh', '-c', 'test -f /tmp/ready']);
  assert.deepEqual(probeArgv(['CMD-SHELL', 'x'], ['/bin/bash', '-ec']), ['/bin/bash', '-ec', 'x']);
});

test('NONE or disable: true means no health check, from the service or the image', () => {
  const image = { Test: ['CMD', 'true'], Interval: 1e9 };
  assert.equal(resolveHealthcheck({ disable: true, test: ['NONE'] }, image), undefined);
  assert.equal(resolveHealthcheck({ disable: true }, image), undefined);
  assert.equal(resolveHealthcheck({ disable: false, interval: 2000 }, { Test: ['NONE'] }), undefined);
  assert.equal(resolveHealthcheck(undefined, { Test: ['NONE'] }), undefined);
  assert.equal(resolveHealthcheck(undefined, undefined), undefined);
  assert.equal(resolveHealthcheck({ disable: false, interval: 2000 }, undefined), undefined, 'no test anywhere: no check');
  assert.equal(resolveHealthcheck(undefined, { Test: [] }), undefined);
});

test('the service overrides the image field by field; 0 and absent inherit; Docker\'s defaults fill the rest', () => {
  const image = { Test: ['CMD', 'img-check'], Interval: 10e9, Timeout: 2e9, StartPeriod: 3e9, StartInterval: 1e9, Retries: 7 };
  assert.deepEqual(resolveHealthcheck(undefined, image), { test: ['CMD', 'img-check'], interval: 10_000, timeout: 2_000, startPeriod: 3_000, startInterval: 1_000, retries: 7 });
  assert.deepEqual(resolveHealthcheck({ disable: false, interval: 5_000 }, image), { test: ['CMD', 'img-check'], interval: 5_000, timeout: 2_000, startPeriod: 3_000, startInterval: 1_000, retries: 7 });
  assert.deepEqual(resolveHealthcheck({ disable: false, test: ['CMD-SHELL', 'svc'], retries: 2 }, image), { test: ['CMD-SHELL', 'svc'], interval: 10_000, timeout: 2_000, startPeriod: 3_000, startInterval: 1_000, retries: 2 });
  assert.deepEqual(resolveHealthcheck({ disable: false, timeout: 500, start_period: 4_000, start_interval: 250 }, image), { test: ['CMD', 'img-check'], interval: 10_000, timeout: 500, startPeriod: 4_000, startInterval: 250, retries: 7 });
  assert.deepEqual(resolveHealthcheck({ disable: false, interval: 0, retries: 0 }, image), { test: ['CMD', 'img-check'], interval: 10_000, timeout: 2_000, startPeriod: 3_000, startInterval: 1_000, retries: 7 }, '0 inherits');
  assert.deepEqual(resolveHealthcheck({ disable: false, test: ['CMD-SHELL', 'svc'] }, undefined), { test: ['CMD-SHELL', 'svc'], interval: HEALTH_DEFAULTS.interval, timeout: 30_000, startPeriod: 0, startInterval: 5_000, retries: 3 });
  assert.deepEqual(resolveHealthcheck({ disable: false, test: ['CMD', 'x'], retries: 0 }, { Retries: 0 })?.retries, 3, 'retries 0 everywhere runs as 3');
});
