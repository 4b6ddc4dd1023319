// Files inside a container's root, reached so that nothing in that root can lead berth outside it.
//
// berth runs as root; a container's root holds whatever the image and the container's processes
// put there, symlinks to "/etc" and ".." chains included. Every path below is resolved by
// openat2(RESOLVE_IN_ROOT) from a descriptor of the root: an absolute symlink or a ".." stops at
// the root, exactly as it would for a process inside the container. The last component is never
// followed by a write: operations that take a name (mkdir, unlink, rename, lchown, symlink) reach
// it as "/proc/self/fd/<parent>/<name>", where the kernel follows the magic link to exactly the
// directory we resolved and looks the single name up in it without following it.
//
// Used by `cp` (src/volumes/cp.ts), copy-up, and watch's sync (issue 11): one implementation of
// "inside the root" for all of them.
import {
  closeSync, fstatSync, lstatSync, mkdirSync, symlinkSync, readlinkSync, unlinkSync, rmdirSync, renameSync,
  lchownSync, lutimesSync, fchmodSync, fchownSync, futimesSync, readdirSync, linkSync, writeSync, type Stats,
} from 'node:fs';
import { BerthError, InvalidArgument, SysError, fromNodeError } from '../lib/errors.js';
import {
  type Sys, O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH,
  RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS,
} from './sys.js';

const AT_FDCWD = -100;
const O_NONBLOCK = 0o4000;
/** Resolution of a path given by the user or a tar entry: symlinks and ".." stay in the root. */
const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
/** Resolution of one name read from a directory we hold: no symlink at all, no way up. */
const ONE_NAME = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

/** The path through which the kernel reaches the directory behind fd, plus one name in it. */
export function fdPath(fd: number, name = ''): string {
  return name === '' ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** A name read from a directory or taken from a path: one component, never "." or "..". */
export function checkName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new InvalidArgument(`invalid file name ${JSON.stringify(name)}`);
  }
  return name;
}

/** The components of a path inside the root ("" and "/" are the root itself). */
export function splitPath(path: string): string[] {
  if (path.includes('\0')) throw new InvalidArgument(`invalid path ${JSON.stringify(path)}: it holds a NUL byte`);
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

function errnoOf(err: unknown): string | undefined {
  if (err instanceof SysError) return err.errno;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Closes a descriptor, ignoring errors (cleanup paths). */
export function closeQuietly(fd: number): void {
  if (fd < 0) return;
  try { closeSync(fd); } catch { /* already closed */ }
}

export interface FileMeta {
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  /** seconds since the epoch (fractions kept) */
  readonly mtime?: number;
  readonly atime?: number;
}

/** A directory opened as the root every later path is resolved in. Close it when done. */
export class InRoot {
  private constructor(private readonly sys: Sys, readonly fd: number, readonly hostPath: string) {}

  /**
   * Opens `hostPath` (a path on the host that berth controls, or /proc/<pid>/root) as a root.
   * The host path itself is resolved normally: only what lies below it is the container's.
   */
  static open(sys: Sys, hostPath: string): InRoot {
    const fd = sys.openat2(AT_FDCWD, hostPath, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0);
    return new InRoot(sys, fd, hostPath);
  }

  close(): void {
    closeQuietly(this.fd);
  }

  /** Opens a path inside the root (symlinks and ".." resolved in it). */
  open(path: string, flags: number, mode = 0): number {
    const rel = splitPath(path).join('/');
    return this.sys.openat2(this.fd, rel === '' ? '.' : rel, flags | O_CLOEXEC, mode, IN_ROOT);
  }

  /** Opens `name` in the directory behind dirFd, following nothing. */
  openChild(dirFd: number, name: string, flags: number, mode = 0): number {
    return this.sys.openat2(dirFd, checkName(name), flags | O_CLOEXEC, mode, ONE_NAME);
  }

  /**
   * The directory holding the last component of `path`, resolved in the root, and that
   * component. For the root itself (and for a path ending in ".."), `name` is "" and `dirFd` is
   * the directory the path names. The caller closes dirFd.
   */
  parent(path: string): { dirFd: number; name: string } {
    const parts = splitPath(path);
    const last = parts[parts.length - 1];
    if (last === undefined || last === '..') return { dirFd: this.open(path, O_PATH | O_DIRECTORY), name: '' };
    const dirFd = this.open(parts.slice(0, -1).join('/'), O_PATH | O_DIRECTORY);
    return { dirFd, name: last };
  }

  /** lstat of the last component (not followed); undefined when it does not exist. */
  lstat(path: string): Stats | undefined {
    let held: { dirFd: number; name: string };
    try { held = this.parent(path); } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    try {
      // "/proc/self/fd/N" itself is the magic link: the directory is fstat'ed, not lstat'ed
      return held.name === '' ? fstatSync(held.dirFd) : lstatSync(fdPath(held.dirFd, held.name));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw fromNodeError(err, 'lstat', path);
    } finally { closeQuietly(held.dirFd); }
  }

  /** stat with every symlink followed inside the root; undefined when it does not exist. */
  stat(path: string): Stats | undefined {
    let fd: number;
    try { fd = this.open(path, O_PATH); } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    try { return fstatSync(fd); } finally { closeQuietly(fd); }
  }

  /** Creates every missing directory of `path` (mode 0755 unless given; owner when given). */
  mkdirp(path: string, meta: Partial<FileMeta> = {}): void {
    const parts = splitPath(path);
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      try { closeQuietly(this.open(prefix, O_PATH | O_DIRECTORY)); continue; } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err;
      }
      this.mkdir(prefix, { mode: meta.mode ?? 0o755, uid: meta.uid, gid: meta.gid });
    }
  }

  /** mkdir of the last component; an existing directory is kept (its metadata is then set). */
  mkdir(path: string, meta: FileMeta): void {
    const { dirFd, name } = this.parent(path);
    try {
      if (name !== '') {
        try { mkdirSync(fdPath(dirFd, name), { mode: 0o700 }); } catch (err) {
          if (errnoOf(err) !== 'EEXIST') throw fromNodeError(err, 'mkdir', path);
        }
      }
      const fd = name === '' ? this.open(path, O_RDONLY | O_DIRECTORY) : this.openChild(dirFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      try { applyMeta(fd, meta); } finally { closeQuietly(fd); }
    } finally { closeQuietly(dirFd); }
  }

  /**
   * Creates or replaces the regular file at `path` with `data` (or the chunks an iterator yields),
   * then sets its owner, mode and times. An existing regular file is truncated in place (a watcher
   * inside the container sees a modification); a symlink, fifo or device there is replaced, never
   * followed or opened; a directory there is an error.
   */
  writeFile(path: string, data: Uint8Array | Iterable<Uint8Array>, meta: FileMeta): void {
    const { dirFd, name } = this.parent(path);
    try {
      if (name === '') throw new SysError('open', path, 'EISDIR');
      writeFileAt(this, dirFd, name, data, meta, path);
    } finally { closeQuietly(dirFd); }
  }

  /** Opens the regular file at `path` for reading (a symlink at the end is followed in the root). */
  openRead(path: string, followLast = true): number {
    if (followLast) return this.open(path, O_RDONLY | O_NONBLOCK);
    const { dirFd, name } = this.parent(path);
    try { return name === '' ? this.open(path, O_RDONLY) : this.openChild(dirFd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK); } finally { closeQuietly(dirFd); }
  }

  /** Removes the last component; a directory only with `recursive`. Absent is not an error. */
  remove(path: string, opts: { recursive?: boolean } = {}): void {
    let dirFd: number;
    let name: string;
    try { ({ dirFd, name } = this.parent(path)); } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return;
      throw err;
    }
    try {
      if (name === '') throw new InvalidArgument(`refusing to remove ${JSON.stringify(path)}: it is the root or ends in ".."`);
      removeAt(this, dirFd, name, opts.recursive === true, path);
    } finally { closeQuietly(dirFd); }
  }

  /** rename(2) of one path onto another, both resolved in the root; neither end is followed. */
  rename(from: string, to: string): void {
    const a = this.parent(from);
    try {
      const b = this.parent(to);
      try {
        if (a.name === '' || b.name === '') throw new InvalidArgument(`cannot rename the root or a path ending in ".."`);
        try { renameSync(fdPath(a.dirFd, a.name), fdPath(b.dirFd, b.name)); } catch (err) { throw fromNodeError(err, 'rename', from); }
      } finally { closeQuietly(b.dirFd); }
    } finally { closeQuietly(a.dirFd); }
  }

  /** Creates a symlink at `path` holding `target` (replacing a non-directory there). */
  symlink(path: string, target: string, meta: Partial<FileMeta> = {}): void {
    const { dirFd, name } = this.parent(path);
    try {
      if (name === '') throw new SysError('symlink', path, 'EEXIST');
      symlinkAt(dirFd, name, target, meta, path);
    } finally { closeQuietly(dirFd); }
  }

  /** The names in the directory at `path` (resolved in the root). */
  readdir(path: string): string[] {
    const fd = this.open(path, O_RDONLY | O_DIRECTORY);
    try { return readdirSync(fdPath(fd)); } catch (err) { throw fromNodeError(err, 'readdir', path); } finally { closeQuietly(fd); }
  }

  readlink(path: string): string {
    const { dirFd, name } = this.parent(path);
    try { return readlinkSync(fdPath(dirFd, name)); } catch (err) { throw fromNodeError(err, 'readlink', path); } finally { closeQuietly(dirFd); }
  }
}

/** Owner, then mode (a chown clears set-id bits), then times, on an open descriptor. */
export function applyMeta(fd: number, meta: Partial<FileMeta>): void {
  if (meta.uid !== undefined || meta.gid !== undefined) fchownSync(fd, meta.uid ?? -1, meta.gid ?? -1);
  if (meta.mode !== undefined) fchmodSync(fd, meta.mode & 0o7777);
  if (meta.mtime !== undefined) futimesSync(fd, meta.atime ?? meta.mtime, meta.mtime);
}

/**
 * Opens dirFd/name for writing as a fresh or truncated regular file (see InRoot.writeFile for what
 * replaces what). The caller writes, applies meta and closes.
 */
export function openFileForWrite(root: InRoot, dirFd: number, name: string, what: string): number {
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = root.openChild(dirFd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK, 0o600);
    } catch (err) {
      const errno = errnoOf(err);
      // ELOOP: a symlink; ENXIO: a fifo nobody reads; EACCES/ETXTBSY: not a plain writable file.
      // Anything but a directory is replaced (unlinked, then created anew), as tar extraction does.
      if (attempt > 2 || errno === 'EISDIR' || errno === undefined) throw err instanceof BerthError ? err : fromNodeError(err, 'open', what);
      let st: Stats;
      try { st = lstatSync(fdPath(dirFd, name)); } catch { throw err instanceof BerthError ? err : fromNodeError(err, 'open', what); }
      if (st.isDirectory()) throw new SysError('open', what, 'EISDIR');
      try { unlinkSync(fdPath(dirFd, name)); } catch (e) { throw fromNodeError(e, 'unlink', what); }
      continue;
    }
    // O_CREAT|O_TRUNC on a fifo or device swapped in opens it: only a regular file is written
    if (fstatSync(fd).isFile()) return fd;
    closeQuietly(fd);
    if (attempt > 2) throw new SysError('open', what, 'EINVAL', `${what} is not a regular file`);
    try { unlinkSync(fdPath(dirFd, name)); } catch (e) { throw fromNodeError(e, 'unlink', what); }
  }
}

/** writeFile's work once the parent is held: see InRoot.writeFile. */
export function writeFileAt(root: InRoot, dirFd: number, name: string, data: Uint8Array | Iterable<Uint8Array>, meta: FileMeta, what: string): void {
  const fd = openFileForWrite(root, dirFd, name, what);
  try {
    const chunks = data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) writeAll(fd, chunk);
    applyMeta(fd, meta);
  } catch (err) {
    throw err instanceof BerthError ? err : fromNodeError(err, 'write', what);
  } finally { closeQuietly(fd); }
}

export function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}

/** A symlink at dirFd/name (an existing non-directory there is replaced). */
export function symlinkAt(dirFd: number, name: string, target: string, meta: Partial<FileMeta>, what: string): void {
  const at = fdPath(dirFd, checkName(name));
  try { symlinkSync(target, at); } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw fromNodeError(err, 'symlink', what);
    if (lstatSync(at).isDirectory()) throw new SysError('symlink', what, 'EEXIST');
    unlinkSync(at);
    symlinkSync(target, at);
  }
  try {
    if (meta.uid !== undefined || meta.gid !== undefined) lchownSync(at, meta.uid ?? -1, meta.gid ?? -1);
    if (meta.mtime !== undefined) lutimesSync(at, meta.atime ?? meta.mtime, meta.mtime);
  } catch (err) { throw fromNodeError(err, 'lchown', what); }
}

/** A hard link at dirFd/name to the file at targetDirFd/targetName (both held: nothing followed). */
export function linkAt(targetDirFd: number, targetName: string, dirFd: number, name: string, what: string): void {
  const at = fdPath(dirFd, checkName(name));
  const from = fdPath(targetDirFd, checkName(targetName));
  try { linkSync(from, at); } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw fromNodeError(err, 'link', what);
    if (lstatSync(at).isDirectory()) throw new SysError('link', what, 'EEXIST');
    unlinkSync(at);
    linkSync(from, at);
  }
}

/** Removes dirFd/name; a directory's content first (each level held by descriptor) with `recursive`. */
export function removeAt(root: InRoot, dirFd: number, name: string, recursive: boolean, what: string): void {
  let st: Stats;
  try { st = lstatSync(fdPath(dirFd, checkName(name))); } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw fromNodeError(err, 'lstat', what);
  }
  try {
    if (!st.isDirectory()) { unlinkSync(fdPath(dirFd, name)); return; }
    if (recursive) {
      const child = root.openChild(dirFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      try {
        for (const entry of readdirSync(fdPath(child))) removeAt(root, child, entry, true, `${what}/${entry}`);
      } finally { closeQuietly(child); }
    }
    rmdirSync(fdPath(dirFd, name));
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw err instanceof BerthError ? err : fromNodeError(err, 'remove', what);
  }
}

export { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_PATH };
