// The engine's controller: the one EngineApi implementation. It keeps each project's desired
// state (the model `up` was given), observes the host, asks the pure planner what to do, and has
// the executor do it. It is level-triggered: a container exit, a health change or an engine start
// leads to a new look at the state and, per restart policy, to action.
import { mkdirSync, readdirSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { EngineApi, EngineInfo } from '../api/engine-api.js';
import type {
  UpRequest, DownRequest, StopOptions, KillOptions, ServicesOptions, LogsOptions,
  ContainerSummary, ProjectSummary, EngineEvent, LogLine,
} from '../api/types.js';
import { API_VERSION } from '../api/types.js';
import type { Project, Service } from '../spec/model.js';
import type { Operation, Plan } from '../plan/plan.js';
import { reconcile, planDown } from '../plan/reconcile.js';
import { serviceConfigForHash } from '../plan/config-hash.js';
import { topologicalOrder } from '../plan/graph.js';
import { decideRestart } from '../plan/restart-policy.js';
import { BerthError, NotFound, InvalidArgument, Cancelled, DependencyFailed, cancelledBy, errorBody } from '../lib/errors.js';
import { readJson, writeJsonAtomic } from '../lib/atomic.js';
import { realClock, type Clock } from '../lib/clock.js';
import type { Roots } from '../lib/paths.js';
import { dockerStatus } from '../lib/units.js';
import { localHost, type LocalHost } from './local.js';
import { execute, type OperationRunner } from './executor.js';
import { observe, observedContainer, projectViews } from './observe.js';
import { createRequestFor, notYetApplied, LABEL } from './service-container.js';
import { HealthMonitor, resolveHealthcheck } from './health.js';
import { readLog } from '../runtime/logs.js';
import type { ContainerView } from '../runtime/container.js';

const PACKAGE_VERSION = '0.1.0';
const now = (): string => new Date().toISOString();

interface StoredProject {
  readonly project: Project;
  readonly scale: Readonly<Record<string, number>>;
}

/** What the controller remembers about one container between looks. */
interface Tracked {
  status: string;
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
  health?: HealthMonitor;
  healthStatus?: string;
  /** StartedAt of the run last seen */
  startedAt?: string;
  /** inotify on the container directory: an exit is acted on when the shim writes `exited` */
  watcher?: FSWatcher;
}

export function createController(roots: Roots, packageRoot: string, env: NodeJS.ProcessEnv, clock: Clock = realClock): EngineApi & { ready: Promise<void> } {
  const host: LocalHost = localHost(roots, packageRoot, env);
  const runtime = host.runtime;
  const projectsDir = join(roots.root, 'projects');
  mkdirSync(projectsDir, { recursive: true, mode: 0o700 });
  const listeners = new Set<(e: EngineEvent) => void>();
  const tracked = new Map<string, Tracked>();
  let stopped = false;

  const publish = (e: EngineEvent): void => { for (const l of listeners) l(e); };
  const containerEvent = (view: ContainerView, action: Extract<EngineEvent, { kind: 'container' }>['action'], extra: Record<string, string> = {}): void => {
    publish({ kind: 'container', resourceId: `service:${view.record.config.Labels[LABEL.service]}:${view.record.config.Labels[LABEL.number]}`, action, containerId: view.record.id, attributes: { name: view.record.name, image: view.record.imageRef, ...extra }, time: now() });
  };

  // ── desired state ────────────────────────────────────────────────────────────────────────
  const projectFile = (name: string): string => join(projectsDir, `${name}.json`);
  const loadProject = (name: string): StoredProject | undefined => readJson<StoredProject>(projectFile(name));
  const storedProjects = (): string[] => {
    try { return readdirSync(projectsDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)); } catch { return []; }
  };

  const hashOf = (service: Service): string => createHash('sha256').update(serviceConfigForHash(service)).digest('hex');
  const hashes = (project: Project): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [name, svc] of Object.entries(project.services)) out[name] = hashOf(svc);
    return out;
  };

  // ── supervision: exits, restart policies, health ───────────────────────────────────────────
  const serviceOf = (view: ContainerView): Service | undefined => {
    const p = loadProject(view.record.config.Labels[LABEL.project] ?? '');
    return p?.project.services[view.record.config.Labels[LABEL.service] ?? ''];
  };

  const startHealth = async (view: ContainerView, t: Tracked, resumed: boolean): Promise<void> => {
    t.health?.stop();
    t.health = undefined;
    const service = serviceOf(view);
    let imageCheck;
    try { imageCheck = (await host.images()).resolve(view.record.image).config.Healthcheck; } catch { /* image removed meanwhile */ }
    const check = resolveHealthcheck(service?.healthcheck, imageCheck);
    if (!check || view.observed.status !== 'running' || t.status !== 'running') return;
    const id = view.record.id;
    const persisted = runtime.runtimeState(id).health;
    // An engine that restarted while the container kept running goes on from the persisted
    // state; a container that was (re)started keeps the log but starts over (Docker's rule).
    const initial = persisted && resumed ? persisted : persisted ? { status: 'starting' as const, failingStreak: 0, log: persisted.log } : undefined;
    const monitor = new HealthMonitor({
      clock,
      check,
      startedAt: Date.parse(view.observed.started?.startedAt ?? '') || clock.now(),
      ...(initial ? { initial: { status: initial.status, failingStreak: initial.failingStreak, log: initial.log.map((l) => ({ ...l })) } } : {}),
      probe: (argv, timeoutMs, signal) => runtime.execCaptured(id, { args: argv, env: [], tty: false, stdin: false }, { timeoutMs, signal }),
      onChange: (status, state) => {
        runtime.updateRuntimeState(id, { health: state });
        if (status === t.healthStatus) return;
        t.healthStatus = status;
        containerEvent(view, 'health_status', { health_status: status });
        void lookAgain();
      },
    });
    t.health = monitor;
    monitor.start();
  };

  const scheduleRestart = (view: ContainerView, t: Tracked): void => {
    const policy = view.record.hostConfig.RestartPolicy ?? { name: 'no', maximumRetryCount: 0 };
    const state = runtime.runtimeState(view.record.id);
    const oc = observedContainer(runtime, view);
    const decision = decideRestart(
      { name: policy.name as Service['restart']['name'], max_attempts: policy.maximumRetryCount },
      { exitCode: oc.exitCode ?? 0, stoppedByUser: oc.stoppedByUser, restartCount: state.restartCount ?? 0, startedAt: oc.startedAt ?? 0, finishedAt: oc.finishedAt ?? clock.now() },
      { backoffMs: t.backoffMs },
    );
    if (!decision.restart) return;
    t.backoffMs = decision.nextBackoffMs;
    t.restartTimer = setTimeout(() => {
      t.restartTimer = undefined;
      if (stopped) return;
      let current: ContainerView;
      try { current = runtime.find(view.record.id); } catch { return; }
      if (current.observed.status !== 'exited' || current.record.stoppedByUser) return;
      runtime.updateRuntimeState(view.record.id, { restartCount: (runtime.runtimeState(view.record.id).restartCount ?? 0) + 1 });
      runtime.startDetached(view.record.id).then((started) => {
        containerEvent(started, 'restart');
        void lookAgain();
      }, (err: Error) => publish({ kind: 'warning', text: `restart of ${view.record.name} failed: ${err.message}`, time: now() }));
    }, decision.delayMs);
    t.restartTimer.unref?.();
  };

  /** React to what changed for one container since it was last examined. */
  const examine = async (view: ContainerView): Promise<void> => {
    const id = view.record.id;
    let t = tracked.get(id);
    const status = view.observed.status;
    if (!t) {
      t = { status: 'unknown', backoffMs: 0 };
      tracked.set(id, t);
      try {
        t.watcher = watch(view.bundle, (_event, file) => { if (file === 'exited' || file === 'started') void lookAgain(); });
        t.watcher.on('error', () => undefined);
        t.watcher.unref();
      } catch { /* the 200 ms look still sees it */ }
    }
    const before = t.status;
    const startedAt = view.observed.started?.startedAt ?? '';
    // A new run (a restart between two looks included) is known by its start time, an exit by
    // its finish time: comparing statuses alone would miss a run shorter than one look.
    const newRun = status === 'running' && (before !== 'running' || startedAt !== t.startedAt);
    t.status = status;
    t.startedAt = startedAt;
    if (newRun) {
      await startHealth(view, t, before === 'unknown');
    } else if (status === 'paused') {
      // a frozen container cannot answer a probe: checks resume (and start over) on unpause
      t.health?.stop();
      t.health = undefined;
    } else if (status === 'exited') {
      const finishedAt = view.observed.exited?.finishedAt ?? '';
      if (runtime.runtimeState(id).handledExitAt === finishedAt) return; // acted on already (before an engine restart, too)
      t.health?.stop();
      t.health = undefined;
      runtime.updateRuntimeState(id, { handledExitAt: finishedAt });
      if (before !== 'unknown') containerEvent(view, 'die', { exitCode: String(view.observed.exited?.exitCode ?? '') });
      // A run of 10 s or more resets the back-off (Docker's rule); decideRestart applies it.
      if (!t.restartTimer) scheduleRestart(view, t);
    }
  };

  /** One look at every managed container: react to what changed since the last look. */
  let looking = false;
  let lookPending = false;
  const lookAgain = async (): Promise<void> => {
    if (stopped) return;
    if (looking) { lookPending = true; return; } // one more look once this one ends
    looking = true;
    try {
      const seen = new Set<string>();
      for (const view of runtime.list()) {
        if (view.record.config.Labels[LABEL.project] === undefined) continue;
        seen.add(view.record.id);
        await examine(view);
      }
      for (const [id, t] of tracked) {
        if (seen.has(id)) continue;
        t.watcher?.close();
        t.health?.stop();
        if (t.restartTimer) clearTimeout(t.restartTimer);
        tracked.delete(id);
      }
    } finally {
      looking = false;
    }
    if (lookPending) {
      lookPending = false;
      await lookAgain();
    }
  };

  // A create that an earlier engine (or CLI) crashed in the middle of leaves a directory without a
  // record: remove it before the first look, so that nothing a crash left is kept.
  for (const id of runtime.repair()) publish({ kind: 'warning', text: `removed the remains of container ${id.slice(0, 12)}, whose creation was interrupted`, time: now() });

  const ticker = setInterval(() => { void lookAgain(); }, 200);
  ticker.unref?.();
  const ready = lookAgain();

  /** A start asked for by the user (up, start): the user's stop no longer holds, and Docker
   *  starts the restart count and the back-off over. */
  const userStart = (containerId: string): void => {
    runtime.clearStoppedByUser(containerId);
    if ((runtime.runtimeState(containerId).restartCount ?? 0) !== 0) runtime.updateRuntimeState(containerId, { restartCount: 0 });
    const t = tracked.get(containerId);
    if (t) {
      t.backoffMs = 0;
      if (t.restartTimer) { clearTimeout(t.restartTimer); t.restartTimer = undefined; }
    }
  };

  // ── operations ─────────────────────────────────────────────────────────────────────────────
  const runnerFor = (project: Project, projectHashes: Record<string, string>, timeoutSeconds?: number): OperationRunner => ({
    async create(op: Operation): Promise<string> {
      const service = project.services[op.service];
      if (!service) throw new NotFound(`no such service: ${op.service}`);
      if (!service.image) throw new BerthError('UNSUPPORTED', `service "${op.service}" has no image: building images is not supported yet`);
      const store = await host.images();
      let image;
      try {
        image = store.resolve(service.image);
      } catch (err) {
        if (err instanceof NotFound) throw new NotFound(`service "${op.service}": image ${service.image} is not present: berth cannot pull yet (use berth load or berth import)`);
        throw err;
      }
      const record = runtime.create(createRequestFor({
        project, service, number: op.number, image, overlayRoot: store.overlayRoot(), configHash: projectHashes[op.service] ?? '', hostEnv: env,
      }));
      containerEvent(runtime.find(record.id), 'create');
      return record.id;
    },
    async start(_op: Operation, containerId: string): Promise<void> {
      userStart(containerId);
      const view = await runtime.startDetached(containerId);
      containerEvent(view, 'start');
      await examine(view); // health checks start now, not at the next look
    },
    async stop(_op: Operation, containerId: string): Promise<void> {
      const view = await runtime.stop(containerId, timeoutSeconds);
      containerEvent(view, 'stop');
    },
    async remove(_op: Operation, containerId: string): Promise<void> {
      const view = runtime.find(containerId);
      await runtime.remove(containerId, { force: true });
      containerEvent(view, 'destroy');
    },
    async wait(op: Operation, signal: AbortSignal): Promise<void> {
      await waitCondition(project.name, op.service, op.condition ?? 'service_started', signal);
    },
  });

  /** depends_on conditions, checked on each look at the dependency's containers. */
  const waitCondition = async (projectName: string, service: string, condition: string, signal: AbortSignal): Promise<void> => {
    for (;;) {
      if (signal.aborted || stopped) throw signal.aborted ? cancelledBy(signal) : new Cancelled('the engine is stopping');
      const cs = observe(runtime, projectName).containers.filter((c) => c.service === service && !c.oneoff);
      if (cs.length > 0) {
        if (condition === 'service_started' && cs.every((c) => c.status === 'running' || c.status === 'exited')) return;
        if (condition === 'service_healthy') {
          const bad = cs.find((c) => c.health === 'unhealthy' || (c.status === 'exited' && c.health !== 'healthy'));
          if (bad) throw new DependencyFailed(`dependency failed to start: container ${bad.name} is unhealthy`);
          if (cs.every((c) => c.health === 'healthy' || (c.health === undefined && c.status === 'running'))) {
            if (cs.some((c) => c.health === undefined)) throw new DependencyFailed(`dependency ${service} has no health check: cannot wait for service_healthy`);
            return;
          }
        }
        if (condition === 'service_completed_successfully' && cs.every((c) => c.status === 'exited')) {
          const bad = cs.find((c) => c.exitCode !== 0);
          if (bad) throw new DependencyFailed(`service "${service}" didn't complete successfully: exit ${bad.exitCode}`);
          return;
        }
      }
      await clock.sleep(100, signal).catch(() => undefined);
    }
  };

  const exitCodeOf = (failed: readonly unknown[]): number => (failed.length > 0 ? 1 : 0);

  const runPlan = async (plan: Plan, project: Project, emit: (e: EngineEvent) => void, signal: AbortSignal, timeoutSeconds?: number): Promise<number> => {
    const sub = (e: EngineEvent): void => emit(e);
    const counts = new Map<string, number>();
    for (const op of plan.operations) counts.set(op.resourceId, (counts.get(op.resourceId) ?? 0) + 1);
    emit({ kind: 'plan', resources: [...counts].map(([resourceId, operations]) => ({ resourceId, operations })), time: now() });
    const result = await execute(plan, runnerFor(project, hashes(project), timeoutSeconds), sub, signal);
    for (const f of result.failed) emit({ kind: 'error', error: errorBody(f.error), time: now() });
    return exitCodeOf(result.failed);
  };

  const selected = (projectName: string, services: readonly string[]): ContainerView[] => {
    const views = projectViews(runtime, projectName).filter((v) => v.record.config.Labels[LABEL.oneoff] !== 'True');
    if (services.length === 0) return views;
    const stored = loadProject(projectName);
    for (const s of services) if (stored && !stored.project.services[s]) throw new NotFound(`no such service: ${s}`);
    return views.filter((v) => services.includes(v.record.config.Labels[LABEL.service] ?? ''));
  };

  const summary = (view: ContainerView): ContainerSummary => {
    const { record: r, observed: o } = view;
    const state = runtime.runtimeState(r.id);
    const health = state.health?.status ?? '';
    const status = dockerStatus(o.status, o.exited?.exitCode ?? 0, o.started?.startedAt, o.exited?.finishedAt, Date.now(), health);
    return {
      id: r.id,
      name: r.name,
      service: r.config.Labels[LABEL.service] ?? '',
      number: Number(r.config.Labels[LABEL.number] ?? 0),
      image: r.imageRef,
      command: [r.path, ...r.args].join(' '),
      created: r.created,
      state: o.status,
      status,
      health,
      exitCode: o.exited?.exitCode ?? 0,
      ports: '',
    };
  };

  const api: EngineApi & { ready: Promise<void> } = {
    ready,
    info(): EngineInfo {
      return { version: PACKAGE_VERSION, apiVersion: API_VERSION, pid: process.pid, root: roots.root };
    },

    async up(req: UpRequest, emit, signal): Promise<number> {
      const project = req.project;
      for (const svc of Object.values(project.services)) {
        const missing = notYetApplied(svc);
        if (missing.length > 0) emit({ kind: 'warning', text: `service "${svc.name}": ${missing.join(', ')} not applied yet (networking and volumes come in later releases)`, time: now() });
      }
      writeJsonAtomic(projectFile(project.name), { project, scale: req.options.scale } satisfies StoredProject);
      const observed = observe(runtime, project.name);
      const orphans = observed.containers.filter((c) => !c.oneoff && !project.services[c.service]);
      if (orphans.length > 0 && !req.options.removeOrphans) {
        emit({ kind: 'warning', text: `Found orphan containers (${orphans.map((c) => c.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`, time: now() });
      }
      const plan = reconcile(project, observed, hashes(project), req.options);
      const code = await runPlan(plan, project, emit, signal);
      if (code !== 0 || !req.options.wait) return code;
      const deadline = req.options.waitTimeout > 0 ? clock.now() + req.options.waitTimeout * 1000 : Infinity;
      for (const svc of Object.values(project.services)) {
        if (req.options.services.length > 0 && !req.options.services.includes(svc.name)) continue;
        const ctl = new AbortController();
        const timer = deadline === Infinity ? undefined : setTimeout(() => ctl.abort(), Math.max(0, deadline - clock.now()));
        signal.addEventListener('abort', () => ctl.abort(), { once: true });
        try {
          const hasCheck = resolveHealthcheck(svc.healthcheck, undefined) !== undefined;
          await waitCondition(project.name, svc.name, hasCheck ? 'service_healthy' : 'service_started', ctl.signal);
        } catch (err) {
          emit({ kind: 'error', error: ctl.signal.aborted && !signal.aborted ? { code: 'SYS', message: `timeout waiting for service "${svc.name}"` } : errorBody(err), time: now() });
          return 1;
        } finally {
          if (timer) clearTimeout(timer);
        }
      }
      return 0;
    },

    async down(projectName, req: DownRequest, emit, signal): Promise<number> {
      const stored = loadProject(projectName);
      const project = req.project ?? stored?.project;
      const observed = observe(runtime, projectName);
      const plan = planDown(project, observed, req.options);
      const code = await runPlan(plan, project ?? emptyProject(projectName), emit, signal, req.options.timeout);
      if (code === 0 && observe(runtime, projectName).containers.filter((c) => !c.oneoff).length === 0) rmSync(projectFile(projectName), { force: true });
      return code;
    },

    async start(projectName, opts: ServicesOptions, emit): Promise<number> {
      let failed = 0;
      for (const view of orderByDependencies(projectName, selected(projectName, opts.services), false)) {
        if (view.observed.status === 'running') continue;
        try {
          userStart(view.record.id);
          containerEvent(await runtime.startDetached(view.record.id), 'start');
          emit({ kind: 'operation', resourceId: view.record.name, status: 'done', text: 'Started', time: now() });
        } catch (err) {
          failed++;
          emit({ kind: 'error', error: errorBody(err), time: now() });
        }
      }
      await lookAgain();
      return failed > 0 ? 1 : 0;
    },

    async stop(projectName, opts: StopOptions, emit): Promise<number> {
      const views = orderByDependencies(projectName, selected(projectName, opts.services), true);
      await Promise.all(views.map(async (view) => {
        emit({ kind: 'operation', resourceId: view.record.name, status: 'started', text: 'Stopping', time: now() });
        containerEvent(await runtime.stop(view.record.id, opts.timeout), 'stop');
        emit({ kind: 'operation', resourceId: view.record.name, status: 'done', text: 'Stopped', time: now() });
      }));
      await lookAgain();
      return 0;
    },

    async restart(projectName, opts: StopOptions, emit, signal): Promise<number> {
      await api.stop(projectName, opts, emit, signal);
      return api.start(projectName, opts, emit, signal);
    },

    async kill(projectName, opts: KillOptions, emit): Promise<number> {
      let failed = 0;
      for (const view of selected(projectName, opts.services)) {
        if (view.observed.status !== 'running') continue;
        try {
          await runtime.kill(view.record.id, opts.signal);
          containerEvent(view, 'kill', { signal: opts.signal });
          emit({ kind: 'operation', resourceId: view.record.name, status: 'done', text: 'Killed', time: now() });
        } catch (err) {
          failed++;
          emit({ kind: 'error', error: errorBody(err), time: now() });
        }
      }
      await lookAgain();
      return failed > 0 ? 1 : 0;
    },

    async pause(projectName, opts: ServicesOptions, emit): Promise<number> {
      return eachContainer(selected(projectName, opts.services).filter((v) => v.observed.status === 'running'), emit, 'Paused', (v) => runtime.pause(v.record.id));
    },
    async unpause(projectName, opts: ServicesOptions, emit): Promise<number> {
      return eachContainer(selected(projectName, opts.services).filter((v) => v.observed.status === 'paused'), emit, 'Unpaused', (v) => runtime.unpause(v.record.id));
    },

    async ps(projectName, opts): Promise<ContainerSummary[]> {
      return selected(projectName, opts.services)
        .filter((v) => opts.all || v.observed.status === 'running')
        .map(summary)
        .sort((a, b) => (a.service === b.service ? a.number - b.number : a.service < b.service ? -1 : 1));
    },

    async ls(opts): Promise<ProjectSummary[]> {
      const names = new Set(storedProjects());
      for (const v of runtime.list()) { const p = v.record.config.Labels[LABEL.project]; if (p) names.add(p); }
      const out: ProjectSummary[] = [];
      for (const name of [...names].sort()) {
        const views = projectViews(runtime, name);
        const counts = new Map<string, number>();
        for (const v of views) counts.set(v.observed.status, (counts.get(v.observed.status) ?? 0) + 1);
        if (!opts.all && !counts.get('running')) continue;
        const stored = loadProject(name);
        out.push({
          name,
          status: [...counts.entries()].map(([s, n]) => `${s}(${n})`).join(', '),
          configFiles: stored?.project.compose_files.join(',') ?? views[0]?.record.config.Labels[LABEL.configFiles] ?? '',
        });
      }
      return out;
    },

    async logs(projectName, opts: LogsOptions, emit: (line: LogLine) => void, signal): Promise<void> {
      const views = selected(projectName, opts.services);
      const since = opts.since !== undefined ? parseSince(opts.since) : undefined;
      await Promise.all(views.map((view) => readLog(runtime.logPath(view.record.id), {
        tail: opts.tail,
        follow: opts.follow,
        running: () => !signal.aborted && !stopped && (() => { try { return runtime.find(view.record.id).observed.status === 'running'; } catch { return false; } })(),
      }, (r) => {
        if (since !== undefined && Date.parse(r.time) < since) return;
        emit({ service: view.record.config.Labels[LABEL.service] ?? '', container: view.record.name, stream: r.stream, time: r.time, line: r.log });
      })));
    },

    events(emit, signal): Promise<void> {
      return new Promise((resolve) => {
        listeners.add(emit);
        signal.addEventListener('abort', () => { listeners.delete(emit); resolve(); }, { once: true });
      });
    },

    async shutdown(): Promise<void> {
      stopped = true;
      clearInterval(ticker);
      for (const t of tracked.values()) {
        t.watcher?.close();
        t.health?.stop();
        if (t.restartTimer) clearTimeout(t.restartTimer);
      }
    },
  };

  const eachContainer = async (views: ContainerView[], emit: (e: EngineEvent) => void, done: string, act: (v: ContainerView) => unknown): Promise<number> => {
    let failed = 0;
    for (const view of views) {
      try {
        await act(view);
        emit({ kind: 'operation', resourceId: view.record.name, status: 'done', text: done, time: now() });
      } catch (err) {
        failed++;
        emit({ kind: 'error', error: errorBody(err), time: now() });
      }
    }
    return failed > 0 ? 1 : 0;
  };

  /** Start order = dependencies first; stop order = the reverse (plan/graph's order). */
  const orderByDependencies = (projectName: string, views: ContainerView[], reverse: boolean): ContainerView[] => {
    const stored = loadProject(projectName);
    if (!stored) return views;
    const order = topologicalOrder(stored.project);
    const rank = (v: ContainerView): number => order.indexOf(v.record.config.Labels[LABEL.service] ?? '');
    const sorted = [...views].sort((a, b) => rank(a) - rank(b));
    return reverse ? sorted.reverse() : sorted;
  };

  return api;
}


function parseSince(s: string): number {
  if (/^\d+$/.test(s)) return Number(s) * (s.length > 11 ? 1 : 1000);
  const m = /^(\d+)(s|m|h)$/.exec(s);
  if (m) return Date.now() - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid --since value: ${s}: expected a timestamp or a duration like 10m`);
  return t;
}

function emptyProject(name: string): Project {
  return {
    name, working_dir: '', compose_files: [], services: {}, disabled_services: {}, networks: {}, volumes: {},
    secrets: {}, configs: {}, all_profiles: [], enabled_profiles: [], extensions: {}, unsupported: {},
  };
}
