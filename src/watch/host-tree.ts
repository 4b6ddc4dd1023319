// The host side of a watch rule: the directory the user's files are read from.
//
// berth runs as root, and the watched tree is the user's project — which a container with a bind
// mount of it may write into. A symlink planted there (`ln -s /etc src/x`) must never make berth
// read /etc/shadow and copy it into a container. So every path below the root is opened by
// openat2 from a descriptor of the root with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: no component
// is ever a symlink followed, and nothing above the root is reachable. A symlink in the tree is
// reported as a symlink (and synced as one: its text, never its target's content). The root itself
// is resolved as the user named it (a symlinked project directory is their choice).
import { fstatSync, lstatSync, readdirSync, readlinkSync, readSync, type Stats, type Dirent } from 'node:fs';
import { SysError, fromNodeError } from '../lib/errors.js';
import { closeQuietly, fdPath, splitPath } from '../sys/in-root.js';
import {
  type Sys, O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH,
  RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS,
} from '../sys/sys.js';

const AT_FDCWD = -100;
const O_NONBLOCK = 0o4000;
const BENEATH = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

function errnoOf(err: unknown): string | undefined {
  if (err instanceof SysError) return err.errno;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "absent" for the errors that mean the path is not (or no longer) there as a plain path. */
function isAbsent(err: unknown): boolean {
  const e = errnoOf(err);
  // ELOOP/EXDEV: a symlink on the way, which for the host tree means "not a path of the tree"
  return e === 'ENOENT' || e === 'ENOTDIR' || e === 'ELOOP' || e === 'EXDEV';
}

export class HostTree {
  private constructor(private readonly sys: Sys, readonly fd: number, readonly path: string) {}

  /** Opens the root directory; NotFound-style SysError when it is missing or not a directory. */
  static open(sys: Sys, path: string): HostTree {
    return new HostTree(sys, sys.openat2(AT_FDCWD, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0), path);
  }

  /**
   * Opens the root, or, when it is gone, a tree in which every path is absent (a watched
   * directory that was removed: syncing its paths removes them from the container).
   */
  static openOrEmpty(sys: Sys, path: string): HostTree {
    try { return HostTree.open(sys, path); } catch { return new HostTree(sys, -1, path); }
  }

  close(): void { closeQuietly(this.fd); }

  /** Opens rel below the root, no symlink followed anywhere (ELOOP/ENOTDIR when one is met). */
  open(rel: string, flags: number): number {
    if (this.fd < 0) throw new SysError('openat2', `${this.path}/${rel}`, 'ENOENT');
    const clean = splitPath(rel).join('/');
    return this.sys.openat2(this.fd, clean === '' ? '.' : clean, flags | O_CLOEXEC, 0, BENEATH);
  }

  /** lstat of rel (the last component not followed); undefined when it is not there. */
  lstat(rel: string): Stats | undefined {
    const parts = splitPath(rel);
    if (parts.length === 0) return this.fd < 0 ? undefined : fstatSync(this.fd);
    let dirFd: number;
    try { dirFd = this.open(parts.slice(0, -1).join('/'), O_PATH | O_DIRECTORY); } catch (err) {
      if (isAbsent(err)) return undefined;
      throw err;
    }
    try { return lstatSync(fdPath(dirFd, parts[parts.length - 1]!)); } catch (err) {
      if (isAbsent(err)) return undefined;
      throw fromNodeError(err, 'lstat', `${this.path}/${rel}`);
    } finally { closeQuietly(dirFd); }
  }

  /** The entries of directory rel (types from the directory, never followed); undefined when gone. */
  readdir(rel: string): Dirent[] | undefined {
    let fd: number;
    try { fd = this.open(rel, O_RDONLY | O_DIRECTORY); } catch (err) {
      if (isAbsent(err)) return undefined;
      throw err;
    }
    try { return readdirSync(fdPath(fd), { withFileTypes: true }); } catch (err) {
      if (isAbsent(err)) return undefined;
      throw fromNodeError(err, 'readdir', `${this.path}/${rel}`);
    } finally { closeQuietly(fd); }
  }

  /** Opens the regular file rel for reading; undefined when it is gone or is no longer a file. */
  openFile(rel: string): { fd: number; stat: Stats } | undefined {
    let fd: number;
    try { fd = this.open(rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK); } catch (err) {
      if (isAbsent(err) || errnoOf(err) === 'ENXIO') return undefined;
      throw err;
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) { closeQuietly(fd); return undefined; }
    return { fd, stat };
  }

  /** The text of the symlink rel; undefined when it is gone or no longer a symlink. */
  readlink(rel: string): string | undefined {
    const parts = splitPath(rel);
    if (parts.length === 0) return undefined;
    let dirFd: number;
    try { dirFd = this.open(parts.slice(0, -1).join('/'), O_PATH | O_DIRECTORY); } catch (err) {
      if (isAbsent(err)) return undefined;
      throw err;
    }
    try {
      const st = lstatSync(fdPath(dirFd, parts[parts.length - 1]!));
      if (!st.isSymbolicLink()) return undefined;
      // readlinkSync on "/proc/self/fd/N/name" reads the link named, it does not follow it
      return readlinkSync(fdPath(dirFd, parts[parts.length - 1]!));
    } catch (err) {
      if (isAbsent(err) || errnoOf(err) === 'EINVAL') return undefined;
      throw fromNodeError(err, 'readlink', `${this.path}/${rel}`);
    } finally { closeQuietly(dirFd); }
  }
}

/**
 * The content of fd from its current offset to its end, in chunks of at most 1 MiB. The same
 * buffer is yielded again: each chunk must be consumed before the next is asked for.
 */
export function* readChunks(fd: number, size: number): Generator<Uint8Array> {
  const chunk = Buffer.allocUnsafe(Math.min(Math.max(size, 1), 1 << 20));
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) return;
    yield chunk.subarray(0, n);
  }
}
