// The host side of a bind mount, checked before anything is mounted: where the source is, that it
// exists (or is created, as a directory, owned by the service's numeric user), and that a path the
// user wrote inside the project does not leave the project through a symlink.
//
// Docker creates a missing bind source as a directory owned by root (so a missing ./nginx.conf
// silently becomes a directory, and a non-root service cannot write the directory it asked for:
// docker/roadmap#398, docker/compose#13612). berth creates a missing directory owned by the
// service's numeric `user`, and refuses, with the reason, to invent a directory where a file was
// clearly meant.
import { existsSync, lstatSync, mkdirSync, chownSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InvalidArgument, NotFound, fromNodeError } from '../lib/errors.js';

export interface BindSourceRequest {
  /** as the model gives it: absolute after the spec's paths phase; "./x", "x" and "~/x" are resolved here too */
  readonly source: string;
  /** the project directory: relative sources are against it, and it bounds where symlinks may lead */
  readonly projectDir: string;
  readonly home?: string;
  /** compose's bind.create_host_path (implied by the short syntax) */
  readonly createHostPath: boolean;
  /** the service's user when it is numeric: owner of the directories created */
  readonly owner?: { readonly uid: number; readonly gid?: number };
  /** the image has a regular file at the mount's target (so a file is meant) */
  readonly targetIsFile?: boolean;
  readonly selinux?: 'z' | 'Z';
  /** for messages: the mount as the user wrote it ("./src:/app") */
  readonly label?: string;
}

export interface BindSource {
  /** absolute host path to bind */
  readonly source: string;
  /** directories created for it, outermost first */
  readonly created: readonly string[];
  readonly warnings: readonly string[];
}

/** File name extensions that name files, never directories, in the compose files people write. */
const FILE_EXTENSIONS = new Set([
  'conf', 'cnf', 'cfg', 'ini', 'toml', 'yaml', 'yml', 'json', 'xml', 'env', 'properties', 'txt', 'md',
  'sh', 'bash', 'py', 'js', 'mjs', 'cjs', 'ts', 'rb', 'php', 'pl', 'lua', 'sql', 'html', 'htm', 'css',
  'pem', 'crt', 'cert', 'key', 'pub', 'p12', 'pfx', 'jks', 'csr', 'lock', 'log', 'db', 'sqlite', 'sock', 'tpl', 'j2',
]);

export function looksLikeFile(path: string): boolean {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 && FILE_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The path with every existing prefix's symlinks resolved (missing tail components kept as written). */
function realPathOfPrefix(path: string): { real: string; existing: string } {
  let existing = path;
  const tail: string[] = [];
  while (!existsAllowingDangling(existing)) {
    tail.unshift(basename(existing));
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  let real: string;
  try { real = realpathSync(existing); } catch (err) { throw fromNodeError(err, 'realpath', existing); }
  return { real: tail.length > 0 ? join(real, ...tail) : real, existing };
}

function existsAllowingDangling(p: string): boolean {
  try { lstatSync(p); } catch { return false; }
  // a dangling symlink exists as a name but leads nowhere: treat it as missing (its target decides)
  return existsSync(p);
}

export function checkBindSource(req: BindSourceRequest): BindSource {
  const label = req.label ?? req.source;
  let source = req.source;
  if (source === '~' || source.startsWith('~/')) {
    if (!req.home) throw new InvalidArgument(`bind source ${JSON.stringify(source)}: "~" needs a home directory`);
    source = req.home + source.slice(1);
  }
  const projectDir = resolve(req.projectDir);
  const lexical = resolve(projectDir, source);
  const warnings: string[] = [];
  if (req.selinux) warnings.push(`${label}: the SELinux label option "${req.selinux}" has no effect: berth does not relabel bind sources`);

  // A path the user wrote inside the project must stay inside it once symlinks are followed. One
  // written outside (absolute, ~, ../) goes where the user said.
  if (inside(lexical, projectDir)) {
    let realProject: string;
    try { realProject = realpathSync(projectDir); } catch (err) { throw fromNodeError(err, 'realpath', projectDir); }
    const { real } = realPathOfPrefix(lexical);
    if (!inside(real, realProject)) {
      throw new InvalidArgument(`bind source ${JSON.stringify(label)}: ${lexical} leads through a symlink to ${real}, outside the project directory ${projectDir}; write ${real} in the compose file if that is meant`);
    }
  }

  if (existsSync(lexical)) return { source: lexical, created: [], warnings };
  let dangling = false;
  try { dangling = lstatSync(lexical).isSymbolicLink(); } catch { /* absent */ }
  if (dangling) throw new NotFound(`bind source ${JSON.stringify(label)}: ${lexical} is a symlink to something that does not exist`);
  if (!req.createHostPath) throw new NotFound(`invalid mount config for type "bind": bind source path does not exist: ${lexical}`);
  if (req.targetIsFile || looksLikeFile(lexical)) {
    throw new NotFound(`bind source ${JSON.stringify(label)}: ${lexical} does not exist, and berth creates missing directories, not files: create the file first`);
  }

  const created: string[] = [];
  let walk = lexical;
  while (!existsSync(walk)) {
    created.unshift(walk);
    walk = dirname(walk);
  }
  for (const dir of created) {
    try {
      mkdirSync(dir, { mode: 0o755 });
      if (req.owner) chownSync(dir, req.owner.uid, req.owner.gid ?? req.owner.uid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeError(err, 'mkdir', dir);
    }
  }
  return { source: lexical, created, warnings };
}

/** The numeric uid (and gid) of a compose `user` ("1000", "1000:1000"); undefined for names. */
export function numericOwner(user: string | undefined): { uid: number; gid?: number } | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  if (!m) return undefined;
  return m[2] !== undefined ? { uid: Number(m[1]), gid: Number(m[2]) } : { uid: Number(m[1]) };
}
