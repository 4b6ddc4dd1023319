// The engine: the one EngineApi implementation, composed of jobs that each fit in one sitting:
//   store.ts       the desired state of each project (what `up` was given)
//   supervisor.ts  exits, restart policies and back-off, health monitors, engine-start restarts
//   projects.ts    the compose verbs, each as plan (plan/) + executor
//   containers.ts  single-container verbs; attach.ts relays attached stdio
//   images.ts      image verbs of the store; image-verbs.ts pull, push, build, save, commit…
//   project-images.ts  pull_policy and builds before `up`, compose pull/build/images
//   system.ts      info, version, engine status
//   networking.ts  containers' networks (sandboxes, ports, names) over src/network
//   networks.ts    network verbs and `port`;  network-runner.ts  the plan's network operations
//   preflight.ts   checks before anything is touched (images present, networks, ports free)
//   watch.ts       compose watch: one ProjectWatch per watched project, stopped by down and shutdown
// This file wires them and keeps the two pieces of state verbs share: the event bus and the
// one door through which containers are removed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineApi, EngineInfo } from '../api/engine-api.js';
import { API_VERSION } from '../api/types.js';
import { nativeDir, type Roots } from '../lib/paths.js';
import { realClock, type Clock } from '../lib/clock.js';
import { BerthError, Conflict, InvalidArgument, NotFound, errorBody } from '../lib/errors.js';
import { enginePaths } from '../api/codec.js';
import type { ContainerView, CriticalSection } from '../runtime/container.js';
import { engineHost, type EngineHost } from './host.js';
import { EventBus } from './events.js';
import { ProjectStore } from './store.js';
import { Supervisor, now } from './supervisor.js';
import { projectVerbs } from './projects.js';
import { containerLogs, containerRow, createContainer, restartPolicyFlag, statsOf, topOf } from './containers.js';
import { imageSummary, importImage, loadImages } from './images.js';
import { relayAttached } from './attach.js';
import { system } from './system.js';
import { preflight } from './preflight.js';
import { resolveHealthcheck, type ResolvedHealthcheck } from './health.js';
import { LABEL, serviceImage } from './service-container.js';
import { Watches } from './watch.js';
import { OneOffHooks } from './hooks.js';
import type { SupervisedRuntime } from './supervisor.js';
import { EngineVolumes } from './volumes.js';
import { KeyedLock } from './keyed-lock.js';
import { flagMountInputs } from './container-mounts.js';
import { containerArchive, containerCopy, containerDiff, type CopyDeps } from './copy.js';
import { imageVerbs, imageWork, limitChanges } from './image-verbs.js';
import { prepareImages, projectImageVerbs } from './project-images.js';
import { availableParallelism } from 'node:os';
import { daemonConfigPath } from '../lib/paths.js';
import { coalesced } from '../lib/coalesce.js';
import { operationsInProgress } from './executor.js';
import { EngineNetworking } from './networking.js';
import { networkVerbs } from './networks.js';
import { flagsNetworkIntent } from './service-network.js';
import { parsePortString } from '../spec/canonical/ports.js';

export interface EngineOptions {
  readonly roots: Roots;
  /** where native/build lives */
  readonly packageRoot: string;
  /** the environment of the shims the engine starts */
  readonly env: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** the engine log (stderr of `berth engine`) */
  readonly log?: (line: string) => void;
  /** a host prepared by the caller (tests); default: this host's facilities */
  readonly host?: EngineHost;
}

export type Engine = EngineApi & { readonly bus: EventBus };

/** Builds the engine: repairs what a crash left, takes the first look (engine-start restarts), and answers. */
export async function createEngine(opts: EngineOptions): Promise<Engine> {
  const clock = opts.clock ?? realClock;
  const log = opts.log ?? ((): void => {});
  const host = opts.host ?? engineHost(opts.roots, opts.packageRoot, opts.env, clock, log);
  const { runtime } = host;
  const version = packageVersion(opts.packageRoot);
  const events = new EventBus();
  let internalSubscribers = 0;
  const store = new ProjectStore(opts.roots.root, log);
  const networking = new EngineNetworking(host.network, runtime);
  const checks = preflight(() => host.images(), {
    checkPorts: (ports, releasing) => networking.checkPorts(ports, releasing),
    networkExists: (name) => host.network.networks().some((n) => n.name === name && !n.removing),
  });
  const volumes = new EngineVolumes({ root: opts.roots.root, sys: host.sys, log, worker: { nodePath: process.execPath, env: { PATH: opts.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' }, log } });
  // a start, a removal and a `cp` of a stopped container (which mounts its layers) never overlap
  const containerLock = new KeyedLock();
  const running = (): Set<string> => new Set(runtime.list().filter((v) => v.observed.status === 'running' || v.observed.status === 'paused').map((v) => v.record.id));
  // tmpfs-style volumes nobody runs with any more are unmounted: a burst of exits or removals
  // (a down of 30) shares one sweep over the containers (lib/coalesce.ts), not one each
  const sweepUnusedVolumes = coalesced(() => volumes.deactivateUnused(running()));

  /**
   * A user's stop or kill decides and sends its signal under the container's lock: after a held
   * restart that raced it has said whether it went (it then stops the container that runs), never
   * beside it (docs/restart-reaction.md).
   */
  const locked = (containerId: string): CriticalSection => (fn) => containerLock.run(containerId, fn);

  /** Every start (user, policy, attached): secrets and configs written again, tmpfs-style volumes mounted, under the container's lock. */
  const withStart = <T>(containerId: string, start: () => Promise<T>): Promise<T> => containerLock.run(containerId, async () => {
    volumes.beforeStart(runtime.find(containerId));
    return start();
  });

  // One door for removals: the supervisor (--rm after an exit), `rm`, `down` and an attached
  // `run --rm` may ask for the same container at once; they share one removal. Its volumes are
  // released after it; its anonymous ones removed with it when asked (rm -v, run --rm).
  const removing = new Map<string, Promise<void>>();
  const oneOffHooks = new OneOffHooks();
  const removeContainer = (containerId: string, force = true, removeAnonymous = false): Promise<void> => {
    let p = removing.get(containerId);
    if (!p) {
      supervisor.release(containerId);
      oneOffHooks.forget(containerId);
      // the container's network goes with it: after the process, so it never runs without one
      p = containerLock.run(containerId, () => runtime.remove(containerId, { force }))
        .then(() => networking.detach(containerId))
        .then(() => volumes.released(containerId, removeAnonymous))
        .then(() => sweepUnusedVolumes())
        .finally(() => removing.delete(containerId));
      removing.set(containerId, p);
    }
    return p;
  };
  const removeQuietly = async (containerId: string): Promise<void> => {
    let view: ContainerView;
    try { view = runtime.find(containerId); } catch { return; }
    try {
      await removeContainer(containerId, true, view.record.hostConfig.AutoRemove);
      supervisor.containerEvent(view, 'destroy');
    } catch (err) {
      if (!(err instanceof NotFound)) events.publish({ kind: 'warning', text: `removing ${view.record.name}: ${errorBody(err).message}`, time: now(clock) });
    }
  };

  // the supervisor's policy restarts go through the same start as the user's
  // every start (the user's, a restart policy's, the engine's first look) finds the container's
  // network in place, or makes it again from the record (after a reboot, BERTH_RUN is empty)
  const supervised: SupervisedRuntime = {
    ids: () => runtime.ids(),
    view: (id) => runtime.view(id),
    find: (ref) => runtime.find(ref),
    runtimeState: (id) => runtime.runtimeState(id),
    updateRuntimeState: (id, patch) => runtime.updateRuntimeState(id, patch),
    // a held restart keeps the container's lock from its making until its shim says it went or
    // was cancelled: a removal, a user's start, stop or kill waits for that, never runs beside it
    startDetached: (ref, held) => {
      const id = runtime.find(ref).record.id;
      return withStart(id, async () => { await networking.ensure(id); return runtime.startDetached(id, held); });
    },
    // a lost supervisor's processes are killed under the container's lock too: never beside a start
    reapLost: (id) => containerLock.run(id, () => runtime.reapLost(id)),
    execCaptured: (ref, r, o) => runtime.execCaptured(ref, r, o),
  };
  const supervisor: Supervisor = new Supervisor({
    runtime: supervised,
    clock,
    events,
    log,
    autoRemove: removeQuietly,
    healthcheckOf: (view) => healthcheckOf(host, store, view),
    holdStarts: true,
  });

  const userStart = async (containerId: string): Promise<ContainerView> => {
    supervisor.userStarted(containerId, () => runtime.clearStoppedByUser(containerId));
    // a held restart that went before this start cancelled it: running already, as docker start wants
    const view = await containerLock.run(containerId, async () => {
      const current = runtime.find(containerId);
      if (current.observed.status === 'running') return current;
      volumes.beforeStart(current);
      await networking.ensure(containerId);
      return runtime.startDetached(containerId);
    });
    void supervisor.lookAt(containerId); // health checks start now, not at the next periodic look
    return view;
  };

  /**
   * An attached start's process runs once its `started` record is written (the supervisor's look
   * sees it): true then, false when the container ended (or went) first; its hooks then had nothing to run in.
   */
  const oneOffStarted = (id: string, signal: AbortSignal): Promise<boolean> => supervisor.waitFor(() => {
    let status: string;
    try { status = runtime.find(id).observed.status; } catch { return false; }
    if (status === 'running' || status === 'paused') return true;
    return status === 'created' || status === 'restarting' ? undefined : false;
  }, signal);

  const imageDeps = {
    runtime, sys: host.sys, clock, images: () => host.images(), env: opts.env, configFile: daemonConfigPath(opts.env), root: opts.roots.root, networking,
    containerEvent: (id: string, action: 'pause' | 'unpause' | 'update', attributes?: Readonly<Record<string, string>>) => supervisor.containerEvent(runtime.find(id), action, attributes),
  };
  const work = imageWork(imageDeps);
  const projectImagesDeps = { images: () => host.images(), work, runtime, clock };
  const compose = projectVerbs({
    runtime, store, supervisor, clock, images: () => host.images(), preflight: checks,
    remove: (id) => removeContainer(id), userStart, userStopped: (id) => supervisor.userStopped(id), locked, volumes, networking, oneOffHooks,
    prepareImages: (project, services, flags, auth, emit, signal) => prepareImages(projectImagesDeps, project, services, flags, auth, emit, signal),
  });
  const networks = networkVerbs(runtime, networking);
  const projectImages = projectImageVerbs(projectImagesDeps);
  const watches = new Watches({
    runtime, sys: host.sys, clock, log, compose, store, stateDir: join(opts.roots.root, 'watch'), helperPath: join(nativeDir(opts.packageRoot), 'berth-notify'),
    build: (project, services, auth, emit, signal) => projectImages.projectBuild(project.name, {
      project, services, noCache: false, pull: false, buildArgs: {}, withDependencies: false, auth,
    }, emit, signal),
    imageOf: async (project, service) => {
      const s = project.services[service];
      if (s === undefined) return undefined;
      try { return (await host.images()).resolve(serviceImage(project, s)).id; } catch { return undefined; }
    },
    // image prune limited to these ids: untagged and unused ones go, the build cache's layers stay
    removeIfDangling: async (ids) => {
      const [{ pruneImages }, { buildCacheLayers }] = await Promise.all([import('../images/prune.js'), import('../build/builder.js')]);
      const store = await host.images();
      return pruneImages(store, { all: false, only: new Set(ids), inUse: (id) => runtime.imageInUse(id), keepLayers: buildCacheLayers(store), now: () => new Date(clock.now()) }).lines;
    },
  });
  const copyDeps: CopyDeps = { runtime, volumes, containers: containerLock, clock, root: opts.roots.root };
  const sys = system({
    roots: opts.roots, version, socket: enginePaths(opts.roots.run).socket, clock, runtime, images: () => host.images(),
    supervision: () => supervisor.stats(),
    operationsInProgress,
    eventSubscribers: () => events.size - internalSubscribers,
    slots: () => { const s = runtime.slotStats(); return { size: s.size, idle: s.idle, claimed: s.claimed }; },
  });

  // start-up repair: each line says what a crash had left and what was done with it
  for (const line of await runtime.repair()) log(`repair: ${line}`);
  const repaired = await volumes.repair(new Set(runtime.list().map((v) => v.record.id)), running());
  if (repaired.abandonedCreates + repaired.finishedRemovals + repaired.copyUps.length + repaired.droppedRefs.length + repaired.unmounted.length > 0) log(`volumes repaired after a crash: ${JSON.stringify(repaired)}`);
  // a container that starts fresh in a watched project gets the synced paths (watch.ts); one that
  // exits leaves tmpfs-style volumes nobody runs with: unmounted
  // (an internal subscriber: engine status counts the clients' subscriptions only)
  events.subscribe((e) => {
    if (e.kind === 'container') watches.containerEvent(e);
    if (e.kind !== 'container' || (e.action !== 'die' && e.action !== 'stop' && e.action !== 'kill')) return;
    sweepUnusedVolumes().catch((err: unknown) => log(`unmounting unused tmpfs volumes: ${(err as Error).message}`));
  });
  internalSubscribers++;
  // a build's RUN step containers belong to a build of the last engine, which ended with it
  for (const view of runtime.list().filter(isBuildStep)) {
    await runtime.remove(view.record.id, { force: true }).catch((err: unknown) => log(`removing build step container ${view.record.name}: ${errorBody(err).message}`));
    log(`removed build step container ${view.record.name}, left by an interrupted build`);
  }
  // networks, sandboxes, rules and resolver records as the records say, before the first look
  // (the crash-repair registry of issue 17 is to take this over)
  try {
    for (const line of await networking.repair()) log(`network repair: ${line}`);
  } catch (err) {
    log(`network repair failed (containers on networks may not start): ${errorBody(err).message}`);
  }
  await supervisor.start();
  // warm slots for the next starts (docs/slots.md), made in the background from here on
  runtime.warmSlots();
  // detached watches (watch -d, up -d --watch) run again; changes made meanwhile are caught up
  void watches.restore().catch((err: unknown) => log(`restoring detached watches: ${errorBody(err).message}`));

  const info: EngineInfo = { version, apiVersion: API_VERSION, pid: process.pid, root: opts.roots.root };

  const engine: Engine = {
    bus: events,
    info: () => info,
    version: () => sys.version(),
    systemInfo: () => sys.systemInfo(),
    engineStatus: (o) => sys.engineStatus(o),

    ...compose,
    ...networks,
    watch: (req, emit, signal) => watches.watch(req, emit, signal),
    watchStop: (projectName) => watches.watchStop(projectName),
    // a watched project's watch ends (what it gathered applied, a detached one forgotten) before its containers go
    async down(projectName, req, emit, signal) {
      await watches.stopProject(projectName, 'the project was taken down', { forget: true });
      return compose.down(projectName, req, emit, signal);
    },
    // a detached watch goes on with the model of the latest up
    async up(req, emit, signal) {
      const code = await compose.up(req, emit, signal);
      if (code === 0) await watches.renew(req.project, req.auth);
      return code;
    },
    ls: async (o) => (await compose.ls(o)).map((p) => ({ ...p, watch: watches.mode(p.name) })),
    ps: async (projectName, o) => (await compose.ps(projectName, o)).map((c) => ({ ...c, watch: watches.serviceMode(projectName, c.service) })),
    ...imageVerbs(imageDeps, work),
    ...projectImages,

    // the feed: every event until the subscriber goes away
    async events(emit, signal): Promise<void> {
      if (signal.aborted) return;
      const unsubscribe = events.subscribe(emit);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      unsubscribe();
    },

    async shutdown(): Promise<void> {
      await runtime.stopSlots();
      await watches.stopAll('the engine stopped');
      await supervisor.stop();
      // the default bridge comes back with the next `run`; containers on it keep it (and DNS,
      // ports and forwarding live on without the engine: berth-netd and the kernel hold them)
      await networking.removeIdleDefaultBridge().catch((err) => log(`removing the idle default bridge: ${errorBody(err).message}`));
      sys.stop();
      runtime.removeIdleCgroupParent();
    },

    // ── single containers ──
    async containerCreate(o) {
      const created = await createContainer(runtime, await host.images(), o, (slot, create) => volumes.createWith(flagMountInputs(runtime, o, slot), create),
        async (id, name, identity, flags, imageExposed) => {
          const intent = flagsNetworkIntent(flags, { containerId: id, containerName: name, ...(identity.explicitHostname ? { hostname: identity.hostname } : {}) },
            imageExposed, parsePortString, (ref) => runtime.find(ref).record.id);
          const { files, warnings } = await networking.attach(id, intent, identity);
          return { network: { ...files, config: intent }, warnings, undo: () => networking.detach(id) };
        });
      supervisor.containerEvent(runtime.find(created.id), 'create');
      return created;
    },
    async containerList(o) {
      const t = clock.now();
      // a build's RUN step containers are the builder's, not the user's (docker ps never shows them)
      return runtime.list().filter((v) => !isBuildStep(v) && (o.all || v.observed.status === 'running')).map((v) => ({ ...containerRow(runtime, v, t), ports: networking.portsText(v) }));
    },
    async containerInspect(ref) {
      return networking.inspect(runtime.inspect(ref), runtime.find(ref));
    },
    async containerStart(ref) {
      const view = runtime.find(ref);
      if (view.observed.status === 'running') return; // docker start of a running container succeeds
      const postStart = oneOffHooks.take(view.record.id); // compose run -d
      supervisor.containerEvent(await userStart(view.record.id), 'start');
      await postStart?.(runtime, new AbortController().signal);
    },
    async containerStartAttached(ref, io, signal) {
      const view = runtime.find(ref);
      const id = view.record.id;
      supervisor.userStarted(id, () => runtime.clearStoppedByUser(id));
      await networking.ensure(id);
      // compose run: its post_start hooks run beside the attached process, as in docker compose
      const postStart = oneOffHooks.take(id);
      let hooksFailed: Promise<unknown> | undefined;
      const run = await relayAttached(host.sys, view.record.config.Tty, io, signal, async (stdio) => {
        const child = await withStart(id, () => runtime.startAttached(id, stdio));
        supervisor.containerEvent(view, 'start');
        if (postStart) hooksFailed = oneOffStarted(id, signal).then((running) => (running ? postStart(runtime, signal) : undefined)).then(() => undefined, (err: unknown) => err);
        return child;
      });
      const hookError = await hooksFailed;
      // docker run --rm answers once the container is gone
      if (view.record.hostConfig.AutoRemove) await removeQuietly(id);
      // the hook's failure is the answer; the command's own failure keeps its exit code
      if (hookError instanceof BerthError) throw new Conflict(hookError.message, { exitCode: run.exitCode !== 0 ? run.exitCode : 125 });
      if (hookError !== undefined) throw hookError;
      return run.exitCode;
    },
    async containerStop(ref, o) {
      const view = runtime.find(ref);
      supervisor.userStopped(view.record.id);
      supervisor.containerEvent(await runtime.stop(view.record.id, o.timeout, o.signal, locked(view.record.id)), 'stop');
    },
    async containerKill(ref, o) {
      const view = runtime.find(ref);
      supervisor.userStopped(view.record.id);
      await runtime.kill(view.record.id, o.signal, locked(view.record.id));
      supervisor.containerEvent(view, 'kill', { signal: o.signal });
    },
    async containerRemove(ref, o) {
      const view = runtime.find(ref);
      await removeContainer(view.record.id, o.force, o.volumes === true);
      supervisor.containerEvent(view, 'destroy');
    },
    async containerPause(ref) {
      supervisor.containerEvent(await runtime.pause(ref), 'pause');
    },
    async containerUnpause(ref) {
      supervisor.containerEvent(await runtime.unpause(ref), 'unpause');
    },
    containerLogs: (ref, o, emit, signal) => containerLogs(runtime, clock, ref, o, emit, signal),
    async containerTop(ref) {
      return topOf(runtime, ref);
    },
    async containerStats(ref) {
      return statsOf(runtime, ref);
    },
    async containerUpdate(ref, o) {
      const view = runtime.find(ref);
      const limits = limitChanges(o, availableParallelism());
      if (o.restart === undefined && limits === undefined) throw new InvalidArgument('you must provide one or more flags when using this command');
      const policy = o.restart !== undefined ? restartPolicyFlag(o.restart) : undefined;
      if (policy && view.record.hostConfig.AutoRemove && policy.name !== 'no') throw new InvalidArgument('cannot update the restart policy of a container started with --rm');
      if (limits) runtime.updateLimits(view.record.id, limits);
      if (policy) runtime.updateRestartPolicy(view.record.id, policy);
      supervisor.containerEvent(view, 'update', o.restart !== undefined ? { restart: o.restart } : {});
    },
    containerExec(ref, o, io, signal) {
      const view = runtime.find(ref);
      return relayAttached(host.sys, o.tty, io, signal, (stdio) => runtime.exec(view.record.id, {
        args: o.command, env: o.env, user: o.user, workdir: o.workdir, tty: o.tty, stdin: o.interactive, privileged: o.privileged === true,
      }, stdio)).then((r) => r.exitCode);
    },
    async containerExecDetached(ref, o) {
      await runtime.exec(ref, { args: o.command, env: o.env, user: o.user, workdir: o.workdir, tty: false, stdin: false, privileged: o.privileged === true }, ['ignore', 'ignore', 'ignore']);
    },

    containerCopy: (ref, o) => containerCopy(copyDeps, ref, o),
    containerArchive: (ref, o, io, signal) => containerArchive(copyDeps, ref, o, io, signal),
    containerDiff: (ref) => containerDiff(copyDeps, ref),

    // ── volumes ──
    async volumeCreate(o) {
      return volumes.create(o);
    },
    async volumeList(o) {
      return volumes.list(o);
    },
    async volumeInspect(name) {
      return volumes.inspect(name);
    },
    async volumeRemove(name, o) {
      await volumes.remove(name, o.force, (id) => { try { return runtime.find(id).record.name; } catch { return undefined; } });
    },
    volumePrune: (o) => volumes.prune(o),

    // ── images ──
    async imageList() {
      return (await host.images()).list().map(imageSummary);
    },
    async imageInspect(ref) {
      const { inspectImage } = await import('../images/inspect.js');
      return inspectImage(await host.images(), ref);
    },
    async imageLoad(req) {
      return loadImages(await host.images(), req);
    },
    async imageImport(req) {
      return importImage(await host.images(), req);
    },
    async imageRemove(ref, o) {
      const lines = (await host.images()).remove(ref, { force: o.force, inUse: (id) => runtime.imageInUse(id) });
      return { lines };
    },
  };
  return engine;
}

/**
 * The health check a container runs: the one recorded at create (the image's merged with the
 * user's). A record written before that field existed takes its project service's and image's.
 */
async function healthcheckOf(host: EngineHost, store: ProjectStore, view: ContainerView): Promise<ResolvedHealthcheck | undefined> {
  const recorded = view.record.config.Healthcheck;
  if (recorded) return resolveHealthcheck(undefined, { ...recorded, Test: [...recorded.Test] });
  const labels = view.record.config.Labels;
  const service = store.load(labels[LABEL.project] ?? '')?.project.services[labels[LABEL.service] ?? ''];
  let imageCheck;
  try { imageCheck = (await host.images()).resolve(view.record.image).config.Healthcheck; } catch { /* image removed meanwhile */ }
  return resolveHealthcheck(service?.healthcheck, imageCheck);
}

/** A RUN step container of a build (build/run.ts labels them). */
function isBuildStep(view: ContainerView): boolean {
  return view.record.config.Labels['berth.build'] !== undefined;
}

function packageVersion(packageRoot: string): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

