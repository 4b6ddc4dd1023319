// The Dockerfile builder: stages as a DAG of promises (independent stages build in parallel,
// stages the target does not need are never started), each instruction a step on the stage's
// state (its image spec and layer chain), each step keyed for the build cache.
//
// The cache key of a step is sha256(previous key, the instruction after substitution, the build
// args in scope, and what the step reads: the content digest of copied context files, or the
// key of the stage, named context (named-contexts.ts: a directory's key is its content digest)
// or image COPY --from reads). Every step's result (spec + layer chain) is cached, so a rebuild
// with nothing changed reads one small file per step and makes the same image id; a change in
// one copied file misses from the COPY that reads it, and every step after it re-runs. Results
// also travel: cache_to type=local writes them to a directory, cache_from type=local reads them
// back on another root (cache-dir.ts).
import { readFileSync, mkdirSync, writeFileSync, existsSync, lstatSync, readdirSync, rmSync, openSync, readSync, closeSync, chmodSync, chownSync, realpathSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join, posix, resolve as resolvePath, basename } from 'node:path';
import { InvalidArgument, NotFound, Unsupported, BerthError } from '../lib/errors.js';
import { readJson, writeJsonAtomic } from '../lib/atomic.js';
import type { Sys } from '../sys/sys.js';
import type { ContainerNetworkFiles, ContainerRuntime, RecordedMount, RecordedNetwork } from '../runtime/container.js';
import type { ImageStore } from '../images/store.js';
import { encodeConfig, layerFromDir, specOf, type ImageSpec, type HistoryEntry } from '../images/commit.js';
import { noEvents, type EventSink } from '../images/events.js';
import { hostPlatform, formatPlatform } from '../images/registry/manifest.js';
import { parseDockerfile, neededStages, stageByRef, MAX_DOCKERFILE_BYTES, type Dockerfile, type Instruction, type Stage } from './dockerfile.js';
import { expandWord, parsePairs, splitWords, type Scope } from './words.js';
import { openContext, type BuildContext, type ContextEntry } from './context.js';
import { patternRegExp } from '../lib/dockerignore.js';
import { mountStep, resolveInRoot } from './rootfs.js';
import { copyIntoRoot, copyEntriesIntoRoot, type CopyOwner } from './copy.js';
import { runStep } from './run.js';
import { parseMount, CacheMounts, DEFAULT_CACHE_MOUNT_MAX, MAX_MOUNTS, type RunMount } from './mounts.js';
import { applyMetadata, DEFAULT_SHELL } from './metadata.js';
import { contextKey, parseNamedContexts, type NamedContext } from './named-contexts.js';
import type { CacheDirEntry } from './cache-dir.js';

export interface BuildOptions {
  readonly store: ImageStore;
  readonly runtime: ContainerRuntime;
  readonly sys: Sys;
  readonly contextDir: string;
  /** the Dockerfile's path (default <context>/Dockerfile); relative paths are against the context */
  readonly dockerfile?: string;
  /** dockerfile_inline: the text itself (then `dockerfile` only names it in messages) */
  readonly dockerfileText?: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly tags?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly noCache?: boolean;
  readonly onEvent?: EventSink;
  readonly signal?: AbortSignal;
  /** makes a base image that is not in the store available (the engine pulls); default: NotFound */
  readonly pullBase?: (ref: string) => Promise<void>;
  /** --pull: call pullBase for every image the build names, even one the store has */
  readonly pullAlways?: boolean;
  /** RUN steps' /dev/shm size, bytes (compose build.shm_size) */
  readonly shmSize?: number;
  /** "host:ip" lines added to RUN steps' /etc/hosts (compose build.extra_hosts) */
  readonly extraHosts?: readonly string[];
  /**
   * RUN steps' network when a step does not say (`docker build --network`, compose
   * build.network): "default" (the default bridge, outbound NAT), "none" (lo only), "host", or
   * the name of an existing network.
   */
  readonly network?: string;
  /** makes and removes RUN step containers' network sandboxes (the engine's networking); absent: lo only */
  readonly stepNetwork?: StepNetwork;
  /** granted entitlements (compose build.entitlements, --allow): "network.host" lets RUN --network=host run */
  readonly entitlements?: readonly string[];
  /**
   * cache_from / --cache-from: image references (or `type=registry,ref=REF`) whose layers a step
   * reuses when the image was built by berth and records the same step key, and
   * `type=local,src=DIR` (an absolute path: cache-dir.ts); other kinds get one warning each
   */
  readonly cacheFrom?: readonly string[];
  /** cache_to / --cache-to: `type=local,dest=DIR` (absolute) is written after the build; `type=inline` is what berth always does; other kinds warn */
  readonly cacheTo?: readonly string[];
  /** the cache mounts' bound in bytes (default DEFAULT_CACHE_MOUNT_MAX) */
  readonly cacheMountMax?: number;
  /**
   * named contexts for FROM, COPY --from and RUN --mount from= (`--build-context`, compose
   * build.additional_contexts): an absolute directory or docker-image://REF (named-contexts.ts)
   */
  readonly additionalContexts?: Readonly<Record<string, string>>;
  /** where a named context was given, for errors: "--build-context src=…" or "services.app.build.additional_contexts.src" */
  readonly contextOrigin?: (name: string) => string;
  /** secret id → host file, for RUN --mount=type=secret (compose build.secrets) */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly now?: () => Date;
}

/** What the builder needs of the engine's networking for a RUN step. */
export interface StepNetwork {
  /**
   * Makes the sandbox of step container `containerId` before it exists: `network` is "default",
   * "host", "none" or a network's name; `extraHosts` as compose writes them (host-gateway allowed).
   */
  attach(containerId: string, network: string, extraHosts: readonly string[]): Promise<ContainerNetworkFiles & { readonly config?: RecordedNetwork }>;
  /** removes it again, after the container was removed */
  detach(containerId: string): Promise<void>;
}

export interface BuildResult {
  readonly id: string;
  readonly tags: readonly string[];
  /** steps run and steps answered from the cache */
  readonly ran: number;
  readonly cached: number;
  readonly warnings: readonly string[];
}

/** A stage's state between steps. */
interface State {
  spec: ImageSpec;
  chain: string[];
  key: string;
  /** build args in scope (ARG), name → value */
  args: Map<string, string>;
  /** the image this stage started from (recorded on step containers) */
  baseId: string;
  /** CMD was set in this stage (ENTRYPOINT then keeps it) */
  cmdSet: boolean;
}

interface CacheEntry { spec: ImageSpec; chain: string[] }

/** Build args every build has without an ARG (docker's predefined proxy args). */
const PREDEFINED = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

function sha(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

export class Builder {
  private readonly store: ImageStore;
  private readonly emit: EventSink;
  private readonly now: () => Date;
  private readonly cacheDir: string;
  private readonly releases: (() => void)[] = [];
  private readonly warnings: string[] = [];
  private readonly consumed = new Set<string>();
  private ran = 0;
  private cached = 0;
  private df!: Dockerfile;
  private context!: BuildContext;
  private globalScope = new Map<string, string>();
  private readonly results = new Map<number, Promise<State>>();
  private networkNoted = false;
  private readonly cacheMounts: CacheMounts;
  /** step key → a layer a cache_from image made for that step (with the chain under it) */
  private readonly fromImages = new Map<string, { chain: string[]; diffId: string; entry: HistoryEntry }>();
  private usedCacheMounts = false;
  /** named contexts by lookup key (contextKey), and their states once loaded */
  private readonly named: Map<string, NamedContext>;
  private readonly namedStates = new Map<string, Promise<State>>();
  /** every step result this build made or found, by key (what cache_to type=local exports) */
  private readonly exported = new Map<string, CacheEntry>();
  /** cache_from type=local sources (their checked indexes), and cache_to type=local destinations */
  private readonly cacheDirs: { src: string; entries: Map<string, CacheDirEntry> }[] = [];
  private readonly cacheDests: string[] = [];

  constructor(private readonly opts: BuildOptions) {
    this.store = opts.store;
    this.emit = opts.onEvent ?? noEvents;
    this.now = opts.now ?? (() => new Date());
    this.cacheDir = join(opts.store.stateDir(), 'buildcache');
    this.cacheMounts = new CacheMounts(cacheMountsDir(opts.store));
    this.named = parseNamedContexts(opts.additionalContexts ?? {}, opts.contextOrigin ?? ((name) => `--build-context ${name}`));
  }

  async build(): Promise<BuildResult> {
    const { text, file, path } = this.readDockerfile();
    this.df = parseDockerfile(text, file);
    this.context = openContext(this.opts.contextDir, path);
    mkdirSync(this.cacheDir, { recursive: true, mode: 0o700 });
    this.store.ensureDirs();
    const target = this.opts.target !== undefined
      ? this.df.stages.find((s) => s.name === this.opts.target!.toLowerCase())
      : this.df.stages[this.df.stages.length - 1];
    if (!target) throw new NotFound(`target stage "${this.opts.target}" could not be found in ${file}`);
    this.initGlobalArgs();
    // a directory context that is not one fails now, used or not (buildx checks them all first)
    for (const named of this.named.values()) if (named.kind === 'dir') namedDir(named);
    await this.loadCacheSources();
    const needed = neededStages(this.df, target, (s) => this.replacing(s) !== undefined);
    for (const s of this.df.stages) {
      if (!needed.includes(s)) this.emit({ kind: 'step', resourceId: `build:${this.stageLabel(s)}`, name: `[${this.stageLabel(s)}] skipped: not needed for the target`, status: 'skipped' });
    }
    try {
      // start every needed stage now: those that wait for nothing run in parallel
      for (const s of needed) void this.stageResult(s).catch(() => undefined);
      let state = await this.stageResult(target);
      const labels = Object.entries(this.opts.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
      if (labels.length > 0) {
        state = { ...state, spec: { ...state.spec, config: { ...state.spec.config, Labels: { ...(state.spec.config.Labels ?? {}), ...Object.fromEntries(labels) } } } };
      }
      const unused = Object.keys(this.opts.buildArgs ?? {}).filter((a) => !this.consumed.has(a) && !PREDEFINED.includes(a));
      if (unused.length > 0) this.warn(`one or more build args were not consumed: [${unused.join(' ')}]`);
      const created = state.spec.history.length > 0 ? state.spec.history[state.spec.history.length - 1].created : state.spec.created;
      const spec: ImageSpec = { ...state.spec, created };
      const { id } = this.store.commitConfig(encodeConfig(spec), this.opts.tags ?? []);
      await this.exportCaches();
      return { id, tags: this.opts.tags ?? [], ran: this.ran, cached: this.cached, warnings: this.warnings };
    } finally {
      for (const r of this.releases) r();
      if (this.usedCacheMounts) {
        const { removed } = this.cacheMounts.bound(this.opts.cacheMountMax ?? DEFAULT_CACHE_MOUNT_MAX);
        if (removed > 0) this.emit({ kind: 'message', resourceId: 'build', text: `removed ${removed} least recently used cache mount${removed === 1 ? '' : 's'} (over the bound)` });
      }
    }
  }

  private readDockerfile(): { text: string; file: string; path: string | undefined } {
    if (this.opts.dockerfileText !== undefined) {
      return { text: this.opts.dockerfileText, file: this.opts.dockerfile ?? 'dockerfile_inline', path: undefined };
    }
    const path = resolvePath(this.opts.contextDir, this.opts.dockerfile ?? 'Dockerfile');
    let st;
    try { st = lstatSync(path); } catch { throw new NotFound(`Dockerfile "${path}" does not exist`); }
    if (st.size > MAX_DOCKERFILE_BYTES) throw new InvalidArgument(`${path}: larger than ${MAX_DOCKERFILE_BYTES} bytes`);
    return { text: readFileSync(path, 'utf8'), file: this.opts.dockerfile ?? 'Dockerfile', path };
  }

  private warn(text: string): void {
    this.warnings.push(text);
    this.emit({ kind: 'message', resourceId: 'build', text: `warning: ${text}` });
  }

  private initGlobalArgs(): void {
    const p = hostPlatform();
    const auto: Record<string, string> = {
      TARGETPLATFORM: formatPlatform(p), TARGETOS: p.os, TARGETARCH: p.architecture, TARGETVARIANT: p.variant ?? '',
      BUILDPLATFORM: formatPlatform(p), BUILDOS: p.os, BUILDARCH: p.architecture, BUILDVARIANT: p.variant ?? '',
    };
    for (const [k, v] of Object.entries(auto)) this.globalScope.set(k, v);
    for (const ins of this.df.globalArgs) {
      for (const [name, def] of parsePairs(ins.args, this.globalScope, this.df.escape, `${ins.file}:${ins.line}`, { legacy: false, valueOptional: true })) {
        const given = this.opts.buildArgs?.[name];
        if (given !== undefined) this.consumed.add(name);
        const value = given ?? def;
        if (value !== undefined) this.globalScope.set(name, value); else this.globalScope.delete(name);
        this.declaredGlobals.add(name);
      }
    }
  }

  private readonly declaredGlobals = new Set<string>();

  /**
   * cache_from: berth writes each step's cache key into the image's history (`comment: berth
   * build; key=…`), so an image built by berth (here, or elsewhere and pushed, then pulled) is a
   * cache source: a RUN, COPY or ADD whose key matches, over the same layers, takes the image's
   * layer instead of running. That is BuildKit's inline cache in berth's own terms; BuildKit's
   * cache exports (type=local, registry cache manifests, gha, s3) are not read.
   */
  private async loadCacheSources(): Promise<void> {
    for (const source of this.opts.cacheFrom ?? []) {
      let ref = source;
      if (source.includes('=')) {
        const fields = cacheFields(source);
        if (fields.get('type') === 'local') {
          await this.loadCacheDir(source, fields.get('src'));
          continue;
        }
        if (fields.get('type') !== 'registry' || !fields.get('ref')) {
          this.warn(`cache_from "${source}": berth reads images (an image reference, or type=registry,ref=…) and its own type=local,src=DIR exports as cache sources; ${fields.get('type') ?? 'this'} caches are not read`);
          continue;
        }
        ref = fields.get('ref')!;
      }
      let id: string;
      try {
        id = this.store.resolve(ref).id;
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
        if (!this.opts.pullBase) { this.warn(`cache_from "${ref}": not in the store; no cache from it`); continue; }
        try { await this.opts.pullBase(ref); id = this.store.resolve(ref).id; } catch (pullErr) {
          this.warn(`cache_from "${ref}": could not be pulled (${(pullErr as Error).message}); no cache from it`);
          continue;
        }
      }
      const spec = specOf(this.store, id);
      const chain = this.store.chainOf(id);
      let n = 0;
      let found = 0;
      for (const entry of spec.history) {
        if (entry.empty_layer) continue;
        n++;
        const key = /(?:^|; )key=([0-9a-f]{64})$/.exec(entry.comment ?? '')?.[1];
        if (key === undefined || n > chain.length) continue;
        const layer = this.store.layer(chain[n - 1]);
        if (!layer) continue;
        this.fromImages.set(key, { chain: chain.slice(0, n), diffId: layer.diffId, entry });
        found++;
      }
      this.pin(chain);
      if (found === 0) this.warn(`cache_from "${ref}": the image records no berth build steps (it was not built by berth); no cache from it`);
    }
    for (const target of this.opts.cacheTo ?? []) {
      const fields = cacheFields(target);
      if (fields.get('type') === 'inline') continue;
      if (fields.get('type') === 'local') {
        const dest = fields.get('dest');
        if (dest === undefined || !dest.startsWith('/')) throw new InvalidArgument(`cache_to "${target}": type=local needs dest=DIR, an absolute path here`);
        this.cacheDests.push(dest);
        continue;
      }
      this.warn(`cache_to "${target}": not exported; berth writes type=local,dest=DIR, and records each step's cache key in the image it builds (as type=inline does), so a pushed image can be named in cache_from`);
    }
  }

  /** cache_from type=local,src=DIR: its index, read and checked now; a directory berth cannot read is a warning, not a failure. */
  private async loadCacheDir(source: string, src: string | undefined): Promise<void> {
    if (src === undefined || !src.startsWith('/')) {
      this.warn(`cache_from "${source}": type=local needs src=DIR, an absolute path here; no cache from it`);
      return;
    }
    const { readBuildCache } = await import('./cache-dir.js');
    try {
      this.cacheDirs.push({ src, entries: readBuildCache(src) });
    } catch (err) {
      if (!(err instanceof InvalidArgument)) throw err;
      this.warn(`cache_from "${source}": ${err.message}; no cache from it`);
    }
  }

  /** cache_to type=local,dest=DIR: every step this build made or found, with its layers. */
  private async exportCaches(): Promise<void> {
    if (this.cacheDests.length === 0) return;
    const { exportBuildCache } = await import('./cache-dir.js');
    for (const dest of this.cacheDests) {
      const r = await exportBuildCache(this.store, dest, this.exported, this.opts.sys);
      this.emit({ kind: 'message', resourceId: 'build', text: `exported the build cache to ${dest}: ${r.entries} steps, ${r.blobs} layers (${r.bytes} bytes written)` });
    }
  }

  /** A step answered by a cache_from image: its layer on top of the same chain. */
  private fromImageHit(state: State, key: string): State | undefined {
    const hit = this.opts.noCache ? undefined : this.fromImages.get(key);
    if (!hit) return undefined;
    const under = hit.chain.slice(0, -1);
    if (under.length !== state.chain.length || under.some((c, i) => c !== state.chain[i])) return undefined;
    return { ...state, chain: hit.chain, key, spec: { ...state.spec, diffIds: [...state.spec.diffIds, hit.diffId], history: [...state.spec.history, hit.entry] } };
  }

  private stageLabel(s: Stage): string {
    return s.name ?? `stage-${s.index}`;
  }

  private stageResult(s: Stage): Promise<State> {
    let p = this.results.get(s.index);
    if (!p) {
      p = this.buildStage(s);
      this.results.set(s.index, p);
    }
    return p;
  }

  private pin(chain: readonly string[]): void {
    this.releases.push(this.store.pinMore(chain));
  }

  private async baseState(s: Stage): Promise<State> {
    const where = `${s.from.file}:${s.from.line}`;
    const base = expandWord(s.base, this.globalScope, this.df.escape, where);
    if (s.platform !== undefined) {
      const platform = expandWord(s.platform, this.globalScope, this.df.escape, where);
      if (platform !== formatPlatform(hostPlatform()) && platform !== `${hostPlatform().os}/${hostPlatform().architecture}`) {
        this.warn(`${where}: FROM --platform=${platform}: berth builds for this host (${formatPlatform(hostPlatform())}); the flag is noted, not honoured`);
      }
    }
    const dep = stageByRef(this.df, base, s.index);
    if (dep) {
      const prev = await this.stageResult(dep);
      return { spec: prev.spec, chain: prev.chain, key: sha('stage', prev.key), args: new Map(), baseId: prev.baseId, cmdSet: false };
    }
    const named = this.namedContext(base);
    if (named) {
      const ctx = await this.namedState(named);
      return { ...ctx, key: sha('stage', ctx.key), args: new Map(), cmdSet: false };
    }
    if (base === 'scratch') return this.scratchState();
    const id = await this.resolveImage(base, where);
    const spec = specOf(this.store, id);
    const chain = this.store.chainOf(id);
    this.pin(chain);
    return { spec, chain, key: sha('image', id), args: new Map(), baseId: id, cmdSet: false };
  }

  /** The named context `ref` names, if any (compared in BuildKit's familiar form). */
  private namedContext(ref: string): NamedContext | undefined {
    if (this.named.size === 0) return undefined;
    const key = contextKey(ref);
    return key === undefined ? undefined : this.named.get(key);
  }

  /** The named context that replaces stage `s` (one with the stage's AS name). */
  private replacing(s: Stage): NamedContext | undefined {
    return s.name !== undefined ? this.namedContext(s.name) : undefined;
  }

  /** A named context as a stage state: loaded once per build. */
  private namedState(named: NamedContext): Promise<State> {
    let p = this.namedStates.get(named.name);
    if (!p) {
      p = this.loadNamed(named);
      this.namedStates.set(named.name, p);
    }
    return p;
  }

  private async loadNamed(named: NamedContext): Promise<State> {
    if (named.kind === 'scratch') return this.scratchState();
    if (named.kind === 'image') {
      const id = await this.resolveImage(named.ref, named.origin);
      const chain = this.store.chainOf(id);
      this.pin(chain);
      return { spec: specOf(this.store, id), chain, key: sha('image', id), args: new Map(), baseId: id, cmdSet: false };
    }
    // a directory: its files (through its own .dockerignore) become one layer on scratch, keyed
    // by their content, so FROM, COPY --from and RUN --mount from= read it like a stage and a
    // changed file changes the key of exactly the steps that read the context
    const context = openContext(namedDir(named), undefined);
    const dir = context.dir;
    const label = `[context ${named.name}]`;
    const resourceId = `build:context:${named.name}`;
    const top: ContextEntry = { rel: '', stat: lstatSync(dir) };
    const key = sha('context-dir', await context.digest([top]));
    const scratch = this.scratchState();
    const hit = await this.cachedStep(key);
    if (hit) {
      this.emit({ kind: 'step', resourceId, name: `${label} ${named.path}`, status: 'cached' });
      return { ...scratch, spec: hit.spec, chain: hit.chain, key };
    }
    this.emit({ kind: 'step', resourceId, name: `${label} ${named.path}`, status: 'started' });
    const step = mountStep(this.opts.sys, this.store.overlayRoot(), this.store.tempDir('context-'), []);
    let state: State;
    try {
      // owned by root, as COPY from the main context makes them
      copyEntriesIntoRoot(step.merged, context.dir, context.list(), '', '/', { preserveOwner: false }, { uid: 0, gid: 0 });
      step.unmount();
      state = await this.commitUpper(scratch, step.upper, `context ${named.name}`);
    } finally {
      step.remove();
    }
    state = { ...state, key };
    this.writeCache(key, state);
    this.emit({ kind: 'step', resourceId, name: `${label} ${named.path}`, status: 'done' });
    return state;
  }

  private scratchState(): State {
    const p = hostPlatform();
    return {
      spec: { architecture: p.architecture, os: p.os, ...(p.variant && p.architecture !== 'amd64' ? { variant: p.variant } : {}), created: '', config: {}, diffIds: [], history: [] },
      chain: [], key: sha('scratch'), args: new Map(), baseId: 'scratch', cmdSet: false,
    };
  }

  private async resolveImage(ref: string, where: string): Promise<string> {
    if (this.opts.pullAlways && this.opts.pullBase) {
      await this.opts.pullBase(ref);
      return this.store.resolve(ref).id;
    }
    try {
      return this.store.resolve(ref).id;
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      if (!this.opts.pullBase) throw new NotFound(`${where}: image "${ref}" is not in the store (pull or load it first)`);
      await this.opts.pullBase(ref);
      return this.store.resolve(ref).id;
    }
  }

  private async buildStage(s: Stage): Promise<State> {
    // a named context with the stage's name replaces the stage (BuildKit: its instructions never run)
    const replacing = this.replacing(s);
    if (replacing) {
      this.emit({ kind: 'step', resourceId: `build:${this.stageLabel(s)}`, name: `[${this.stageLabel(s)}] replaced by the build context "${replacing.name}"`, status: 'skipped' });
      return this.namedState(replacing);
    }
    let state = await this.baseState(s);
    const label = this.stageLabel(s);
    const onbuild = (state.spec.config.OnBuild as string[] | undefined) ?? [];
    const triggers = onbuild.map((t, i) => {
      const parsed = parseDockerfile(`FROM scratch\n${t}`, `ONBUILD trigger ${i + 1} of ${s.base}`);
      return parsed.stages[0].instructions[0];
    });
    if (onbuild.length > 0) state = { ...state, spec: { ...state.spec, config: { ...state.spec.config, OnBuild: null } } };
    const all = [...triggers, ...s.instructions];
    for (let i = 0; i < all.length; i++) {
      if (this.opts.signal?.aborted) throw new BerthError('INVALID_ARGUMENT', 'build aborted');
      state = await this.step(state, all[i], `[${label} ${i + 1}/${all.length}]`, `build:${label}:${i + 1}`);
    }
    return state;
  }

  /** The scope for substitution: build args under ENV (ENV wins, as docker has it). */
  private scope(state: State): Scope {
    const m = new Map(state.args);
    for (const [k, v] of envMap(state.spec.config.Env)) m.set(k, v);
    return m;
  }

  private readCache(key: string): CacheEntry | undefined {
    if (this.opts.noCache) return undefined;
    const entry = readJson<CacheEntry>(join(this.cacheDir, `${key}.json`));
    if (!entry) return undefined;
    if (!entry.chain.every((c) => this.store.layer(c) !== undefined)) return undefined;
    return entry;
  }

  /**
   * A step's cached result: the local build cache, else an imported cache_from type=local
   * directory (whose layers then enter the store, verified); its layers pinned.
   */
  private async cachedStep(key: string): Promise<CacheEntry | undefined> {
    const hit = this.readCache(key);
    if (hit) {
      this.pin(hit.chain);
      this.exported.set(key, hit);
      return hit;
    }
    if (this.opts.noCache) return undefined;
    for (const dir of [...this.cacheDirs]) {
      const entry = dir.entries.get(key);
      if (!entry) continue;
      const { importCacheEntry } = await import('./cache-dir.js');
      try {
        const imported = await importCacheEntry(this.store, dir.src, entry);
        this.pin(imported.chain);
        this.writeCache(key, imported);
        return imported;
      } catch (err) {
        if (!(err instanceof BerthError) || err.code === 'INTERNAL') throw err;
        // a bad blob: this source is dropped for the rest of the build, the step runs
        this.cacheDirs.splice(this.cacheDirs.indexOf(dir), 1);
        this.warn(`cache_from type=local,src=${dir.src}: ${err.message}; no more cache from it`);
      }
    }
    return undefined;
  }

  private writeCache(key: string, state: CacheEntry): void {
    this.exported.set(key, { spec: state.spec, chain: state.chain });
    writeJsonAtomic(join(this.cacheDir, `${key}.json`), { spec: state.spec, chain: state.chain } satisfies CacheEntry, { durable: false });
  }

  private history(state: State, createdBy: string, empty: boolean): HistoryEntry[] {
    return [...state.spec.history, { created: this.now().toISOString(), created_by: createdBy, ...(empty ? { empty_layer: true } : {}), comment: 'berth build' }];
  }

  private async step(state: State, ins: Instruction, name: string, resourceId: string): Promise<State> {
    const where = `${ins.file}:${ins.line}`;
    const scope = this.scope(state);
    const esc = this.df.escape;
    // ARG changes only the scope; it is folded into the key like any instruction
    if (ins.keyword === 'ARG') {
      const args = new Map(state.args);
      const parts: string[] = [];
      for (const [argName, def] of parsePairs(ins.args, scope, esc, where, { legacy: false, valueOptional: true })) {
        const given = this.opts.buildArgs?.[argName];
        if (given !== undefined) this.consumed.add(argName);
        const value = given ?? def ?? (this.declaredGlobals.has(argName) ? this.globalScope.get(argName) : undefined) ?? (this.globalScope.has(argName) && /^(TARGET|BUILD)/.test(argName) ? this.globalScope.get(argName) : undefined);
        if (value !== undefined) args.set(argName, value); else args.delete(argName);
        parts.push(`${argName}=${value ?? ''}`);
      }
      return { ...state, args, key: sha(state.key, 'ARG', ...parts) };
    }
    const material = await this.keyMaterial(state, ins, scope, where);
    const key = sha(state.key, ...material);
    const hit = await this.cachedStep(key);
    if (hit) {
      this.cached++;
      this.emit({ kind: 'step', resourceId, name: `${name} ${ins.text}`, status: 'cached' });
      return { ...state, spec: hit.spec, chain: hit.chain, key, cmdSet: state.cmdSet || ins.keyword === 'CMD' };
    }
    const fromImage = ins.keyword === 'RUN' || ins.keyword === 'COPY' || ins.keyword === 'ADD' ? this.fromImageHit(state, key) : undefined;
    if (fromImage) {
      this.cached++;
      this.writeCache(key, fromImage);
      this.emit({ kind: 'step', resourceId, name: `${name} ${ins.text}`, status: 'cached' });
      return fromImage;
    }
    this.emit({ kind: 'step', resourceId, name: `${name} ${ins.text}`, status: 'started' });
    const t0 = process.hrtime.bigint();
    let next: State;
    try {
      next = await this.execute(state, ins, scope, where, resourceId);
    } catch (err) {
      this.emit({ kind: 'step', resourceId, name: `${name} ${ins.text}`, status: 'failed' });
      throw err;
    }
    next = { ...next, key, spec: withStepKey(next.spec, state.spec.history.length, key) };
    this.ran++;
    this.writeCache(key, next);
    this.emit({ kind: 'step', resourceId, name: `${name} ${ins.text}`, status: 'done', seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    return next;
  }

  /** What besides the instruction text decides a step's result. */
  private async keyMaterial(state: State, ins: Instruction, scope: Scope, where: string): Promise<string[]> {
    const material = [ins.keyword, JSON.stringify(ins.flags), ins.args, ...ins.heredocs.map((h) => h.content)];
    const argsInScope = [...state.args].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
    if (ins.keyword === 'RUN') return [...material, ...argsInScope, ...await this.mountKeys(this.mountsOf(state, ins, scope, where), where)];
    if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
      const { sources } = this.copyArgs(ins, scope, where);
      const from = ins.flags.from?.[0];
      const expanded = sources.map((src) => (src.startsWith('<<') ? src : expandWord(src, scope, this.df.escape, where)));
      if (from !== undefined) {
        const fromKey = (await this.mountFrom(expandWord(from, scope, this.df.escape, where), where)).key;
        return [...material, ...expanded, fromKey, ...argsInScope];
      }
      const entries = expanded.filter((x) => !x.startsWith('<<')).flatMap((src) => this.filtered(this.context.match(src, where), ins, where));
      return [...material, ...expanded, await this.context.digest(entries), ...argsInScope];
    }
    // metadata steps: the substituted text decides
    return [...material, JSON.stringify([...scope].sort(([a], [b]) => (a < b ? -1 : 1)))];
  }

  private filtered(entries: ContextEntry[], ins: Instruction, where: string): ContextEntry[] {
    const excludes = (ins.flags.exclude ?? []).map((p) => patternRegExp(p.replace(/^\/+/, ''), where));
    if (excludes.length === 0) return entries;
    return entries.filter((e) => !excludes.some((re) => re.test(e.rel) || re.test(basename(e.rel))));
  }

  private copyArgs(ins: Instruction, scope: Scope, where: string): { sources: string[]; dest: string } {
    const words = ins.json ? [...ins.json] : splitWords(ins.args, undefined, this.df.escape, where);
    if (words.length < 2 && ins.heredocs.length === 0) throw new InvalidArgument(`${where}: ${ins.keyword} needs a source and a destination`);
    const dest = words[words.length - 1];
    void scope;
    return { sources: words.slice(0, -1), dest };
  }

  private async execute(state: State, ins: Instruction, scope: Scope, where: string, resourceId: string): Promise<State> {
    const esc = this.df.escape;
    const cfg = { ...state.spec.config };
    const changed = applyMetadata(cfg, ins, scope, esc, where, state.cmdSet);
    if (changed) {
      const spec = { ...state.spec, config: changed.config, history: this.history(state, ins.text, true), ...(changed.author !== undefined ? { author: changed.author } : {}) };
      return { ...state, spec, cmdSet: state.cmdSet || ins.keyword === 'CMD' };
    }
    switch (ins.keyword) {
      case 'WORKDIR': {
        const dir = posix.resolve(cfg.WorkingDir || '/', expandWord(ins.args, scope, esc, where));
        return this.fsStep({ ...state, spec: { ...state.spec, config: { ...cfg, WorkingDir: dir } } }, ins, (root) => {
          resolveInRoot(root, dir, { create: { uid: 0, gid: 0 }, followLast: true });
          const abs = resolveInRoot(root, dir, { followLast: true });
          if (!existsSync(abs)) mkdirSync(abs, { mode: 0o755 });
          return Promise.resolve();
        });
      }
      case 'RUN':
        return this.runInstruction(state, ins, scope, where, resourceId);
      case 'COPY': case 'ADD':
        return this.copyInstruction(state, ins, scope, where);
      default:
        throw new Unsupported(`${where}: ${ins.keyword} is not supported`);
    }
  }

  private lowers(state: State): { links: string[]; dirs: string[] } {
    const metas = [...state.chain].reverse().map((c) => this.store.layer(c)!);
    return { links: metas.map((m) => m.link), dirs: metas.map((m) => this.store.layerDiffDir(m)) };
  }

  /** Commits `upper` (if it holds anything) as the stage's next layer. */
  private async commitUpper(state: State, upper: string, createdBy: string): Promise<State> {
    let empty = true;
    try { empty = readdirSync(upper).length === 0; } catch { empty = true; }
    if (empty) return { ...state, spec: { ...state.spec, history: this.history(state, createdBy, true) } };
    const parent = state.chain.length > 0 ? state.chain[state.chain.length - 1] : null;
    const layer = await layerFromDir(this.store, upper, parent, { sys: this.opts.sys, mode: 'adopt' });
    this.pin([layer.chainId]);
    return {
      ...state,
      chain: [...state.chain, layer.chainId],
      spec: { ...state.spec, diffIds: [...state.spec.diffIds, layer.diffId], history: this.history(state, createdBy, false) },
    };
  }

  /** A host-side step on a mounted overlay of the stage (COPY, ADD, WORKDIR). */
  private async fsStep(state: State, ins: Instruction, work: (root: string) => Promise<void>): Promise<State> {
    const { links } = this.lowers(state);
    const step = mountStep(this.opts.sys, this.store.overlayRoot(), this.store.tempDir('build-'), links);
    try {
      await work(step.merged);
      step.unmount();
      return await this.commitUpper(state, step.upper, ins.text);
    } finally {
      step.remove();
    }
  }

  /** The RUN step's network: its --network, else the build's; host needs the entitlement. */
  private stepNetworkOf(ins: Instruction, where: string): string {
    const flag = ins.flags.network?.[0];
    if (flag !== undefined && flag !== 'default' && flag !== 'none' && flag !== 'host') throw new InvalidArgument(`${where}: RUN --network=${flag}: expected default, none or host`);
    if (flag === 'host' && this.opts.network !== 'host' && !(this.opts.entitlements ?? []).includes('network.host')) {
      throw new InvalidArgument(`${where}: RUN --network=host needs the network.host entitlement: build with --allow network.host (compose: build.entitlements: [network.host], or build.network: host)`);
    }
    const network = flag === undefined || flag === 'default' ? (this.opts.network ?? 'default') : flag;
    if (network !== 'none' && !this.opts.stepNetwork) {
      if (!this.networkNoted) {
        this.networkNoted = true;
        this.warn('RUN steps run without a network here (no network facility was given to the builder): only lo');
      }
      return 'none';
    }
    return network;
  }

  /** The step's --mount values, substituted and typed. */
  private mountsOf(state: State, ins: Instruction, scope: Scope, where: string): RunMount[] {
    const texts = ins.flags.mount ?? [];
    if (texts.length > MAX_MOUNTS) throw new InvalidArgument(`${where}: more than ${MAX_MOUNTS} --mount flags`);
    const mounts = texts.map((t) => parseMount(t, where, state.spec.config.WorkingDir || '/', (v) => expandWord(v, scope, this.df.escape, where)));
    const targets = new Set<string>();
    for (const m of mounts) {
      if (targets.has(m.target)) throw new InvalidArgument(`${where}: two --mount flags with target ${m.target}`);
      targets.add(m.target);
    }
    return mounts;
  }

  /**
   * What COPY --from= and a mount's from= name: a stage, else a named context, else an image
   * (BuildKit's order), with its layers pinned.
   */
  private async mountFrom(from: string, where: string): Promise<State> {
    const dep = stageByRef(this.df, from, Number.MAX_SAFE_INTEGER);
    if (dep) return this.stageResult(dep);
    const named = this.namedContext(from);
    if (named) return this.namedState(named);
    const id = await this.resolveImage(from, where);
    const chain = this.store.chainOf(id);
    this.pin(chain);
    return { spec: specOf(this.store, id), chain, key: `image:${id}`, args: new Map(), baseId: id, cmdSet: false };
  }

  /** What a RUN step's mounts add to its cache key: bind sources' content (cache, secret and tmpfs content never counts). */
  private async mountKeys(mounts: readonly RunMount[], where: string): Promise<string[]> {
    const out: string[] = [];
    for (const m of mounts) {
      if (m.type !== 'bind') continue;
      if (m.from !== undefined) out.push(`bind-from:${(await this.mountFrom(m.from, where)).key}:${m.source}`);
      else out.push(`bind-context:${await this.context.digest(this.context.match(m.source === '' ? '.' : m.source, where))}`);
    }
    return out;
  }

  /**
   * Host-side sources for the step's mounts: a bind of the context is a copy of what
   * .dockerignore lets through (so neither an ignored file nor a write reaches the user's
   * directory); a bind from a stage or image is a path in an overlay view of its layers (writes
   * land in the view's upper dir, discarded); a cache mount is its instance dir; a secret is a
   * copy with the asked mode and owner. Everything is undone by the returned cleanup.
   */
  private async prepareMounts(mounts: readonly RunMount[], where: string): Promise<{ mounts: RecordedMount[]; cleanup: () => void }> {
    const out: RecordedMount[] = [];
    const undo: (() => void)[] = [];
    const cleanup = () => { for (const u of undo.reverse()) { try { u(); } catch { /* best effort: the store's temp dir is swept */ } } };
    try {
      for (const m of mounts) {
        switch (m.type) {
          case 'tmpfs':
            out.push({ type: 'tmpfs', kind: 'tmpfs', target: m.target, size: m.size, mode: 0o1777, readonly: false, nosuid: true, nodev: true });
            break;
          case 'secret': {
            const file = this.opts.secrets?.[m.id];
            if (file === undefined) {
              if (m.required) throw new NotFound(`${where}: secret "${m.id}" is required but was not given to the build`);
              break;
            }
            const tmp = this.store.tempDir('secret-');
            undo.push(() => rmSync(tmp, { recursive: true, force: true }));
            const copy = join(tmp, 'secret');
            let text: Buffer;
            try { text = readFileSync(file); } catch (err) { throw new NotFound(`${where}: secret "${m.id}": cannot read ${file} (${(err as NodeJS.ErrnoException).code})`); }
            writeFileSync(copy, text, { mode: m.mode });
            chmodSync(copy, m.mode);
            chownSync(copy, m.uid, m.gid);
            out.push({ type: 'bind', kind: 'bind', source: copy, target: m.target, readonly: true, nosuid: true, nodev: true, noexec: true });
            break;
          }
          case 'cache': {
            const seedFrom = m.from !== undefined ? await this.mountFrom(m.from, where) : undefined;
            const held = await this.cacheMounts.acquire(m, seedFrom ? async (dir) => {
              const view = mountStep(this.opts.sys, this.store.overlayRoot(), this.store.tempDir('from-'), this.lowers(seedFrom).links);
              try {
                const src = resolveInRoot(view.merged, m.source || '/', { followLast: true });
                if (existsSync(src)) copyIntoRoot(dir, src, '/', { preserveOwner: true }, { uid: m.uid, gid: m.gid });
              } finally { view.remove(); }
            } : undefined);
            undo.push(held.release);
            this.usedCacheMounts = true;
            out.push({ type: 'bind', kind: 'bind', source: held.path, target: m.target, readonly: m.readonly });
            break;
          }
          case 'bind': {
            if (m.from !== undefined) {
              const from = await this.mountFrom(m.from, where);
              const view = mountStep(this.opts.sys, this.store.overlayRoot(), this.store.tempDir('from-'), this.lowers(from).links);
              undo.push(() => view.remove());
              const src = resolveInRoot(view.merged, m.source || '/', { followLast: true });
              if (!existsSync(src)) throw new NotFound(`${where}: --mount source "${m.source}" not found in ${m.from}`);
              out.push({ type: 'bind', kind: 'bind', source: src, target: m.target, readonly: m.readonly });
            } else {
              const [entry] = this.context.match(m.source === '' ? '.' : m.source, where);
              if (!entry) throw new NotFound(`${where}: --mount source "${m.source}" not found in the build context`);
              const tmp = this.store.tempDir('bind-');
              undo.push(() => rmSync(tmp, { recursive: true, force: true }));
              const tree = join(tmp, 'src');
              const owner: CopyOwner = { preserveOwner: false };
              if (entry.stat.isDirectory()) {
                mkdirSync(tree, { mode: entry.stat.mode & 0o7777 });
                copyEntriesIntoRoot(tree, this.context.dir, this.context.below(entry.rel), entry.rel, '/', owner, { uid: 0, gid: 0 });
              } else {
                mkdirSync(tree);
                copyIntoRoot(tree, join(this.context.dir, entry.rel), '/file', owner, { uid: 0, gid: 0 });
              }
              out.push({ type: 'bind', kind: 'bind', source: entry.stat.isDirectory() ? tree : join(tree, 'file'), target: m.target, readonly: m.readonly });
            }
            break;
          }
        }
      }
      return { mounts: out, cleanup };
    } catch (err) {
      cleanup();
      throw err;
    }
  }

  /** Paths of the mount targets (and their parents) that are in none of the stage's layers: mount points the shim will create. */
  private stubsOf(state: State, mounts: readonly RecordedMount[]): string[] {
    const { dirs } = this.lowers(state);
    const stubs = new Set<string>();
    for (const m of mounts) {
      const parts = m.target.split('/').filter((p) => p !== '');
      for (let i = 1; i <= parts.length; i++) {
        const rel = parts.slice(0, i).join('/');
        if (!dirs.some((d) => { try { lstatSync(join(d, rel)); return true; } catch { return false; } })) stubs.add(`/${rel}`);
      }
    }
    return [...stubs];
  }

  private async runInstruction(state: State, ins: Instruction, scope: Scope, where: string, resourceId: string): Promise<State> {
    if (ins.flags.security) throw new Unsupported(`${where}: RUN --security is not supported`);
    const network = this.stepNetworkOf(ins, where);
    const mounts = this.mountsOf(state, ins, scope, where);
    if (state.chain.length === 0) throw new InvalidArgument(`${where}: RUN on an empty filesystem (FROM scratch has no shell)`);
    const shell = (state.spec.config.Shell as string[] | undefined) ?? DEFAULT_SHELL;
    let args: string[];
    if (ins.json) args = [...ins.json];
    else if (ins.heredocs.length > 0 && /^<<-?["']?[A-Za-z_][A-Za-z0-9_]*["']?$/.test(ins.args)) args = [...shell, ins.heredocs[0].content];
    else if (ins.heredocs.length > 0) args = [...shell, `${ins.args}\n${ins.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`];
    else args = [...shell, ins.args];
    // build args reach RUN as environment variables, under ENV
    const envKeys = envMap(state.spec.config.Env);
    const env = [...(state.spec.config.Env ?? [])];
    for (const [k, v] of state.args) if (!envKeys.has(k)) env.push(`${k}=${v}`);
    for (const k of PREDEFINED) { const v = this.opts.buildArgs?.[k]; if (v !== undefined && !envKeys.has(k)) env.push(`${k}=${v}`); }
    const { links, dirs } = this.lowers(state);
    const prepared = await this.prepareMounts(mounts, where);
    const id = randomBytes(32).toString('hex');
    let attached = false;
    try {
      let files: (ContainerNetworkFiles & { readonly config?: RecordedNetwork }) | undefined;
      if (network !== 'none' || (this.opts.extraHosts ?? []).length > 0) {
        if (this.opts.stepNetwork) {
          attached = true;
          files = await this.opts.stepNetwork.attach(id, network, this.opts.extraHosts ?? []);
        }
      }
      const run = await runStep({
        id,
        runtime: this.opts.runtime,
        overlayRoot: this.store.overlayRoot(),
        imageId: state.baseId === 'scratch' ? 'scratch' : state.baseId,
        lowerLinks: links,
        lowerDirs: dirs,
        args,
        env,
        cwd: state.spec.config.WorkingDir || '/',
        user: state.spec.config.User ?? '',
        where,
        onOutput: (stream, text) => this.emit({ kind: 'output', resourceId, stream, text }),
        signal: this.opts.signal,
        ...(files ? { network: files } : {}),
        mounts: prepared.mounts,
        stubs: this.stubsOf(state, prepared.mounts),
        ...(this.opts.shmSize !== undefined ? { shmSize: this.opts.shmSize } : {}),
      });
      try {
        const createdBy = ins.json ? `RUN ${JSON.stringify(ins.json)}` : `RUN ${shell.join(' ')} ${ins.args}`;
        return await this.commitUpper(state, run.upper, createdBy);
      } finally {
        await run.remove();
      }
    } finally {
      prepared.cleanup();
      if (attached) await this.opts.stepNetwork!.detach(id);
    }
  }

  /** uid/gid for --chown, names looked up in the stage root's /etc/passwd and /etc/group. */
  private owner(root: string, spec: string, where: string): { uid: number; gid: number } {
    const [user, group] = spec.split(':');
    const lookup = (file: string, name: string, field: number): number => {
      if (/^\d+$/.test(name)) return Number(name);
      let text = '';
      try { text = readFileSync(resolveInRoot(root, file, { followLast: true }), 'utf8'); } catch { /* no such file */ }
      const line = text.split('\n').find((l) => l.split(':')[0] === name);
      if (!line) throw new InvalidArgument(`${where}: --chown: no ${field === 2 ? 'user' : 'group'} "${name}" in the image's ${file}`);
      return Number(line.split(':')[field]);
    };
    const uid = lookup('/etc/passwd', user, 2);
    let gid: number;
    if (group !== undefined && group !== '') gid = lookup('/etc/group', group, 2);
    else if (/^\d+$/.test(user)) gid = uid;
    else {
      let text = '';
      try { text = readFileSync(resolveInRoot(root, '/etc/passwd', { followLast: true }), 'utf8'); } catch { /* none */ }
      gid = Number(text.split('\n').find((l) => l.split(':')[0] === user)?.split(':')[3] ?? uid);
    }
    return { uid, gid };
  }

  private async copyInstruction(state: State, ins: Instruction, scope: Scope, where: string): Promise<State> {
    const esc = this.df.escape;
    if (ins.flags.parents) throw new Unsupported(`${where}: COPY --parents is not supported`);
    if (ins.flags.checksum || ins.flags['keep-git-dir']) throw new Unsupported(`${where}: ADD --checksum and --keep-git-dir apply to remote sources, which are not supported`);
    const { sources: rawSources, dest: rawDest } = this.copyArgs(ins, scope, where);
    const sources = rawSources.map((s) => (s.startsWith('<<') ? s : expandWord(s, scope, esc, where)));
    let dest = expandWord(rawDest, scope, esc, where);
    if (ins.keyword === 'ADD') {
      for (const s of sources) if (/^(https?|git):\/\/|^git@/.test(s)) throw new Unsupported(`${where}: ADD from a URL (${s}) needs network access during builds, which berth does not have yet`);
    }
    const wildcard = sources.some((s) => /[*?[]/.test(s));
    const toDir = dest.endsWith('/') || sources.length > 1 || wildcard;
    if ((sources.length > 1 || wildcard) && !dest.endsWith('/')) {
      // docker allows it when dest is an existing directory; checked once the root is mounted
    }
    if (!dest.startsWith('/')) dest = posix.join(state.spec.config.WorkingDir || '/', dest);
    const chmod = ins.flags.chmod?.[0];
    if (chmod !== undefined && !/^[0-7]{3,4}$/.test(chmod)) throw new InvalidArgument(`${where}: --chmod must be octal (e.g. 0755), got "${chmod}"`);
    const from = ins.flags.from?.[0] !== undefined ? expandWord(ins.flags.from[0], scope, esc, where) : undefined;
    const fromState = from !== undefined ? await this.mountFrom(from, where) : undefined;
    return this.fsStep(state, ins, async (root) => {
      const chown = ins.flags.chown?.[0] !== undefined ? this.owner(root, expandWord(ins.flags.chown[0], scope, esc, where), where) : undefined;
      const owner: CopyOwner = { ...(chown ? { uid: chown.uid, gid: chown.gid } : {}), ...(chmod ? { mode: parseInt(chmod, 8) } : {}), preserveOwner: from !== undefined };
      const parentOwner = chown ?? { uid: 0, gid: 0 };
      let destIsDir = toDir;
      if (!destIsDir) {
        try { destIsDir = lstatSync(resolveInRoot(root, dest, { followLast: true })).isDirectory(); } catch { destIsDir = false; }
      }
      if ((sources.length > 1 || wildcard) && !destIsDir) {
        throw new InvalidArgument(`${where}: when copying more than one source, the destination must be a directory and end with a /`);
      }
      const target = (name: string) => (destIsDir ? posix.join(dest, name) : dest);
      for (const src of sources) {
        if (src.startsWith('<<')) {
          const name = src.replace(/^<<-?["']?/, '').replace(/["']$/, '');
          const doc = ins.heredocs.find((h) => h.name === name);
          if (!doc) throw new InvalidArgument(`${where}: no heredoc named ${name}`);
          const content = doc.expand ? substituteVariables(doc.content, scope) : doc.content;
          const tmp = this.store.tempDir('heredoc-');
          const file = join(tmp, name);
          writeFileSync(file, content, { mode: 0o644 });
          try { copyIntoRoot(root, file, target(name), owner, parentOwner); } finally { rmSync(tmp, { recursive: true, force: true }); }
          continue;
        }
        if (fromState) {
          if (/[*?[]/.test(src)) throw new Unsupported(`${where}: wildcards in COPY --from sources are not supported yet`);
          const { links } = this.lowers(fromState);
          const view = mountStep(this.opts.sys, this.store.overlayRoot(), this.store.tempDir('from-'), links);
          try {
            const srcAbs = resolveInRoot(view.merged, src, { followLast: true });
            if (!existsSync(srcAbs)) throw new NotFound(`${where}: "${src}" not found in ${from}`);
            const isDir = lstatSync(srcAbs).isDirectory();
            copyIntoRoot(root, srcAbs, isDir ? dest : target(posix.basename(src)), owner, parentOwner);
          } finally {
            view.remove();
          }
          continue;
        }
        for (const entry of this.filtered(this.context.match(src, where), ins, where)) {
          const abs = join(this.context.dir, entry.rel);
          if (entry.stat.isDirectory()) {
            copyEntriesIntoRoot(root, this.context.dir, this.filtered(this.context.below(entry.rel), ins, where), entry.rel, dest, owner, parentOwner);
          } else if (ins.keyword === 'ADD' && isTarFile(abs)) {
            await this.extractInto(root, abs, dest, owner, parentOwner, where);
          } else {
            copyIntoRoot(root, abs, target(posix.basename(entry.rel)), owner, parentOwner);
          }
        }
      }
    });
  }

  /** ADD of a local archive: extracted safely into a temp dir, then merged into the destination. */
  private async extractInto(root: string, file: string, dest: string, owner: CopyOwner, parentOwner: { uid: number; gid: number }, where: string): Promise<void> {
    const [{ openTar }, { extractLayer }] = await Promise.all([import('../images/compression.js'), import('../images/extract.js')]);
    const tmp = this.store.tempDir('add-');
    try {
      const out = join(tmp, 'x');
      mkdirSync(out);
      await extractLayer(openTar(file, `${where}: ADD ${basename(file)}`).chunks, out, { sys: this.opts.sys, privileged: process.getuid?.() === 0, label: `${where}: ADD ${basename(file)}` });
      copyIntoRoot(root, out, dest, { ...owner, preserveOwner: owner.uid === undefined }, parentOwner);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

/** A directory context's real path; an error naming where it was given when it is not a directory. */
function namedDir(named: Extract<NamedContext, { kind: 'dir' }>): string {
  let dir: string;
  try { dir = realpathSync(named.path); } catch (err) {
    throw new NotFound(`${named.origin}: build context directory "${named.path}" does not exist (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!lstatSync(dir).isDirectory()) throw new InvalidArgument(`${named.origin}: build context "${named.path}" is not a directory`);
  return dir;
}

/** `type=local,dest=DIR,mode=max` as a map (a field without "=" maps to ""). */
function cacheFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of text.split(',')) {
    const eq = f.indexOf('=');
    out.set((eq < 0 ? f : f.slice(0, eq)).trim(), eq < 0 ? '' : f.slice(eq + 1));
  }
  return out;
}

/** The step's history entry (if it made one with a layer) records the step's cache key (cache_from reads it). */
function withStepKey(spec: ImageSpec, before: number, key: string): ImageSpec {
  if (spec.history.length !== before + 1) return spec;
  const last = spec.history[before];
  if (last.empty_layer) return spec;
  return { ...spec, history: [...spec.history.slice(0, before), { ...last, comment: `${last.comment ?? 'berth build'}; key=${key}` }] };
}

/** A tar by content: compressed (gzip, zstd magic) or "ustar" at offset 257. */
function isTarFile(path: string): boolean {
  const head = Buffer.alloc(512);
  let n = 0;
  try {
    const fd = openSync(path, 'r');
    try { n = readSync(fd, head, 0, 512, 0); } finally { closeSync(fd); }
  } catch { return false; }
  if (n >= 4 && ((head[0] === 0x1f && head[1] === 0x8b) || (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd))) return true;
  return n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** $VAR and ${VAR} in a heredoc body (quotes are the body's own text, not syntax). */
function substituteVariables(text: string, scope: Scope): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, a: string | undefined, b: string | undefined) => scope.get((a ?? b)!) ?? '');
}

/** Every layer the build cache references (prune keeps them: `pruneImages({keepLayers})`). */
export function buildCacheLayers(store: ImageStore): Set<string> {
  const dir = join(store.stateDir(), 'buildcache');
  const out = new Set<string>();
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return out; }
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      for (const c of readJson<CacheEntry>(join(dir, n))?.chain ?? []) out.add(c);
    } catch { /* a torn entry is a miss, not an error */ }
  }
  return out;
}

/** Where the RUN --mount=type=cache instances live (mounts.ts). */
export function cacheMountsDir(store: ImageStore): string {
  return join(store.stateDir(), 'cachemounts');
}

/** Removes every cache mount instance not in use (`image prune --all`); the bytes freed. */
export function clearCacheMounts(store: ImageStore): { removed: number; freed: number } {
  return new CacheMounts(cacheMountsDir(store)).clear();
}

/** Builds an image; see Builder. */
export function buildImage(opts: BuildOptions): Promise<BuildResult> {
  return new Builder(opts).build();
}
