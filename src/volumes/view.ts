// A container's filesystem as its processes see it, for `cp`: its root with every volume, bind
// mount and secret in place.
// - running: /proc/<pid>/root, the root of the container's own mount namespace, with all its
//   mounts (tmpfs included). Paths below it are resolved by openat2 from that descriptor, so they
//   walk the container's mount tree, never the host's.
// - created or exited: the overlay (its layers and upper dir) mounted read-write under
//   <root>/volumes/.view-<pid>-<rand>/, private, with the container's volume and bind mounts
//   bound in (tmpfs mounts hold nothing while the container is stopped: not mounted), then
//   unmounted as one tree. Repair unmounts one whose process died. The engine must not start the
//   container while its view is mounted (it holds the container's lock for cp).
import { mkdirSync, readFileSync, rmSync, statSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument, SysError, fromNodeError } from '../lib/errors.js';
import { InRoot, closeQuietly, fdPath, O_PATH, O_DIRECTORY, O_RDONLY } from '../sys/in-root.js';
import { MNT_DETACH, MS_BIND, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, O_CLOEXEC, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, type Sys } from '../sys/sys.js';
import { sortMounts } from './mounts.js';

/** The recorded mounts a stopped container's view needs (binds; a tmpfs holds nothing when stopped). */
export type ViewMount =
  | { readonly type: 'bind'; readonly source: string; readonly target: string; readonly readonly: boolean; readonly nonRecursive?: boolean; readonly subpath?: string }
  | { readonly type: 'tmpfs'; readonly target: string };

export interface ContainerFilesystem {
  /** the container's PID 1 on the host while it runs */
  readonly pid?: number;
  /** <root>/overlay2 */
  readonly overlayRoot: string;
  /** the container's layer id (its directory under overlay2: diff/, work/, lower) */
  readonly layerId: string;
  /** the container's recorded mounts */
  readonly mounts: readonly ViewMount[];
}

export interface ViewOptions {
  readonly sys: Sys;
  /** <root>/volumes: where a stopped container's view is mounted */
  readonly scratchDir: string;
}

/** The root of a running process's mount namespace, checked to be a container's, not the host's. */
function openRunningRoot(sys: Sys, pid: number): InRoot {
  const root = InRoot.open(sys, `/proc/${pid}/root`);
  const mine = statSync('/');
  const theirs = fstatSync(root.fd);
  if (mine.dev === theirs.dev && mine.ino === theirs.ino) {
    root.close();
    throw new Conflict(`process ${pid} is not in a container (its root is the host's): the container has exited`);
  }
  return root;
}

/** Calls fn with the container's root; everything mounted for it is undone afterwards. */
export async function withContainerRoot<T>(opts: ViewOptions, fs: ContainerFilesystem, fn: (root: InRoot) => T | Promise<T>): Promise<T> {
  if (fs.pid !== undefined) {
    const root = openRunningRoot(opts.sys, fs.pid);
    try { return await fn(root); } finally { root.close(); }
  }
  if (!/^[0-9a-f]{64}$/.test(fs.layerId)) throw new InvalidArgument(`malformed layer id ${fs.layerId}`);
  const { sys } = opts;
  const work = join(opts.scratchDir, `.view-${process.pid}-${randomBytes(6).toString('hex')}`);
  const mnt = join(work, 'mnt');
  try { mkdirSync(mnt, { recursive: true, mode: 0o700 }); } catch (err) { throw fromNodeError(err, 'mkdir', mnt); }
  let mounted = false;
  try {
    const layer = join(fs.overlayRoot, fs.layerId);
    const lower = readFileSync(join(layer, 'lower'), 'utf8').trim();
    const back = process.cwd();
    process.chdir(fs.overlayRoot);
    try {
      sys.mount('overlay', mnt, 'overlay', 0, `lowerdir=${lower},upperdir=${join(layer, 'diff')},workdir=${join(layer, 'work')}`);
    } finally { process.chdir(back); }
    mounted = true;
    sys.mount('', mnt, '', MS_PRIVATE, null);
    const root = InRoot.open(sys, mnt);
    try {
      for (const m of sortMounts(fs.mounts)) if (m.type === 'bind') bindInto(sys, root, m);
      return await fn(root);
    } finally { root.close(); }
  } finally {
    if (mounted) {
      try { sys.umount2(mnt, MNT_DETACH); } catch { /* repair unmounts what is left */ }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

/** One bind of a stopped container's view: the target resolved in its root, the source (and subpath) held by descriptor. */
function bindInto(sys: Sys, root: InRoot, m: ViewMount & { type: 'bind' }): void {
  let src: number;
  try { src = sys.openat2(-100, m.source, O_PATH | O_CLOEXEC, 0, 0); } catch (err) {
    // a secret or config of a container never started has no file yet: nothing to see there
    if (err instanceof SysError && err.errno === 'ENOENT') return;
    throw err;
  }
  try {
    if (m.subpath !== undefined) {
      const sub = sys.openat2(src, m.subpath, O_PATH | O_CLOEXEC, 0, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
      closeQuietly(src);
      src = sub;
    }
    const isDir = fstatSync(src).isDirectory();
    if (isDir) root.mkdirp(m.target);
    else if (!root.lstat(m.target)) root.writeFile(m.target, new Uint8Array(0), { mode: 0o644 });
    const target = root.open(m.target, O_PATH);
    try {
      sys.mount(fdPath(src), fdPath(target), '', MS_BIND | (m.nonRecursive ? 0 : MS_REC), null);
    } finally { closeQuietly(target); }
    if (m.readonly) {
      // reopen: the descriptor above names the directory below the new mount
      const top = root.open(m.target, isDir ? O_RDONLY | O_DIRECTORY : O_PATH);
      try { sys.mount('', fdPath(top), '', MS_BIND | MS_REMOUNT | MS_RDONLY, null); } finally { closeQuietly(top); }
    }
  } finally { closeQuietly(src); }
}
