// The compose verbs: each one is observe → plan (plan/, pure, golden-tested) → execute (the
// executor walks the plan; the runner below does one operation and decides nothing). The
// desired state lives in the store; depends_on conditions are waited for on the supervisor's
// looks.
import { createHash } from 'node:crypto';
import type { EngineApi } from '../api/engine-api.js';
import type {
  UpRequest, DownRequest, StopOptions, KillOptions, ServicesOptions, LogsOptions, ServiceRunRequest, CreatedContainer,
  ContainerSummary, ProjectSummary, EngineEvent, LogLine,
} from '../api/types.js';
import type { Project, Service } from '../spec/model.js';
import type { Operation, Plan } from '../plan/plan.js';
import { reconcile, planDown, planStart, planStop, planRestart, planKill, planPause, planUnpause } from '../plan/reconcile.js';
import { serviceConfigForHash } from '../plan/config-hash.js';
import type { ObservedContainer } from '../plan/observed.js';
import { withDependencies } from '../plan/graph.js';
import { DependencyFailed, InvalidArgument, NotFound, Cancelled } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import { dockerStatus } from '../lib/units.js';
import { readLog } from '../runtime/logs.js';
import type { ContainerRuntime, ContainerView, CriticalSection } from '../runtime/container.js';
import { mergeProcess } from '../runtime/process-spec.js';
import { execute, type OperationRunner } from './executor.js';
import { observe, projectViews } from './observe.js';
import { createRequestFor, notYetApplied, serviceImage, LABEL } from './service-container.js';
import { healthcheckConfig } from './health.js';
import { runHooks, type OneOffHooks } from './hooks.js';
import type { ProjectStore } from './store.js';
import { now as timeNow, type Supervisor } from './supervisor.js';
import type { Preflight } from './preflight.js';
import { resolveEach, type ImageStore } from '../images/store.js';
import type { EngineNetworking } from './networking.js';
import { serviceNetworkIntent } from './service-network.js';
import { ensureServiceNetworks, networkHashes, networkRunner, observedNetworks } from './network-runner.js';
import type { RecordedNetwork, CreateRequest } from '../runtime/container.js';
import type { EngineVolumes } from './volumes.js';
import { serviceMountInputs } from './container-mounts.js';
import type { ImageFlags } from './project-images.js';
import type { RegistryAuth } from '../api/types.js';

export interface ProjectVerbsDeps {
  readonly runtime: ContainerRuntime;
  readonly store: ProjectStore;
  readonly supervisor: Supervisor;
  readonly clock: Clock;
  readonly images: () => Promise<ImageStore>;
  readonly preflight: Preflight;
  /** the engine's one removal door (dedupes a removal the supervisor and a verb both ask for) */
  readonly remove: (containerId: string) => Promise<void>;
  /** a start the user asked for (the supervisor resets the restart count and back-off) */
  readonly userStart: (containerId: string) => Promise<ContainerView>;
  /** a stop or kill the user asked for (a pending policy restart is cancelled) */
  readonly userStopped: (containerId: string) => void;
  /** the container's lock, for the decision of a stop or kill (runtime.stop's critical section) */
  readonly locked: (containerId: string) => CriticalSection;
  /** containers' networks (sandboxes, ports, names) and the networks of the plan */
  readonly networking: EngineNetworking;
  /** volumes, binds, tmpfs, secrets and configs of the containers; `volume:<name>` operations */
  readonly volumes: EngineVolumes;
  /** compose run's post_start hooks, run by the one-off's first start (hooks.ts) */
  readonly oneOffHooks: OneOffHooks;
  /** pulls and builds the images of these services as pull_policy and the flags say (project-images.ts) */
  readonly prepareImages: (project: Project, services: readonly string[], flags: ImageFlags, auth: RegistryAuth, emit: (e: EngineEvent) => void, signal: AbortSignal) => Promise<void>;
}

export type ProjectVerbs = Pick<EngineApi, 'up' | 'down' | 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause' | 'ps' | 'ls' | 'logs' | 'createOneOff'>;

export function projectVerbs(d: ProjectVerbsDeps): ProjectVerbs {
  const { runtime, store, supervisor, clock } = d;
  const now = (): string => timeNow(clock);

  const hashOf = (service: Service): string => createHash('sha256').update(serviceConfigForHash(service)).digest('hex');
  const hashes = (project: Project): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [name, svc] of Object.entries(project.services)) out[name] = hashOf(svc);
    return out;
  };

  /** The stored model of a project; a verb on a project the engine never saw plans without one. */
  const projectOf = (projectName: string): Project | undefined => store.load(projectName)?.project;

  /** network_mode service:X / container:X → the container whose namespace is joined. */
  const joinedContainer = (projectName: string) => (mode: string): string =>
    mode.startsWith('service:') ? d.networking.serviceContainer(projectName, mode.slice('service:'.length)) : runtime.find(mode.slice('container:'.length)).record.id;

  /** The container's network made first, then `create` with it (the network undone when the create fails). */
  const withNetwork = async <T>(id: string, hostname: string, domainname: string | undefined, intent: RecordedNetwork,
    create: (network: NonNullable<CreateRequest['network']>) => Promise<T>): Promise<T> => {
    const { files } = await d.networking.attach(id, intent, { hostname, ...(domainname ? { domainname } : {}) });
    try {
      return await create({ ...files, config: intent });
    } catch (err) {
      await d.networking.detach(id).catch(() => { /* repair at the next engine start will */ });
      throw err;
    }
  };

  /** A project's observed state with its volumes (plan/volumes.ts). */
  const observeWithVolumes = (projectName: string, project: Project | undefined): ReturnType<typeof observe> =>
    ({ ...observe(runtime, projectName), volumes: d.volumes.observe(projectName, project) });

  const runner = (project: Project, configHashes: Readonly<Record<string, string>>, emit: (e: EngineEvent) => void, signal: AbortSignal, timeoutSeconds?: number): OperationRunner => {
    // a recreate keeps the anonymous volumes of the container it replaces (by target), as compose does
    const anonymousOfRemoved = new Map<string, ReadonlyMap<string, string>>();
    return {
    resources: { volume: d.volumes.runner(project, emit, now), network: networkRunner(d.networking.facility, project) },
    async create(op: Operation): Promise<string> {
      const service = project.services[op.service];
      if (!service) throw new NotFound(`no such service: ${op.service}`);
      const imageStore = await d.images();
      const image = imageStore.resolve(serviceImage(project, service));
      const request = createRequestFor({ project, service, number: op.number, image, overlayRoot: imageStore.overlayRoot(), configHash: configHashes[op.service] ?? '', hostEnv: {} });
      const id = request.id!;
      const intent = serviceNetworkIntent(project, service, { containerId: id, containerName: request.name!, ...(service.hostname ? { hostname: service.hostname } : {}) }, joinedContainer(project.name));
      const slot = { containerId: id, bundle: runtime.bundle(id), image, overlayRoot: imageStore.overlayRoot() };
      const { created: record, warnings } = await withNetwork(id, request.hostname!, request.domainname, intent, (network) => d.volumes.createWith(
        serviceMountInputs(d.volumes, runtime, project, service, slot, anonymousOfRemoved.get(`${op.service}:${op.number}`)),
        (mounts) => runtime.create({ ...request, mounts, network, healthcheck: healthcheckConfig(service.healthcheck, image.config.Healthcheck) })));
      for (const text of warnings) emit({ kind: 'warning', text: `service "${service.name}": ${text}`, time: now() });
      supervisor.containerEvent(runtime.find(record.id), 'create');
      return record.id;
    },
    async start(op, containerId): Promise<void> {
      const view = await d.userStart(containerId);
      supervisor.containerEvent(view, 'start');
      // hooks.ts: the start is done once the post_start hooks have run
      const hooks = project.services[op.service]?.post_start;
      if (hooks !== undefined) await runHooks(runtime, containerId, op.service, 'post_start', hooks, signal);
    },
    async stop(op, containerId): Promise<void> {
      const hooks = project.services[op.service]?.pre_stop;
      if (hooks !== undefined && runtime.find(containerId).observed.status === 'running') {
        // hooks.ts: a failing pre_stop hook does not keep the container from stopping
        try {
          await runHooks(runtime, containerId, op.service, 'pre_stop', hooks, signal);
        } catch (err) {
          emit({ kind: 'warning', text: `${(err as Error).message} (the container is stopped anyway)`, time: now() });
        }
      }
      d.userStopped(containerId);
      const view = await runtime.stop(containerId, timeoutSeconds, undefined, d.locked(containerId));
      supervisor.containerEvent(view, 'stop');
    },
    async remove(op, containerId): Promise<void> {
      const view = runtime.find(containerId);
      anonymousOfRemoved.set(`${op.service}:${op.number}`, d.volumes.anonymousOf(view));
      await d.remove(containerId);
      supervisor.containerEvent(view, 'destroy');
    },
    async kill(op, containerId): Promise<void> {
      d.userStopped(containerId);
      const view = runtime.find(containerId);
      await runtime.kill(containerId, op.signal ?? 'SIGKILL', d.locked(containerId));
      supervisor.containerEvent(view, 'kill', { signal: op.signal ?? 'SIGKILL' });
    },
    async pause(_op, containerId): Promise<void> {
      supervisor.containerEvent(await runtime.pause(containerId), 'pause');
    },
    async unpause(_op, containerId): Promise<void> {
      supervisor.containerEvent(await runtime.unpause(containerId), 'unpause');
    },
    async wait(op, signal): Promise<void> {
      await waitCondition(project.name, op.service, op.condition ?? 'service_started', signal);
    },
    };
  };

  /** A depends_on condition, judged again after every look of the supervisor. */
  const waitCondition = (projectName: string, service: string, condition: string, signal: AbortSignal): Promise<true> =>
    supervisor.waitFor(() => conditionHolds(observe(runtime, projectName).containers.filter((c) => c.service === service && !c.oneoff), service, condition), signal);

  const runPlan = async (plan: Plan, project: Project, emit: (e: EngineEvent) => void, signal: AbortSignal, timeoutSeconds?: number): Promise<number> => {
    const counts = new Map<string, number>();
    for (const op of plan.operations) counts.set(op.resourceId, (counts.get(op.resourceId) ?? 0) + 1);
    emit({ kind: 'plan', resources: [...counts].map(([resourceId, operations]) => ({ resourceId, operations })), time: now() });
    const result = await execute(plan, runner(project, hashes(project), emit, signal, timeoutSeconds), emit, signal, clock);
    void supervisor.look();
    if (signal.aborted) {
      const why = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
      throw new Cancelled(`${why}: ${result.notStarted} operation(s) not started; the ${result.inProgressAtCancel} in progress finished first`);
    }
    // every failure was shown as a failed operation with its message: docker compose's exit 1
    return result.failed.length > 0 ? 1 : 0;
  };

  /** The project's service containers (no one-off ones), of the named services (all when none is named). */
  const selected = (projectName: string, services: readonly string[]): ContainerView[] => {
    const views = projectViews(runtime, projectName).filter((v) => v.record.config.Labels[LABEL.oneoff] !== 'True');
    if (services.length === 0) return views;
    const stored = projectOf(projectName);
    for (const s of services) if (stored && !stored.services[s]) throw new NotFound(`no such service: ${s}`);
    return views.filter((v) => services.includes(v.record.config.Labels[LABEL.service] ?? ''));
  };

  const summary = (view: ContainerView): ContainerSummary => {
    const { record: r, observed: o } = view;
    const health = runtime.runtimeState(r.id).health?.status ?? '';
    return {
      id: r.id,
      name: r.name,
      service: r.config.Labels[LABEL.service] ?? '',
      number: Number(r.config.Labels[LABEL.number] ?? 0),
      image: r.imageRef,
      command: [r.path, ...r.args].join(' '),
      created: r.created,
      state: o.status,
      status: dockerStatus(o.status, o.exited?.exitCode ?? 0, o.started?.startedAt, o.exited?.finishedAt, clock.now(), health, o.error),
      health,
      exitCode: o.exited?.exitCode ?? 0,
      ports: d.networking.portsText(view),
      publishers: d.networking.publishers(view),
    };
  };

  /** A verb on the project's existing containers: the plan the verb's planner makes of the host. */
  const lifecycle = (projectName: string, emit: (e: EngineEvent) => void, signal: AbortSignal, plan: (project: Project | undefined) => Plan, timeoutSeconds?: number): Promise<number> => {
    const project = projectOf(projectName);
    return runPlan(plan(project), project ?? emptyProject(projectName), emit, signal, timeoutSeconds);
  };

  return {
    async up(req: UpRequest, emit, signal): Promise<number> {
      const project = req.project;
      const scope = req.options.noDeps ? new Set(req.options.services.length > 0 ? req.options.services : Object.keys(project.services))
        : withDependencies(project, req.options.services.length > 0 ? req.options.services : Object.keys(project.services));
      // Images first (pulled and built as pull_policy and --pull/--build say), then the checks
      // before anything is touched: every image present (and, with networking, every port free).
      const active = [...scope].filter((name) => (Object.hasOwn(req.options.scale, name) ? req.options.scale[name]! : project.services[name]?.scale ?? 0) > 0);
      await d.prepareImages(project, active, {
        ...(req.options.pull !== undefined ? { pull: req.options.pull } : {}), build: req.options.build ?? false, noBuild: req.options.noBuild ?? false,
      }, req.auth ?? {}, emit, signal);
      await d.preflight.up(project, [...scope], req.options.scale);
      for (const text of d.volumes.checkForUp(project, scope)) emit({ kind: 'warning', text, time: now() });
      // the image each service names now: a container of another image is recreated
      const imageStore = await d.images();
      const images: Record<string, string> = {};
      const resolve = resolveEach(imageStore);
      for (const name of scope) {
        const service = project.services[name];
        if (!service) continue;
        try { images[name] = resolve(serviceImage(project, service)).id; } catch { /* scale 0: not needed */ }
      }
      // after planning, every network and published port the new containers need (a port
      // conflict creates nothing at all)
      const observed = { ...observeWithVolumes(project.name, project), networks: observedNetworks(d.networking.facility) };
      const plan = reconcile(project, observed, hashes(project), { ...req.options, images, networkHashes: networkHashes(project) });
      await d.preflight.plan(project, plan);
      for (const name of scope) {
        const service = project.services[name]!;
        const missing = notYetApplied(service);
        if (missing.length > 0) emit({ kind: 'warning', text: `service "${name}": ${missing.join(', ')} not applied yet (volumes come in a later release)`, time: now() });
        if (service.ports.length > 0 && service.network_mode !== undefined && service.network_mode !== 'bridge') {
          emit({ kind: 'warning', text: `service "${name}": published ports are discarded when using network_mode ${service.network_mode}`, time: now() });
        }
      }
      // a detached watch of the project goes on (engine.ts starts it again with this model)
      const watch = store.load(project.name)?.watch;
      store.save({ project, scale: req.options.scale, ...(watch !== undefined ? { watch } : {}) });
      const orphans = observed.containers.filter((c) => !c.oneoff && !project.services[c.service] && !project.disabled_services[c.service]);
      if (orphans.length > 0 && !req.options.removeOrphans) {
        emit({ kind: 'warning', text: `Found orphan containers (${orphans.map((c) => c.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`, time: now() });
      }
      const code = await runPlan(plan, project, emit, signal);
      if (code !== 0 || !req.options.wait) return code;
      // --wait: every selected service running, or healthy when it has a health check
      const deadline = req.options.waitTimeout > 0 ? clock.now() + req.options.waitTimeout * 1000 : Infinity;
      const timer = new AbortController();
      const waited = new AbortController();
      const onAbort = (): void => waited.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      if (deadline !== Infinity) void clock.sleep(Math.max(0, deadline - clock.now()), timer.signal).then(() => waited.abort(new Error('timeout')), () => undefined);
      try {
        for (const name of [...scope].sort()) {
          const hasCheck = projectViews(runtime, project.name).some((v) => v.record.config.Labels[LABEL.service] === name && v.record.config.Healthcheck !== undefined && v.record.config.Healthcheck.Test[0] !== 'NONE');
          try {
            await waitCondition(project.name, name, hasCheck ? 'service_healthy' : 'service_started', waited.signal);
          } catch (err) {
            if (waited.signal.aborted && !signal.aborted) throw new DependencyFailed(`timeout waiting for service "${name}" to be ${hasCheck ? 'healthy' : 'running'}`);
            throw err;
          }
        }
      } finally {
        timer.abort();
        signal.removeEventListener('abort', onAbort);
      }
      return 0;
    },

    async down(projectName, req: DownRequest, emit, signal): Promise<number> {
      const project = req.project ?? projectOf(projectName);
      const plan = planDown(project, { ...observeWithVolumes(projectName, project), networks: observedNetworks(d.networking.facility) }, req.options);
      const code = await runPlan(plan, project ?? emptyProject(projectName), emit, signal, req.options.timeout);
      if (code === 0 && observe(runtime, projectName).containers.filter((c) => !c.oneoff).length === 0) store.remove(projectName);
      return code;
    },

    start: (projectName, opts: ServicesOptions, emit, signal) =>
      lifecycle(projectName, emit, signal, (project) => planStart(observe(runtime, projectName), project, opts.services)),
    stop: (projectName, opts: StopOptions, emit, signal) =>
      lifecycle(projectName, emit, signal, (project) => planStop(observe(runtime, projectName), project, opts.services), opts.timeout),
    restart: (projectName, opts: StopOptions, emit, signal) =>
      lifecycle(projectName, emit, signal, (project) => planRestart(observe(runtime, projectName), project, opts.services), opts.timeout),
    kill: (projectName, opts: KillOptions, emit, signal) =>
      lifecycle(projectName, emit, signal, (project) => planKill(observe(runtime, projectName), project, opts.services, opts.signal)),
    pause: (projectName, opts: ServicesOptions, emit, signal) =>
      lifecycle(projectName, emit, signal, (project) => planPause(observe(runtime, projectName), project, opts.services)),
    unpause: (projectName, opts: ServicesOptions, emit, signal) =>
      lifecycle(projectName, emit, signal, (project) => planUnpause(observe(runtime, projectName), project, opts.services)),

    async ps(projectName, opts): Promise<ContainerSummary[]> {
      return selected(projectName, opts.services)
        .filter((v) => opts.all || v.observed.status === 'running')
        .map(summary)
        .sort((a, b) => (a.service === b.service ? a.number - b.number : a.service < b.service ? -1 : 1));
    },

    async ls(opts): Promise<ProjectSummary[]> {
      const names = new Set(store.names());
      for (const v of runtime.list()) { const p = v.record.config.Labels[LABEL.project]; if (p) names.add(p); }
      const out: ProjectSummary[] = [];
      for (const name of [...names].sort()) {
        const views = projectViews(runtime, name);
        const counts = new Map<string, number>();
        for (const v of views) counts.set(v.observed.status, (counts.get(v.observed.status) ?? 0) + 1);
        if (!opts.all && !counts.get('running')) continue;
        out.push({
          name,
          status: [...counts.entries()].map(([s, n]) => `${s}(${n})`).join(', '),
          configFiles: projectOf(name)?.compose_files.join(',') ?? views[0]?.record.config.Labels[LABEL.configFiles] ?? '',
        });
      }
      return out;
    },

    async logs(projectName, opts: LogsOptions, emit: (line: LogLine) => void, signal): Promise<void> {
      const views = selected(projectName, opts.services);
      const since = opts.since !== undefined ? parseSince(opts.since, clock.now()) : undefined;
      await Promise.all(views.map((view) => readLog(runtime.logPath(view.record.id), {
        tail: opts.tail,
        follow: opts.follow,
        clock,
        signal,
        running: () => { try { return runtime.find(view.record.id).observed.status === 'running'; } catch { return false; } },
      }, (r) => {
        if (since !== undefined && Date.parse(r.time) < since) return;
        emit({ service: view.record.config.Labels[LABEL.service] ?? '', container: view.record.name, stream: r.stream, time: r.time, line: r.log });
      })));
    },

    /** compose run: a one-off container of a service (its dependencies were brought up by the client's `up`). */
    async createOneOff(projectName, req: ServiceRunRequest): Promise<CreatedContainer> {
      const project = req.project;
      if (project.name !== projectName) throw new InvalidArgument(`the project in the body is "${project.name}" but the path names "${projectName}"`);
      const service = project.services[req.service];
      if (!service) throw new NotFound(`no such service: ${req.service}`);
      const imageName = serviceImage(project, service);
      await d.preflight.images([{ service: service.name, image: imageName }]);
      const imageStore = await d.images();
      const image = imageStore.resolve(imageName);
      const base = createRequestFor({ project, service, number: 0, image, overlayRoot: imageStore.overlayRoot(), configHash: '', hostEnv: {} });
      const process = mergeProcess(image.config, {
        command: req.command.length > 0 ? req.command : service.command ?? [],
        entrypoint: req.entrypoint ?? service.entrypoint ?? undefined,
        env: [...base.process.env.filter((e) => !e.startsWith('HOSTNAME=')), ...req.env],
        workdir: req.workdir ?? service.working_dir,
        user: req.user ?? service.user,
        hostname: base.hostname ?? base.id!.slice(0, 12),
        tty: req.tty,
      }, {});
      const labels: Record<string, string> = { ...base.labels, [LABEL.oneoff]: 'True' };
      delete labels[LABEL.number];
      for (const l of req.labels) {
        const at = l.indexOf('=');
        labels[at < 0 ? l : l.slice(0, at)] = at < 0 ? '' : l.slice(at + 1);
      }
      const name = req.name ?? `${project.name}-${service.name}-run-${base.id!.slice(0, 12)}`;
      // a one-off container joins the service's networks under its own name only (it is not one
      // of the service's replicas for the resolver) and publishes nothing (compose run's default)
      const serviceIntent = serviceNetworkIntent(project, service, { containerId: base.id!, containerName: name }, joinedContainer(project.name));
      const intent: RecordedNetwork = {
        ...serviceIntent, ports: [],
        endpoints: serviceIntent.endpoints.map((e) => ({ ...e, names: [name, base.id!.slice(0, 12)], aliases: [] })),
      };
      await ensureServiceNetworks(d.networking.facility, project, service);
      const slot = { containerId: base.id!, bundle: runtime.bundle(base.id!), image, overlayRoot: imageStore.overlayRoot() };
      const { created: record, warnings } = await withNetwork(base.id!, base.hostname!, base.domainname, intent, (network) => d.volumes.createWith(
        serviceMountInputs(d.volumes, runtime, project, service, slot), (mounts) => runtime.create({
        ...base,
        mounts,
        network,
        name,
        process,
        tty: req.tty,
        openStdin: req.interactive,
        autoRemove: req.autoRemove,
        labels,
        // a one-off container is never restarted by a policy (docker compose run ignores `restart`)
        restartPolicy: { name: 'no', maximumRetryCount: 0 },
        healthcheck: healthcheckConfig(service.healthcheck, image.config.Healthcheck),
      })));
      supervisor.containerEvent(runtime.find(record.id), 'create');
      d.oneOffHooks.remember(record.id, service.name, service.post_start);
      return { id: record.id, name: record.name, warnings: [...warnings, ...runtime.warnings(record.id)] };
    },
  };
}

/** Whether a depends_on condition holds for a dependency's containers: true, undefined (not yet), or a DependencyFailed. */
function conditionHolds(cs: readonly ObservedContainer[], service: string, condition: string): true | undefined {
  if (cs.length === 0) return undefined;
  if (condition === 'service_started') return cs.every((c) => c.status === 'running' || c.status === 'exited') ? true : undefined;
  if (condition === 'service_healthy') {
    const bad = cs.find((c) => c.health === 'unhealthy' || (c.status === 'exited' && c.health !== 'healthy'));
    if (bad) throw new DependencyFailed(`dependency failed to start: container ${bad.name} is ${bad.health === 'unhealthy' ? 'unhealthy' : `exited (${bad.exitCode ?? 0})`}`);
    if (!cs.every((c) => c.health === 'healthy' || (c.health === undefined && c.status === 'running'))) return undefined;
    if (cs.some((c) => c.health === undefined)) throw new DependencyFailed(`dependency ${service} has no health check: cannot wait for service_healthy`);
    return true;
  }
  if (condition === 'service_completed_successfully') {
    if (!cs.every((c) => c.status === 'exited')) return undefined;
    const bad = cs.find((c) => c.exitCode !== 0);
    if (bad) throw new DependencyFailed(`service "${service}" didn't complete successfully: exit ${bad.exitCode}`);
    return true;
  }
  throw new InvalidArgument(`unknown depends_on condition "${condition}"`);
}

/** `logs --since`: RFC 3339, epoch seconds (or ms), or a duration back from now ("10m"). */
export function parseSince(s: string, nowMs: number): number {
  if (/^\d+$/.test(s)) return Number(s) * (s.length > 11 ? 1 : 1000);
  const m = /^(\d+)(s|m|h)$/.exec(s);
  if (m) return nowMs - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
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

