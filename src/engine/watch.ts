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
import { readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { EngineEvent, UpOptions, WatchAction, WatchRequest } from '../api/types.js';
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
import { projectViews } from './observe.js';
import { LABEL } from './service-container.js';
import { now as timeNow } from './supervisor.js';

export interface WatchesDeps {
  readonly runtime: ContainerRuntime;
  readonly sys: Sys;
  readonly clock: Clock;
  /** native/build/berth-notify */
  readonly helperPath: string;
  readonly compose: Pick<ProjectVerbs, 'up' | 'restart'>;
  /** the engine log */
  readonly log: (line: string) => void;
  /** how long a sync+exec command may run; default 60 s */
  readonly execTimeoutMs?: number;
  /** `compose build SERVICE…` (project-images.ts): a rebuild action's build */
  readonly build: (project: Project, services: readonly string[], emit: Emit, signal: AbortSignal) => Promise<number>;
}

type Emit = (e: EngineEvent) => void;

interface Active {
  /** aborted to end the watch (the caller went away, down, engine stop) */
  readonly end: AbortController;
  /** why it ended, when something other than the caller ended it */
  reason?: string;
  /** settles once the watch is stopped and its stream answered */
  readonly done: Promise<void>;
}

/** The watches of one engine: at most one per project. */
export class Watches {
  private readonly active = new Map<string, Active>();

  constructor(private readonly d: WatchesDeps) {}

  /** Whether a project is being watched (for ls/ps). */
  watching(projectName: string): boolean { return this.active.has(projectName); }

  async watch(req: WatchRequest, emit: Emit, signal: AbortSignal): Promise<number> {
    const { project } = req;
    if (this.active.has(project.name)) throw new Conflict(`project "${project.name}" is already being watched: stop that watch first (Ctrl-C where it runs, or berth compose down)`);
    const { compiled, warnings } = compileProject(project, req.options.services);
    const send = (e: EngineEvent): void => { try { emit(e); } catch { /* the caller went away */ } };
    const time = (): string => timeNow(this.d.clock);
    for (const text of warnings) send({ kind: 'warning', text, time: time() });

    let finished!: () => void;
    const entry: Active = { end: new AbortController(), done: new Promise<void>((r) => { finished = r; }) };
    this.active.set(project.name, entry);
    const onAbort = (): void => entry.end.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) entry.end.abort();
    let watch: ProjectWatch | undefined;
    try {
      if (req.options.up !== undefined) {
        const code = await this.d.compose.up({ project, options: req.options.up }, send, entry.end.signal);
        if (code !== 0) return code;
      }
      if (entry.end.signal.aborted) return 0;
      const watched = [...new Set(compiled.rules.map((r) => r.service))].sort();
      watch = new ProjectWatch({
        sys: this.d.sys,
        clock: this.d.clock,
        helperPath: this.d.helperPath,
        project: compiled,
        allServices: new Map(Object.values(project.services).map((s) => [s.name, watchedService(s)])),
        effects: this.effects(project),
        onReport: (r) => {
          const e = reportEvent(r, time());
          if (e.action === 'error' || e.action === 'warning') this.d.log(`watch ${project.name}: ${e.text}`);
          send(e);
        },
      });
      await watch.start();
      send({ kind: 'watch', resourceId: `project:${project.name}`, action: 'ready', text: `Watch enabled for ${watched.map((s) => `"${s}"`).join(', ')} (${watch.watchedRoots.length} ${watch.watchedRoots.length === 1 ? 'directory' : 'directories'})`, time: time() });
      await new Promise<void>((resolve) => {
        if (entry.end.signal.aborted) resolve();
        else entry.end.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return 0;
    } finally {
      signal.removeEventListener('abort', onAbort);
      try {
        await watch?.stop();
      } finally {
        this.active.delete(project.name);
        if (watch !== undefined) send({ kind: 'watch', resourceId: `project:${project.name}`, action: 'stopped', text: `Watch stopped${entry.reason !== undefined ? `: ${entry.reason}` : ''}`, time: time() });
        finished();
      }
    }
  }

  /** Ends a project's watch (down): what is gathered is applied first. */
  async stopProject(projectName: string, reason: string): Promise<void> {
    const entry = this.active.get(projectName);
    if (!entry) return;
    entry.reason ??= reason;
    entry.end.abort();
    await entry.done;
  }

  /** Ends every watch (engine stop). */
  async stopAll(reason: string): Promise<void> {
    await Promise.all([...this.active.keys()].map((name) => this.stopProject(name, reason)));
  }

  private effects(project: Project): WatchEffects {
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
    return {
      async replicas(service): Promise<readonly Replica[]> {
        return projectViews(runtime, project.name)
          .filter((v) => v.record.config.Labels[LABEL.service] === service && v.record.config.Labels[LABEL.oneoff] !== 'True' && v.observed.status === 'running' && v.observed.started !== undefined)
          .map((v) => ({ containerId: v.record.id, pid: v.observed.started!.pid }));
      },
      restartService: (service) => failures((emit) => this.d.compose.restart(project.name, { services: [service] }, emit, never))(`restarting service "${service}"`),
      execInService: async (service, replica, exec) => {
        const env = Object.entries(exec.environment).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
        const r = await runtime.execCaptured(replica.containerId, {
          args: exec.command, env, tty: false, stdin: false,
          ...(exec.user !== undefined ? { user: exec.user } : {}),
          ...(exec.working_dir !== undefined ? { workdir: exec.working_dir } : {}),
        }, { timeoutMs: this.d.execTimeoutMs ?? 60_000 });
        const output = r.output.trim();
        if (r.timedOut) throw new Error(`service "${service}": ${exec.command.join(' ')} did not finish in ${(this.d.execTimeoutMs ?? 60_000) / 1000} s`);
        if (r.exitCode !== 0) throw new Error(`service "${service}": ${exec.command.join(' ')} exited with code ${r.exitCode}${output !== '' ? `: ${output.slice(0, 512)}` : ''}`);
      },
      // one build for the services that share it; the action layer recreates them only if it succeeded
      rebuildService: (_buildKey, services) => failures((emit) => this.d.build(project, services, emit, never))(`rebuilding ${services.map((s) => `"${s}"`).join(', ')}`),
      recreate: (services) => failures((emit) => this.d.compose.up({ project, options: recreateOptions(services) }, emit, never))(`recreating ${services.join(', ')}`),
    };
  }
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
