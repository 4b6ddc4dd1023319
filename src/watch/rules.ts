// The compose `develop.watch` rules of a project, compiled: which host paths each rule covers,
// which it ignores, where a path lands in the container, and what one batch of changed paths asks
// each service to do. Pure: the callers stat the rule paths and read the ignore files.
//
// A path changed on the host counts for a rule when it lies under the rule's `path` (or is that
// file) and none of these ignores it:
// - `.git/` anywhere, and editor temp files (vim's `*.swp`/`*.swo`/`*.swx` and its `4913` probe,
//   backups `*~`, emacs' `.#*` locks and `#*#` autosaves, JetBrains' `*___jb_tmp___`/`___jb_old___`,
//   `.DS_Store`): never a change anyone meant;
// - the rule's `ignore` patterns (relative to the rule's path, .dockerignore syntax with `!`);
// - the service's build context's `.dockerignore` — or `<Dockerfile>.dockerignore` when it exists,
//   as the builder reads it — for paths inside the context (docker/compose#12236: `!` exceptions
//   honoured; #12191: the Dockerfile's own ignore file);
// - for the sync actions, the Dockerfile and the compose files: never copied into a container;
// and, when the rule has `include` patterns, one of them matches it (compose's `include`).
// A rule's `rebuild`/`restart` still fires on a Dockerfile change: that is what it is for.
import { posix } from 'node:path';
import { InvalidArgument } from '../lib/errors.js';
import { compileIgnore, type IgnoreMatcher } from '../lib/dockerignore.js';
import type { WatchRule, WatchAction } from '../spec/model.js';

export type PathKind = 'dir' | 'file' | 'missing';

/** What watch needs of one service (the engine maps its Service onto this). */
export interface WatchedService {
  readonly name: string;
  readonly rules: readonly WatchRule[];
  /** absolute build context and Dockerfile when the service is built */
  readonly build?: { readonly context: string; readonly dockerfile?: string };
  /** services sharing this key share one image build (rebuilt once per batch) */
  readonly buildKey?: string;
  /** where a relative `target` is resolved (the service's working_dir; "/" when unset) */
  readonly workingDir?: string;
  /** depends_on of the service: name → whether a restart/recreate of it restarts this one */
  readonly dependsOn: Readonly<Record<string, { readonly restart: boolean }>>;
}

/** The text of the ignore file the builder would use for a service's context, if any. */
export interface IgnoreFile { readonly file: string; readonly text: string }

export interface CompileInput {
  readonly services: readonly WatchedService[];
  /** every rule path's kind, stat'ed by the caller (missing ones are an error) */
  readonly pathKinds: ReadonlyMap<string, PathKind>;
  /** per service name, its context's ignore file (.dockerignore or <Dockerfile>.dockerignore) */
  readonly ignoreFiles: ReadonlyMap<string, IgnoreFile>;
  /** the project's compose files (absolute): never synced */
  readonly composeFiles: readonly string[];
}

export interface CompiledRule {
  readonly service: string;
  /** index in the service's develop.watch, for messages ("develop.watch[1]") */
  readonly index: number;
  readonly action: WatchAction;
  /** absolute host path */
  readonly path: string;
  readonly kind: 'dir' | 'file';
  /** absolute, normalized container path (sync actions) */
  readonly target?: string;
  readonly exec?: WatchRule['exec'];
  readonly initialSync: boolean;
  readonly ignore: IgnoreMatcher;
  readonly include?: IgnoreMatcher;
  readonly context?: string;
  readonly contextIgnore?: IgnoreMatcher;
  /** absolute paths never synced (Dockerfile, its ignore file, compose files) */
  readonly neverSync: ReadonlySet<string>;
}

export interface CompiledProject {
  readonly rules: readonly CompiledRule[];
  readonly services: ReadonlyMap<string, WatchedService>;
}

const EDITOR_TEMP: readonly RegExp[] = [
  /\.sw[a-p]$/, /\.swx$/, /^4913$/, /~$/, /^\.#/, /^#.*#$/, /___jb_(tmp|old)___$/, /^\.DS_Store$/,
];
const COMPOSE_FILE = /^(docker-)?compose([.-][^/]*)?\.ya?ml$/;

const isSyncAction = (a: WatchAction): boolean => a === 'sync' || a === 'sync+restart' || a === 'sync+exec';

/** Whether a name is an editor's temporary or backup file. */
export function isEditorTemp(name: string): boolean {
  return EDITOR_TEMP.some((re) => re.test(name));
}

/** The path of `abs` relative to `dir` when it lies inside it ("" for dir itself). */
export function inside(dir: string, abs: string): string | undefined {
  if (abs === dir) return '';
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return abs.startsWith(prefix) ? abs.slice(prefix.length) : undefined;
}

/**
 * Compiles every watched service's rules. Throws InvalidArgument naming every rule whose path is
 * missing, whose target is unusable, or whose patterns do not compile.
 */
export function compileRules(input: CompileInput): CompiledProject {
  const problems: string[] = [];
  const rules: CompiledRule[] = [];
  const services = new Map<string, WatchedService>();
  for (const svc of input.services) {
    services.set(svc.name, svc);
    const ignoreFile = input.ignoreFiles.get(svc.name);
    let contextIgnore: IgnoreMatcher | undefined;
    if (ignoreFile !== undefined) {
      try { contextIgnore = compileIgnore(ignoreFile.text, ignoreFile.file); } catch (err) { problems.push(`service "${svc.name}": ${(err as Error).message}`); }
    }
    const neverSync = new Set(input.composeFiles);
    if (svc.build?.dockerfile !== undefined) {
      const df = posix.resolve(svc.build.context, svc.build.dockerfile);
      neverSync.add(df);
      neverSync.add(`${df}.dockerignore`);
    }
    svc.rules.forEach((rule, index) => {
      const where = `service "${svc.name}" develop.watch[${index}]`;
      const kind = input.pathKinds.get(rule.path) ?? 'missing';
      if (kind === 'missing') { problems.push(`${where}: path ${rule.path} does not exist`); return; }
      let target: string | undefined;
      if (isSyncAction(rule.action)) {
        if (rule.target === undefined || rule.target === '') { problems.push(`${where}: the ${rule.action} action needs a target`); return; }
        if (rule.target.includes('\0')) { problems.push(`${where}: target holds a NUL byte`); return; }
        target = posix.resolve(svc.workingDir && svc.workingDir.startsWith('/') ? svc.workingDir : '/', rule.target);
      }
      if (rule.action === 'sync+exec' && (rule.exec === undefined || rule.exec.command.length === 0)) { problems.push(`${where}: the sync+exec action needs an exec command`); return; }
      let ignore: IgnoreMatcher;
      let include: IgnoreMatcher | undefined;
      try {
        ignore = compileIgnore(rule.ignore, `${where}.ignore`);
        include = rule.include.length > 0 ? compileIgnore(rule.include, `${where}.include`) : undefined;
      } catch (err) { problems.push((err as Error).message); return; }
      rules.push({
        service: svc.name, index, action: rule.action, path: rule.path, kind, target, exec: rule.exec, initialSync: rule.initial_sync,
        ignore, include, context: svc.build?.context, contextIgnore, neverSync,
      });
    });
  }
  if (problems.length > 0) throw new InvalidArgument(`watch cannot start:\n  ${problems.join('\n  ')}`);
  return { rules, services };
}

/** Whether the rule ignores `abs` (a path under the rule). */
export function ignores(rule: CompiledRule, abs: string): boolean {
  const rel = inside(rule.path, abs);
  if (rel === undefined) return true;
  const parts = rel === '' ? [] : rel.split('/');
  if (parts.includes('.git')) return true;
  const base = parts.length > 0 ? parts[parts.length - 1]! : posix.basename(abs);
  if (isEditorTemp(base)) return true;
  if (rel !== '' && rule.ignore.excludes(rel)) return true;
  if (rule.contextIgnore !== undefined && rule.context !== undefined) {
    const inContext = inside(rule.context, abs);
    if (inContext !== undefined && inContext !== '' && rule.contextIgnore.excludes(inContext)) return true;
  }
  if (isSyncAction(rule.action) && (rule.neverSync.has(abs) || base === 'Dockerfile' || COMPOSE_FILE.test(base))) return true;
  if (rule.include !== undefined && rel !== '' && !rule.include.excludes(rel)) return true;
  return false;
}

/**
 * Whether the watcher should watch (and walk) directory `abs` for this rule: false only when the
 * rule ignores the whole directory and no `!` exception could bring anything below it back.
 */
export function wantsDirectory(rule: CompiledRule, abs: string): boolean {
  if (rule.kind === 'file') return abs === posix.dirname(rule.path);
  const rel = inside(rule.path, abs);
  if (rel === undefined) return false;
  if (rel === '') return true;
  const parts = rel.split('/');
  if (parts.includes('.git')) return false;
  if (rule.ignore.excludes(rel) && rule.ignore.canSkipDirectory(rel)) return false;
  if (rule.contextIgnore !== undefined && rule.context !== undefined) {
    const inContext = inside(rule.context, abs);
    if (inContext !== undefined && inContext !== '' && rule.contextIgnore.excludes(inContext) && rule.contextIgnore.canSkipDirectory(inContext)) return false;
  }
  return true;
}

/**
 * Where `abs` lands in the container for a sync rule: the target joined with the path below the
 * rule's path (a file rule's own file is the target). Undefined when it would leave the target.
 */
export function containerPath(rule: CompiledRule, abs: string): string | undefined {
  if (rule.target === undefined) return undefined;
  const rel = rule.kind === 'file' ? (abs === rule.path ? '' : undefined) : inside(rule.path, abs);
  if (rel === undefined) return undefined;
  if (rel === '') return rule.target;
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0'))) return undefined;
  return rule.target === '/' ? `/${rel}` : `${rule.target}/${rel}`;
}

/** Whether the rule covers `abs` at all (under its path, or its file). */
export function covers(rule: CompiledRule, abs: string): boolean {
  return rule.kind === 'file' ? abs === rule.path : inside(rule.path, abs) !== undefined;
}

/** A directory the notifier watches: recursive for directory rules, just itself for file rules. */
export interface WatchRoot { readonly path: string; readonly recursive: boolean }

/**
 * The fewest directories to watch for these rules: a rule's directory recursively, a file rule's
 * parent directory alone; a directory inside a recursive one is not watched twice (inotify would
 * hand both the same watch).
 */
export function watchRoots(rules: readonly CompiledRule[]): WatchRoot[] {
  const wanted = new Map<string, boolean>();
  for (const r of rules) {
    const dir = r.kind === 'dir' ? r.path : posix.dirname(r.path);
    wanted.set(dir, (wanted.get(dir) ?? false) || r.kind === 'dir');
  }
  const recursive = [...wanted].filter(([, rec]) => rec).map(([d]) => d);
  const out: WatchRoot[] = [];
  for (const [path, rec] of [...wanted].sort(([a], [b]) => a.localeCompare(b))) {
    if (recursive.some((r) => r !== path && inside(r, path) !== undefined)) continue;
    out.push({ path, recursive: rec });
  }
  return out;
}

/** What one batch asks of one service. */
export interface ServiceBatch {
  readonly service: string;
  /** per sync rule, the host paths (absolute) to bring into the containers */
  readonly syncs: ReadonlyMap<CompiledRule, readonly string[]>;
  /** restart the service after syncing (sync+restart, restart) */
  readonly restart: boolean;
  /** sync+exec rules whose command runs after syncing */
  readonly execs: readonly CompiledRule[];
  /** rebuild the image and recreate (supersedes the rest: a new container gets the new files) */
  readonly rebuild: boolean;
  /** the changed host paths that counted, for the report */
  readonly changed: readonly string[];
}

/** What one batch asks of the project: the engine's effects carry it out in this order. */
export interface BatchPlan {
  readonly services: readonly ServiceBatch[];
  /** image builds to run, one per distinct buildKey: key → services built from it */
  readonly builds: ReadonlyMap<string, readonly string[]>;
  /** services to recreate: the rebuilt ones and their depends_on.restart dependents */
  readonly recreate: readonly string[];
  /** for each recreated dependent, the rebuilt services it is recreated for (if all their builds fail, it is left alone) */
  readonly recreateFor: ReadonlyMap<string, readonly string[]>;
  /** services to restart: sync+restart/restart ones and their depends_on.restart dependents, minus recreated ones */
  readonly restart: readonly string[];
}

/** The services that depend on any of `names` with `restart: true`, transitively (not `names` themselves). */
export function restartDependents(project: CompiledProject, names: Iterable<string>): string[] {
  const seen = new Set(names);
  const start = new Set(seen);
  const queue = [...seen];
  const all = [...project.services.values()];
  while (queue.length > 0) {
    const dep = queue.shift()!;
    for (const s of all) {
      if (!seen.has(s.name) && s.dependsOn[dep]?.restart === true) { seen.add(s.name); queue.push(s.name); }
    }
  }
  return [...seen].filter((n) => !start.has(n)).sort();
}

/**
 * Routes a batch of changed host paths (absolute) through the rules: per service, what to sync,
 * restart, exec or rebuild; builds deduplicated by buildKey; dependents added.
 * `extraDependents` are services outside the watched set that depend on watched ones.
 */
export function planBatch(project: CompiledProject, changed: Iterable<string>, allServices?: ReadonlyMap<string, Pick<WatchedService, 'name' | 'dependsOn'>>): BatchPlan {
  const per = new Map<string, { syncs: Map<CompiledRule, string[]>; restart: boolean; execs: Set<CompiledRule>; rebuild: boolean; changed: Set<string> }>();
  const paths = [...changed].sort();
  for (const abs of paths) {
    for (const rule of project.rules) {
      if (!covers(rule, abs) || ignores(rule, abs)) continue;
      let s = per.get(rule.service);
      if (!s) { s = { syncs: new Map(), restart: false, execs: new Set(), rebuild: false, changed: new Set() }; per.set(rule.service, s); }
      s.changed.add(abs);
      switch (rule.action) {
        case 'rebuild': s.rebuild = true; break;
        case 'restart': s.restart = true; break;
        default: {
          const list = s.syncs.get(rule) ?? [];
          list.push(abs);
          s.syncs.set(rule, list);
          if (rule.action === 'sync+restart') s.restart = true;
          if (rule.action === 'sync+exec') s.execs.add(rule);
        }
      }
    }
  }
  const services: ServiceBatch[] = [...per.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([service, s]) => (
    s.rebuild
      ? { service, syncs: new Map(), restart: false, execs: [], rebuild: true, changed: [...s.changed] }
      : { service, syncs: s.syncs, restart: s.restart, execs: [...s.execs], rebuild: false, changed: [...s.changed] }
  ));
  const graph: CompiledProject = allServices ? { rules: project.rules, services: allServices as ReadonlyMap<string, WatchedService> } : project;
  const builds = new Map<string, string[]>();
  const rebuilt = services.filter((s) => s.rebuild).map((s) => s.service);
  for (const name of rebuilt) {
    const key = project.services.get(name)?.buildKey ?? `service:${name}`;
    builds.set(key, [...(builds.get(key) ?? []), name]);
  }
  // a service sharing a rebuilt image is recreated too, or it would keep running the old one
  const recreateSet = new Set<string>();
  for (const [key, names] of builds) {
    for (const n of names) recreateSet.add(n);
    for (const s of project.services.values()) if (s.buildKey === key && !recreateSet.has(s.name)) { recreateSet.add(s.name); names.push(s.name); }
  }
  const recreateFor = new Map<string, string[]>();
  for (const r of [...recreateSet]) {
    for (const d of restartDependents(graph, [r])) {
      if (recreateSet.has(d) && !recreateFor.has(d)) continue; // rebuilt itself
      recreateFor.set(d, [...(recreateFor.get(d) ?? []), r]);
    }
  }
  for (const d of recreateFor.keys()) recreateSet.add(d);
  const restartSet = new Set(services.filter((s) => s.restart).map((s) => s.service));
  for (const d of restartDependents(graph, [...restartSet])) restartSet.add(d);
  for (const r of recreateSet) restartSet.delete(r);
  return { services, builds, recreate: [...recreateSet].sort(), recreateFor, restart: [...restartSet].sort() };
}

/** A plan as text, one line per step (golden tests and the debug log). */
export function formatPlan(plan: BatchPlan): string {
  const lines: string[] = [];
  for (const s of plan.services) {
    for (const [rule, paths] of s.syncs) lines.push(`sync ${s.service} develop.watch[${rule.index}] → ${rule.target}: ${paths.length} path${paths.length === 1 ? '' : 's'}`);
  }
  for (const [key, names] of plan.builds) lines.push(`build ${key} for ${names.join(', ')}`);
  for (const n of plan.recreate) lines.push(`recreate ${n}`);
  for (const n of plan.restart) lines.push(`restart ${n}`);
  for (const s of plan.services) for (const r of s.execs) lines.push(`exec ${s.service} develop.watch[${r.index}]: ${r.exec!.command.join(' ')}`);
  return lines.join('\n');
}
