// The loading pipeline, phases in order (docs/spec-pipeline.md):
//   1 files      which compose files, which project directory, which .env
//   2 parse      YAML → tree with positions                              (parse.ts)
//   3 interpolate ${VAR} in values, then type casts                      (interpolate.ts)
//   4 validate   berth's JSON schema, per file                           (validate.ts)
//   5 include    included projects' resources join the file              (include in this file)
//   6 extends    services built on other services                        (extends.ts)
//   7 paths      relative paths → absolute, per file's own directory     (resolve-paths.ts)
//   8 merge      the files, in order                                     (merge.ts)
//   9 canonical + defaults → typed model                                 (normalize.ts, canonical/)
//  10 profiles   active vs disabled services                             (profiles.ts)
//  11 semantic + consistency  references, cycles, compose's other rules  (semantic.ts, consistency.ts)
//  12 dependencies  the depends_on compose adds (links, volumes_from, ...) (dependencies.ts)
// Pure: file contents come through a FileSource, the environment is a parameter.
import { SpecError, type SpecIssue } from './errors.js';
import { parseDotenv, DotenvError } from './dotenv.js';
import { applyExtends } from './extends.js';
import { interpolateTree, type Lookup } from './interpolate.js';
import { mergeTrees } from './merge.js';
import type { Network, Project } from './model.js';
import { normalize } from './normalize.js';
import { parseYaml } from './parse.js';
import { allProfiles, splitByProfiles } from './profiles.js';
import { dirname, resolvePath, resolveTopLevelPaths } from './resolve-paths.js';
import { checkSemantics } from './semantic.js';
import { adopt, adoptChild, isMap, issueAt, issueAtPos, newMap, type Tree, type TreeMap } from './tree.js';
import { validateTree } from './validate.js';
import { pruneIssues, withoutServices } from './prune.js';
import { checkConsistency } from './consistency.js';
import { withImplicitDependencies, withoutDisabledDependencies } from './dependencies.js';
import { FileRefused, READABLE_FILE } from './limits.js';

export interface FileSource {
  /**
   * The file's text; undefined when it does not exist. Throws FileRefused (limits.ts) for a file
   * the loader must not read: not a regular file (a FIFO, a device), or above the size limit.
   */
  read(path: string): string | undefined;
  isFile(path: string): boolean;
  isDir(path: string): boolean;
}

export interface LoadOptions {
  readonly files?: readonly string[];
  readonly projectName?: string;
  readonly projectDirectory?: string;
  readonly envFiles?: readonly string[];
  readonly profiles?: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** contents of stdin, for `-f -` */
  readonly stdin?: string;
  /**
   * docker compose's consistency checks (references to undefined services, networks, volumes,
   * secrets and configs; dependency cycles; a service without image or build; duplicate
   * container names; ...). true unless `--no-consistency`.
   */
  readonly consistency?: boolean;
}

export interface LoadResult {
  readonly project: Project;
  readonly warnings: string[];
  /**
   * The COMPOSE_* variables of the project's environment (the shell, then the .env files), for
   * the verbs that honour them (COMPOSE_REMOVE_ORPHANS, COMPOSE_IGNORE_ORPHANS, ...).
   */
  readonly composeEnv: Readonly<Record<string, string>>;
}

/**
 * The COMPOSE_* variables docker compose reads from the project's environment. Looked up by name
 * (the environment is never enumerated, so that a load stays cacheable).
 */
export const COMPOSE_VARIABLES = [
  'COMPOSE_PROJECT_NAME', 'COMPOSE_FILE', 'COMPOSE_PATH_SEPARATOR', 'COMPOSE_PROFILES', 'COMPOSE_REMOVE_ORPHANS',
  'COMPOSE_IGNORE_ORPHANS', 'COMPOSE_PARALLEL_LIMIT', 'COMPOSE_ANSI', 'COMPOSE_STATUS_STDOUT', 'COMPOSE_PROGRESS',
  'COMPOSE_MENU', 'COMPOSE_EXPERIMENTAL', 'COMPOSE_CONVERT_WINDOWS_PATHS',
] as const;

export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;
const STDIN = '<stdin>';

/** Docker compose's project-name rule: lower case letters, digits, "_" and "-", starting with a letter or digit. */
export const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

function basename(p: string): string { const i = p.replace(/\/+$/, '').lastIndexOf('/'); return p.replace(/\/+$/, '').slice(i + 1); }

/** 1 · files: -f, else COMPOSE_FILE, else the first default name found upward from cwd, plus its override twin. */
export function findComposeFiles(opts: LoadOptions, fs: FileSource, composeFileVar: string | undefined, pathSeparator?: string): string[] {
  if (opts.files && opts.files.length > 0) return opts.files.map((f) => (f === '-' ? STDIN : resolvePath(opts.cwd, f)));
  if (composeFileVar) {
    const sep = pathSeparator || ':';
    return composeFileVar.split(sep).filter((s) => s !== '').map((f) => resolvePath(opts.cwd, f));
  }
  let dir = opts.projectDirectory ? resolvePath(opts.cwd, opts.projectDirectory) : opts.cwd;
  for (;;) {
    for (const name of DEFAULT_FILE_NAMES) {
      const p = `${dir === '/' ? '' : dir}/${name}`;
      if (fs.isFile(p)) {
        const stem = name.replace(/\.ya?ml$/, '');
        const out = [p];
        for (const ext of ['yaml', 'yml']) {
          const o = `${dir === '/' ? '' : dir}/${stem}.override.${ext}`;
          if (fs.isFile(o)) { out.push(o); break; }
        }
        return out;
      }
    }
    if (dir === '/') break;
    dir = dirname(dir);
  }
  throw new SpecError([{ file: '', line: 0, col: 0, keyPath: '', expected: `a compose file (${DEFAULT_FILE_NAMES.join(', ')}) in ${opts.cwd} or a parent directory, or -f FILE`, found: 'none' }]);
}

interface FileCtx {
  readonly fs: FileSource;
  readonly sources: Map<string, string>;
  readonly issues: SpecIssue[];
  readonly unset: Set<string>;
  readonly home: string | undefined;
  readonly stdin: string | undefined;
  /** files being loaded (include/extends cycle guard) */
  readonly loading: string[];
  readonly cache: Map<string, TreeMap | undefined>;
  /** the project directory: what a file read from stdin is relative to */
  readonly projectDir: string;
  /** by file: services cut out for a problem already reported (prune.ts), and those extending them */
  readonly broken: Map<string, Set<string>>;
  /** a problem that could not be cut around was found: the project is not normalized */
  fatal: boolean;
}

/** The directory a file's relative references (extends.file, include) are resolved against. */
function dirOf(ctx: FileCtx, file: string): string { return file === STDIN ? ctx.projectDir : dirname(file); }
function brokenIn(ctx: FileCtx, file: string): Set<string> {
  let set = ctx.broken.get(file);
  if (!set) { set = new Set(); ctx.broken.set(file, set); }
  return set;
}

/**
 * 2–7 for one file: parse, interpolate, validate, include, extends, paths. Problems are recorded
 * in ctx.issues; the parts they are in are cut out (prune.ts) and the rest goes on, so that later
 * phases still report their own problems. undefined when the file could not be read or parsed.
 */
function loadFile(ctx: FileCtx, path: string, lookup: Lookup, baseDir: string, from?: { tree: TreeMap; path: (string | number)[] }): TreeMap | undefined {
  const cacheKey = `${path}\u0000${baseDir}`;
  if (ctx.cache.has(cacheKey)) return ctx.cache.get(cacheKey);
  if (ctx.loading.includes(path)) {
    ctx.fatal = true;
    ctx.issues.push(from ? issueAt(ctx.sources, from.tree, from.path, 'includes/extends without a cycle', `${path} loading itself again`) : issueAtPos(ctx.sources, path, undefined, '', 'no cycle', 'a cycle'));
    return undefined;
  }
  let text: string | undefined;
  try { text = path === STDIN ? ctx.stdin : ctx.fs.read(path); } catch (e) {
    if (!(e instanceof FileRefused)) throw e;
    ctx.fatal = true;
    ctx.issues.push(from ? issueAt(ctx.sources, from.tree, from.path, READABLE_FILE, `${path}: ${e.found}`) : { file: path, line: 0, col: 0, keyPath: '', expected: `a compose file: ${READABLE_FILE}`, found: e.found });
    return undefined;
  }
  if (text === undefined) {
    ctx.fatal = true;
    ctx.issues.push(from ? issueAt(ctx.sources, from.tree, from.path, 'an existing file', `${path} not found`) : { file: path, line: 0, col: 0, keyPath: '', expected: 'an existing, readable compose file', found: 'no such file' });
    return undefined;
  }
  ctx.sources.set(path, text);
  ctx.loading.push(path);
  try {
    let docs: Tree[];
    try { docs = parseYaml(text, path, ctx.sources); } catch (e) {
      if (e instanceof SpecError) { ctx.fatal = true; ctx.issues.push(...e.issues); return undefined; }
      throw e;
    }
    let tree: TreeMap | undefined;
    for (const raw of docs) {
      if (raw === null) continue;
      if (!isMap(raw)) {
        ctx.fatal = true;
        ctx.issues.push(issueAtPos(ctx.sources, path, { line: 1, col: 1 }, '', 'a mapping (services:, networks:, ...) at the top of the file', Array.isArray(raw) ? 'a list' : `a ${typeof raw}`));
        return undefined;
      }
      const ir = interpolateTree(nullServicesAsEmpty(raw), lookup, ctx.sources);
      for (const u of ir.unset) ctx.unset.add(u);
      // values interpolation refused (bad syntax, a required variable, a failed cast) are cut
      // out before validation, so that the schema never reports the same place a second time
      const afterInterpolation = keepGoing(ctx, path, ir.tree as TreeMap, ir.issues);
      let t = keepGoing(ctx, path, afterInterpolation, validateTree(afterInterpolation, ctx.sources));
      t = applyInclude(ctx, t, path, lookup);
      t = applyExtends(t, path, {
        sources: ctx.sources, issues: ctx.issues,
        loadOther: (p, f) => loadFile(ctx, p, lookup, dirname(p), f),
        dirOf: (f) => dirOf(ctx, f),
        isBroken: (f, name) => ctx.broken.get(f)?.has(name) === true,
        markBroken: (f, name) => { brokenIn(ctx, f).add(name); },
      });
      t = resolveTopLevelPaths(t, baseDir, ctx.home);
      tree = tree === undefined ? (mergeTrees(undefined, t) as TreeMap) : (mergeTrees(tree, t) as TreeMap);
    }
    const result = tree ?? adoptEmpty();
    ctx.cache.set(cacheKey, result);
    return result;
  } finally {
    ctx.loading.pop();
  }
}

function adoptEmpty(): TreeMap { return newMap(); }

/**
 * `services: {base: }`: a service written as null is an empty mapping, as in docker compose
 * (which validates only the merged model). An extends base or an override may be written so; a
 * null service left alone in the project is still refused for having no image or build.
 */
function nullServicesAsEmpty(doc: TreeMap): TreeMap {
  const services = doc['services'];
  if (!isMap(services) || !Object.keys(services).some((k) => services[k] === null)) return doc;
  const ns = newMap();
  for (const k of Object.keys(services)) { ns[k] = services[k] === null ? adopt(newMap(), services) : services[k]!; adoptChild(ns, k, services, k); }
  adopt(ns, services);
  const out = newMap();
  for (const k of Object.keys(doc)) { out[k] = k === 'services' ? ns : doc[k]!; adoptChild(out, k, doc, k); }
  return adopt(out, doc);
}

/** Records a phase's issues and returns the tree without the parts they are in (prune.ts). */
function keepGoing(ctx: FileCtx, file: string, tree: TreeMap, issues: readonly SpecIssue[]): TreeMap {
  if (issues.length === 0) return tree;
  ctx.issues.push(...issues);
  const r = pruneIssues(tree, issues);
  if (r.fatal) ctx.fatal = true;
  for (const name of r.broken) brokenIn(ctx, file).add(name);
  return r.tree;
}

/** 5 · include: each entry's files are loaded as their own project and their resources added. */
function applyInclude(ctx: FileCtx, tree: TreeMap, file: string, parentLookup: Lookup): TreeMap {
  const inc = tree['include'];
  if (!Array.isArray(inc) || inc.length === 0) return tree;
  const out = newMap();
  for (const k of Object.keys(tree)) if (k !== 'include') out[k] = tree[k]!;
  const here = dirOf(ctx, file);
  inc.forEach((entry, i) => {
    const o = isMap(entry) ? entry : null;
    const paths = (typeof entry === 'string' ? [entry] : Array.isArray(o?.['path']) ? (o!['path'] as Tree[]).map(String) : o?.['path'] !== undefined ? [String(o!['path'])] : [])
      .map((p) => resolvePath(here, p, ctx.home));
    if (paths.length === 0) { ctx.fatal = true; ctx.issues.push(issueAt(ctx.sources, tree, ['include', i], 'an include entry with a path', 'none')); return; }
    const projDir = typeof o?.['project_directory'] === 'string' ? resolvePath(here, o['project_directory'], ctx.home) : dirname(paths[0]!);
    const envFiles = o?.['env_file'] !== undefined ? (Array.isArray(o['env_file']) ? o['env_file'] : [o['env_file']]).map((p) => resolvePath(here, String(p), ctx.home)) : [`${projDir}/.env`];
    const vars = new Map<string, string>();
    for (const ef of envFiles) {
      let text: string | undefined;
      try { text = ctx.fs.read(ef); } catch (e) {
        if (!(e instanceof FileRefused)) throw e;
        ctx.fatal = true;
        ctx.issues.push(issueAt(ctx.sources, tree, ['include', i, ...(o?.['env_file'] !== undefined ? ['env_file'] : [])], READABLE_FILE, `${ef}: ${e.found}`));
        continue;
      }
      if (text === undefined) {
        if (o?.['env_file'] !== undefined) { ctx.fatal = true; ctx.issues.push(issueAt(ctx.sources, tree, ['include', i, 'env_file'], 'an existing env file', `${ef} missing`)); }
        continue;
      }
      try { for (const [k, v] of parseDotenv(text, parentLookup)) vars.set(k, v); } catch (e) {
        if (e instanceof DotenvError) { ctx.fatal = true; ctx.issues.push({ file: ef, line: e.line, col: e.col, keyPath: '', expected: 'a valid env file', found: e.message }); }
        else throw e;
      }
    }
    const lookup: Lookup = (n) => parentLookup(n) ?? vars.get(n);
    let sub: TreeMap | undefined;
    for (const p of paths) {
      const t = loadFile(ctx, p, lookup, projDir, { tree, path: ['include', i] });
      if (!t) return;
      // the included services join this file, and so do those left out for their problems
      for (const name of ctx.broken.get(p) ?? []) brokenIn(ctx, file).add(name);
      sub = sub === undefined ? t : (mergeTrees(sub, t) as TreeMap);
    }
    if (!sub) return;
    for (const kind of ['services', 'networks', 'volumes', 'secrets', 'configs'] as const) {
      const add = sub[kind];
      if (!isMap(add)) continue;
      const mine = isMap(out[kind]) ? (out[kind] as TreeMap) : undefined;
      const merged = newMap();
      for (const k of Object.keys(add)) merged[k] = add[k]!;
      if (mine) for (const k of Object.keys(mine)) {
        if (k in merged && (kind === 'services' || JSON.stringify(merged[k]) !== JSON.stringify(mine[k]))) {
          ctx.fatal = true;
          ctx.issues.push(issueAt(ctx.sources, tree, [kind, k], `a ${kind.slice(0, -1)} name not already defined by the included ${paths[0]}`, `${kind}.${k} defined in both`, undefined, true));
        }
        merged[k] = mine[k]!;
      }
      out[kind] = mine ? Object.assign(merged) : merged;
    }
  });
  return out;
}

/**
 * Reads env files into `into` without replacing what is already there (the shell and the env
 * files read before win, as in docker compose). Within this list, a later file wins over an
 * earlier one. `${VAR}` in a file sees the shell and the earlier files first, then the file's own
 * lines above. A required file that is missing, and a file that is not a regular file (a
 * directory is skipped when the file is only the default `.env`), are located issues.
 */
function readEnvFiles(ctx: Pick<FileCtx, 'fs' | 'sources' | 'issues'>, paths: readonly string[], env: Lookup, into: Map<string, string>, required: string | undefined): void {
  const vars = new Map<string, string>();
  const look: Lookup = (n) => env(n) ?? vars.get(n);
  for (const p of paths) {
    let text: string | undefined;
    try { text = ctx.fs.read(p); } catch (e) {
      if (!(e instanceof FileRefused)) throw e;
      if (required === undefined && e.found === 'a directory') continue;
      ctx.issues.push({ file: p, line: 0, col: 0, keyPath: required ?? '', expected: `an env file: ${READABLE_FILE}`, found: e.found });
      continue;
    }
    if (text === undefined) {
      if (required !== undefined) ctx.issues.push({ file: p, line: 0, col: 0, keyPath: required, expected: 'an existing env file', found: 'no such file' });
      continue;
    }
    ctx.sources.set(p, text);
    try { for (const [k, v] of parseDotenv(text, look)) vars.set(k, v); } catch (e) {
      if (e instanceof DotenvError) ctx.issues.push(issueAtPos(ctx.sources, p, { line: e.line, col: e.col }, '', 'a valid env file line (KEY=value)', e.message));
      else throw e;
    }
  }
  for (const [k, v] of vars) if (env(k) === undefined) into.set(k, v);
}

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|t|true)$/i.test(v.trim());

export function load(opts: LoadOptions, fs: FileSource): LoadResult {
  const shell = (n: string): string | undefined => opts.env[n];
  const consistency = opts.consistency !== false;
  const pre = { fs, sources: new Map<string, string>(), issues: [] as SpecIssue[] };
  const fail = (): never => { throw new SpecError(ctx.issues); };

  // 1 · files, project directory, .env — in docker compose's order. Without --env-file (or
  // COMPOSE_ENV_FILES), `.env` is read once before the compose files are known (from
  // --project-directory, else the first -f file's directory, else the working directory:
  // COMPOSE_FILE may be set there) and once after, from the project directory. A value already
  // set is never replaced: the shell wins, then the first .env, then the second. The environment
  // is only ever looked up by name, never enumerated, so that a load stays cacheable.
  const fromFiles = new Map<string, string>();
  const env: Lookup = (n) => shell(n) ?? fromFiles.get(n);
  const explicit = opts.envFiles !== undefined ? opts.envFiles
    : shell('COMPOSE_ENV_FILES') ? shell('COMPOSE_ENV_FILES')!.split(',').map((f) => f.trim()).filter((f) => f !== '') : undefined;
  const explicitPaths = explicit?.map((p) => resolvePath(opts.cwd, p));
  const defaultEnvFile = !truthy(shell('COMPOSE_DISABLE_ENV_FILE'));
  const firstNamed = opts.files?.find((f) => f !== '-');
  const earlyDir = opts.projectDirectory ? resolvePath(opts.cwd, opts.projectDirectory) : firstNamed !== undefined ? dirname(resolvePath(opts.cwd, firstNamed)) : opts.cwd;
  const readFirst = explicitPaths ?? (defaultEnvFile ? [`${earlyDir}/.env`] : []);
  readEnvFiles(pre, readFirst, env, fromFiles, explicitPaths ? (opts.envFiles !== undefined ? '--env-file' : 'COMPOSE_ENV_FILES') : undefined);
  if (pre.issues.length > 0) throw new SpecError(pre.issues);
  const files = findComposeFiles(opts, fs, env('COMPOSE_FILE'), env('COMPOSE_PATH_SEPARATOR'));
  // docker compose: --project-directory, else the first file that is not stdin, else the working directory
  const firstFile = files.find((f) => f !== STDIN);
  const projectDir = opts.projectDirectory ? resolvePath(opts.cwd, opts.projectDirectory) : firstFile === undefined ? opts.cwd : dirname(firstFile);
  const ctx: FileCtx = {
    fs, sources: pre.sources, issues: pre.issues, unset: new Set(), home: opts.env['HOME'], stdin: opts.stdin, loading: [], cache: new Map(),
    projectDir, broken: new Map(), fatal: false,
  };
  if (!explicitPaths && defaultEnvFile && projectDir !== earlyDir) readEnvFiles(ctx, [`${projectDir}/.env`], env, fromFiles, undefined);
  if (ctx.issues.length > 0) fail();
  const lookup: Lookup = env;

  // 2–8 · each file through its phases, merged in order
  let tree: TreeMap | undefined;
  const broken = new Set<string>();
  for (const f of files) {
    const t = loadFile(ctx, f, lookup, projectDir);
    if (t) tree = tree === undefined ? t : (mergeTrees(tree, t) as TreeMap);
    for (const name of ctx.broken.get(f) ?? []) broken.add(name);
  }
  // problems not cut around stop here; otherwise the rest is normalized for its own problems
  if (ctx.fatal || tree === undefined) fail();
  // nothing at all in the files (docker compose: "empty compose file")
  if (Object.keys(tree!).length === 0 && broken.size === 0 && ctx.issues.length === 0) {
    const first = files[0]!;
    ctx.issues.push(issueAtPos(ctx.sources, first, { line: 1, col: 1 }, '', 'a compose file with services (or another top-level key such as networks, volumes or include)', 'an empty file'));
    fail();
  }
  // a service left out in one file is left out of the project: another file's partial
  // definition of it (an override adding ports) would otherwise be reported as incomplete
  const merged = withoutServices(tree!, broken);

  // project name: -p, COMPOSE_PROJECT_NAME, top-level name, the project directory's name
  let name: string;
  const explicitName = opts.projectName ?? lookup('COMPOSE_PROJECT_NAME') ?? (typeof merged['name'] === 'string' && merged['name'] !== '' ? merged['name'] : undefined);
  if (explicitName !== undefined) {
    if (!PROJECT_NAME.test(explicitName)) {
      const fromFile = opts.projectName === undefined && lookup('COMPOSE_PROJECT_NAME') === undefined;
      const issue = fromFile ? issueAt(ctx.sources, merged, ['name'], 'a project name of lower-case letters, digits, "_" and "-", starting with a letter or digit', JSON.stringify(explicitName))
        : { file: '', line: 0, col: 0, keyPath: opts.projectName !== undefined ? '--project-name' : 'COMPOSE_PROJECT_NAME', expected: 'a project name of lower-case letters, digits, "_" and "-", starting with a letter or digit', found: JSON.stringify(explicitName) };
      // reported with the rest; the normalized form stands in so that the services are still checked
      ctx.issues.push(issue);
      name = normalizeProjectName(explicitName) || 'invalid';
    } else name = explicitName;
  } else {
    name = normalizeProjectName(basename(projectDir));
    if (name === '') {
      ctx.issues.push({ file: '', line: 0, col: 0, keyPath: '--project-name', expected: `a project name (the directory name ${JSON.stringify(basename(projectDir))} has no usable characters)`, found: 'none' });
      name = 'invalid';
    }
  }

  // env_file contents, read here so that normalize stays pure
  const envFileVars = new Map<string, ReadonlyMap<string, string> | undefined>();
  const services = isMap(merged['services']) ? merged['services'] : newMap();
  for (const sname of Object.keys(services)) {
    const s = services[sname];
    if (!isMap(s)) continue;
    const ef = s['env_file'];
    const list = ef === undefined || ef === null ? [] : Array.isArray(ef) ? ef : [ef];
    list.forEach((e, i) => {
      const p = resolvePath(projectDir, typeof e === 'string' ? e : String((e as TreeMap)['path']), ctx.home);
      if (envFileVars.has(p)) return;
      let text: string | undefined;
      try { text = fs.read(p); } catch (err) {
        if (!(err instanceof FileRefused)) throw err;
        ctx.issues.push(issueAt(ctx.sources, merged, ['services', sname, 'env_file', ...(Array.isArray(ef) ? [i] : [])], READABLE_FILE, `${p}: ${err.found}`));
        envFileVars.set(p, new Map());
        return;
      }
      if (text === undefined) { envFileVars.set(p, undefined); return; }
      ctx.sources.set(p, text);
      try { envFileVars.set(p, parseDotenv(text, lookup)); } catch (err) {
        if (err instanceof DotenvError) ctx.issues.push(issueAtPos(ctx.sources, p, { line: err.line, col: err.col }, '', 'a valid env file line (KEY=value)', err.message));
        else throw err;
      }
    });
  }

  // 9 · canonical forms and defaults
  const n = normalize({ tree: merged, name, projectDir, files: files.map((f) => (f === STDIN ? '-' : f)), sources: ctx.sources, resolveEnv: lookup, envFiles: envFileVars, consistency, ...(ctx.home ? { home: ctx.home } : {}) });
  ctx.issues.push(...n.issues);
  if (ctx.issues.length > 0) fail();

  // 10 · profiles
  const enabled = opts.profiles && opts.profiles.length > 0 ? [...opts.profiles]
    : (lookup('COMPOSE_PROFILES') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const split = splitByProfiles(n.services, enabled);
  const disabled = split.disabled;
  let active = split.active;

  // the implicit default network
  const networks: Record<string, Network> = { ...n.project.networks };
  if (!networks['default'] && Object.values(active).some((s) => s.network_mode === undefined && 'default' in s.networks)) {
    networks['default'] = { name: `${name}_default`, driver_opts: {}, external: false, internal: false, attachable: false, labels: {}, extensions: {} };
  }

  // 11 · semantic and consistency checks (docker compose's checkConsistency; --no-consistency skips them)
  if (consistency) {
    ctx.issues.push(...checkSemantics({
      tree: merged, sources: ctx.sources, active, disabled,
      networks: new Set(Object.keys(networks)), volumes: new Set(Object.keys(n.project.volumes)),
      secrets: new Set(Object.keys(n.project.secrets)), configs: new Set(Object.keys(n.project.configs)),
    }));
    ctx.issues.push(...checkConsistency({ tree: merged, sources: ctx.sources, services: active }));
    if (ctx.issues.length > 0) fail();
  }
  // depends_on for links, volumes_from and network_mode/ipc/pid "service:X", as compose adds
  // them; a dependency on a service disabled by its profiles (only `required: false` ones get
  // here) is dropped, so that the printed model names only services it contains
  active = withoutDisabledDependencies(withImplicitDependencies(active), disabled);

  const warnings = [
    ...[...ctx.unset].sort().map((v) => `the "${v}" variable is not set; defaulting to a blank string`),
    ...n.warnings,
  ];
  const project: Project = {
    ...n.project,
    networks,
    services: active,
    disabled_services: disabled,
    all_profiles: allProfiles(n.services),
    enabled_profiles: enabled,
  };
  const composeEnv: Record<string, string> = {};
  for (const v of COMPOSE_VARIABLES) { const x = env(v); if (x !== undefined) composeEnv[v] = x; }
  return { project, warnings, composeEnv };
}
