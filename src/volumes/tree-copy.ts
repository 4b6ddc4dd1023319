// Copying a tree from one held directory to another, every step by descriptor: the source is
// walked with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) one name at a time and the
// destination is written through "/proc/self/fd/<dir>/<name>", so a symlink on either side is
// copied as a symlink and never followed — whether the tree is an image's, a container's (cp) or
// the host's. Regular files, directories, symlinks, hard links (within the copy), fifos and device
// nodes; owners, modes, timestamps and extended attributes as asked.
import { lstatSync, fstatSync, readdirSync, readlinkSync, readSync, mkdirSync, unlinkSync, rmSync, chmodSync, lchownSync, lutimesSync, type Stats } from 'node:fs';
import { fromNodeError, SysError } from '../lib/errors.js';
import {
  fdPath, checkName, closeQuietly, applyMeta, writeFileAt, symlinkAt, linkAt, type InRoot, type FileMeta,
  O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_PATH,
} from '../sys/in-root.js';
import { S_IFIFO, O_CLOEXEC, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, type Sys } from '../sys/sys.js';

export interface CopyOptions {
  /** keep the source's owners, give everything this owner (docker cp without -a), or translate each (-a into or out of a container with its own user namespace) */
  readonly owner: 'keep' | { readonly uid: number; readonly gid: number } | ((uid: number, gid: number) => { readonly uid: number; readonly gid: number });
  /** copy extended attributes (copy-up does; security.* and trusted.* only as root can) */
  readonly xattrs: boolean;
  /** make device nodes (as root); else they are skipped */
  readonly devices: boolean;
  /** drop setuid/setgid bits (a container's file copied onto the host under a new owner) */
  readonly stripSetId?: boolean;
  /** called for each entry copied: progress and limits (throw to stop) */
  readonly onEntry?: (path: string, st: Stats) => void;
}

export interface CopyStats {
  entries: number;
  bytes: number;
  skipped: string[];
}

interface Ctx {
  readonly opts: CopyOptions;
  readonly stats: CopyStats;
  /** dev:ino of a multiply-linked file already copied → where its copy is (parent held open) */
  readonly links: Map<string, { dirFd: number; name: string }>;
}

const CHUNK = 1 << 20;
/** Directories held open so that later hard links can reach an earlier copy: a bound on fds. */
const MAX_HELD_LINK_DIRS = 512;

/** The content of an open file in chunks (one buffer of up to 1 MiB, sized to the file), counted in stats. */
export function* chunksOf(fd: number, st: Stats, stats: CopyStats): Generator<Uint8Array> {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(st.size, 1)));
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return;
    stats.bytes += n;
    yield buf.subarray(0, n);
  }
}

/** Owner, mode and times a copy of `st` gets under these options. */
export function metaOf(st: Stats, opts: CopyOptions): FileMeta {
  const owner = opts.owner === 'keep' ? { uid: st.uid, gid: st.gid } : typeof opts.owner === 'function' ? opts.owner(st.uid, st.gid) : opts.owner;
  return { mode: st.mode & (opts.stripSetId ? 0o1777 : 0o7777), uid: owner.uid, gid: owner.gid, mtime: st.mtimeMs / 1000, atime: st.atimeMs / 1000 };
}

function copyXattrs(sys: Sys, from: string, to: string, what: string): void {
  let names: string[];
  try { names = sys.llistxattr(from); } catch { return; }
  for (const name of names) {
    const value = sys.lgetxattr(from, name);
    if (value === undefined) continue;
    try { sys.lsetxattr(to, name, value); } catch (err) {
      // a filesystem without xattrs, or a namespace the destination refuses: the data still counts
      if (err instanceof SysError && (err.errno === 'ENOTSUP' || err.errno === 'EOPNOTSUPP' || err.errno === 'EPERM')) continue;
      throw fromNodeError(err, 'lsetxattr', what);
    }
  }
}

/**
 * Copies the entry `srcName` of the directory behind `srcDir` to `dstName` in `dstDir`, a
 * directory recursively. An existing destination directory is merged into; any other existing
 * destination entry is replaced. `root` is the InRoot whose sys opens the children.
 */
export function copyEntry(root: InRoot, sys: Sys, srcDir: number, srcName: string, dstDir: number, dstName: string, opts: CopyOptions, stats: CopyStats = { entries: 0, bytes: 0, skipped: [] }, what = srcName): CopyStats {
  const ctx: Ctx = { opts, stats, links: new Map() };
  try {
    copyOne(root, sys, srcDir, checkName(srcName), dstDir, checkName(dstName), ctx, what);
  } finally {
    for (const held of ctx.links.values()) closeQuietly(held.dirFd);
  }
  return stats;
}

/** Copies the content of the directory behind `srcDir` into the directory behind `dstDir`. */
export function copyDirContent(root: InRoot, sys: Sys, srcDir: number, dstDir: number, opts: CopyOptions, stats: CopyStats = { entries: 0, bytes: 0, skipped: [] }, what = '.'): CopyStats {
  const ctx: Ctx = { opts, stats, links: new Map() };
  try {
    for (const name of readdirSync(fdPath(srcDir)).sort()) copyOne(root, sys, srcDir, name, dstDir, name, ctx, `${what}/${name}`);
  } finally {
    for (const held of ctx.links.values()) closeQuietly(held.dirFd);
  }
  return stats;
}

function copyOne(root: InRoot, sys: Sys, srcDir: number, name: string, dstDir: number, dstName: string, ctx: Ctx, what: string): void {
  const from = fdPath(srcDir, name);
  const to = fdPath(dstDir, dstName);
  let st: Stats;
  try { st = lstatSync(from); } catch (err) { throw fromNodeError(err, 'lstat', what); }
  ctx.opts.onEntry?.(what, st);
  ctx.stats.entries++;
  const meta = metaOf(st, ctx.opts);

  if (st.isDirectory()) {
    let existing: Stats | undefined;
    try { existing = lstatSync(to); } catch { /* absent */ }
    if (existing && !existing.isDirectory()) unlinkSync(to);
    if (!existing || !existing.isDirectory()) {
      try { mkdirSync(to, { mode: 0o700 }); } catch (err) { throw fromNodeError(err, 'mkdir', what); }
    }
    const s = root.openChild(srcDir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    let d = -1;
    try {
      d = root.openChild(dstDir, dstName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      for (const child of readdirSync(fdPath(s)).sort()) copyOne(root, sys, s, child, d, child, ctx, `${what}/${child}`);
      // by parent and name: the xattr calls on "/proc/self/fd/N" would reach the magic link, not the directory
      if (ctx.opts.xattrs) copyXattrs(sys, from, to, what);
      applyMeta(d, meta); // after the children: their creation moved the directory's mtime
    } finally {
      closeQuietly(s);
      closeQuietly(d);
    }
    return;
  }

  if (st.isSymbolicLink()) {
    let target: string;
    try { target = readlinkSync(from); } catch (err) { throw fromNodeError(err, 'readlink', what); }
    symlinkAt(dstDir, dstName, target, meta, what);
    if (ctx.opts.xattrs) copyXattrs(sys, from, to, what);
    return;
  }

  const key = `${st.dev}:${st.ino}`;
  if (st.nlink > 1 && !st.isDirectory()) {
    const first = ctx.links.get(key);
    if (first) {
      linkAt(first.dirFd, first.name, dstDir, dstName, what);
      return;
    }
  }

  if (st.isFile()) {
    const fd = root.openChild(srcDir, name, O_RDONLY | O_NOFOLLOW);
    try {
      writeFileAt(root, dstDir, dstName, chunksOf(fd, st, ctx.stats), meta, what);
    } finally { closeQuietly(fd); }
  } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
    if (!st.isFIFO() && !ctx.opts.devices) { ctx.stats.skipped.push(`${what}: device node`); return; }
    try { rmSync(to, { force: true }); } catch { /* a directory: mknod reports it */ }
    sys.mknod(to, st.isFIFO() ? S_IFIFO | (st.mode & 0o7777) : st.mode, st.isFIFO() ? 0 : st.rdev);
    // mknod's mode went through the umask. The node is never opened (opening a device or a fifo
    // has effects): an O_PATH descriptor of exactly it carries chmod through its magic link.
    const node = sys.openat2(dstDir, dstName, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
    try {
      const made = fstatSync(node);
      if (made.isSymbolicLink() || made.isDirectory() || made.isFile()) throw new SysError('mknod', what, 'EEXIST', `${what} was replaced while it was being made`);
      chmodSync(fdPath(node), meta.mode);
      lchownSync(to, meta.uid ?? -1, meta.gid ?? -1);
      lutimesSync(to, meta.atime ?? 0, meta.mtime ?? 0);
    } catch (err) { throw fromNodeError(err, 'chmod', what); } finally { closeQuietly(node); }
  } else {
    ctx.stats.skipped.push(`${what}: socket`);
    return;
  }
  if (ctx.opts.xattrs) copyXattrs(sys, from, to, what);
  if (st.nlink > 1 && ctx.links.size < MAX_HELD_LINK_DIRS) {
    const held = sys.openat2(dstDir, '.', O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_BENEATH);
    ctx.links.set(key, { dirFd: held, name: dstName });
  }
}
