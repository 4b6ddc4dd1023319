// The engine's side of `compose watch` and `up --watch` (docs/watch.md, "Wiring into the engine"):
// the supervisor's watch job. It maps the compose model onto src/watch (compileRules), holds one
// ProjectWatch per watched project, and gives it the effects only the engine can do: which
// replicas run, a restart through the restart verb, an exec in a replica, a recreate through up.
//
//   watch(req):  compile the rules (a bad rule is the verb's error, before anything starts) →
//                claim the project (one watch at a time) → `up` when asked → start the
//                ProjectWatch → `ready` → … until the caller goes away or `down` → stop → `stopped`.
//   down, engine shutdown: stopProject / stopAll, which apply what is gathered, then end the stream.
//
// Rebuild rules: the engine's build door (projectBuild, as `compose build SERVICE…`) builds the
// image once for the services that share a build; only when it succeeded are they recreated.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { EngineEvent, RegistryAuth, UpOptions, WatchAction, WatchMode, WatchRequest, WatchStopped } from '../api/types.js';
import type { Project, Service } from '../spec/model.js';
import type { Clock } from '../lib/clock.js';
import { Conflict, InvalidArgument, NotFound } from '../lib/errors.js';
import { ignoreFileCandidates } from '../lib/dockerignore.js';
import type { Sys } from '../sys/sys.js';
import type { ContainerRuntime } from '../runtime/container.js';
import { compileRules, type CompiledProject, type IgnoreFile, type PathKind, type WatchedService } from '../watch/rules.js';
import { ProjectWatch } from '../watch/session.js';
import type { Replica, WatchEffects, WatchReport } from '../watch/actions.js';
import type { ProjectVerbs } from './projects.js';
import type { ProjectStore } from './store.js';
import { projectViews } from './observe.js';
import { LABEL } from './service-container.js';
import { now as timeNow } from './supervisor.js';
import { hookExecRequest } from './hooks.js';

export interface WatchesDeps {
  readonly runtime: ContainerRuntime;
  readonly sys: Sys;
  readonly clock: Clock;
  /** native/build/berth-notify */
  readonly helperPath: string;
  readonly compose: Pick<ProjectVerbs, 'up' | 'restart'>;
  /** the desired-state store: a detached watch is recorded in its project's entry */
  readonly store: ProjectStore;
  /** where a detached watch keeps its snapshot of the host tree (changes made while the engine was down are caught up) */
  readonly stateDir: string;
  /** the engine log */
  readonly log: (line: string) => void;
  /** how long a sync+exec command may run; default 60 s */
  readonly execTimeoutMs?: number;
  /** `compose build SERVICE…` (project-images.ts): a rebuild action's build, with the caller's credentials */
  readonly build: (project: Project, services: readonly string[], auth: RegistryAuth, emit: Emit, signal: AbortSignal) => Promise<number>;
  /** the image id a service's image name resolves to now (undefined: none) — for --prune */
  readonly imageOf: (project: Project, service: string) => Promise<string | undefined>;
  /** --prune: removes those of these images that no tag names and no container uses; the lines rmi prints */
  readonly removeIfDangling: (imageIds: readonly string[]) => Promise<string[]>;
}

type Emit = (e: EngineEvent) => void;

interface Active {
  /** aborted to end the watch (the caller went away, down, watch --stop, engine stop) */
  readonly end: AbortController;
  readonly detached: boolean;
  /** the services whose rules are watched (for ps) */
  readonly services: ReadonlySet<string>;
  /** why it ended, when something other than the caller ended it */
  reason?: string;
  /** the watch itself, once made */
  watch?: ProjectWatch;
  /** the containers of the project this watch has seen run: a start of any other is a fresh replica */
  readonly seen: Set<string>;
  /** settles once the watch is stopped and its stream answered */
  readonly done: Promise<void>;
}

interface StartOptions {
  readonly detached: boolean;
  readonly prune: boolean;
  readonly auth: RegistryAuth;
  /** the up to run before watching (absent: --no-up) */
  readonly up?: UpOptions;
}

/** The watches of one engine: at most one per project. */
export class Watches {
  private readonly active = new Map<string, Active>();

  constructor(private readonly d: WatchesDeps) {}

  /** How a project is watched (for ls). */
  mode(projectName: string): WatchMode {
    const a = this.active.get(projectName);
    return a === undefined ? '' : a.detached ? 'detached' : 'attached';
  }

  /** How a service is watched (for ps). */
  serviceMode(projectName: string, service: string): WatchMode {
    const a = this.active.get(projectName);
    return a === undefined || !a.services.has(service) ? '' : a.detached ? 'detached' : 'attached';
  }

  async watch(req: WatchRequest, emit: Emit, signal: AbortSignal): Promise<number> {
    const { project } = req;
    const detached = req.options.detach === true;
    const held = this.active.get(project.name);
    // a detached watch asked for again (up -d --watch after an edit of the compose file) replaces the one running
    if (held !== undefined && !(detached && held.detached)) throw this.busy(project.name, held);
    const { compiled, warnings } = compileProject(project, req.options.services);
    const send = (e: EngineEvent): void => { try { emit(e); } catch { /* the caller went away */ } };
    for (const text of warnings) send({ kind: 'warning', text, time: this.time() });
    if (held !== undefined) {
      await this.stopProject(project.name, 'replaced by a new detached watch');
      const again = this.active.get(project.name);
      if (again !== undefined) throw this.busy(project.name, again);
    }
    return this.run(project, compiled, req.options.services, {
      detached, prune: req.options.prune ?? true, auth: req.auth ?? {}, ...(req.options.up !== undefined ? { up: req.options.up } : {}),
    }, send, signal);
  }

  /** watch --stop: ends the project's watch and forgets a detached one (the containers keep running). */
  async watchStop(projectName: string): Promise<WatchStopped> {
    const entry = this.active.get(projectName);
    const recorded = this.forget(projectName);
    if (entry !== undefined) await this.stopProject(projectName, 'stopped by watch --stop');
    return { stopped: entry !== undefined || recorded, detached: entry?.detached ?? recorded };
  }

  /**
   * After an engine (re)start: every detached watch the store records runs again, on the model
   * of the project's last up; what changed on the host meanwhile is caught up. A watch that
   * cannot start (a rule's path is gone) is logged and stays recorded: the next start tries again.
   */
  async restore(): Promise<void> {
    // every recorded watch is claimed before the first await (run claims synchronously), so the
    // engine's first answer (ls, ps, a second watch) already sees them all
    const starting: Promise<void>[] = [];
    for (const name of this.d.store.names()) {
      const stored = this.d.store.load(name);
      if (stored?.watch === undefined || this.active.has(name)) continue;
      const failed = (err: unknown): void => this.d.log(`watch ${name}: the detached watch could not start again: ${(err as Error).message} (berth watch --stop forgets it)`);
      try {
        const { compiled, warnings } = compileProject(stored.project, stored.watch.services);
        for (const text of warnings) this.d.log(`watch ${name}: ${text}`);
        const since = stored.watch.since;
        starting.push(this.run(stored.project, compiled, stored.watch.services, { detached: true, prune: stored.watch.prune, auth: {} }, () => undefined, new AbortController().signal)
          .then(() => this.d.log(`watch ${name}: detached watch started again (asked for at ${since})`), failed));
      } catch (err) {
        failed(err);
      }
    }
    await Promise.all(starting);
  }

  /**
   * An up of a project that has a detached watch: the watch goes on with the new model (its
   * rules, its services), as if asked again; the credentials of the first request are kept.
   */
  async renew(project: Project, auth: RegistryAuth | undefined): Promise<void> {
    const held = this.active.get(project.name);
    const stored = this.d.store.load(project.name)?.watch;
    if (held === undefined || !held.detached || stored === undefined) return;
    await this.stopProject(project.name, 'the project was brought up again');
    try {
      const { compiled, warnings } = compileProject(project, stored.services);
      for (const text of warnings) this.d.log(`watch ${project.name}: ${text}`);
      await this.run(project, compiled, stored.services, { detached: true, prune: stored.prune, auth: auth ?? {} }, () => undefined, new AbortController().signal);
    } catch (err) {
      this.d.log(`watch ${project.name}: the detached watch could not go on after up: ${(err as Error).message}`);
    }
  }

  /** Ends a project's watch (down): what is gathered is applied first. */
  async stopProject(projectName: string, reason: string, opts: { readonly forget?: boolean } = {}): Promise<void> {
    if (opts.forget === true) this.forget(projectName);
    const entry = this.active.get(projectName);
    if (!entry) return;
    entry.reason ??= reason;
    entry.end.abort();
    await entry.done;
  }

  /** Ends every watch (engine stop); detached ones stay recorded and start again with the engine. */
  async stopAll(reason: string): Promise<void> {
    await Promise.all([...this.active.keys()].map((name) => this.stopProject(name, reason)));
  }

  /**
   * The supervisor's container events: a container of a watched service that starts for the
   * first time while the watch runs (scaled up, recreated by up or by a rebuild) gets what was
   * synced into its predecessors (ProjectWatch.resync), as initial_sync gives the first ones.
   */
  containerEvent(e: Extract<EngineEvent, { kind: 'container' }>): void {
    if (e.action === 'destroy') {
      for (const entry of this.active.values()) entry.seen.delete(e.containerId);
      return;
    }
    if (e.action !== 'start' || this.active.size === 0) return;
    let labels: Readonly<Record<string, string>>;
    try { labels = this.d.runtime.find(e.containerId).record.config.Labels; } catch { return; }
    const projectName = labels[LABEL.project];
    const service = labels[LABEL.service];
    const entry = projectName !== undefined ? this.active.get(projectName) : undefined;
    if (entry?.watch === undefined || service === undefined || labels[LABEL.oneoff] === 'True' || entry.seen.has(e.containerId)) return;
    entry.seen.add(e.containerId);
    if (!entry.services.has(service)) return;
    const watch = entry.watch;
    void watch.resync(service).then(
      () => this.d.log(`watch ${projectName}: synced the watched paths into a new container of "${service}" (${e.attributes['name'] ?? e.containerId.slice(0, 12)})`),
      (err: unknown) => this.d.log(`watch ${projectName}: syncing a new container of "${service}": ${(err as Error).message}`),
    );
  }

  private time(): string { return timeNow(this.d.clock); }

  private busy(projectName: string, held: Active): Conflict {
    return new Conflict(held.detached
      ? `project "${projectName}" is already being watched in the background: berth watch --stop ends that watch (or berth watch -d replaces it)`
      : `project "${projectName}" is already being watched: stop that watch first (Ctrl-C where it runs, or berth compose down)`);
  }

  private snapshotFile(projectName: string): string { return join(this.d.stateDir, `${projectName}.snapshot.json`); }

  /** Removes a detached watch from the project's state (and its snapshot); whether one was recorded. */
  private forget(projectName: string): boolean {
    rmSync(this.snapshotFile(projectName), { force: true });
    const stored = this.d.store.load(projectName);
    if (stored?.watch === undefined) return false;
    const { watch: _dropped, ...rest } = stored;
    this.d.store.save(rest);
    return true;
  }

  private record(project: Project, services: readonly string[], prune: boolean): void {
    const stored = this.d.store.load(project.name);
    this.d.store.save({ project: stored?.project ?? project, scale: stored?.scale ?? {}, watch: { services: [...services], prune, since: this.time() } });
  }

  /**
   * Claims the project, brings it up when asked, starts watching, says `ready`. Attached: until
   * the caller goes away or the watch is ended. Detached: returns once ready; the watch reports
   * to the engine log from then on and lives until watch --stop, down or the engine's stop.
   */
  private async run(project: Project, compiled: CompiledProject, selected: readonly string[], o: StartOptions, send: Emit, signal: AbortSignal): Promise<number> {
    const watched = [...new Set(compiled.rules.map((r) => r.service))].sort();
    let finished!: () => void;
    const entry: Active = { end: new AbortController(), detached: o.detached, services: new Set(watched), seen: new Set(), done: new Promise<void>((r) => { finished = r; }) };
    this.active.set(project.name, entry);
    // the caller's stream until a detached watch is ready, the engine log after
    let out: Emit = send;
    let ready = false;
    const onAbort = (): void => { if (!o.detached || !ready) entry.end.abort(); };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) entry.end.abort();
    let watch: ProjectWatch | undefined;
    const end = async (): Promise<void> => {
      try {
        await watch?.stop();
        // a detached watch forgotten (watch --stop, down) leaves no snapshot; one the engine's stop ended keeps it
        if (o.detached && this.d.store.load(project.name)?.watch === undefined) rmSync(this.snapshotFile(project.name), { force: true });
      } finally {
        this.active.delete(project.name);
        if (watch !== undefined) out({ kind: 'watch', resourceId: `project:${project.name}`, action: 'stopped', text: `Watch stopped${entry.reason !== undefined ? `: ${entry.reason}` : ''}`, time: this.time() });
        finished();
      }
    };
    try {
      if (o.up !== undefined) {
        const code = await this.d.compose.up({ project, options: o.up, auth: o.auth }, send, entry.end.signal);
        if (code !== 0) return code;
      }
      if (entry.end.signal.aborted) return 0;
      for (const v of projectViews(this.d.runtime, project.name)) entry.seen.add(v.record.id);
      entry.watch = watch = new ProjectWatch({
        sys: this.d.sys,
        clock: this.d.clock,
        helperPath: this.d.helperPath,
        project: compiled,
        allServices: new Map(Object.values(project.services).map((s) => [s.name, watchedService(s)])),
        effects: this.effects(project, o),
        onReport: (r) => {
          const e = reportEvent(r, this.time());
          // a detached watch has no terminal: the engine log is where its lines go
          if (e.action === 'error' || e.action === 'warning' || o.detached) this.d.log(`watch ${project.name}: ${e.text}`);
          out(e);
        },
        ...(o.detached ? { snapshotFile: this.snapshotFile(project.name) } : {}),
      });
      if (o.detached) mkdirSync(this.d.stateDir, { recursive: true, mode: 0o700 });
      await watch.start();
      if (o.detached) this.record(project, selected, o.prune);
      send({ kind: 'watch', resourceId: `project:${project.name}`, action: 'ready', text: `Watch enabled for ${watched.map((s) => `"${s}"`).join(', ')} (${watch.watchedRoots.length} ${watch.watchedRoots.length === 1 ? 'directory' : 'directories'})${o.detached ? ' in the background: berth watch --stop ends it' : ''}`, time: this.time() });
      ready = true;
      if (o.detached) {
        out = () => undefined;
        signal.removeEventListener('abort', onAbort);
        void waitAborted(entry.end.signal).then(end);
        return 0;
      }
      await waitAborted(entry.end.signal);
      return 0;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!o.detached || !ready) await end();
    }
  }

  private effects(project: Project, o: StartOptions): WatchEffects {
    const { runtime } = this.d;
    // restarts and recreates run to their end even when the watch is being stopped
    const never = new AbortController().signal;
    const failures = (run: (emit: Emit) => Promise<number>) => async (what: string): Promise<void> => {
      const failed: string[] = [];
      const code = await run((e) => {
        if (e.kind === 'operation' && e.status === 'failed') failed.push(e.text);
        if (e.kind === 'error') failed.push(e.error.message);
      });
      if (code !== 0) throw new Error(`${what} failed${failed.length > 0 ? `: ${failed.join('; ')}` : ''}`);
    };
    // --prune: the images a rebuild replaced, removed once their services are recreated
    const replaced = new Map<string, string>();
    return {
      async replicas(service): Promise<readonly Replica[]> {
        return projectViews(runtime, project.name)
          .filter((v) => v.record.config.Labels[LABEL.service] === service && v.record.config.Labels[LABEL.oneoff] !== 'True' && v.observed.status === 'running' && v.observed.started !== undefined)
          .map((v) => ({ containerId: v.record.id, pid: v.observed.started!.pid }));
      },
      restartService: (service) => failures((emit) => this.d.compose.restart(project.name, { services: [service] }, emit, never))(`restarting service "${service}"`),
      execInService: async (service, replica, exec) => {
        const r = await runtime.execCaptured(replica.containerId, hookExecRequest(exec), { timeoutMs: this.d.execTimeoutMs ?? 60_000 });
        const output = r.output.trim();
        if (r.timedOut) throw new Error(`service "${service}": ${exec.command.join(' ')} did not finish in ${(this.d.execTimeoutMs ?? 60_000) / 1000} s`);
        if (r.exitCode !== 0) throw new Error(`service "${service}": ${exec.command.join(' ')} exited with code ${r.exitCode}${output !== '' ? `: ${output.slice(0, 512)}` : ''}`);
      },
      // one build for the services that share it; the action layer recreates them only if it succeeded
      rebuildService: async (_buildKey, services) => {
        if (o.prune) for (const s of services) { const id = await this.d.imageOf(project, s).catch(() => undefined); if (id !== undefined && !replaced.has(s)) replaced.set(s, id); }
        await failures((emit) => this.d.build(project, services, o.auth, emit, never))(`rebuilding ${services.map((s) => `"${s}"`).join(', ')}`);
      },
      recreate: async (services) => {
        await failures((emit) => this.d.compose.up({ project, options: recreateOptions(services), auth: o.auth }, emit, never))(`recreating ${services.join(', ')}`);
        if (!o.prune) return;
        const old: string[] = [];
        for (const s of services) { const id = replaced.get(s); if (id !== undefined) { old.push(id); replaced.delete(s); } }
        if (old.length === 0) return;
        try {
          for (const line of await this.d.removeIfDangling([...new Set(old)])) this.d.log(`watch ${project.name}: --prune: ${line}`);
        } catch (err) {
          this.d.log(`watch ${project.name}: --prune: ${(err as Error).message}`);
        }
      },
    };
  }
}

function waitAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** `up --force-recreate --no-deps SERVICE…`, as a rebuild's recreate. */
function recreateOptions(services: readonly string[]): UpOptions {
  return { services, noDeps: true, forceRecreate: true, noRecreate: false, noStart: false, removeOrphans: false, scale: {}, wait: false, waitTimeout: 0 };
}

/** A service as src/watch sees it. */
function watchedService(s: Service): WatchedService {
  const build = s.build !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(s.build.context) && !s.build.context.startsWith('git@')
    ? { context: s.build.context, ...(s.build.dockerfile !== undefined ? { dockerfile: s.build.dockerfile } : {}) }
    : undefined;
  const dependsOn: Record<string, { restart: boolean }> = {};
  for (const [name, dep] of Object.entries(s.depends_on)) dependsOn[name] = { restart: dep.restart };
  return {
    name: s.name,
    rules: s.develop?.watch ?? [],
    ...(build !== undefined ? { build } : {}),
    ...(s.build !== undefined ? { buildKey: buildKey(s) } : {}),
    ...(s.working_dir !== undefined ? { workingDir: s.working_dir } : {}),
    dependsOn,
  };
}

/** Services whose build specs are equal share one build. */
function buildKey(s: Service): string {
  const b = s.build!;
  return createHash('sha256').update(JSON.stringify([b.context, b.dockerfile ?? null, b.dockerfile_inline ?? null, b.args, b.target ?? null])).digest('hex').slice(0, 16);
}

/**
 * The rules of the selected services (all that have develop.watch when none is named), compiled;
 * every bad rule is named in one InvalidArgument. Reads only the rule paths' kinds and the build
 * contexts' ignore files.
 */
export function compileProject(project: Project, selected: readonly string[]): { compiled: CompiledProject; warnings: string[] } {
  const warnings: string[] = [];
  for (const name of selected) if (!project.services[name]) throw new NotFound(`no such service: ${name}`);
  const names = selected.length > 0 ? selected : Object.keys(project.services).sort();
  const services = names.map((n) => project.services[n]!).filter((s) => (s.develop?.watch.length ?? 0) > 0);
  for (const name of selected) if ((project.services[name]!.develop?.watch.length ?? 0) === 0) warnings.push(`service "${name}" has no develop.watch rules: it is not watched`);
  if (services.length === 0) throw new InvalidArgument(`none of the selected services is configured for watch: add a develop.watch section to ${selected.length === 1 ? `service "${selected[0]}"` : 'a service'} (docs/watch.md)`);

  const mapped = services.map(watchedService);
  const pathKinds = new Map<string, PathKind>();
  const ignoreFiles = new Map<string, IgnoreFile>();
  for (const svc of mapped) {
    for (const [i, rule] of svc.rules.entries()) {
      pathKinds.set(rule.path, pathKind(rule.path));
      if (rule.action === 'rebuild' && svc.buildKey === undefined) warnings.push(`service "${svc.name}" develop.watch[${i}]: action rebuild, but the service has no build section: a change under ${rule.path} cannot rebuild anything`);
    }
    if (svc.build !== undefined) {
      const dockerfile = svc.build.dockerfile !== undefined ? posix.resolve(svc.build.context, svc.build.dockerfile) : join(svc.build.context, 'Dockerfile');
      for (const file of ignoreFileCandidates(svc.build.context, dockerfile)) {
        let text: string;
        try { text = readFileSync(file, 'utf8'); } catch { continue; }
        ignoreFiles.set(svc.name, { file, text });
        break;
      }
    }
  }
  const compiled = compileRules({ services: mapped, pathKinds, ignoreFiles, composeFiles: project.compose_files });
  return { compiled, warnings };
}

function pathKind(path: string): PathKind {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** A watch report as an engine event, in docker compose's words where it has some. */
export function reportEvent(r: WatchReport, time: string): Extract<EngineEvent, { kind: 'watch' }> {
  const ev = (resourceId: string, action: WatchAction, text: string, files?: readonly string[]): Extract<EngineEvent, { kind: 'watch' }> =>
    ({ kind: 'watch', resourceId, action, text, ...(files !== undefined ? { files: files.slice(0, 100) } : {}), time });
  switch (r.kind) {
    case 'batch':
      return ev('project', 'batch', r.rescan ? `rescanning after ${plural(r.events, 'event')}` : `${plural(r.paths, 'changed path')}`);
    case 'synced': {
      const s = r.stats;
      const what = [s.written > 0 ? `${s.written} written` : '', s.removed > 0 ? `${s.removed} removed` : '', s.dirs > 0 ? `${plural(s.dirs, 'directory', 'directories')}` : '', s.links > 0 ? plural(s.links, 'link') : ''].filter((x) => x !== '').join(', ');
      const where = r.replicas === 0 ? 'no running container: nothing synced' : `${plural(r.replicas, 'container')}${what !== '' ? `: ${what}` : ''}`;
      return ev(`service:${r.service}`, 'synced', `${r.initial ? 'Initial sync of' : 'Syncing'} service "${r.service}" after ${plural(r.paths.length, 'changed file')} (${where}, ${Math.round(r.ms)} ms)`, r.paths);
    }
    case 'built':
      return ev(`service:${r.services[0] ?? ''}`, 'built', `Rebuilt ${r.services.map((s) => `"${s}"`).join(', ')} (${Math.round(r.ms)} ms)`);
    case 'recreated':
      return ev(`service:${r.services[0] ?? ''}`, 'recreated', `Recreated ${r.services.map((s) => `"${s}"`).join(', ')} (${Math.round(r.ms)} ms)`);
    case 'restarted':
      return ev(`service:${r.service}`, 'restarted', `Restarted service "${r.service}" (${Math.round(r.ms)} ms)`);
    case 'executed':
      return ev(`service:${r.service}`, 'executed', `Ran "${r.command.join(' ')}" in service "${r.service}" (${r.containerId.slice(0, 12)}, ${Math.round(r.ms)} ms)`);
    case 'caught-up':
      return ev('project', 'caught-up', `Caught up ${plural(r.paths, 'path')} changed while nothing watched`);
    case 'warning':
      return ev('project', 'warning', r.message);
    case 'error':
      return ev(r.service !== undefined ? `service:${r.service}` : 'project', 'error', r.message);
  }
}
