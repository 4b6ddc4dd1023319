// Host-side filesystem work for a build step: an overlay of a stage's layers mounted on the host
// (COPY, ADD and WORKDIR write into it; COPY --from reads another stage through one), and path
// resolution that keeps every write inside that root.
//
// The boundary: a layer may hold symlinks pointing anywhere (`/app -> /etc`). Inside the
// container they resolve against the container's root; on the host, a naive join would follow
// them to the host's /etc. `resolveInRoot` resolves each component itself (lstat, readlink),
// restarting absolute targets at the root and never climbing above it, as docker's
// FollowSymlinkInScope does; what it returns is a host path below `root` whose components are
// all real directories. Nothing else writes into the mounted tree, so the answer stays true
// while the step runs.
import { lstatSync, mkdirSync, readlinkSync, chownSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, fromNodeError } from '../lib/errors.js';
import { MNT_DETACH, type Sys } from '../sys/sys.js';

const MAX_LINKS = 40;

/**
 * Resolves `path` (absolute inside the container) to a host path under `root`. Missing
 * directories are created (owned by uid:gid, mode 0755) when `create` is given. The last
 * component is followed when it is a symlink only if `followLast`.
 */
export function resolveInRoot(root: string, path: string, opts: { create?: { uid: number; gid: number }; followLast: boolean }): string {
  const pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') { resolved.pop(); continue; }
    const abs = join(root, ...resolved, part);
    let st;
    try { st = lstatSync(abs); } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'lstat', abs);
      st = undefined;
    }
    const isLast = pending.length === 0;
    if (st?.isSymbolicLink() && (!isLast || opts.followLast)) {
      if (++links > MAX_LINKS) throw new InvalidArgument(`${path}: too many levels of symbolic links`);
      const target = readlinkSync(abs);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      continue;
    }
    if (!isLast) {
      if (st === undefined) {
        if (!opts.create) throw new InvalidArgument(`${path}: "/${[...resolved, part].join('/')}" does not exist`);
        try { mkdirSync(abs, { mode: 0o755 }); chownSync(abs, opts.create.uid, opts.create.gid); } catch (err) { throw fromNodeError(err, 'mkdir', abs); }
      } else if (!st.isDirectory()) {
        throw new InvalidArgument(`${path}: "/${[...resolved, part].join('/')}" is not a directory`);
      }
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

/** A mounted overlay for one step: `merged` is the stage's root; writes land in `upper`. */
export interface MountedStep {
  readonly merged: string;
  readonly upper: string;
  /** unmounts (idempotent); the upper dir is then a finished layer diff */
  unmount(): void;
  /** unmounts if needed and deletes what is left of the step's temp dir */
  remove(): void;
}

/**
 * Mounts an overlay of `lowerLinks` (short links under overlayRoot/l, top-most first) with a
 * fresh upper dir in `tempParent` (which must be on the same filesystem as the store, so the
 * upper dir can be renamed into the store). The mount uses relative lowerdirs after a chdir to
 * overlayRoot (the option string stays under a page whatever the layer count; the chdir is
 * undone at once, before any other work). redirect_dir and metacopy are off, so the upper dir is
 * a plain layer diff.
 */
export function mountStep(sys: Sys, overlayRoot: string, tempParent: string, lowerLinks: readonly string[]): MountedStep {
  const dir = mkdtempSync(join(tempParent, 'step-'));
  const upper = join(dir, 'diff');
  const workDir = join(dir, 'work');
  const merged = join(dir, 'merged');
  const empty = join(dir, 'empty');
  for (const d of [upper, workDir, merged, empty]) mkdirSync(d, { mode: 0o755 });
  const lower = lowerLinks.length > 0 ? lowerLinks.map((l) => `l/${l}`).join(':') : empty;
  const previous = process.cwd();
  try {
    process.chdir(overlayRoot);
    sys.mount('overlay', merged, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${workDir},redirect_dir=off,metacopy=off`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    process.chdir(previous);
  }
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    try { sys.umount2(merged, 0); } catch { sys.umount2(merged, MNT_DETACH); }
    mounted = false;
  };
  return {
    merged,
    upper,
    unmount,
    remove() {
      unmount();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
