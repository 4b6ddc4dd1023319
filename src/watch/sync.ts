// Sync: host files written straight into a running replica's filesystem.
//
// No tar stream, no exec, no `rm` in the image (compose sends a tar through the engine API and
// deletes with `rm -rf` run by exec). berth writes through /proc/<pid>/root of the container's
// PID 1: the root of the container's own mount namespace, so a target inside a volume or a bind
// mount lands where the container sees it. Why not the overlay's upper directory (<layer>/diff):
// overlayfs forbids changing an upper or lower layer behind a mounted overlay (the kernel's
// overlayfs documentation: the result is undefined — stale dentries, a lower file still shown),
// and inotify watches placed inside the container are on the overlay's inodes, so a write to the
// upper directory's inode would wake nobody. A write through the mount is an ordinary write on
// the overlay: copy-up happens as for any writer, and fsnotify reports it to every watcher in the
// container (tested with busybox inotifyd).
//
// Every container path is resolved so that nothing in the container can lead a write outside:
// - the rule's target is resolved in the container's root (openat2 RESOLVE_IN_ROOT): a symlink in
//   the target's own path is followed as the container would follow it, and an absolute symlink or
//   ".." stops at the container's root, never the host's;
// - below the target, every component is opened with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: a
//   symlink the container placed where the host has a directory is replaced by a directory (the
//   host's tree is the truth), so a sync never writes outside the target, inside the container or
//   out of it.
// Files keep the host's mode bits and modification time and are owned by the container's user
// (compose documents that the container's USER must be able to write the target; its files are
// that user's). A regular file is rewritten in place (same inode: hard links inside the container
// and a single-file bind mount keep working, and an in-container watcher sees IN_MODIFY and
// IN_CLOSE_WRITE); anything else in its way is replaced.
import { fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, unlinkSync, futimesSync, constants, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { SysError, fromNodeError } from '../lib/errors.js';
import {
  InRoot, closeQuietly, fdPath, applyMeta, writeFileAt, symlinkAt, removeAt, splitPath,
  O_PATH, O_DIRECTORY, O_NOFOLLOW, O_RDONLY,
} from '../sys/in-root.js';
import { HostTree, readChunks } from './host-tree.js';

/** Who owns what a sync writes: the container's user as the host sees it. */
export interface Owner { readonly uid: number; readonly gid: number }

/** The effective uid and gid of a process (the container's PID 1), from /proc/<pid>/status. */
export function processOwner(pid: number): Owner {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch (err) { throw fromNodeError(err, 'read', `/proc/${pid}/status`); }
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+(\\d+)`, 'm').exec(text);
    if (!m) throw new SysError('read', `/proc/${pid}/status`, 'EINVAL', `no ${name} line in /proc/${pid}/status`);
    return Number(m[2]);
  };
  return { uid: field('Uid'), gid: field('Gid') };
}

function errnoOf(err: unknown): string | undefined {
  if (err instanceof SysError) return err.errno;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** What a sync did. */
export interface SyncStats {
  written: number;
  bytes: number;
  removed: number;
  dirs: number;
  links: number;
  /** initial sync: files found equal and left alone */
  unchanged: number;
}

export const emptyStats = (): SyncStats => ({ written: 0, bytes: 0, removed: 0, dirs: 0, links: 0, unchanged: 0 });

/** One path to bring over: its place below the host base and below the container base. */
export interface SyncItem { readonly hostRel: string; readonly containerRel: string }

/**
 * A rule's target inside one replica's root, held for the length of a batch: the target directory
 * opened once, directories below it opened once each (component by component, no symlink).
 */
export class ContainerTarget {
  private readonly base: number;
  private readonly dirs = new Map<string, number>();

  /**
   * Resolves (and creates, owned by `owner`) the directory `base` inside `root`. `base` is an
   * absolute container path; symlinks on the way are the container's and resolved in its root.
   */
  constructor(private readonly root: InRoot, readonly basePath: string, private readonly owner: Owner) {
    root.mkdirp(basePath, { uid: owner.uid, gid: owner.gid });
    this.base = root.open(basePath, O_PATH | O_DIRECTORY);
  }

  close(): void {
    for (const fd of this.dirs.values()) closeQuietly(fd);
    this.dirs.clear();
    closeQuietly(this.base);
  }

  /**
   * The directory rel below the base, opened with no symlink followed. With `create`, missing
   * directories are made (mode from `modeOf`, owned by the container's user) and anything else in
   * their place (a file, a symlink) is replaced; without it, undefined when it is not a directory.
   */
  dir(rel: string, create: boolean, modeOf: (rel: string) => number = () => 0o755): number | undefined {
    if (rel === '') return this.base;
    const cached = this.dirs.get(rel);
    if (cached !== undefined) return cached;
    const parent = this.dir(posix.dirname(rel) === '.' ? '' : posix.dirname(rel), create, modeOf);
    if (parent === undefined) return undefined;
    const name = posix.basename(rel);
    let fd: number | undefined;
    try { fd = this.root.openChild(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW); } catch (err) {
      const e = errnoOf(err);
      if (e !== 'ENOENT' && e !== 'ENOTDIR' && e !== 'ELOOP') throw err;
      if (!create) return undefined;
      if (e !== 'ENOENT') removeAt(this.root, parent, name, false, rel); // a file or symlink where a directory belongs
      try { mkdirSync(fdPath(parent, name), { mode: 0o700 }); } catch (err2) {
        if (errnoOf(err2) !== 'EEXIST') throw fromNodeError(err2, 'mkdir', posix.join(this.basePath, rel));
      }
      const opened = this.root.openChild(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      try { applyMeta(opened, { mode: modeOf(rel), uid: this.owner.uid, gid: this.owner.gid }); } finally { closeQuietly(opened); }
      fd = this.root.openChild(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    }
    this.dirs.set(rel, fd);
    return fd;
  }

  /** Forgets the held directories at and below rel (it was removed or replaced). */
  forget(rel: string): void {
    for (const [k, fd] of this.dirs) {
      if (rel === '' || k === rel || k.startsWith(`${rel}/`)) { closeQuietly(fd); this.dirs.delete(k); }
    }
  }

  /** lstat of rel below the base (nothing followed); undefined when absent. */
  lstat(rel: string): Stats | undefined {
    const parts = splitPath(rel);
    if (parts.length === 0) return fstatSync(this.base);
    const dirFd = this.dir(parts.slice(0, -1).join('/'), false);
    if (dirFd === undefined) return undefined;
    try { return lstatAt(dirFd, parts[parts.length - 1]!); } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw fromNodeError(err, 'lstat', posix.join(this.basePath, rel));
    }
  }

  /** Removes rel (a directory with all below it); absent is fine. */
  remove(rel: string): boolean {
    const parts = splitPath(rel);
    if (parts.length === 0) return false; // never the target itself
    const dirFd = this.dir(parts.slice(0, -1).join('/'), false);
    if (dirFd === undefined) return false;
    this.forget(rel);
    const existed = this.lstat(rel) !== undefined;
    removeAt(this.root, dirFd, parts[parts.length - 1]!, true, posix.join(this.basePath, rel));
    return existed;
  }

  /** Writes the regular file rel from the host file fd (mode and mtime from `st`). */
  writeFile(rel: string, hostFd: number, st: Stats, modeOf: (rel: string) => number): void {
    const parts = splitPath(rel);
    const name = parts[parts.length - 1]!;
    const dirRel = parts.slice(0, -1).join('/');
    const dirFd = this.dir(dirRel, true, modeOf)!;
    this.forget(rel); // a directory there is removed below; its held descriptors go first
    const there = this.lstatIn(dirFd, name);
    if (there?.isDirectory()) removeAt(this.root, dirFd, name, true, posix.join(this.basePath, rel));
    writeFileAt(this.root, dirFd, name, readChunks(hostFd, st.size), {
      mode: st.mode & 0o7777, uid: this.owner.uid, gid: this.owner.gid, mtime: st.mtimeMs / 1000, atime: st.atimeMs / 1000,
    }, posix.join(this.basePath, rel));
  }

  /** A symlink at rel holding `target` (its text: it is the container's to resolve). */
  symlink(rel: string, target: string, modeOf: (rel: string) => number): void {
    const parts = splitPath(rel);
    const name = parts[parts.length - 1]!;
    const dirFd = this.dir(parts.slice(0, -1).join('/'), true, modeOf)!;
    this.forget(rel);
    const there = this.lstatIn(dirFd, name);
    if (there?.isDirectory()) removeAt(this.root, dirFd, name, true, posix.join(this.basePath, rel));
    else if (there?.isSymbolicLink()) {
      try { unlinkSync(fdPath(dirFd, name)); } catch { /* symlinkAt replaces it anyway */ }
    }
    symlinkAt(dirFd, name, target, { uid: this.owner.uid, gid: this.owner.gid }, posix.join(this.basePath, rel));
  }

  /** A directory at rel with the host directory's mode (created, or its mode set). */
  directory(rel: string, mode: number, modeOf: (rel: string) => number): void {
    if (rel === '') return;
    const fd = this.dir(rel, true, modeOf)!;
    // the held descriptor is O_PATH (no fchmod through it): reopened through its magic link,
    // which names exactly that directory
    const opened = openSync(fdPath(fd), constants.O_RDONLY | constants.O_DIRECTORY);
    try { applyMeta(opened, { mode: mode & 0o7777 }); } finally { closeQuietly(opened); }
  }

  /** Sets only the modification time of the file rel (initial sync: equal content, other mtime). */
  touch(rel: string, st: Stats): void {
    const parts = splitPath(rel);
    const dirFd = this.dir(parts.slice(0, -1).join('/'), false);
    if (dirFd === undefined) return;
    const fd = this.root.openChild(dirFd, parts[parts.length - 1]!, O_RDONLY | O_NOFOLLOW);
    try { futimesSync(fd, st.atimeMs / 1000, st.mtimeMs / 1000); } finally { closeQuietly(fd); }
  }

  /** The text of the symlink rel; undefined when it is not one. */
  readlink(rel: string): string | undefined {
    const parts = splitPath(rel);
    const dirFd = this.dir(parts.slice(0, -1).join('/'), false);
    if (dirFd === undefined || parts.length === 0) return undefined;
    try { return readlinkSync(fdPath(dirFd, parts[parts.length - 1]!)); } catch { return undefined; }
  }

  /** Opens the regular file rel for reading (nothing followed); undefined when it is not one. */
  openFile(rel: string): number | undefined {
    const parts = splitPath(rel);
    const dirFd = this.dir(parts.slice(0, -1).join('/'), false);
    if (dirFd === undefined) return undefined;
    try {
      const fd = this.root.openChild(dirFd, parts[parts.length - 1]!, O_RDONLY | O_NOFOLLOW | 0o4000);
      if (fstatSync(fd).isFile()) return fd;
      closeQuietly(fd);
      return undefined;
    } catch { return undefined; }
  }

  private lstatIn(dirFd: number, name: string): Stats | undefined {
    try { return lstatAt(dirFd, name); } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
  }
}

function lstatAt(dirFd: number, name: string): Stats {
  return lstatSync(fdPath(dirFd, name));
}

/**
 * The mode for a directory a sync creates on the way to an item: the host directory's at the same
 * place. Below the bases, host and container relative paths are the same for directories (only a
 * file rule renames, and its one file sits directly in the base).
 */
function hostModes(host: HostTree): (rel: string) => number {
  return (rel) => {
    const st = host.lstat(rel);
    return st?.isDirectory() ? st.mode & 0o7777 : 0o755;
  };
}

/**
 * Brings each item's host state over: a file is written, a directory made, a symlink copied as a
 * symlink, an absent path removed (with everything below it). Items are handled parents first.
 * Fifos, sockets and devices on the host are skipped.
 */
export function syncItems(target: ContainerTarget, host: HostTree, items: readonly SyncItem[], stats: SyncStats = emptyStats()): SyncStats {
  const sorted = [...items].sort((a, b) => (a.containerRel < b.containerRel ? -1 : a.containerRel > b.containerRel ? 1 : 0));
  const modeOf = hostModes(host);
  for (const item of sorted) {
    const st = host.lstat(item.hostRel);
    if (st !== undefined) {
      // the target is a bind mount of the watched tree itself: writing would wake the watcher
      // again with the same file, forever
      const there = target.lstat(item.containerRel);
      if (there !== undefined && there.dev === st.dev && there.ino === st.ino) { stats.unchanged++; continue; }
    }
    if (st === undefined) {
      if (target.remove(item.containerRel)) stats.removed++;
    } else if (st.isDirectory()) {
      target.directory(item.containerRel, st.mode, modeOf);
      stats.dirs++;
    } else if (st.isFile()) {
      const opened = host.openFile(item.hostRel);
      if (opened === undefined) { if (target.remove(item.containerRel)) stats.removed++; continue; }
      try { target.writeFile(item.containerRel, opened.fd, opened.stat, modeOf); } finally { closeQuietly(opened.fd); }
      stats.written++;
      stats.bytes += opened.stat.size;
    } else if (st.isSymbolicLink()) {
      const text = host.readlink(item.hostRel);
      if (text === undefined) continue;
      target.symlink(item.containerRel, text, modeOf);
      stats.links++;
    }
  }
  return stats;
}

function sameContent(a: number, b: number, size: number): boolean {
  const ha = createHash('sha256');
  const hb = createHash('sha256');
  for (const c of readChunks(a, size)) ha.update(c);
  for (const c of readChunks(b, size)) hb.update(c);
  return ha.digest('hex') === hb.digest('hex');
}

/**
 * Initial sync: copies only what differs. A file whose size and modification time (to the
 * millisecond) equal the container's is left alone without reading it; same size and another
 * mtime is compared by content (sha-256 of both) and, when equal, only its mtime is set, so the
 * next run skips it without reading. Nothing in the container is deleted (what the image put
 * there and the host does not have — build output, installed dependencies — stays, as compose
 * does). `items` are the host paths to consider (the rules' filters applied).
 */
export function initialSyncItems(target: ContainerTarget, host: HostTree, items: Iterable<SyncItem>, stats: SyncStats = emptyStats()): SyncStats {
  const differing: SyncItem[] = [];
  for (const item of items) {
    const h = host.lstat(item.hostRel);
    if (h === undefined) continue;
    const c = target.lstat(item.containerRel);
    if (h.isFile() && c?.isFile() && c.size === h.size) {
      if (Math.floor(c.mtimeMs) === Math.floor(h.mtimeMs) && (c.mode & 0o777) === (h.mode & 0o777)) { stats.unchanged++; continue; }
      const hf = host.openFile(item.hostRel);
      const cf = target.openFile(item.containerRel);
      try {
        if (hf && cf !== undefined && (c.mode & 0o777) === (h.mode & 0o777) && sameContent(hf.fd, cf, h.size)) {
          target.touch(item.containerRel, hf.stat);
          stats.unchanged++;
          continue;
        }
      } finally {
        if (hf) closeQuietly(hf.fd);
        if (cf !== undefined) closeQuietly(cf);
      }
    } else if (h.isDirectory() && c?.isDirectory()) {
      if ((c.mode & 0o7777) === (h.mode & 0o7777)) continue;
    } else if (h.isSymbolicLink() && c?.isSymbolicLink()) {
      if (host.readlink(item.hostRel) === target.readlink(item.containerRel)) { stats.unchanged++; continue; }
    }
    differing.push(item);
  }
  return syncItems(target, host, differing, stats);
}
