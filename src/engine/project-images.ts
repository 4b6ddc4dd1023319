// A compose project's images: which image each service runs, what `pull_policy`, `build:` and the
// `--pull`/`--build`/`--no-build` flags decide before `up` creates anything, and the compose
// verbs of images (pull, build, images). Decisions are made first for every service (pure:
// planImages), then carried out: pulls and builds in parallel, each distinct build once.
//
// The image a service runs is its `image:`, else `<project>-<service>` (docker compose v2's name
// for a built image). A service with `build:` is built when its image is missing (compose's
// default), when `pull_policy: build`, or with `--build`; a service without one is pulled when
// its image is missing (`missing`, the default), always (`always`), when the last pull of the
// reference is older than a day, a week or the duration (`daily`, `weekly`, `every_<d>`), or
// never (`never`: a missing image is an error). Unlike docker compose, `missing` does not pull a
// `:latest` image the store already has: `up` of a project whose images are present works
// offline, and `--pull always` (or `pull_policy: always`) asks for the refresh.
import type { EngineEvent, ImageBuildRequest, ProjectImageRow, PullOverride, RegistryAuth } from '../api/types.js';
import type { Project, Service } from '../spec/model.js';
import { BerthError, InvalidArgument, NotFound, Unsupported, errorBody } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import { parseBytes } from '../lib/units.js';
import { cachePathsAbsolute } from '../lib/cache-spec.js';
import { resolveEach, type ImageStore } from '../images/store.js';
import type { ContainerRuntime } from '../runtime/container.js';
import { withDependencies } from '../plan/graph.js';
import { now } from './supervisor.js';
import type { BuildExtras, ImageWork } from './image-verbs.js';
import { LABEL, serviceImage } from './service-container.js';

export { serviceImage };
import { projectViews } from './observe.js';

/** What to do about one service's image before `up`. */
export type ImageAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'pull'; readonly image: string; readonly why: string }
  | { readonly kind: 'build'; readonly image: string; readonly why: string }
  /** `always` on a service with a build: pull, and build when the registry has no such image */
  | { readonly kind: 'pull-or-build'; readonly image: string; readonly why: string }
  | { readonly kind: 'missing'; readonly image: string; readonly why: string };

export interface ImageFacts {
  /** whether the store has the reference */
  present(image: string): boolean;
  /** epoch ms of the last pull of the reference by this engine */
  lastPull(image: string): number | undefined;
  readonly nowMs: number;
}

export interface ImageFlags {
  readonly pull?: PullOverride;
  readonly build: boolean;
  readonly noBuild: boolean;
}

/** pull_policy `every_<duration>`: w, d, h, m and s units, as compose writes them ("every_12h", "every_1w2d"). */
export function everyDurationMs(policy: string): number | undefined {
  const m = /^every_((?:\d+[wdhms])+)$/.exec(policy);
  if (!m) return undefined;
  const unit: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };
  let total = 0;
  for (const part of m[1]!.matchAll(/(\d+)([wdhms])/g)) total += Number(part[1]) * unit[part[2]!]!;
  return total;
}

/** The decision for one service (pure). */
export function imageAction(project: Project, service: Service, flags: ImageFlags, facts: ImageFacts): ImageAction {
  const image = serviceImage(project, service);
  const hasBuild = service.build !== undefined;
  const present = facts.present(image);
  const written = service.pull_policy === 'if_not_present' ? 'missing' : service.pull_policy;
  const policy = flags.pull ?? written;
  if (hasBuild && !flags.noBuild && (flags.build || policy === 'build')) {
    return { kind: 'build', image, why: flags.build ? '--build' : 'pull_policy: build' };
  }
  if (policy === 'build' && !hasBuild) throw new InvalidArgument(`service "${service.name}": pull_policy "build" needs a build section`);
  const whenMissing = (): ImageAction => {
    if (present) return { kind: 'none' };
    if (hasBuild) {
      if (flags.noBuild) return { kind: 'missing', image, why: 'it is not in the store and --no-build was given' };
      return { kind: 'build', image, why: 'image not found' };
    }
    return { kind: 'pull', image, why: 'image not found' };
  };
  switch (policy) {
    case undefined:
    case 'missing':
      return whenMissing();
    case 'always':
    // refresh: pull when the registry's digest changed: a pull of an unchanged image downloads nothing
    case 'refresh':
      return hasBuild ? { kind: 'pull-or-build', image, why: 'pull_policy: always' } : { kind: 'pull', image, why: flags.pull ? '--pull always' : 'pull_policy: always' };
    case 'never':
      return present ? { kind: 'none' } : { kind: 'missing', image, why: `it is not in the store and pull_policy is "never"` };
    case 'build':
      return { kind: 'build', image, why: 'pull_policy: build' };
    case 'daily':
    case 'weekly':
    default: {
      const period = policy === 'daily' ? 86_400_000 : policy === 'weekly' ? 604_800_000 : everyDurationMs(policy);
      if (period === undefined) throw new InvalidArgument(`service "${service.name}": invalid pull_policy "${policy}": expected always, never, missing, build, daily, weekly or every_<duration>`);
      if (!present) return whenMissing();
      const last = facts.lastPull(image);
      if (last !== undefined && facts.nowMs - last < period) return { kind: 'none' };
      return { kind: hasBuild ? 'pull-or-build' : 'pull', image, why: last === undefined ? `pull_policy: ${policy} (never pulled by berth)` : `pull_policy: ${policy} (last pulled ${new Date(last).toISOString()})` };
    }
  }
}

/** A build as the engine runs it: one per distinct `build:` section (services sharing one build once). */
export interface PlannedBuild {
  readonly services: readonly string[];
  readonly request: Omit<ImageBuildRequest, 'auth' | 'noCache' | 'pull'> & { readonly noCache: boolean; readonly pull: boolean };
  readonly extras: BuildExtras;
}

/** The builder's inputs for a service's `build:` (tags: its image, then build.tags). */
export function buildRequestFor(project: Project, service: Service, opts: { readonly buildArgs?: Readonly<Record<string, string>>; readonly noCache?: boolean; readonly pull?: boolean } = {}): PlannedBuild {
  const b = service.build;
  if (!b) throw new InvalidArgument(`service "${service.name}" has no build section`);
  if (/^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(b.context) || b.context.endsWith('.git')) {
    throw new Unsupported(`service "${service.name}": build context "${b.context}" is remote (a URL or git repository); berth builds from local directories`);
  }
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args)) if (v !== null) args[k] = v;
  Object.assign(args, opts.buildArgs ?? {});
  const secrets: Record<string, string> = {};
  for (const s of b.secrets) {
    const name = typeof s === 'string' ? s : (s as { source?: unknown }).source;
    if (typeof name !== 'string') continue;
    const secret = project.secrets[name];
    if (!secret) throw new NotFound(`service "${service.name}": build secret "${name}" is not defined in the top-level secrets`);
    if (secret.file === undefined) throw new Unsupported(`service "${service.name}": build secret "${name}" must be a file (environment and external secrets are not supported in builds)`);
    const id = typeof s === 'string' ? s : ((s as { target?: unknown }).target as string | undefined) ?? name;
    secrets[id] = secret.file;
  }
  const shm = b.shm_size;
  return {
    services: [service.name],
    request: {
      contextDir: b.context,
      ...(b.dockerfile_inline !== undefined ? { dockerfileText: b.dockerfile_inline } : { dockerfile: b.dockerfile ?? 'Dockerfile' }),
      buildArgs: args,
      ...(b.target !== undefined ? { target: b.target } : {}),
      tags: [...new Set([serviceImage(project, service), ...b.tags])],
      labels: { ...b.labels },
      noCache: opts.noCache === true || b.no_cache,
      pull: opts.pull === true || b.pull,
    },
    extras: {
      ...(shm !== undefined ? { shmSize: parseBytes(shm, 'build.shm_size') } : {}),
      ...(b.extra_hosts.length > 0 ? { extraHosts: b.extra_hosts } : {}),
      ...(b.network !== undefined ? { network: b.network } : {}),
      ...((b.entitlements ?? []).length > 0 ? { entitlements: b.entitlements } : {}),
      ...(b.cache_from.length > 0 ? { cacheFrom: b.cache_from.map((c) => cachePathsAbsolute(c, project.working_dir)) } : {}),
      ...(b.cache_to.length > 0 ? { cacheTo: b.cache_to.map((c) => cachePathsAbsolute(c, project.working_dir)) } : {}),
      ...(Object.keys(b.additional_contexts).length > 0 ? { additionalContexts: b.additional_contexts, contextOrigin: `services.${service.name}.build.additional_contexts` } : {}),
      ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
    },
  };
}

/** The services a service's build names as `service:NAME` contexts. */
export function contextServices(service: Service): string[] {
  return Object.values(service.build?.additional_contexts ?? {}).filter((v) => v.startsWith('service:')).map((v) => v.slice('service:'.length));
}

/**
 * `names` and, transitively, the services their builds name as `service:` contexts that have a
 * build section and for which `include` holds (built first, so that the context is current).
 */
export function withContextServices(project: Project, names: readonly string[], include: (name: string) => boolean): string[] {
  const out = new Set(names);
  const queue = [...names];
  while (queue.length > 0) {
    const service = project.services[queue.shift()!];
    if (!service) continue;
    for (const dep of contextServices(service)) {
      if (out.has(dep) || !project.services[dep]?.build || !include(dep)) continue;
      out.add(dep);
      queue.push(dep);
    }
  }
  return [...out].sort();
}

/** Groups the builds of `services`: the same `build:` (tags aside) is one build tagged with every name. */
export function groupBuilds(project: Project, services: readonly string[], opts: Parameters<typeof buildRequestFor>[2] = {}): PlannedBuild[] {
  const byKey = new Map<string, PlannedBuild>();
  for (const name of services) {
    const planned = buildRequestFor(project, project.services[name]!, opts);
    const { tags, ...rest } = planned.request;
    // where the contexts were written names one service; it does not make the build another
    const { contextOrigin: _origin, ...extras } = planned.extras;
    const key = JSON.stringify([rest, extras]);
    const seen = byKey.get(key);
    if (!seen) { byKey.set(key, planned); continue; }
    byKey.set(key, { ...seen, services: [...seen.services, name], request: { ...seen.request, tags: [...new Set([...seen.request.tags, ...tags])] } });
  }
  return [...byKey.values()];
}

/**
 * Runs `builds`, each after the builds of the services it names as `service:` contexts (those in
 * this run), with each `service:NAME` turned into that service's image (`docker-image://…`).
 * A build whose context service failed fails too, naming it. Independent builds run in parallel.
 */
async function runBuilds(d: ProjectImagesDeps, project: Project, builds: readonly PlannedBuild[], auth: RegistryAuth, emit: (e: EngineEvent) => void, signal: AbortSignal, failures: { text: string; err: unknown }[]): Promise<void> {
  const byService = new Map<string, PlannedBuild>();
  for (const b of builds) for (const s of b.services) byService.set(s, b);
  const needs = (b: PlannedBuild): PlannedBuild[] => [...new Set(b.services.flatMap((s) => contextServices(project.services[s]!)).map((s) => byService.get(s)).filter((x): x is PlannedBuild => x !== undefined && x !== b))];
  // a cycle here means the load's checks were skipped (--no-consistency): refuse before building anything
  const colour = new Map<PlannedBuild, 1 | 2>();
  const path: PlannedBuild[] = [];
  const visit = (b: PlannedBuild): void => {
    colour.set(b, 1);
    path.push(b);
    for (const n of needs(b)) {
      if (colour.get(n) === 1) {
        const cycle = [...path.slice(path.indexOf(n)), n].map((x) => x.services[0]);
        throw new InvalidArgument(`build.additional_contexts: the service: contexts form a cycle: ${cycle.join(' -> ')}`);
      }
      if (!colour.has(n)) visit(n);
    }
    path.pop();
    colour.set(b, 2);
  };
  for (const b of builds) if (!colour.has(b)) visit(b);
  const label = (b: PlannedBuild) => `building ${b.request.tags[0]} (service${b.services.length > 1 ? 's' : ''} ${b.services.join(', ')})`;
  const runs = new Map<PlannedBuild, Promise<boolean>>();
  const run = (b: PlannedBuild): Promise<boolean> => {
    let p = runs.get(b);
    if (p) return p;
    p = (async () => {
      for (const n of needs(b)) {
        if (!(await run(n))) {
          failures.push({ text: `${label(b)}: its context service ${n.services[0]} was not built`, err: new InvalidArgument('a context service failed') });
          return false;
        }
      }
      try {
        await d.work.build({ ...b.request, auth }, emit, signal, withServiceImages(project, b.extras));
        return true;
      } catch (err) {
        if (signal.aborted) throw err;
        failures.push({ text: `${label(b)}: ${errorBody(err).message}`, err });
        return false;
      }
    })();
    runs.set(b, p);
    return p;
  };
  await Promise.all(builds.map(run));
}

/** `service:NAME` contexts as the service's image: `docker-image://<its image>`. */
function withServiceImages(project: Project, extras: BuildExtras): BuildExtras {
  const contexts = extras.additionalContexts;
  if (!contexts || !Object.values(contexts).some((v) => v.startsWith('service:'))) return extras;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(contexts)) {
    if (!value.startsWith('service:')) { out[name] = value; continue; }
    const service = project.services[value.slice('service:'.length)];
    if (!service) throw new NotFound(`${extras.contextOrigin ?? 'build.additional_contexts'}.${name}: "${value}": no such service in this project`);
    out[name] = `docker-image://${serviceImage(project, service)}`;
  }
  return { ...extras, additionalContexts: out };
}

export interface ProjectImagesDeps {
  readonly images: () => Promise<ImageStore>;
  readonly work: ImageWork;
  readonly runtime: ContainerRuntime;
  readonly clock: Clock;
}

/**
 * Makes the images of `services` ready as the flags and each service's pull_policy ask: every
 * decision first (a bad policy fails before anything is pulled), then pulls and builds in
 * parallel. Every failure is reported, then one error names them all: `up` stops before it
 * creates anything.
 */
export async function prepareImages(d: ProjectImagesDeps, project: Project, services: readonly string[], flags: ImageFlags, auth: RegistryAuth, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<void> {
  const store = await d.images();
  // each image looked up once: the decisions below change nothing in the store
  const resolve = resolveEach(store);
  const facts: ImageFacts = {
    present: (image) => { try { resolve(image); return true; } catch { return false; } },
    lastPull: (image) => d.work.lastPull(image),
    nowMs: d.clock.now(),
  };
  const pulls = new Map<string, { services: string[]; orBuild: boolean }>();
  const toBuild: string[] = [];
  const missing: string[] = [];
  for (const name of [...services].sort()) {
    const service = project.services[name];
    if (!service) continue;
    if ((service.image === undefined || service.image === '') && !service.build) {
      throw new InvalidArgument(`service "${name}" has neither an image nor a build section`);
    }
    const action = imageAction(project, service, flags, facts);
    if (action.kind === 'none') continue;
    if (action.kind === 'missing') { missing.push(`${action.image} (service ${name}): ${action.why}`); continue; }
    if (action.kind === 'build') { toBuild.push(name); continue; }
    const entry = pulls.get(action.image) ?? { services: [], orBuild: false };
    entry.services.push(name);
    if (action.kind === 'pull-or-build') entry.orBuild = true;
    pulls.set(action.image, entry);
  }
  if (missing.length > 0) throw new NotFound(`no such image${missing.length > 1 ? 's' : ''}: ${missing.join('; ')}`);
  const failures: { text: string; err: unknown }[] = [];
  const warn = (text: string): void => emit({ kind: 'warning', text, time: now(d.clock) });
  const pulled = [...pulls].map(async ([image, entry]) => {
    try {
      await d.work.pull(image, auth, emit, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      if (entry.orBuild) {
        warn(`pulling ${image} failed (${errorBody(err).message}): building it instead`);
        toBuild.push(...entry.services);
        return;
      }
      failures.push({ text: `pulling ${image} (service${entry.services.length > 1 ? 's' : ''} ${entry.services.join(', ')}): ${errorBody(err).message}`, err });
    }
  });
  await Promise.all(pulled);
  if (toBuild.length > 0) {
    // a service: context whose image is missing is built first
    const names = withContextServices(project, [...new Set(toBuild)], (dep) => !facts.present(serviceImage(project, project.services[dep]!)));
    await runBuilds(d, project, groupBuilds(project, names), auth, emit, signal, failures);
  }
  throwFailures(failures);
}

/**
 * One error naming every failure, with the first one's code. It exits 1, as docker compose does
 * when a pull or a build fails (compose's generic failure; not 125, berth's own-failure code,
 * and not a failed RUN step's code).
 */
function throwFailures(failures: readonly { text: string; err: unknown }[]): void {
  if (failures.length === 0) return;
  const first = errorBody(failures[0]!.err);
  throw new BerthError(first.code, failures.map((f) => f.text).join('\n'), { ...(first.details as object | undefined), exitCode: 1 });
}

/**
 * Builds one service's image (and every other service sharing its build section's name): the
 * engine-side "rebuild this service" that `develop.watch`'s `rebuild` action calls, then
 * recreates the service's containers with `up`.
 */
export async function buildServiceImage(d: ProjectImagesDeps, project: Project, serviceName: string, opts: { readonly noCache?: boolean; readonly pull?: boolean; readonly buildArgs?: Readonly<Record<string, string>>; readonly auth?: RegistryAuth }, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<{ readonly id: string; readonly image: string }> {
  const service = project.services[serviceName];
  if (!service) throw new NotFound(`no such service: ${serviceName}`);
  const planned = buildRequestFor(project, service, opts);
  const result = await d.work.build({ ...planned.request, auth: opts.auth ?? {} }, emit, signal, planned.extras);
  return { id: result.id, image: serviceImage(project, service) };
}

/** `compose images`: one row per container of the services (all when none is named). */
export async function projectImageRows(d: ProjectImagesDeps, projectName: string, services: readonly string[]): Promise<ProjectImageRow[]> {
  const store = await d.images();
  const rows: ProjectImageRow[] = [];
  for (const view of projectViews(d.runtime, projectName)) {
    const service = view.record.config.Labels[LABEL.service] ?? '';
    if (services.length > 0 && !services.includes(service)) continue;
    let image;
    try { image = store.resolve(view.record.image); } catch { image = undefined; }
    const ref = view.record.imageRef;
    const at = ref.lastIndexOf(':');
    const slash = ref.lastIndexOf('/');
    const [repository, tag] = at > slash ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest'];
    rows.push({ container: view.record.name, service, repository, tag, id: view.record.image, size: image?.size ?? 0 });
  }
  return rows.sort((a, b) => (a.container < b.container ? -1 : a.container > b.container ? 1 : 0));
}

/** The services `compose pull`/`build` act on: those named (with dependencies if asked), else all. */
export function scopeOf(project: Project, services: readonly string[], withDeps: boolean): string[] {
  for (const s of services) if (!project.services[s]) throw new NotFound(`no such service: ${s}`);
  if (services.length === 0) return Object.keys(project.services).sort();
  return withDeps ? [...withDependencies(project, services)].sort() : [...services].sort();
}

export type ProjectImageVerbs = Pick<import('../api/engine-api.js').EngineApi, 'projectPull' | 'projectBuild' | 'projectPrepare' | 'projectImages'>;

export function projectImageVerbs(d: ProjectImagesDeps): ProjectImageVerbs {
  return {
    async projectPull(_projectName, req, emit, signal) {
      const { project } = req;
      const store = await d.images();
      const warn = (text: string): void => emit({ kind: 'warning', text, time: now(d.clock) });
      // one pull per distinct image; a service that can be built only warns when its pull fails
      const images = new Map<string, { services: string[]; canBuild: boolean }>();
      for (const name of scopeOf(project, req.services, req.includeDeps)) {
        const service = project.services[name]!;
        if (service.image === undefined || service.image === '') continue; // built, never pulled
        if (req.policy === 'missing') { try { store.resolve(service.image); continue; } catch { /* pull it */ } }
        const entry = images.get(service.image) ?? { services: [], canBuild: true };
        entry.services.push(name);
        entry.canBuild &&= service.build !== undefined;
        images.set(service.image, entry);
      }
      const failures: { text: string; err: unknown }[] = [];
      await Promise.all([...images].map(async ([image, entry]) => {
        try {
          await d.work.pull(image, req.auth, emit, signal);
        } catch (err) {
          if (signal.aborted) throw err;
          const text = `pulling ${image} (service${entry.services.length > 1 ? 's' : ''} ${entry.services.join(', ')}): ${errorBody(err).message}`;
          if (entry.canBuild) warn(`${text}; it has a build section: \`berth compose build\` makes it`);
          else if (req.ignorePullFailures) warn(text);
          else failures.push({ text, err });
        }
      }));
      throwFailures(failures);
      return 0;
    },

    async projectBuild(_projectName, req, emit, signal) {
      const { project } = req;
      const scoped = scopeOf(project, req.services, req.withDependencies).filter((n) => project.services[n]!.build !== undefined);
      if (req.services.length > 0 && scoped.length === 0) throw new InvalidArgument(`no service to build: ${req.services.join(', ')} ha${req.services.length > 1 ? 've' : 's'} no build section`);
      // the services named as service: contexts are built first, so that the context is current
      const names = withContextServices(project, scoped, () => true);
      const builds = groupBuilds(project, names, { noCache: req.noCache, pull: req.pull, buildArgs: req.buildArgs });
      const failures: { text: string; err: unknown }[] = [];
      await runBuilds(d, project, builds, req.auth, emit, signal, failures);
      throwFailures(failures);
      return 0;
    },

    async projectPrepare(_projectName, req, emit, signal) {
      for (const s of req.services) if (!req.project.services[s]) throw new NotFound(`no such service: ${s}`);
      await prepareImages(d, req.project, req.services, { ...(req.pull !== undefined ? { pull: req.pull } : {}), build: req.build, noBuild: req.noBuild }, req.auth, emit, signal);
      return 0;
    },

    projectImages: (projectName, opts) => projectImageRows(d, projectName, opts.services),
  };
}
