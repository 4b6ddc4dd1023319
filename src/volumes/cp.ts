// `cp` between the host and a container's root, in both directions, and as tar streams for `-`,
// with `docker cp`'s rules (SRC_PATH/DEST_PATH, a trailing "/." copying a directory's content,
// ownership: the destination's root user, or the source's with -a/--archive; -L following a
// symlink SRC_PATH). Every container path is resolved inside the container's root (in-root.ts)
// and every file is reached by descriptor, so no symlink in the container can lead a read or a
// write outside it. Copies onto the host never create device nodes and drop set-id bits unless
// --archive: a container's files must not become a privilege on the host.
import { lstatSync, statSync, readdirSync, readlinkSync, readSync, fstatSync, mkdirSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { Header, Pax, Parser, type ReadEntry } from 'tar';
import { InvalidArgument, NotFound, BerthError, fromNodeError } from '../lib/errors.js';
import {
  type InRoot, fdPath, closeQuietly, applyMeta, openFileForWrite, writeAll, symlinkAt, linkAt, writeFileAt,
  O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_PATH,
} from '../sys/in-root.js';
import { O_CLOEXEC, S_IFIFO, S_IFCHR, S_IFBLK, makedev, type Sys } from '../sys/sys.js';
import { copyEntry, copyDirContent, chunksOf, metaOf, type CopyOptions, type CopyStats } from './tree-copy.js';

const AT_FDCWD = -100;

export interface CpOptions {
  /** -a: keep the source's uid/gid (default: the destination side's root / the invoking user) */
  readonly archive?: boolean;
  /** -L: follow a symlink SRC_PATH (symlinks below it are always copied as symlinks) */
  readonly followLink?: boolean;
  /** a container with its own user namespace (userns_mode: remap): its ids 0…count-1 are host ids uid…/gid… */
  readonly idMap?: { readonly uid: number; readonly gid: number; readonly count: number };
}

type Ids = { readonly uid: number; readonly gid: number };

/** The container's uid/gid of a host-side owner: unmapped ids read as the overflow id 65534, as the kernel shows them. */
function idsInContainer(opts: CpOptions): (uid: number, gid: number) => Ids {
  const m = opts.idMap;
  if (m === undefined) return (uid, gid) => ({ uid, gid });
  const back = (id: number, base: number): number => (id >= base && id < base + m.count ? id - base : 65534);
  return (uid, gid) => ({ uid: back(uid, m.uid), gid: back(gid, m.gid) });
}

/** The host-side owner of a container's uid/gid; an id the container's namespace does not map is refused. */
function idsOnHost(opts: CpOptions): (uid: number, gid: number) => Ids {
  const m = opts.idMap;
  if (m === undefined) return (uid, gid) => ({ uid, gid });
  const to = (id: number, base: number, what: string): number => {
    if (id < 0 || id >= m.count) throw new InvalidArgument(`${what} ${id} has no mapping in the container's user namespace (ids 0-${m.count - 1}): copy without -a, or chown the source first`);
    return base + id;
  };
  return (uid, gid) => ({ uid: to(uid, m.uid, 'uid'), gid: to(gid, m.gid, 'gid') });
}

/** One side of a copy: how to look at a path and open a directory there. */
interface Place {
  readonly what: string;
  stat(path: string, follow: boolean): Stats | undefined;
  /** a readable directory descriptor of `path` (symlinks followed the place's way) */
  openDir(path: string): number;
  /** a readable descriptor of the object at `path`, followed */
  openRead(path: string): number;
}

function hostPlace(sys: Sys): Place {
  const st = (p: string, follow: boolean): Stats | undefined => {
    try { return follow ? statSync(p) : lstatSync(p); } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw fromNodeError(err, 'stat', p);
    }
  };
  return {
    what: 'the host',
    stat: st,
    openDir: (p) => sys.openat2(AT_FDCWD, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0),
    openRead: (p) => sys.openat2(AT_FDCWD, p, O_RDONLY | O_CLOEXEC | 0o4000, 0, 0),
  };
}

function rootPlace(root: InRoot, label: string): Place {
  return {
    what: label,
    stat: (p, follow) => (follow ? root.stat(p) : root.lstat(p)),
    openDir: (p) => root.open(p, O_RDONLY | O_DIRECTORY),
    openRead: (p) => root.open(p, O_RDONLY | 0o4000),
  };
}

/** "dir/." and "." name a directory's content. */
function contentOnly(path: string): boolean {
  return path === '.' || path.endsWith('/.');
}

function splitLast(path: string): { parent: string; name: string } {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return { parent: '.', name: trimmed };
  return { parent: i === 0 ? '/' : trimmed.slice(0, i), name: trimmed.slice(i + 1) };
}

function copyBetween(root: InRoot, sys: Sys, from: Place, src: string, to: Place, dest: string, copy: CopyOptions, opts: CpOptions): CopyStats {
  const stats: CopyStats = { entries: 0, bytes: 0, skipped: [] };
  const whole = contentOnly(src);
  const srcPath = whole ? src.slice(0, -1) || '.' : src;
  const wantsDir = whole || src.endsWith('/');
  const srcSt = from.stat(srcPath, opts.followLink === true || wantsDir);
  if (!srcSt) throw new NotFound(`could not find the file ${src} in ${from.what}`);
  if (wantsDir && !srcSt.isDirectory()) throw new InvalidArgument(`${src} in ${from.what} is not a directory`);
  const followed = opts.followLink === true && !wantsDir && from.stat(srcPath, false)?.isSymbolicLink() === true;
  const destSt = to.stat(dest, true);
  const { parent: srcParent, name: srcName } = splitLast(srcPath);
  const { parent: destParent, name: destLeaf } = splitLast(dest);

  // where the source goes: into a directory under a name, or merged into a directory
  let into: { dirPath: string; name: string } | { mergeInto: string };
  if (srcSt.isDirectory()) {
    if (destSt && !destSt.isDirectory()) throw new InvalidArgument(`cannot copy a directory to a file: ${dest} in ${to.what} is a file`);
    if (!destSt) into = { dirPath: destParent, name: destLeaf };
    else into = whole ? { mergeInto: dest } : { dirPath: dest, name: srcName };
  } else {
    if (!destSt && dest.endsWith('/')) throw new NotFound(`destination directory ${dest} in ${to.what} must exist`);
    if (destSt?.isDirectory()) into = { dirPath: dest, name: srcName };
    else into = { dirPath: destParent, name: destLeaf };
  }
  if ('dirPath' in into) {
    const parentSt = to.stat(into.dirPath, true);
    if (!parentSt?.isDirectory()) throw new NotFound(`destination directory ${into.dirPath} in ${to.what} does not exist`);
    if (into.name === '' || into.name === '.' || into.name === '..') throw new InvalidArgument(`invalid destination ${dest}`);
  }

  const dstDir = to.openDir('dirPath' in into ? into.dirPath : into.mergeInto);
  try {
    if (followed || 'mergeInto' in into) {
      // the object itself (a followed symlink, or a directory whose content is merged)
      if (srcSt.isDirectory()) {
        const s = from.openDir(srcPath);
        try {
          if ('mergeInto' in into) return copyDirContent(root, sys, s, dstDir, copy, stats, src);
          mkdirIfMissing(dstDir, into.name, dest);
          const d = root.openChild(dstDir, into.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
          try {
            copyDirContent(root, sys, s, d, copy, stats, src);
            applyMeta(d, metaOf(srcSt, copy));
          } finally { closeQuietly(d); }
          return stats;
        } finally { closeQuietly(s); }
      }
      if (!srcSt.isFile()) throw new InvalidArgument(`${src} in ${from.what} leads to something that is not a regular file or directory`);
      const fd = from.openRead(srcPath);
      try {
        writeFileAt(root, dstDir, (into as { name: string }).name, chunksOf(fd, srcSt, stats), metaOf(srcSt, copy), dest);
      } finally { closeQuietly(fd); }
      stats.entries++;
      return stats;
    }
    const s = from.openDir(srcParent);
    try {
      return copyEntry(root, sys, s, srcName, dstDir, into.name, copy, stats, src);
    } finally { closeQuietly(s); }
  } finally { closeQuietly(dstDir); }
}

function mkdirIfMissing(dirFd: number, name: string, what: string): void {
  try { mkdirSync(fdPath(dirFd, name), { mode: 0o755 }); } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeError(err, 'mkdir', what);
  }
}

/** `cp HOST_PATH CONTAINER:DEST`: owned by the container's root unless `archive`. */
export function copyToContainer(sys: Sys, root: InRoot, hostSrc: string, containerDest: string, opts: CpOptions = {}): CopyStats {
  const onHost = idsOnHost(opts);
  const copy: CopyOptions = { owner: opts.archive ? onHost : onHost(0, 0), xattrs: opts.archive === true, devices: true };
  return copyBetween(root, sys, hostPlace(sys), hostSrc, rootPlace(root, 'the container'), normalizeContainerPath(containerDest), copy, opts);
}

/** `cp CONTAINER:SRC HOST_PATH`: owned by the invoking user unless `archive`; no device nodes. */
export function copyFromContainer(sys: Sys, root: InRoot, containerSrc: string, hostDest: string, opts: CpOptions = {}): CopyStats {
  const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const copy: CopyOptions = { owner: opts.archive ? idsInContainer(opts) : me, xattrs: false, devices: false, stripSetId: opts.archive !== true };
  return copyBetween(root, sys, rootPlace(root, 'the container'), normalizeContainerPath(containerSrc), hostPlace(sys), hostDest, copy, opts);
}

/** Container paths are relative to its root: "tmp/x" and "/tmp/x" are the same (docker cp's rule). */
export function normalizeContainerPath(p: string): string {
  if (p === '') throw new InvalidArgument('empty container path');
  return p.startsWith('/') ? p : `/${p}`;
}

// ── tar streams (`cp CONTAINER:SRC -` and `cp - CONTAINER:DEST`) ──────────────────────────────

/** What a tar stream out of a container carries along: hard links seen, and the container's view of owners. */
interface TarState {
  readonly links: Map<string, string>;
  readonly ids: (uid: number, gid: number) => Ids;
}

function headerBlocks(t: TarState, data: {
  path: string; type: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  st: Stats; size: number; linkpath?: string;
}): Buffer[] {
  const { uid, gid } = t.ids(data.st.uid, data.st.gid);
  const fields = {
    path: data.path, mode: data.st.mode & 0o7777, uid, gid, size: data.size,
    mtime: new Date(Math.floor(data.st.mtimeMs / 1000) * 1000), type: data.type, linkpath: data.linkpath ?? '',
    devmaj: data.st.isCharacterDevice() || data.st.isBlockDevice() ? Math.floor(data.st.rdev / 256) & 0xfff : 0,
    devmin: data.st.isCharacterDevice() || data.st.isBlockDevice() ? (data.st.rdev & 0xff) | ((data.st.rdev >> 12) & ~0xff) : 0,
  };
  const h = new Header(fields);
  const needPax = h.encode();
  const out: Buffer[] = [];
  if (needPax) out.push(new Pax({ path: data.path, linkpath: data.linkpath, uid, gid, size: data.size, mtime: fields.mtime }).encode());
  out.push(h.block!);
  return out;
}

/**
 * The tar stream of `src` in the container (what `docker cp CONTAINER:SRC -` writes): entries
 * named from the source's base name (or "." for "dir/."), owners as stored, hard links kept.
 */
export function* tarFromContainer(root: InRoot, src: string, opts: CpOptions = {}): Generator<Buffer> {
  const path = normalizeContainerPath(src);
  const whole = contentOnly(path);
  const srcPath = whole ? path.slice(0, -1) || '/' : path;
  const st = opts.followLink || whole ? root.stat(srcPath) : root.lstat(srcPath);
  if (!st) throw new NotFound(`could not find the file ${src} in the container`);
  const t: TarState = { links: new Map(), ids: idsInContainer(opts) };
  const top = whole ? '.' : splitLast(srcPath).name || '.';
  if (st.isDirectory()) {
    const fd = root.open(srcPath, O_RDONLY | O_DIRECTORY);
    try {
      yield* headerBlocks(t, { path: `${top}/`, type: 'Directory', st, size: 0 });
      yield* tarDir(root, fd, top, t);
    } finally { closeQuietly(fd); }
  } else {
    const { parent } = splitLast(srcPath);
    const dirFd = root.open(parent === '.' ? '/' : parent, O_PATH | O_DIRECTORY);
    try {
      if (opts.followLink && !st.isSymbolicLink()) {
        const fd = root.open(srcPath, O_RDONLY | 0o4000);
        try { yield* tarFileData(t, fd, st, top); } finally { closeQuietly(fd); }
      } else {
        yield* tarOne(root, dirFd, splitLast(srcPath).name, top, t);
      }
    } finally { closeQuietly(dirFd); }
  }
  yield Buffer.alloc(1024);
}

function* tarFileData(t: TarState, fd: number, st: Stats, name: string): Generator<Buffer> {
  yield* headerBlocks(t, { path: name, type: 'File', st, size: st.size });
  const buf = Buffer.allocUnsafe(1 << 20);
  let left = st.size;
  while (left > 0) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
    if (n === 0) break;
    left -= n;
    yield Buffer.from(buf.subarray(0, n));
  }
  // a file that shrank while being read is padded with zeros: the header already promised its size
  if (left > 0) yield Buffer.alloc(left);
  const pad = (512 - (st.size % 512)) % 512;
  if (pad > 0) yield Buffer.alloc(pad);
}

function* tarOne(root: InRoot, dirFd: number, name: string, path: string, t: TarState): Generator<Buffer> {
  const st = lstatSync(fdPath(dirFd, name));
  if (st.isDirectory()) {
    const fd = root.openChild(dirFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      yield* headerBlocks(t, { path: `${path}/`, type: 'Directory', st, size: 0 });
      yield* tarDir(root, fd, path, t);
    } finally { closeQuietly(fd); }
    return;
  }
  const key = `${st.dev}:${st.ino}`;
  if (st.nlink > 1 && t.links.has(key)) {
    yield* headerBlocks(t, { path, type: 'Link', st, size: 0, linkpath: t.links.get(key)! });
    return;
  }
  if (st.nlink > 1) t.links.set(key, path);
  if (st.isSymbolicLink()) yield* headerBlocks(t, { path, type: 'SymbolicLink', st, size: 0, linkpath: readlinkSync(fdPath(dirFd, name)) });
  else if (st.isFile()) {
    const fd = root.openChild(dirFd, name, O_RDONLY | O_NOFOLLOW | 0o4000);
    try { yield* tarFileData(t, fd, fstatSync(fd), path); } finally { closeQuietly(fd); }
  } else if (st.isFIFO()) yield* headerBlocks(t, { path, type: 'FIFO', st, size: 0 });
  else if (st.isCharacterDevice()) yield* headerBlocks(t, { path, type: 'CharacterDevice', st, size: 0 });
  else if (st.isBlockDevice()) yield* headerBlocks(t, { path, type: 'BlockDevice', st, size: 0 });
  // sockets have no tar form: skipped, as tar does
}

function* tarDir(root: InRoot, dirFd: number, path: string, t: TarState): Generator<Buffer> {
  for (const name of readdirSync(fdPath(dirFd)).sort()) yield* tarOne(root, dirFd, name, `${path}/${name}`, t);
}

/**
 * Extracts a tar stream into the directory `dest` of the container (`docker cp - CONTAINER:DEST`).
 * Entries are placed below `dest`; one that climbs out of it ("../x") is refused, as Docker
 * refuses a breakout. Owners: the container's root unless `archive`.
 */
export async function tarToContainer(sys: Sys, root: InRoot, dest: string, chunks: AsyncIterable<Buffer>, opts: CpOptions = {}): Promise<CopyStats> {
  const base = normalizeContainerPath(dest);
  const destSt = root.stat(base);
  if (!destSt) throw new NotFound(`destination directory ${dest} in the container must exist`);
  if (!destSt.isDirectory()) throw new InvalidArgument(`destination ${dest} in the container must be a directory`);
  const stats: CopyStats = { entries: 0, bytes: 0, skipped: [] };
  let failure: BerthError | undefined;
  const fail = (err: unknown): void => { failure ??= err instanceof BerthError ? err : fromNodeError(err, 'extract', dest); };
  const inside = (p: string, what: string): string => {
    const rel = posix.normalize(p.replace(/^\/+/, ''));
    if (rel === '..' || rel.startsWith('../')) throw new InvalidArgument(`tar entry ${JSON.stringify(what)} leads outside ${dest}`);
    return rel === '.' ? base : posix.join(base, rel);
  };
  const onHost = idsOnHost(opts);
  const owner = (e: ReadEntry): Ids => (opts.archive ? onHost(e.uid ?? 0, e.gid ?? 0) : onHost(0, 0));
  const dirTimes: { path: string; mtime: number }[] = [];

  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    if (failure) { entry.resume(); return; }
    try {
      const target = inside(entry.path, entry.path);
      const mtime = (entry.mtime ?? new Date(0)).getTime() / 1000;
      const meta = { mode: (entry.mode ?? 0o644) & 0o7777, ...owner(entry), mtime };
      stats.entries++;
      if (entry.type === 'Directory') {
        root.mkdirp(target);
        root.mkdir(target, { ...meta, mtime: undefined });
        dirTimes.push({ path: target, mtime });
        entry.resume();
        return;
      }
      if (target === base) throw new InvalidArgument(`tar entry ${JSON.stringify(entry.path)} would replace ${dest} itself`);
      root.mkdirp(posix.dirname(target));
      const { dirFd, name } = root.parent(target);
      let keepOpen = false;
      try {
        switch (entry.type) {
          case 'File': case 'OldFile': case 'ContiguousFile': {
            const fd = openFileForWrite(root, dirFd, name, target);
            keepOpen = true;
            entry.on('data', (chunk: Buffer) => {
              if (failure) return;
              try { writeAll(fd, chunk); stats.bytes += chunk.length; } catch (err) { fail(err); }
            });
            entry.on('end', () => {
              try { if (!failure) applyMeta(fd, meta); } catch (err) { fail(err); } finally { closeQuietly(fd); closeQuietly(dirFd); }
            });
            return;
          }
          case 'SymbolicLink':
            symlinkAt(dirFd, name, entry.linkpath ?? '', meta, target);
            break;
          case 'Link': {
            const linked = root.parent(inside(entry.linkpath ?? '', entry.linkpath ?? ''));
            try { linkAt(linked.dirFd, linked.name, dirFd, name, target); } finally { closeQuietly(linked.dirFd); }
            break;
          }
          case 'CharacterDevice': case 'BlockDevice': case 'FIFO': {
            const kind = entry.type === 'FIFO' ? S_IFIFO : entry.type === 'CharacterDevice' ? S_IFCHR : S_IFBLK;
            const hdr = entry.header as { devmaj?: number; devmin?: number } | undefined;
            sys.mknod(fdPath(dirFd, name), kind | meta.mode, entry.type === 'FIFO' ? 0 : makedev(hdr?.devmaj ?? 0, hdr?.devmin ?? 0));
            break;
          }
          default:
            stats.skipped.push(`${entry.path}: tar entry type ${entry.type}`);
        }
        entry.resume();
      } finally {
        if (!keepOpen) closeQuietly(dirFd);
      }
    } catch (err) {
      fail(err);
      entry.resume();
    }
  });
  const done = new Promise<void>((resolve) => {
    parser.on('end', () => resolve());
    parser.on('error', (err: Error) => { fail(new InvalidArgument(`the tar stream for ${dest}: ${err.message}`)); resolve(); });
  });
  for await (const chunk of chunks) {
    parser.write(chunk);
    if (failure) break;
  }
  parser.end();
  await done;
  if (failure) throw failure;
  // directory times last: writing into a directory moves its mtime
  for (const d of dirTimes.reverse()) {
    const fd = root.open(d.path, O_RDONLY | O_DIRECTORY);
    try { applyMeta(fd, { mtime: d.mtime }); } finally { closeQuietly(fd); }
  }
  return stats;
}
