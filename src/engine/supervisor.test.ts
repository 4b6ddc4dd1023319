// The supervisor on a manual clock with a scripted runtime: restart back-off gaps, the reset
// after a 10 s run, on-failure's limit, a user stop cancelling a pending restart, what an engine
// start brings back, and health timing — in milliseconds of real time, without a real sleep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../lib/clock.js';
import { NotFound } from '../lib/errors.js';
import type { EngineEvent } from '../api/types.js';
import type { ContainerView, HeldStart, RuntimeState } from '../runtime/container.js';
import type { ContainerStatus } from '../runtime/state.js';
import { EventBus } from './events.js';
import { Supervisor, type SupervisedRuntime } from './supervisor.js';
import type { ResolvedHealthcheck } from './health.js';

interface Scripted {
  policy: { name: string; maximumRetryCount: number };
  status: ContainerStatus;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  stoppedByUser: boolean;
  autoRemove: boolean;
  state: RuntimeState;
  healthcheck?: ResolvedHealthcheck;
  /** the supervisor was lost while the processes run (the runtime's `dead` with `lost`) */
  lost?: boolean;
}

/** An in-memory runtime: containers run and exit when the test says, starts are recorded with the clock's time. */
class ScriptedRuntime implements SupervisedRuntime {
  readonly containers = new Map<string, Scripted>();
  readonly starts: { id: string; at: number }[] = [];
  probe: (id: string) => { exitCode: number; output: string } = () => ({ exitCode: 0, output: '' });
  readonly probes: { id: string; at: number }[] = [];
  readonly reaped: { id: string; at: number }[] = [];
  /** when set, every write of state.json fails with it (a full disk) */
  stateWriteError: Error | undefined;

  constructor(private readonly clock: ManualClock) {}

  add(id: string, fields: Partial<Scripted> = {}): void {
    this.containers.set(id, { policy: { name: 'no', maximumRetryCount: 0 }, status: 'created', stoppedByUser: false, autoRemove: false, state: {}, ...fields });
  }

  run(id: string): void {
    const c = this.containers.get(id)!;
    Object.assign(c, { status: 'running', startedAt: this.clock.now(), finishedAt: undefined, exitCode: undefined });
  }

  exit(id: string, exitCode: number): void {
    Object.assign(this.containers.get(id)!, { status: 'exited', finishedAt: this.clock.now(), exitCode });
  }

  private render(id: string, c: Scripted): ContainerView {
    const iso = (t: number | undefined): string => (t === undefined ? '' : new Date(t).toISOString());
    return {
      bundle: `/nonexistent/${id}`,
      record: {
        id, name: id, created: iso(0), image: 'sha256:x', imageRef: 'bb', path: 'sleep', args: [],
        config: { Hostname: id, User: '', Env: [], Cmd: [], Entrypoint: [], WorkingDir: '/', Image: 'bb', Labels: {}, StopSignal: 'SIGTERM', StopTimeout: 10, Tty: false, OpenStdin: false },
        hostConfig: { AutoRemove: c.autoRemove, Init: false, ShmSize: 0, limits: {}, RestartPolicy: c.policy },
        cgroupName: `test/${id}`, layer: { id, lower: [] }, stoppedByUser: c.stoppedByUser,
      },
      observed: {
        status: c.lost ? 'dead' : c.status,
        ...(c.lost ? { lost: { pids: [1] }, error: 'supervisor lost' } : {}),
        ...(c.startedAt !== undefined ? { started: { pid: 1, shimPid: 2, startedAt: iso(c.startedAt) } } : {}),
        ...(c.status === 'exited' ? { exited: { exitCode: c.exitCode ?? 0, signal: 0, oomKilled: false, finishedAt: iso(c.finishedAt) } } : {}),
      },
    } as ContainerView;
  }

  /** how many containers were read (view), to count what a look costs */
  views = 0;

  ids(): string[] {
    return [...this.containers.keys()];
  }

  view(id: string): ContainerView | undefined {
    const c = this.containers.get(id);
    if (!c) return undefined;
    this.views++;
    return this.render(id, c);
  }

  find(ref: string): ContainerView {
    const c = this.containers.get(ref);
    if (!c) throw new NotFound(`no such container: ${ref}`);
    return this.render(ref, c);
  }

  runtimeState(id: string): RuntimeState {
    return this.containers.get(id)?.state ?? {};
  }

  updateRuntimeState(id: string, patch: Partial<RuntimeState>): RuntimeState {
    if (this.stateWriteError) throw this.stateWriteError;
    const c = this.containers.get(id)!;
    c.state = { ...c.state, ...patch };
    return c.state;
  }

  async reapLost(id: string): Promise<ContainerView> {
    const c = this.containers.get(id)!;
    this.reaped.push({ id, at: this.clock.now() });
    c.lost = false;
    this.exit(id, 137);
    return this.find(id);
  }

  async startDetached(ref: string): Promise<ContainerView> {
    const c = this.containers.get(ref)!;
    // the one-instance rule the real runtime enforces: a start over live processes is refused
    if (c.lost || c.status === 'running') throw new Error(`second instance of ${ref}`);
    this.starts.push({ id: ref, at: this.clock.now() });
    this.run(ref);
    return this.find(ref);
  }

  async execCaptured(ref: string): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    this.probes.push({ id: ref, at: this.clock.now() });
    return { ...this.probe(ref), timedOut: false };
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function setup(opts: { readonly holdStarts?: boolean } = {}): { clock: ManualClock; runtime: ScriptedRuntime; supervisor: Supervisor; events: EngineEvent[]; removed: string[] } {
  const clock = new ManualClock(Date.parse('2026-11-30T00:00:00Z'));
  const runtime = opts.holdStarts ? new HoldingRuntime(clock) : new ScriptedRuntime(clock);
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const removed: string[] = [];
  const supervisor = new Supervisor({
    runtime, clock, events: bus, log: () => undefined, inotify: false, lookIntervalMs: 200, holdStarts: opts.holdStarts ?? false,
    autoRemove: async (id) => { removed.push(id); runtime.containers.delete(id); },
    healthcheckOf: async (view) => runtime.containers.get(view.record.id)?.healthcheck,
  });
  return { clock, runtime, supervisor, events, removed };
}

/** Exits `id` now and lets the supervisor see it. */
async function exitNow(s: ReturnType<typeof setup>, id: string, code: number): Promise<void> {
  s.runtime.exit(id, code);
  await s.supervisor.look();
  await settle();
}

test('restart back-off: 100, 200, 400 ms between quick exits, on the clock; a 10 s run starts it over at 100 ms', async () => {
  const s = setup();
  s.runtime.add('c1', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('c1');
  await s.supervisor.start();
  const t0 = s.clock.now();
  for (const gap of [100, 200, 400]) {
    const before = s.runtime.starts.length;
    const exitedAt = s.clock.now();
    await exitNow(s, 'c1', 1);
    await s.clock.advance(gap - 1);
    await settle();
    assert.equal(s.runtime.starts.length, before, `no restart before ${gap} ms`);
    await s.clock.advance(1);
    await settle();
    assert.equal(s.runtime.starts.length, before + 1, `restarted ${gap} ms after the exit`);
    assert.equal(s.runtime.starts.at(-1)!.at - exitedAt, gap);
  }
  assert.equal(s.runtime.runtimeState('c1').restartCount, 3);
  // a run of 10 s or more: the next delay is 100 ms again (the count goes on)
  await s.clock.advance(10_000);
  const exitedAt = s.clock.now();
  await exitNow(s, 'c1', 1);
  await s.clock.advance(100);
  await settle();
  assert.equal(s.runtime.starts.at(-1)!.at - exitedAt, 100);
  assert.equal(s.runtime.runtimeState('c1').restartCount, 4);
  assert.ok(s.clock.now() - t0 < 12_000, 'all of it in simulated time');
  assert.deepEqual(s.events.filter((e) => e.kind === 'container').map((e) => (e as { action: string }).action), ['die', 'restart', 'die', 'restart', 'die', 'restart', 'die', 'restart']);
  await s.supervisor.stop();
});

test('on-failure:2 gives up after 2 restarts; exit 0 is not restarted; a user stop cancels a pending restart', async () => {
  const s = setup();
  s.runtime.add('flaky', { policy: { name: 'on-failure', maximumRetryCount: 2 } });
  s.runtime.add('ok', { policy: { name: 'on-failure', maximumRetryCount: 0 } });
  s.runtime.add('busy', { policy: { name: 'always', maximumRetryCount: 0 } });
  for (const id of ['flaky', 'ok', 'busy']) s.runtime.run(id);
  await s.supervisor.start();
  for (let i = 0; i < 3; i++) {
    await exitNow(s, 'flaky', 3);
    await s.clock.advance(60_000);
    await settle();
  }
  assert.equal(s.runtime.starts.filter((x) => x.id === 'flaky').length, 2);
  assert.equal(s.runtime.containers.get('flaky')!.status, 'exited');
  await exitNow(s, 'ok', 0);
  await s.clock.advance(60_000);
  assert.equal(s.runtime.starts.filter((x) => x.id === 'ok').length, 0);
  // busy exits; its restart waits 100 ms; the user stops it meanwhile
  await exitNow(s, 'busy', 137);
  assert.equal(s.supervisor.stats().pendingRestarts, 1);
  assert.ok(s.runtime.runtimeState('busy').pendingRestart !== undefined, 'the pending restart is recorded for a next engine');
  s.supervisor.userStopped('busy');
  await s.clock.advance(1_000);
  await settle();
  assert.equal(s.runtime.starts.filter((x) => x.id === 'busy').length, 0);
  assert.equal(s.runtime.runtimeState('busy').pendingRestart, undefined);
  await s.supervisor.stop();
});

test('engine start: always comes back (even after a user stop), unless-stopped only when the user did not stop it, a pending restart is carried out, --rm is removed', async () => {
  const s = setup();
  const handled = (id: string): void => { s.runtime.updateRuntimeState(id, { handledExitAt: new Date(s.runtime.containers.get(id)!.finishedAt!).toISOString() }); };
  s.runtime.add('always', { policy: { name: 'always', maximumRetryCount: 0 }, stoppedByUser: true });
  s.runtime.add('unless', { policy: { name: 'unless-stopped', maximumRetryCount: 0 } });
  s.runtime.add('unless-stopped-by-user', { policy: { name: 'unless-stopped', maximumRetryCount: 0 }, stoppedByUser: true });
  s.runtime.add('onfail', { policy: { name: 'on-failure', maximumRetryCount: 0 } });
  s.runtime.add('pending', { policy: { name: 'on-failure', maximumRetryCount: 0 } });
  s.runtime.add('never-started', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.add('rm', { autoRemove: true });
  for (const id of ['always', 'unless', 'unless-stopped-by-user', 'onfail', 'pending', 'rm']) { s.runtime.run(id); s.runtime.exit(id, 1); }
  for (const id of ['always', 'unless', 'unless-stopped-by-user', 'onfail', 'pending']) handled(id);
  s.runtime.updateRuntimeState('pending', { pendingRestart: 'x' });
  await s.supervisor.start();
  await s.clock.advance(100);
  await settle();
  assert.deepEqual(s.runtime.starts.map((x) => x.id).sort(), ['always', 'pending', 'unless']);
  assert.deepEqual(s.removed, ['rm'], 'an exited --rm container is removed by the next engine');
  await s.supervisor.stop();
});

test('health: the first probe one interval after the start, unhealthy after `retries` failures; waitFor wakes on the change', async () => {
  const s = setup();
  const check: ResolvedHealthcheck = { test: ['CMD', 'check'], interval: 1_000, timeout: 500, startPeriod: 0, startInterval: 5_000, retries: 2 };
  s.runtime.add('db', { healthcheck: check });
  s.runtime.run('db');
  const startedAt = s.clock.now();
  await s.supervisor.start();
  const healthy = s.supervisor.waitFor(() => (s.runtime.runtimeState('db').health?.status === 'healthy' ? true : undefined), new AbortController().signal);
  await s.clock.advance(999);
  await settle();
  assert.equal(s.runtime.probes.length, 0, 'no probe before one interval');
  await s.clock.advance(1);
  await settle();
  assert.equal(await healthy, true);
  assert.equal(s.runtime.probes[0]!.at - startedAt, 1_000);
  s.runtime.probe = () => ({ exitCode: 1, output: 'down' });
  await s.clock.advance(1_000);
  await settle();
  assert.equal(s.runtime.runtimeState('db').health?.status, 'healthy', 'one failure of two');
  await s.clock.advance(1_000);
  await settle();
  assert.equal(s.runtime.runtimeState('db').health?.status, 'unhealthy');
  assert.deepEqual(s.events.filter((e) => e.kind === 'container').map((e) => (e as { attributes: Record<string, string> }).attributes.health_status), ['starting', 'healthy', 'unhealthy']);
  // waiting is cancelled by its signal, and by the supervisor stopping
  const ctl = new AbortController();
  const never = s.supervisor.waitFor(() => undefined, ctl.signal);
  ctl.abort();
  await assert.rejects(never, (e: Error) => e.name === 'Cancelled');
  await s.supervisor.stop();
});

test('a lost supervisor with live processes: they are reaped before the restart policy starts it again, once', async () => {
  const s = setup();
  s.runtime.add('web', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('web');
  await s.supervisor.start();
  s.runtime.containers.get('web')!.lost = true; // the shim was SIGKILLed; the processes run on
  await s.supervisor.look();
  await settle();
  assert.equal(s.runtime.reaped.length, 1, 'the remaining processes were killed');
  // the exit that the reap recorded is acted on like any other: one restart after the back-off
  await s.clock.advance(100);
  await settle();
  assert.equal(s.runtime.starts.length, 1, 'restarted once, after the reap');
  assert.ok(s.runtime.starts[0]!.at >= s.runtime.reaped[0]!.at);
  assert.equal(s.runtime.containers.get('web')!.status, 'running');
  await s.supervisor.stop();
});

test('a lost supervisor without a restart policy: reaped and left exited (137), no restart', async () => {
  const s = setup();
  s.runtime.add('job');
  s.runtime.run('job');
  await s.supervisor.start();
  s.runtime.containers.get('job')!.lost = true;
  await s.supervisor.look();
  await settle();
  await s.clock.advance(60_000);
  await settle();
  assert.equal(s.runtime.reaped.length, 1);
  assert.equal(s.runtime.starts.length, 0);
  assert.equal(s.runtime.find('job').observed.exited?.exitCode, 137);
  await s.supervisor.stop();
});

test('state.json not writable (a full disk): an exit is acted on once, a user stop holds, and nothing throws', async () => {
  const s = setup();
  const logged: string[] = [];
  const bus = new EventBus();
  const supervisor = new Supervisor({
    runtime: s.runtime, clock: s.clock, events: bus, log: (l) => logged.push(l), inotify: false, lookIntervalMs: 200,
    autoRemove: async () => undefined, healthcheckOf: async () => undefined,
  });
  s.runtime.add('a', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.add('b', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('a');
  s.runtime.run('b');
  await supervisor.start();
  s.runtime.stateWriteError = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  // b is stopped by the user, though its record could not say so
  supervisor.userStopped('b');
  s.runtime.exit('b', 143);
  s.runtime.exit('a', 1);
  for (let i = 0; i < 5; i++) { await supervisor.look(); await settle(); }
  await s.clock.advance(100);
  await settle();
  for (let i = 0; i < 5; i++) { await supervisor.look(); await settle(); }
  assert.deepEqual(s.runtime.starts.map((x) => x.id), ['a'], 'a restarted once; b, stopped by the user, not at all');
  assert.ok(logged.some((l) => /not saved: .*no space left/.test(l)), 'the failed writes are logged');
  await supervisor.stop();
});

/**
 * A runtime whose starts can be held (the engine's): a held start is made at once and goes by
 * itself at its deadline on the test's clock, unless its signal aborts first. As in the shim, the
 * deadline wins over a cancellation that comes later: the start then takes `reportMs` more (the
 * shim's exec and answer) and resolves even if the signal aborts meanwhile.
 */
class HoldingRuntime extends ScriptedRuntime {
  readonly made: { id: string; at: number; deadline: number }[] = [];
  readonly cancelled: { id: string; at: number }[] = [];
  reportMs = 0;

  constructor(private readonly clk: ManualClock) { super(clk); }

  override async startDetached(ref: string, held?: HeldStart): Promise<ContainerView> {
    if (!held) return super.startDetached(ref);
    this.made.push({ id: ref, at: this.clk.now(), deadline: held.deadline });
    try {
      await this.clk.sleep(held.deadline - this.clk.now(), held.signal);
    } catch (err) {
      this.cancelled.push({ id: ref, at: this.clk.now() });
      throw err;
    }
    const view = await super.startDetached(ref);
    held.went?.(this.clk.now(), this.clk.now());
    if (this.reportMs > 0) await this.clk.sleep(this.reportMs);
    return view;
  }
}

function holdingSetup(): ReturnType<typeof setup> & { runtime: HoldingRuntime } {
  return setup({ holdStarts: true }) as ReturnType<typeof setup> & { runtime: HoldingRuntime };
}

test('held restarts: made as soon as the exit is seen, let go when the back-off ends (100, 200, 400 ms after the exit); counted when made', async () => {
  const s = holdingSetup();
  s.runtime.add('c1', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('c1');
  await s.supervisor.start();
  for (const gap of [100, 200, 400]) {
    const exitedAt = s.clock.now();
    const before = s.runtime.starts.length;
    await exitNow(s, 'c1', 1);
    assert.equal(s.runtime.made.at(-1)!.at, exitedAt, 'made at once');
    assert.equal(s.runtime.runtimeState('c1').restartCount, before + 1, 'counted when made (Docker counts at the decision)');
    await s.clock.advance(gap - 1);
    await settle();
    assert.equal(s.runtime.starts.length, before, `not let go before ${gap} ms`);
    await s.clock.advance(1);
    await settle();
    assert.equal(s.runtime.starts.at(-1)!.at - exitedAt, gap);
    assert.equal(s.runtime.runtimeState('c1').restartCount, before + 1);
  }
  assert.equal(s.runtime.cancelled.length, 0);
  await s.supervisor.stop();
});

test('a back-off longer than the hold lead: made 1 s before its end, not at once', async () => {
  const s = holdingSetup();
  s.runtime.add('c1', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('c1');
  await s.supervisor.start();
  // six quick exits: back-offs 100 … 3200 ms
  let gap = 100;
  for (let i = 0; i < 6; i++) {
    const exitedAt = s.clock.now();
    await exitNow(s, 'c1', 1);
    await s.clock.advance(gap);
    await settle();
    if (gap > 1_000) assert.equal(s.runtime.made.at(-1)!.at - exitedAt, gap - 1_000, `made 1 s before the end of a ${gap} ms back-off`);
    assert.equal(s.runtime.starts.at(-1)!.at - exitedAt, gap);
    gap *= 2;
  }
  await s.supervisor.stop();
});

test('a held restart is cancelled by a user stop, a removal (release) and the engine stop: never let go', async () => {
  const s = holdingSetup();
  for (const id of ['stopped', 'removed', 'engine']) {
    s.runtime.add(id, { policy: { name: 'always', maximumRetryCount: 0 } });
    s.runtime.run(id);
  }
  await s.supervisor.start();
  for (const id of ['stopped', 'removed', 'engine']) s.runtime.exit(id, 137);
  await s.supervisor.look();
  await settle();
  assert.deepEqual(s.runtime.made.map((m) => m.id).sort(), ['engine', 'removed', 'stopped']);
  await s.clock.advance(50);
  s.supervisor.userStopped('stopped');
  s.supervisor.release('removed');
  await settle();
  assert.deepEqual(s.runtime.cancelled.map((m) => m.id).sort(), ['removed', 'stopped']);
  assert.equal(s.runtime.runtimeState('stopped').pendingRestart, undefined, 'no restart pending any more');
  assert.equal(s.runtime.runtimeState('stopped').restartCount, 0, 'the count of the cancelled restart is taken back');
  await s.supervisor.stop();
  await settle();
  await s.clock.advance(1_000);
  await settle();
  assert.deepEqual(s.runtime.cancelled.map((m) => m.id).sort(), ['engine', 'removed', 'stopped']);
  assert.equal(s.runtime.starts.length, 0, 'none was let go');
  assert.equal(s.events.filter((e) => e.kind === 'warning').length, 0, 'a cancellation is no failure');
});

test('a held restart whose deadline came before a user stop goes: counted, a restart event, and no restart after the stop', async () => {
  const s = holdingSetup();
  s.runtime.reportMs = 5;
  s.runtime.add('c1', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('c1');
  await s.supervisor.start();
  await exitNow(s, 'c1', 137);
  assert.equal(s.runtime.made[0]!.deadline - s.clock.now(), 100, 'the deadline is the back-off\'s end');
  await s.clock.advance(100); // the deadline: the process went; the shim has not answered yet
  await settle();
  assert.equal(s.runtime.starts.length, 1);
  s.supervisor.userStopped('c1'); // too late: the cancellation loses the race
  await s.clock.advance(5);
  await settle();
  assert.equal(s.runtime.cancelled.length, 0, 'nothing was cancelled');
  assert.equal(s.runtime.runtimeState('c1').restartCount, 1, 'the start that went is counted');
  assert.ok(s.events.some((e) => e.kind === 'container' && e.action === 'restart'), 'and announced');
  assert.equal(s.runtime.containers.get('c1')!.status, 'running', 'it runs: the stop acts on it next (the engine holds the lock until here)');
  // the user's stop then stops it: no policy restart follows
  await exitNow(s, 'c1', 143);
  await s.clock.advance(1_000);
  await settle();
  assert.equal(s.runtime.made.length, 1, 'not made again');
  assert.equal(s.runtime.starts.length, 1);
  await s.supervisor.stop();
});

test('a held restart whose run ends before the shim answered: that exit is acted on once the restart is done', async () => {
  const s = holdingSetup();
  s.runtime.reportMs = 20;
  s.runtime.add('c1', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('c1');
  await s.supervisor.start();
  await exitNow(s, 'c1', 1);
  await s.clock.advance(100); // went; the shim's answer takes 20 ms more
  await settle();
  await s.clock.advance(5);
  await exitNow(s, 'c1', 1); // the new run ends meanwhile, and a look sees it
  await s.clock.advance(15); // the answer: the restart is done
  await settle();
  await settle();
  assert.equal(s.runtime.made.length, 2, 'the second exit was not dropped: a second restart is made');
  await s.clock.advance(200);
  await settle();
  assert.equal(s.runtime.starts.length, 2);
  await s.supervisor.stop();
});

test('the back-off counts from the exit, not from the look that saw it', async () => {
  const s = setup();
  s.runtime.add('c1', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('c1');
  await s.supervisor.start();
  const exitedAt = s.clock.now();
  s.runtime.exit('c1', 1);
  await s.clock.advance(30); // nobody looked yet
  await s.supervisor.look();
  await settle();
  await s.clock.advance(69);
  await settle();
  assert.equal(s.runtime.starts.length, 0);
  await s.clock.advance(1);
  await settle();
  assert.equal(s.runtime.starts[0]!.at - exitedAt, 100);
  await s.supervisor.stop();
});

// ── how much a look costs: coalescing, targeted looks, yielding, the backstop's period ──────

test('a burst of events costs one look at the containers named, not one full look each', async () => {
  const s = setup();
  for (let i = 1; i <= 30; i++) { s.runtime.add(`c${i}`); s.runtime.run(`c${i}`); }
  await s.supervisor.start();
  assert.equal(s.runtime.views, 30, 'the first look reads each container once');
  const before = s.supervisor.stats();
  s.runtime.views = 0;
  // 30 inotify events for c5 and one for c6, in one turn
  const calls = [...Array.from({ length: 30 }, () => s.supervisor.lookAt('c5')), s.supervisor.lookAt('c6')];
  await Promise.all(calls);
  assert.equal(s.runtime.views, 2, 'c5 and c6 read once each');
  assert.equal(s.supervisor.stats().targetedLooks, before.targetedLooks + 1);
  assert.equal(s.supervisor.stats().looks, before.looks, 'no full look');
  await s.supervisor.stop();
});

test('events during a full look mark it dirty: one more round after it, whatever their number', async () => {
  const s = setup();
  for (let i = 1; i <= 30; i++) { s.runtime.add(`c${i}`); s.runtime.run(`c${i}`); }
  await s.supervisor.start();
  const before = s.supervisor.stats();
  s.runtime.views = 0;
  const full = s.supervisor.look();
  await settle(); // the full look is under way: it yields between containers
  assert.ok(s.runtime.views > 0 && s.runtime.views < 30, `mid-look (${s.runtime.views} read)`);
  const during = Array.from({ length: 20 }, (_, i) => s.supervisor.lookAt(`c${(i % 3) + 1}`));
  await full;
  await Promise.all(during);
  assert.equal(s.supervisor.stats().looks, before.looks + 1);
  assert.equal(s.supervisor.stats().targetedLooks, before.targetedLooks + 1, 'one more round for all 20 events');
  assert.equal(s.runtime.views, 30 + 3);
  await s.supervisor.stop();
});

test('a full look lets other work run between containers', async () => {
  const s = setup();
  for (let i = 1; i <= 30; i++) s.runtime.add(`c${i}`);
  await s.supervisor.start();
  s.runtime.views = 0;
  let readWhenOtherWorkRan = -1;
  const full = s.supervisor.look();
  // a request arriving now (an I/O callback, a timer) runs before the look is over
  setImmediate(() => { readWhenOtherWorkRan = s.runtime.views; });
  await full;
  assert.ok(readWhenOtherWorkRan >= 0 && readWhenOtherWorkRan < 30, `ran after ${readWhenOtherWorkRan} of 30 containers`);
  await s.supervisor.stop();
});

test('an exit seen by a targeted look is acted on as by a full one: die, restart after the back-off', async () => {
  const s = setup();
  s.runtime.add('c1', { policy: { name: 'always', maximumRetryCount: 0 } });
  s.runtime.run('c1');
  await s.supervisor.start();
  const exitedAt = s.clock.now();
  s.runtime.exit('c1', 1);
  await s.supervisor.lookAt('c1');
  await s.clock.advance(100);
  await settle();
  assert.equal(s.runtime.starts.length, 1);
  assert.equal(s.runtime.starts[0]!.at - exitedAt, 100);
  assert.deepEqual(s.events.filter((e) => e.kind === 'container').map((e) => (e as { action: string }).action), ['die', 'restart']);
  // a container removed meanwhile is forgotten by a look at it
  s.runtime.containers.delete('c1');
  await s.supervisor.lookAt('c1');
  assert.equal(s.supervisor.stats().supervised, 0);
  await s.supervisor.stop();
});

test('the backstop full look waits four times as long as the last one took (at least the interval)', async () => {
  const manual = new ManualClock(Date.parse('2026-11-30T00:00:00Z'));
  // each container read takes 10 ms of this clock
  let spent = 0;
  const clock = { now: () => manual.now() + spent, sleep: (ms: number, signal?: AbortSignal) => manual.sleep(ms, signal) };
  const runtime = new ScriptedRuntime(manual);
  for (let i = 1; i <= 30; i++) runtime.add(`c${i}`);
  const view = runtime.view.bind(runtime);
  runtime.view = (id: string) => { spent += 10; return view(id); };
  const supervisor = new Supervisor({
    runtime, clock, events: new EventBus(), log: () => undefined, inotify: false, lookIntervalMs: 200,
    autoRemove: async () => undefined, healthcheckOf: async () => undefined,
  });
  await supervisor.start(); // 30 reads: 300 ms
  await settle();
  assert.equal(runtime.views, 30);
  await manual.advance(1_199);
  await settle();
  assert.equal(runtime.views, 30, 'no look before 4 × 300 ms');
  await manual.advance(1);
  await settle();
  assert.ok(runtime.views > 30, 'the second full look has begun');
  await supervisor.stop();
});
