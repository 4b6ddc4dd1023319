// COPY and ADD into a mounted step root. Sources are trusted host paths (the context, a temp
// dir, or a path already resolved inside another stage's root); every destination is resolved
// inside the step's root by resolveInRoot, so no symlink in the image leads a write outside it.
import {
  lstatSync, readlinkSync, mkdirSync, symlinkSync, rmSync, chownSync, chmodSync, lchownSync, utimesSync, lutimesSync,
  copyFileSync, readdirSync, constants, type Stats,
} from 'node:fs';
import { join, posix } from 'node:path';
import { fromNodeError } from '../lib/errors.js';
import { resolveInRoot } from './rootfs.js';

export interface CopyOwner {
  /** --chown: every copied entry gets these ids; undefined keeps the source's (ADD of a tar) or root */
  readonly uid?: number;
  readonly gid?: number;
  /** --chmod */
  readonly mode?: number;
  /** keep the source's uid/gid when no --chown (extracted archives, COPY --from) */
  readonly preserveOwner: boolean;
}

function ownerOf(st: Stats, o: CopyOwner): { uid: number; gid: number } {
  if (o.uid !== undefined) return { uid: o.uid, gid: o.gid ?? o.uid };
  return o.preserveOwner ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 };
}

/** Copies one non-directory entry to the host path `dest` (already resolved in the root). */
function copyEntry(src: string, st: Stats, dest: string, o: CopyOwner): void {
  const { uid, gid } = ownerOf(st, o);
  let existing: Stats | undefined;
  try { existing = lstatSync(dest); } catch { existing = undefined; }
  if (existing && (existing.isDirectory() !== st.isDirectory() || existing.isSymbolicLink() || !existing.isFile())) {
    if (!(existing.isDirectory() && st.isDirectory())) rmSync(dest, { recursive: true, force: true });
  }
  try {
    if (st.isSymbolicLink()) {
      rmSync(dest, { force: true });
      symlinkSync(readlinkSync(src), dest);
      lchownSync(dest, uid, gid);
      lutimesSync(dest, st.atime, st.mtime);
      return;
    }
    if (st.isFile()) {
      rmSync(dest, { force: true });
      copyFileSync(src, dest, constants.COPYFILE_FICLONE);
      chownSync(dest, uid, gid);
      chmodSync(dest, o.mode ?? (st.mode & 0o7777));
      utimesSync(dest, st.atime, st.mtime);
    }
    // devices, fifos and sockets in a context are not copied (docker skips sockets; devices in a
    // context are a mistake)
  } catch (err) {
    throw fromNodeError(err, 'copy', dest);
  }
}

function ensureDir(dest: string, st: Stats | undefined, o: CopyOwner): void {
  let existing: Stats | undefined;
  try { existing = lstatSync(dest); } catch { existing = undefined; }
  if (existing && !existing.isDirectory()) rmSync(dest, { force: true });
  if (!existing || !existing.isDirectory()) {
    try { mkdirSync(dest, { mode: 0o755 }); } catch (err) { throw fromNodeError(err, 'mkdir', dest); }
  }
  if (st) {
    const { uid, gid } = ownerOf(st, o);
    chownSync(dest, uid, gid);
    chmodSync(dest, o.mode ?? (st.mode & 0o7777));
  }
}

/**
 * Copies the host tree or file `src` to the container path `destPath` inside `root`.
 * A directory's contents go into `destPath`; a file becomes `destPath` itself.
 */
export function copyIntoRoot(root: string, src: string, destPath: string, o: CopyOwner, parentOwner: { uid: number; gid: number }): void {
  const st = lstatSync(src);
  if (!st.isDirectory()) {
    const dest = resolveInRoot(root, destPath, { create: parentOwner, followLast: true });
    copyEntry(src, st, dest, o);
    return;
  }
  const top = resolveInRoot(root, destPath, { create: parentOwner, followLast: true });
  ensureDir(top, undefined, o);
  const walk = (srcDir: string, destRel: string) => {
    for (const name of readdirSync(srcDir).sort()) {
      const s = join(srcDir, name);
      const cst = lstatSync(s);
      const childPath = posix.join(destPath, destRel, name);
      const dest = resolveInRoot(root, childPath, { create: parentOwner, followLast: false });
      if (cst.isDirectory()) {
        ensureDir(dest, cst, o);
        walk(s, posix.join(destRel, name));
        utimesSync(dest, cst.atime, cst.mtime);
      } else {
        copyEntry(s, cst, dest, o);
      }
    }
  };
  walk(src, '');
}

/** Copies selected context entries (a directory's kept entries, paths relative to `baseRel`). */
export function copyEntriesIntoRoot(root: string, contextDir: string, entries: readonly { rel: string; stat: Stats }[], baseRel: string, destPath: string, o: CopyOwner, parentOwner: { uid: number; gid: number }): void {
  const top = resolveInRoot(root, destPath, { create: parentOwner, followLast: true });
  ensureDir(top, undefined, o);
  for (const e of entries) {
    const rel = baseRel === '' ? e.rel : e.rel.slice(baseRel.length + 1);
    const dest = resolveInRoot(root, posix.join(destPath, rel), { create: parentOwner, followLast: false });
    if (e.stat.isDirectory()) ensureDir(dest, e.stat, o);
    else copyEntry(join(contextDir, e.rel), e.stat, dest, o);
  }
  // directory mtimes last, deepest first: creating children moved them
  for (const e of [...entries].reverse()) {
    if (!e.stat.isDirectory()) continue;
    const rel = baseRel === '' ? e.rel : e.rel.slice(baseRel.length + 1);
    const dest = resolveInRoot(root, posix.join(destPath, rel), { followLast: false });
    utimesSync(dest, e.stat.atime, e.stat.mtime);
  }
}
