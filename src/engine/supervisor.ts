// The supervisor: the engine's care for every container on this host, compose services and
// single containers alike. It is level-triggered: a look compares each container with what was
// seen before, and acts. A full look (every container) runs at start and as a backstop every
// `lookIntervalMs` (longer when a full look takes long: they get at most a fifth of the engine's
// time); when inotify sees a shim write `started` or `exited` in a container directory, only
// that container is looked at. Looks coalesce (lib/coalesce.ts): one runs at a time, and what is
// asked for while it runs is done by the next one, so a burst of 30 events costs one or two
// looks, not 30. A full look yields to the event loop between containers, so a verb (`ps`, a
// create) waits for one container's reads at most, never for the whole host's. A look acts on:
//   - a new run: its health monitor starts (the check the container was created with);
//   - an exit not yet acted on (`handledExitAt` in state.json, so a restarted engine acts once):
//     a `die` event, then --rm removes it, or its restart policy decides (plan/restart-policy:
//     Docker's back-off, 100 ms doubling to 1 min, reset after a 10 s run), the restart waiting
//     on the injected Clock, counted from the exit's own time; with `holdStarts` the restart is
//     made while it waits and given the back-off's end as a deadline, at which the container's
//     process goes by itself; a cancellation races it in the shim (docs/restart-reaction.md);
//   - the engine's first look: containers whose policy says so come back as dockerd brings them
//     back at boot (`always`, and `unless-stopped` unless the user stopped them), and a restart
//     that was pending (in back-off) when the last engine stopped is carried out.
// Whoever waits for a state (depends_on conditions, `up --wait`) asks waitFor(), which checks
// again after every look and every health change: nothing here polls on its own clock.
import { watch, type FSWatcher } from 'node:fs';
import type { Clock } from '../lib/clock.js';
import { coalesced, nextTurn } from '../lib/coalesce.js';
import { cancelledBy, errorBody } from '../lib/errors.js';
import type { EngineEvent } from '../api/types.js';
import type { RestartPolicy } from '../spec/model.js';
import { decideRestart, restartOnEngineStart } from '../plan/restart-policy.js';
import type { ContainerView, HeldStart, RuntimeState } from '../runtime/container.js';
import type { CapturedExec, ExecRequest } from '../runtime/exec-captured.js';
import { HealthMonitor, type ResolvedHealthcheck } from './health.js';
import type { EventBus, ContainerAction } from './events.js';
import { LABEL } from './service-container.js';

/** What the supervisor needs of the runtime: a narrow interface, so a test can script it. */
export interface SupervisedRuntime {
  /** the ids of every container directory (a readdir: no record is read) */
  ids(): string[];
  /** one container by full id; undefined when there is none (yet: a create in progress; or any more) */
  view(id: string): ContainerView | undefined;
  find(ref: string): ContainerView;
  runtimeState(id: string): RuntimeState;
  updateRuntimeState(id: string, patch: Partial<RuntimeState>): RuntimeState;
  /**
   * Starts it detached. Held (only when SupervisorOptions.holdStarts): the start is made at once
   * and goes by itself at `held.deadline` (a time of the supervisor's clock); `held.signal`
   * aborting first cancels it and rejects with an AbortError. A cancellation that comes too late
   * loses: the start resolves, the container runs.
   */
  startDetached(ref: string, held?: HeldStart): Promise<ContainerView>;
  /** kills the processes of a container whose supervisor was lost and records the end */
  reapLost(id: string): Promise<ContainerView>;
  execCaptured(ref: string, req: ExecRequest, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<CapturedExec>;
}

export interface SupervisorOptions {
  readonly runtime: SupervisedRuntime;
  readonly clock: Clock;
  readonly events: EventBus;
  /** the health check a container runs (undefined: none) */
  readonly healthcheckOf: (view: ContainerView) => Promise<ResolvedHealthcheck | undefined>;
  /** removes a container that ran with --rm once it exited (the engine's one removal door) */
  readonly autoRemove: (containerId: string) => Promise<void>;
  readonly log: (line: string) => void;
  /**
   * The backstop full look's period; inotify makes most looks happen sooner. Default 200 ms,
   * stretched to LOOK_SHARE times the last full look's duration when that is longer.
   */
  readonly lookIntervalMs?: number;
  /** watch container directories with inotify (default true; a scripted runtime has none) */
  readonly inotify?: boolean;
  /** make policy restarts while their back-off runs, going by themselves at its end (startDetached's held start) */
  readonly holdStarts?: boolean;
}

/** What the supervisor remembers about one container between looks. */
interface Tracked {
  status: string;
  /** StartedAt of the run last seen: a restart between two looks is a new run */
  startedAt: string;
  /** the delay of the previous policy restart; 0 after a user start */
  backoffMs: number;
  /** a policy restart waiting out its back-off; aborting it cancels the restart */
  restart?: AbortController;
  health?: HealthMonitor;
  healthStatus?: string;
  watcher?: FSWatcher;
  watching?: boolean;
  /** the exit last acted on, also kept here: state.json may not be writable (a full disk) */
  handledExitAt?: string;
  /** the user stopped it: kept here too, for the same reason (the record may not be writable) */
  stoppedByUser?: boolean;
}

export interface SupervisorStats {
  readonly supervised: number;
  readonly healthMonitors: number;
  readonly pendingRestarts: number;
  /** full looks (every container) */
  readonly looks: number;
  /** looks at the containers inotify named, without a full look */
  readonly targetedLooks: number;
}

export const now = (clock: Clock): string => new Date(clock.now()).toISOString();

/** The resource id of a container in events: its compose replica, or the container itself. */
export function resourceIdOf(view: ContainerView): string {
  const labels = view.record.config.Labels;
  const service = labels[LABEL.service];
  if (service !== undefined && labels[LABEL.project] !== undefined) return `service:${service}:${labels[LABEL.oneoff] === 'True' ? 0 : labels[LABEL.number] ?? 0}`;
  return `container:${view.record.name}`;
}

export class Supervisor {
  private readonly tracked = new Map<string, Tracked>();
  private readonly waiters = new Set<() => void>();
  private readonly runtime: SupervisedRuntime;
  private readonly clock: Clock;
  private ticker: AbortController | undefined;
  /** a full look was asked for and has not begun */
  private fullPending = false;
  /** containers to look at (inotify named them, a reap or restart touched them) */
  private readonly dirty = new Set<string>();
  /** one look round at a time; calls during one share the next (lib/coalesce.ts) */
  private readonly pump = coalesced(() => this.round());
  private stopped = false;
  private firstLook = true;
  private looks = 0;
  private targetedLooks = 0;
  /** how long the last full look took (clock ms, yields included) */
  private lastFullLookMs = 0;

  constructor(private readonly opts: SupervisorOptions) {
    this.runtime = opts.runtime;
    this.clock = opts.clock;
  }

  /** The first look (engine-start restarts included); then a full look every interval until stop(). */
  async start(): Promise<void> {
    await this.look();
    const ticker = new AbortController();
    this.ticker = ticker;
    void (async () => {
      const interval = this.opts.lookIntervalMs ?? 200;
      for (;;) {
        // a host with many containers is looked at less often, not for a larger share of the time
        try { await this.clock.sleep(Math.max(interval, Math.min(MAX_LOOK_INTERVAL_MS, LOOK_SHARE * this.lastFullLookMs)), ticker.signal); } catch { return; }
        await this.look();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ticker?.abort();
    for (const t of this.tracked.values()) this.forget(t);
    this.tracked.clear();
    this.wake();
    await this.pump(); // the round in progress, if any (a new one does nothing once stopped)
  }

  stats(): SupervisorStats {
    let healthMonitors = 0;
    let pendingRestarts = 0;
    for (const t of this.tracked.values()) {
      if (t.health) healthMonitors++;
      if (t.restart) pendingRestarts++;
    }
    return { supervised: this.tracked.size, healthMonitors, pendingRestarts, looks: this.looks, targetedLooks: this.targetedLooks };
  }

  /**
   * A look at every container. Callers before it begins share it; one asked for while a look
   * runs is made right after it (so a change is never missed between two looks).
   */
  look(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.fullPending = true;
    return this.pump();
  }

  /** A look at one container (inotify saw its shim write): coalesced like look(). */
  lookAt(containerId: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.dirty.add(containerId);
    return this.pump();
  }

  /** What was asked for since the last round: a full look, or the containers named. Never throws. */
  private async round(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.fullPending) {
        this.fullPending = false;
        this.dirty.clear();
        const t0 = this.clock.now();
        await this.lookAll();
        this.lastFullLookMs = this.clock.now() - t0;
        this.looks++;
      } else if (this.dirty.size > 0) {
        const ids = [...this.dirty];
        this.dirty.clear();
        for (const id of ids) {
          if (this.stopped) return;
          await this.lookAtOne(id);
        }
        this.targetedLooks++;
      }
    } catch (err) {
      this.opts.log(`supervisor: ${(err as Error)?.stack ?? String(err)}`);
    } finally {
      this.wake();
    }
    // asked for during the round by the round itself (a lost supervisor's processes reaped): next
    if ((this.fullPending || this.dirty.size > 0) && !this.stopped) void this.pump();
  }

  /**
   * Resolves with check()'s first defined value, checking now and again after every look and
   * every health change; rejects (Cancelled) when `signal` aborts or the supervisor stops.
   */
  async waitFor<T>(check: () => T | undefined, signal: AbortSignal): Promise<T> {
    for (;;) {
      if (signal.aborted) throw cancelledBy(signal);
      if (this.stopped) throw cancelledBy({ reason: new Error('the engine is stopping') });
      const value = check();
      if (value !== undefined) return value;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** A start asked for by the user (up, start, run): the user's stop no longer holds, and the
   *  restart count and back-off start over (Docker's ResetRestartManager). */
  userStarted(containerId: string, clearStoppedByUser: () => void): void {
    try { clearStoppedByUser(); } catch (err) { this.opts.log(`start of ${containerId.slice(0, 12)}: ${errorBody(err).message}`); }
    if ((this.runtime.runtimeState(containerId).restartCount ?? 0) !== 0) this.updateState(containerId, { restartCount: 0 });
    const t = this.tracked.get(containerId);
    if (t) {
      t.backoffMs = 0;
      t.stoppedByUser = false;
      this.cancelRestart(containerId, t);
    }
  }

  /** A stop or kill asked for by the user: a restart waiting out its back-off is cancelled, and none follows. */
  userStopped(containerId: string): void {
    let t = this.tracked.get(containerId);
    if (!t) {
      t = { status: 'unknown', startedAt: '', backoffMs: 0 };
      this.tracked.set(containerId, t);
    }
    t.stoppedByUser = true;
    this.cancelRestart(containerId, t);
  }

  /**
   * state.json is the engine's memory across restarts, not a condition of supervising: a write
   * that fails (a full disk, a container removed meanwhile) is logged, and supervision goes on
   * from what the supervisor holds in memory.
   */
  private updateState(containerId: string, patch: Partial<RuntimeState>): void {
    try {
      this.runtime.updateRuntimeState(containerId, patch);
    } catch (err) {
      this.opts.log(`state of container ${containerId.slice(0, 12)} not saved: ${errorBody(err).message}`);
    }
  }

  /**
   * Lets go of a container about to be removed: its health monitor (whose probes write into the
   * container directory), a pending restart and its inotify watch. A removal that then fails is
   * picked up again by the next look.
   */
  release(containerId: string): void {
    const t = this.tracked.get(containerId);
    if (!t) return;
    this.forget(t);
    this.tracked.delete(containerId);
  }

  /** Publishes a container event now (verbs call this for what they did themselves). */
  containerEvent(view: ContainerView, action: ContainerAction, extra: Record<string, string> = {}): void {
    const e: EngineEvent = { kind: 'container', resourceId: resourceIdOf(view), action, containerId: view.record.id, attributes: { name: view.record.name, image: view.record.imageRef, ...extra }, time: now(this.clock) };
    this.opts.events.publish(e);
    // what a verb did is looked at now (a new container watched, a start's health check begun),
    // not at the next full look; the supervisor's own events come from a look already
    if (action !== 'die' && action !== 'health_status' && action !== 'restart') void this.lookAt(view.record.id);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private cancelRestart(containerId: string, t: Tracked): void {
    if (!t.restart) return;
    t.restart.abort();
    t.restart = undefined;
    if (this.runtime.runtimeState(containerId).pendingRestart !== undefined) this.updateState(containerId, { pendingRestart: undefined });
  }

  private forget(t: Tracked): void {
    t.watcher?.close();
    t.health?.stop();
    t.restart?.abort();
  }

  private async lookAll(): Promise<void> {
    const first = this.firstLook;
    this.firstLook = false;
    const seen = new Set<string>();
    for (const id of this.runtime.ids()) {
      if (this.stopped) return;
      // one container's reads per turn: requests and I/O completions run in between
      if (seen.size > 0) await nextTurn();
      const view = this.viewOf(id);
      if (!view) continue;
      seen.add(id);
      await this.examineSafely(view, first);
    }
    if (this.stopped) return;
    for (const [id, t] of this.tracked) {
      if (seen.has(id)) continue;
      // made while this look ran (its directory was read before it existed): the next look judges it
      if (this.viewOf(id) !== undefined) continue;
      this.forget(t);
      this.tracked.delete(id);
    }
  }

  private async lookAtOne(id: string): Promise<void> {
    const view = this.viewOf(id);
    if (view) return this.examineSafely(view, false);
    const t = this.tracked.get(id);
    if (t) {
      this.forget(t);
      this.tracked.delete(id);
    }
  }

  private viewOf(id: string): ContainerView | undefined {
    try {
      return this.runtime.view(id);
    } catch (err) {
      this.opts.log(`supervisor: reading container ${id.slice(0, 12)}: ${errorBody(err).message}`);
      return undefined;
    }
  }

  private async examineSafely(view: ContainerView, engineStart: boolean): Promise<void> {
    try {
      await this.examine(view, engineStart);
    } catch (err) {
      this.opts.events.publish({ kind: 'warning', text: `supervising ${view.record.name}: ${errorBody(err).message}`, time: now(this.clock) });
    }
  }

  /** React to what changed for one container since it was last examined. */
  private async examine(view: ContainerView, engineStart: boolean): Promise<void> {
    const id = view.record.id;
    let t = this.tracked.get(id);
    if (!t) {
      t = { status: 'unknown', startedAt: '', backoffMs: 0 };
      this.tracked.set(id, t);
    }
    if (!t.watching && this.opts.inotify !== false) this.watch(view, t);
    if (view.observed.status === 'dead') {
      t.health?.stop();
      t.health = undefined;
      if (!view.observed.lost) { t.status = 'dead'; return; } // a bad record: shown, not acted on
      // One instance per container: processes whose supervisor is gone are killed and the end
      // recorded before any restart; the next look acts on that exit like any other.
      this.opts.log(`container ${view.record.name}: ${view.observed.error}: killing them`);
      await this.runtime.reapLost(id);
      this.dirty.add(id);
      return;
    }
    const status = view.observed.status;
    const before = t.status;
    const startedAt = view.observed.started?.startedAt ?? '';
    // A new run (a restart between two looks included) is known by its start time, an exit by
    // its finish time: comparing statuses alone would miss a run shorter than one look.
    const newRun = status === 'running' && (before !== 'running' || startedAt !== t.startedAt);
    t.status = status;
    t.startedAt = startedAt;
    if (newRun) {
      await this.startHealth(view, t, before === 'unknown');
      return;
    }
    if (status === 'paused') {
      // a frozen container cannot answer a probe: checks resume (and start over) on unpause
      t.health?.stop();
      t.health = undefined;
      return;
    }
    if (status !== 'exited') return;
    const finishedAt = view.observed.exited?.finishedAt ?? '';
    if (t.handledExitAt === finishedAt) return;
    // A restart still in flight and yet another exit: a held start went at its deadline and its
    // run ended before the shim's answer reached us. Acted on by the look that follows the
    // restart (restartNow), never dropped here while t.restart would skip scheduling.
    if (t.restart) return;
    const state = this.runtime.runtimeState(id);
    if (state.handledExitAt === finishedAt) {
      // acted on already (before an engine restart, too)
      t.handledExitAt = finishedAt;
      if (engineStart && !t.restart) this.atEngineStart(view, t, state);
      return;
    }
    const seenAt = this.clock.now();
    t.health?.stop();
    t.health = undefined;
    t.handledExitAt = finishedAt;
    this.updateState(id, { handledExitAt: finishedAt });
    if (before !== 'unknown') this.containerEvent(view, 'die', { exitCode: String(view.observed.exited?.exitCode ?? '') });
    if (view.record.hostConfig.AutoRemove) {
      await this.opts.autoRemove(id);
      return;
    }
    if (!t.restart) this.scheduleRestart(view, t, undefined, seenAt);
  }

  /** dockerd's restore(): what an engine start brings back. */
  private atEngineStart(view: ContainerView, t: Tracked, state: RuntimeState): void {
    if (state.pendingRestart !== undefined) {
      // the last engine stopped while this restart waited out its back-off
      this.scheduleRestart(view, t, 'a restart pending when the engine stopped');
      return;
    }
    const decision = restartOnEngineStart(policyOf(view), { wasRunning: false, stoppedByUser: stoppedByUser(view, t), startedBefore: view.observed.started !== undefined });
    if (!decision.restart) return;
    this.opts.log(`restarting ${view.record.name} at engine start: ${decision.reason}`);
    this.restartNow(view.record.id, true).catch((err: unknown) => this.opts.log(`restart of ${view.record.name}: ${(err as Error)?.stack ?? String(err)}`));
  }

  private scheduleRestart(view: ContainerView, t: Tracked, pendingReason: string | undefined, seenAt?: number): void {
    const id = view.record.id;
    const state = this.runtime.runtimeState(id);
    const startedAt = Date.parse(view.observed.started?.startedAt ?? '');
    const finishedAt = Date.parse(view.observed.exited?.finishedAt ?? '');
    const decision = decideRestart(policyOf(view), {
      exitCode: view.observed.exited?.exitCode ?? 0,
      stoppedByUser: stoppedByUser(view, t),
      restartCount: state.restartCount ?? 0,
      startedAt: Number.isNaN(startedAt) ? 0 : startedAt,
      finishedAt: Number.isNaN(finishedAt) ? this.clock.now() : finishedAt,
    }, { backoffMs: t.backoffMs });
    if (!decision.restart) {
      if (state.pendingRestart !== undefined) this.updateState(id, { pendingRestart: undefined });
      return;
    }
    if (pendingReason) this.opts.log(`restarting ${view.record.name} in ${decision.delayMs} ms: ${pendingReason}`);
    t.backoffMs = decision.nextBackoffMs;
    const ctl = new AbortController();
    t.restart = ctl;
    const scheduledAt = this.clock.now();
    // A fresh exit's back-off counts from the exit itself (the shim's finishedAt), not from when
    // a look noticed it: the container is down for the back-off, plus only the start's own time.
    // A restart carried over from the last engine waits the whole back-off from now.
    const exitAt = Number.isNaN(finishedAt) ? scheduledAt : finishedAt;
    const waitMs = seenAt === undefined ? decision.delayMs : Math.min(decision.delayMs, Math.max(0, exitAt + decision.delayMs - scheduledAt));
    const trace = { finishedAt: view.observed.exited?.finishedAt ?? '', seenAt: seenAt ?? scheduledAt, scheduledAt, delayMs: decision.delayMs };
    this.updateState(id, { pendingRestart: view.observed.exited?.finishedAt ?? '' });
    const wait = async (): Promise<void> => {
      if (!this.opts.holdStarts) {
        await this.clock.sleep(waitMs, ctl.signal);
        if (t.restart === ctl) t.restart = undefined;
        return this.restartNow(id, false, trace);
      }
      // Held (runtime.startDetached's held start): the start is made while the back-off runs, at
      // most HOLD_LEAD_MS before its end, and goes by itself at the end: this clock decides when.
      const early = Math.max(0, waitMs - HOLD_LEAD_MS);
      if (early > 0) await this.clock.sleep(early, ctl.signal);
      try {
        return await this.restartNow(id, false, trace, { deadline: scheduledAt + waitMs, ctl });
      } finally {
        // not started after all (it began running meanwhile, a removal began): nothing is pending
        if (t.restart === ctl) t.restart = undefined;
      }
    };
    wait().catch((err: unknown) => {
      if (isAbort(err)) return; // cancelled: a user start or stop, a removal or the engine's stop came first
      this.opts.log(`restart of ${view.record.name}: ${(err as Error)?.stack ?? String(err)}`);
    });
  }

  /** A policy restart: the count goes up, the container starts, and a look follows. */
  private async restartNow(id: string, engineStart: boolean, trace?: RestartTrace, held?: { readonly deadline: number; readonly ctl: AbortController }): Promise<void> {
    if (this.stopped) return;
    let current: ContainerView;
    try { current = this.runtime.find(id); } catch { return; }
    if (current.observed.status !== 'exited' && current.observed.status !== 'created') return;
    if (!engineStart && (current.record.stoppedByUser || this.tracked.get(id)?.stoppedByUser)) return;
    // released meanwhile (a removal began): not ours to start any more
    if (!engineStart && !this.tracked.has(id)) return;
    const count = (): void => {
      const state = this.runtime.runtimeState(id);
      this.updateState(id, { restartCount: (state.restartCount ?? 0) + (engineStart ? 0 : 1), pendingRestart: undefined });
    };
    const startAt = this.clock.now();
    let goAt = startAt;
    try {
      let started: ContainerView;
      if (held) {
        // Made now, goes by itself at the deadline unless cancelled first (a user stop or start, a
        // removal, the engine's stop abort ctl). Counted now, before it is made, as Docker counts
        // a restart when it decides it (RestartCount++ as the container turns "restarting"): the
        // shim makes the container run at the deadline without us, and whoever sees it running
        // must see it counted. Cancelled: the count is taken back (below). It went, even when a
        // cancellation came too late: the container runs, and the verb that cancelled acts on it
        // next (under the container's lock, which this start holds until the shim has answered).
        goAt = held.deadline;
        this.updateState(id, { restartCount: (this.runtime.runtimeState(id).restartCount ?? 0) + 1 });
        let went: { wentAt: number; readyAt: number } | undefined;
        try {
          started = await this.runtime.startDetached(id, { deadline: held.deadline, signal: held.ctl.signal, went: (wentAt, readyAt) => { went = { wentAt, readyAt }; } });
        } catch (err) {
          // not run after all: taken back (a user start that reset the count meanwhile keeps 0)
          const n = this.runtime.runtimeState(id).restartCount ?? 0;
          if (n > 0) this.updateState(id, { restartCount: n - 1 });
          throw err;
        }
        const t = this.tracked.get(id);
        if (t?.restart === held.ctl) t.restart = undefined;
        this.updateState(id, { pendingRestart: undefined });
        if (trace && went !== undefined) trace = { ...trace, ...went };
      } else {
        count();
        started = await this.runtime.startDetached(id);
      }
      if (trace) this.opts.log(restartTraceLine(started, trace, startAt, goAt, this.clock.now()));
      this.containerEvent(started, engineStart ? 'start' : 'restart');
    } catch (err) {
      if (held && isAbort(err)) {
        const t = this.tracked.get(id);
        if (t?.restart === held.ctl) t.restart = undefined;
        return;
      }
      this.opts.events.publish({ kind: 'warning', text: `restart of ${current.record.name} failed: ${errorBody(err).message}`, time: now(this.clock) });
    }
    await this.lookAt(id);
  }

  private async startHealth(view: ContainerView, t: Tracked, resumed: boolean): Promise<void> {
    t.health?.stop();
    t.health = undefined;
    const check = await this.opts.healthcheckOf(view);
    if (!check || this.stopped || view.observed.status !== 'running' || t.status !== 'running') return;
    const id = view.record.id;
    const persisted = this.runtime.runtimeState(id).health;
    // An engine that restarted while the container kept running goes on from the persisted
    // state; a container that was (re)started keeps the log but starts over (Docker's rule).
    const initial = persisted && resumed ? persisted : persisted ? { status: 'starting' as const, failingStreak: 0, log: persisted.log } : undefined;
    const startedAt = Date.parse(view.observed.started?.startedAt ?? '');
    const monitor = new HealthMonitor({
      clock: this.clock,
      check,
      startedAt: Number.isNaN(startedAt) ? this.clock.now() : startedAt,
      ...(initial ? { initial: { status: initial.status, failingStreak: initial.failingStreak, log: initial.log.map((l) => ({ ...l })) } } : {}),
      probe: (argv, timeoutMs, signal) => this.runtime.execCaptured(id, { args: argv, env: [], tty: false, stdin: false }, { timeoutMs, signal }),
      onChange: (status, state) => {
        try {
          this.runtime.updateRuntimeState(id, { health: state });
        } catch (err) {
          this.opts.log(`health of ${view.record.name}: ${errorBody(err).message}`);
        }
        this.wake();
        if (status === t.healthStatus) return;
        t.healthStatus = status;
        this.containerEvent(view, 'health_status', { health_status: status });
      },
    });
    t.health = monitor;
    monitor.start();
  }

  private watch(view: ContainerView, t: Tracked): void {
    t.watching = true;
    try {
      const id = view.record.id;
      t.watcher = watch(view.bundle, (_event, file) => { if (file === 'exited' || file === 'started') void this.lookAt(id); });
      t.watcher.on('error', () => undefined);
      t.watcher.unref();
    } catch { /* the periodic look still sees it */ }
  }
}

/** When each stage of one policy restart happened (clock ms), for the engine log and bench/restart.ts. */
interface RestartTrace {
  /** the exit record's finishedAt (the shim's clock) */
  readonly finishedAt: string;
  /** the look that acted on the exit */
  readonly seenAt: number;
  /** the restart was decided and its back-off began */
  readonly scheduledAt: number;
  readonly delayMs: number;
  /** a held start: when its process was ready at its execve, and when it woke and went (the shim's clock) */
  readonly readyAt?: number;
  readonly wentAt?: number;
}

/**
 * `restart of NAME (ID): exit <finishedAt>, seen +a ms, scheduled +b ms, back-off d ms, start +c ms,
 * go +g ms, done +e ms, pid P[, ready +r ms, went +w ms]`: every + is ms after the exit record's time
 * (go: a held start's deadline; unheld, the start's beginning; ready: the held process was made and
 * began to wait; went: it woke and went); bench/restart.ts reads these lines.
 */
function restartTraceLine(view: ContainerView, t: RestartTrace, startAt: number, goAt: number, doneAt: number): string {
  const exit = Date.parse(t.finishedAt);
  const rel = (ms: number): string => (Number.isNaN(exit) ? '?' : `${ms - exit}`);
  return `restart of ${view.record.name} (${view.record.id.slice(0, 12)}): exit ${t.finishedAt}, seen +${rel(t.seenAt)} ms, scheduled +${rel(t.scheduledAt)} ms, back-off ${t.delayMs} ms, start +${rel(startAt)} ms, go +${rel(goAt)} ms, done +${rel(doneAt)} ms, pid ${view.observed.started?.pid ?? 0}${t.wentAt !== undefined && t.readyAt !== undefined && !Number.isNaN(exit) ? `, ready +${(t.readyAt - exit).toFixed(1)} ms, went +${(t.wentAt - exit).toFixed(1)} ms` : ''}`;
}

/** The backstop full look waits at least this many times the last one's duration: full looks take at most ~1/(1+LOOK_SHARE) of the time. */
const LOOK_SHARE = 4;
/** ... but a lost supervisor (nothing inotify sees) is found within this */
const MAX_LOOK_INTERVAL_MS = 5_000;

/** How long before the end of its back-off a held restart is made (runtime.startDetached's held start). */
const HOLD_LEAD_MS = 1_000;

function isAbort(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'AbortError';
}

function stoppedByUser(view: ContainerView, t: Tracked): boolean {
  return (view.record.stoppedByUser ?? false) || (t.stoppedByUser ?? false);
}

/** The restart policy recorded at create (or by `update --restart`). */
function policyOf(view: ContainerView): RestartPolicy {
  const p = view.record.hostConfig.RestartPolicy ?? { name: 'no', maximumRetryCount: 0 };
  const name = p.name === 'always' || p.name === 'unless-stopped' || p.name === 'on-failure' ? p.name : 'no';
  return { name, max_attempts: p.maximumRetryCount };
}
