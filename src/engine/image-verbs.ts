// The image verbs that reach beyond the store's own files: pull and push (registries), build
// (the builder, whose RUN steps are containers of this engine's runtime), tag, save, history,
// prune, commit, login, and `update` of a container's limits. Each maps the request onto the
// facility (images/, images/registry/, build/) and turns the facility's progress into engine
// events. The facilities are imported when a verb first needs them: `berth ps` never loads the
// registry client or the builder into the engine.
//
// Credentials come with each request (the client read its own config.json) and are never kept.
// The insecure-registry list is read at each request (BERTH_INSECURE_REGISTRIES in the engine's
// environment, `insecure-registries` in BERTH_CONFIG's daemon.json), so a change needs no restart.
import { Writable } from 'node:stream';
import type { EngineApi, AttachIo } from '../api/engine-api.js';
import type {
  ContainerCommitOptions, EngineEvent, ImageBuildRequest, ImageBuildResult, ImagePruneOptions, ImagePullRequest, ImagePullResult,
  ImagePushRequest, ContainerUpdateOptions, RegistryAuth,
} from '../api/types.js';
import { Cancelled, InvalidArgument } from '../lib/errors.js';
import { parseBytes } from '../lib/units.js';
import type { Clock } from '../lib/clock.js';
import type { ImageStore } from '../images/store.js';
import type { ImageEvent } from '../images/events.js';
import type { RegistryAccess } from '../images/registry/pull.js';
import type { ContainerRuntime } from '../runtime/container.js';
import type { CgroupLimits } from '../runtime/cgroups/driver.js';
import { cpusToQuota } from '../runtime/cgroups/convert.js';
import type { Sys } from '../sys/sys.js';
import { now } from './supervisor.js';
import { PullRecords } from './pull-records.js';
import { DEFAULT_BRIDGE, type EngineNetworking } from './networking.js';
import type { BuildOptions, StepNetwork } from '../build/builder.js';

export interface ImageVerbsDeps {
  readonly runtime: ContainerRuntime;
  readonly sys: Sys;
  readonly clock: Clock;
  readonly images: () => Promise<ImageStore>;
  /** the engine's environment (BERTH_INSECURE_REGISTRIES) */
  readonly env: NodeJS.ProcessEnv;
  /** daemon.json: `insecure-registries` */
  readonly configFile: string;
  /** BERTH_ROOT: where the last pull of each reference is recorded (pull_policy daily/weekly) */
  readonly root: string;
  /** RUN steps' networks (absent: steps get lo only) */
  readonly networking?: EngineNetworking;
  /** a container event the engine publishes (update, commit's pause) */
  readonly containerEvent: (containerId: string, action: 'pause' | 'unpause' | 'update', attributes?: Readonly<Record<string, string>>) => void;
}

export type ImageVerbs = Pick<EngineApi,
  'imagePull' | 'imagePush' | 'imageBuild' | 'imageTag' | 'imageSave' | 'imageHistory' | 'imagePrune' | 'containerCommit' | 'registryLogin'>;

/** What the compose verbs (project-images.ts) and watch's rebuild share with the image verbs. */
export interface ImageWork {
  /** pulls `reference` (recording the time, for pull_policy daily/weekly/every_) */
  pull(reference: string, auth: RegistryAuth, emit: (e: EngineEvent) => void, signal: AbortSignal, platform?: string): Promise<ImagePullResult>;
  build(req: ImageBuildRequest, emit: (e: EngineEvent) => void, signal: AbortSignal, extra?: BuildExtras): Promise<ImageBuildResult>;
  /** when `reference` was last pulled by this engine (epoch ms), if ever */
  lastPull(reference: string): number | undefined;
}

/** What compose's `build:` adds to `docker build`'s flags (build/builder.ts BuildOptions). */
export interface BuildExtras {
  readonly shmSize?: number;
  readonly extraHosts?: readonly string[];
  /** RUN steps' network when a step does not say: default, none, host or a network's name */
  readonly network?: string;
  /** compose build.entitlements ("network.host") */
  readonly entitlements?: readonly string[];
  /** compose build.cache_from / cache_to (builder.ts: images as cache sources; other kinds warn) */
  readonly cacheFrom?: readonly string[];
  readonly cacheTo?: readonly string[];
  /** named contexts: an absolute directory, docker-image://REF (compose's service:NAME resolved by project-images.ts) */
  readonly additionalContexts?: Readonly<Record<string, string>>;
  /** where the contexts were written, for errors ("services.app.build.additional_contexts"); absent: the --build-context flag */
  readonly contextOrigin?: string;
  /** secret id → host file (RUN --mount=type=secret,id=…) */
  readonly secrets?: Readonly<Record<string, string>>;
}

/** The builder's options for compose's extras: the contexts' origin as the builder names it in errors. */
function buildOptionsOf(extra: BuildExtras): Partial<BuildOptions> {
  const { contextOrigin, ...rest } = extra;
  return { ...rest, ...(contextOrigin !== undefined ? { contextOrigin: (name: string) => `${contextOrigin}.${name}` } : {}) };
}

/** An image event of the facility as an engine event (the facility's events carry no time). */
export function imageEventSink(emit: (e: EngineEvent) => void, clock: Clock): (e: ImageEvent) => void {
  return (e) => emit({ ...e, time: now(clock) } as EngineEvent);
}

export function imageWork(d: ImageVerbsDeps): ImageWork & { access(auth: RegistryAuth, signal: AbortSignal): Promise<RegistryAccess> } {
  const records = new PullRecords(d.root);
  const access = async (auth: RegistryAuth, signal: AbortSignal): Promise<RegistryAccess> => {
    const { registryHosts } = await import('../images/registry/hosts.js');
    return { hosts: registryHosts(d.env, d.configFile), credentials: (domain) => auth[domain], signal };
  };
  const pull = async (reference: string, auth: RegistryAuth, emit: (e: EngineEvent) => void, signal: AbortSignal, platform?: string): Promise<ImagePullResult> => {
    const [{ pullImage }, { parsePlatform }] = await Promise.all([import('../images/registry/pull.js'), import('../images/registry/manifest.js')]);
    const store = await d.images();
    const registry = await access(auth, signal);
    const result = await cancellable(signal, () => pullImage(store, reference, {
      ...registry,
      ...(platform !== undefined ? { platform: parsePlatform(platform) } : {}),
      onEvent: imageEventSink(emit, d.clock),
    }));
    records.notePull(reference, d.clock.now());
    return result;
  };
  const build = async (req: ImageBuildRequest, emit: (e: EngineEvent) => void, signal: AbortSignal, extra: BuildExtras = {}): Promise<ImageBuildResult> => {
    const [{ buildImage }, { cacheMountMax }] = await Promise.all([import('../build/builder.js'), import('../build/mounts.js')]);
    const store = await d.images();
    // a base image is pulled once per build, however many stages name it
    const pulls = new Map<string, Promise<unknown>>();
    const pullBase = async (ref: string): Promise<void> => {
      let p = pulls.get(ref);
      if (!p) { p = pull(ref, req.auth, emit, signal); pulls.set(ref, p); }
      await p;
    };
    const result = await cancellable(signal, () => buildImage({
      store,
      runtime: d.runtime,
      sys: d.sys,
      contextDir: req.contextDir,
      ...(req.dockerfile !== undefined ? { dockerfile: req.dockerfile } : {}),
      ...(req.dockerfileText !== undefined ? { dockerfileText: req.dockerfileText } : {}),
      buildArgs: req.buildArgs,
      ...(req.target !== undefined ? { target: req.target } : {}),
      tags: req.tags,
      labels: req.labels,
      noCache: req.noCache,
      pullAlways: req.pull,
      onEvent: imageEventSink(emit, d.clock),
      signal,
      pullBase,
      ...(d.networking ? { stepNetwork: stepNetwork(d.networking) } : {}),
      cacheMountMax: cacheMountMax(d.env),
      ...buildOptionsOf(extra),
    }));
    return { id: result.id, tags: result.tags, ran: result.ran, cached: result.cached, warnings: result.warnings };
  };
  return { access, pull, build, lastPull: (reference) => records.lastPull(reference) };
}

/**
 * RUN steps' networks through the engine's networking, as `docker build` gives them: "default"
 * is the default bridge (outbound NAT, the host through its gateway, isolated from other
 * networks), "host" the host's namespace, "none" lo only, any other name an existing network
 * (the classic builder's `--network NAME`; BuildKit has no such thing). No names are
 * registered for a step. The engine's start-up repair removes the sandbox of a step container
 * an interrupted build left (it removes the container first).
 */
export function stepNetwork(networking: EngineNetworking): StepNetwork {
  return {
    async attach(containerId, network, extraHosts) {
      const base = { dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [...extraHosts], ports: [], expose: [] };
      const intent = network === 'none' || network === 'host'
        ? { ...base, mode: network, endpoints: [] }
        : { ...base, mode: 'bridge', endpoints: [{ network: network === 'default' ? DEFAULT_BRIDGE : network, names: [], aliases: [] }] };
      if (intent.mode === 'bridge' && network !== 'default') networking.facility.network(network); // NotFound names the network
      const { files } = await networking.attach(containerId, intent, { hostname: 'buildkitsandbox' });
      return { ...files, config: intent };
    },
    detach: (containerId) => networking.detach(containerId),
  };
}

/** Runs `work`; an abort of `signal` while it runs is a Cancelled error, whatever the facility threw. */
async function cancellable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  if (signal.aborted) throw new Cancelled('cancelled: the client went away');
  try {
    return await work();
  } catch (err) {
    if (signal.aborted) throw new Cancelled('cancelled: the client went away');
    throw err;
  }
}

export function imageVerbs(d: ImageVerbsDeps, work: ReturnType<typeof imageWork>): ImageVerbs {
  return {
    imagePull: (req: ImagePullRequest, emit, signal) => work.pull(req.reference, req.auth, emit, signal, req.platform),

    async imagePush(ref, req: ImagePushRequest, emit, signal) {
      const { pushImage } = await import('../images/registry/push.js');
      const store = await d.images();
      const registry = await work.access(req.auth, signal);
      const result = await cancellable(signal, () => pushImage(store, ref, { ...registry, sys: d.sys, onEvent: imageEventSink(emit, d.clock) }));
      return { digest: result.digest };
    },

    // docker build's --network, --add-host, --allow and --shm-size are compose build's extras
    imageBuild: (req, emit, signal) => work.build(req, emit, signal, {
      ...(req.network !== undefined ? { network: req.network } : {}),
      ...(req.extraHosts && req.extraHosts.length > 0 ? { extraHosts: req.extraHosts } : {}),
      ...(req.entitlements && req.entitlements.length > 0 ? { entitlements: req.entitlements } : {}),
      ...(req.shmSize !== undefined ? { shmSize: req.shmSize } : {}),
      ...(req.cacheFrom && req.cacheFrom.length > 0 ? { cacheFrom: req.cacheFrom } : {}),
      ...(req.cacheTo && req.cacheTo.length > 0 ? { cacheTo: req.cacheTo } : {}),
      ...(req.buildContexts && Object.keys(req.buildContexts).length > 0 ? { additionalContexts: req.buildContexts } : {}),
    }),

    async imageTag(ref, req) {
      (await d.images()).tag(ref, req.target);
    },

    async imageSave(refs, io: AttachIo, signal) {
      const { saveImagesTo } = await import('../images/save.js');
      const store = await d.images();
      // the client's back-pressure reaches the tar writer: a slow reader slows the save, nothing piles up here
      const out = new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (signal.aborted) { done(new Cancelled('cancelled: the client went away')); return; }
          Promise.resolve(io.write('stdout', chunk)).then(() => done(), done);
        },
      });
      await cancellable(signal, () => saveImagesTo(store, refs, out, { sys: d.sys }));
      return 0;
    },

    async imageHistory(ref) {
      const { imageHistory } = await import('../images/inspect.js');
      return imageHistory(await d.images(), ref).map((r) => ({ id: r.id, created: r.created, createdBy: r.createdBy, size: r.size, comment: r.comment }));
    },

    async imagePrune(o: ImagePruneOptions) {
      const [{ pruneImages }, { buildCacheLayers, clearCacheMounts }] = await Promise.all([import('../images/prune.js'), import('../build/builder.js')]);
      const store = await d.images();
      const result = pruneImages(store, { all: o.all, inUse: (id) => d.runtime.imageInUse(id), keepLayers: buildCacheLayers(store), now: () => new Date(d.clock.now()) });
      // --all also empties the builds' RUN --mount=type=cache directories (docs/images.md)
      const mounts = o.all ? clearCacheMounts(store) : { removed: 0, freed: 0 };
      const lines = mounts.removed > 0 ? [...result.lines, `deleted ${mounts.removed} build cache mount${mounts.removed === 1 ? '' : 's'}`] : result.lines;
      return { lines, spaceReclaimed: result.spaceReclaimed + mounts.freed };
    },

    async containerCommit(ref, o: ContainerCommitOptions) {
      const [{ commitContainer }, { applyChanges }, { parseDockerfile }] = await Promise.all([
        import('../images/commit.js'), import('../build/metadata.js'), import('../build/dockerfile.js'),
      ]);
      const store = await d.images();
      const view = d.runtime.find(ref);
      const id = view.record.id;
      if (o.reference !== undefined) (await import('../images/reference.js')).parseReference(o.reference);
      let baseImageId: string | null = view.record.image;
      let base;
      try { base = store.resolve(view.record.image); } catch { baseImageId = null; }
      const config = o.changes.length > 0 ? applyChanges({ ...(base?.config ?? {}) }, o.changes, parseDockerfile) : undefined;
      // docker commit freezes a running container while its layer is read, so the layer is one moment of it
      const freeze = o.pause && view.observed.status === 'running';
      if (freeze) { await d.runtime.pause(id); d.containerEvent(id, 'pause'); }
      try {
        const imageId = await commitContainer(store, {
          sys: d.sys,
          baseImageId,
          upperDir: d.runtime.upperDir(id),
          ...(config ? { config } : {}),
          ...(o.author !== undefined ? { author: o.author } : {}),
          ...(o.message !== undefined ? { comment: o.message } : {}),
          tags: o.reference !== undefined ? [o.reference] : [],
          now: () => new Date(d.clock.now()),
          exclude: MOUNT_STUBS,
        });
        return { id: imageId };
      } finally {
        if (freeze) { await d.runtime.unpause(id); d.containerEvent(id, 'unpause'); }
      }
    },

    async registryLogin(req) {
      const { verifyLogin } = await import('../images/registry/login.js');
      const registry = await work.access({}, new AbortController().signal);
      const domain = await verifyLogin(req.server, { username: req.username, password: req.password }, { hosts: registry.hosts });
      return { domain };
    },
  };
}

/**
 * Files the runtime creates in a container's upper dir only to mount over them (an image
 * without /etc/hosts gets an empty one to bind the engine's onto): not the container's changes.
 */
const MOUNT_STUBS = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf'];

/** `update`'s limit flags as cgroup limits (explicit undefined clears a limit: `--cpus 0`). */
export function limitChanges(o: ContainerUpdateOptions, availableCpus: number): CgroupLimits | undefined {
  const changes: { -readonly [K in keyof CgroupLimits]: CgroupLimits[K] } = {};
  let any = false;
  const integer = (value: string, flag: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgument(`invalid argument "${value}" for "${flag}" flag: expected an integer`);
    return Number(value);
  };
  if (o.memory !== undefined) { any = true; changes.memory = parseBytes(o.memory, 'memory limit'); }
  if (o.memorySwap !== undefined) { any = true; changes.memorySwap = o.memorySwap.trim() === '-1' ? -1 : parseBytes(o.memorySwap, 'memory-swap limit'); }
  if (o.cpuShares !== undefined) { any = true; changes.cpuShares = integer(o.cpuShares, '--cpu-shares'); }
  if (o.cpus !== undefined) {
    if (o.cpuQuota !== undefined || o.cpuPeriod !== undefined) throw new InvalidArgument('conflicting options: --cpus and --cpu-period/--cpu-quota');
    any = true;
    const q = cpusToQuota(o.cpus, undefined, availableCpus);
    changes.cpuPeriod = q?.period;
    changes.cpuQuota = q?.quota;
  }
  if (o.cpuPeriod !== undefined) { any = true; changes.cpuPeriod = integer(o.cpuPeriod, '--cpu-period'); }
  if (o.cpuQuota !== undefined) { any = true; changes.cpuQuota = integer(o.cpuQuota, '--cpu-quota'); }
  if (o.cpusetCpus !== undefined) { any = true; changes.cpusetCpus = o.cpusetCpus; }
  if (o.cpusetMems !== undefined) { any = true; changes.cpusetMems = o.cpusetMems; }
  if (o.pidsLimit !== undefined) { any = true; changes.pidsLimit = integer(o.pidsLimit, '--pids-limit'); }
  return any ? changes : undefined;
}
