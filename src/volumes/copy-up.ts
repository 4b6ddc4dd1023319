// Copy-up: a new, empty volume mounted where the image has content is first filled with that
// content — owners, modes, timestamps and extended attributes kept — as Docker does for named and
// anonymous volumes (`nocopy` turns it off). A volume that holds anything is never written.
//
// Where the content is read from: the image's layers merged by the kernel, in a read-only overlay
// mount made for the copy (lowerdir = the image's layers, no upper), so whiteouts, opaque
// directories and layer order are the kernel's, exactly as the container will see them. The
// target is resolved inside that view with RESOLVE_IN_ROOT (an image symlink such as
// /var/run -> /run leads where it leads in the container, and never to the host), and the tree is
// copied by descriptor (tree-copy.ts), so no symlink in the image is ever followed.
//
// Crash safety: the copy fills a staging tree beside the volume's content under an intent file
// (store.beginCopyUp); only a complete, flushed staging tree is moved in (store.markMoving, then
// renames). A SIGKILL while copying leaves an intent that repair rolls back (the volume is empty
// again and the next create copies again); a SIGKILL while moving is rolled forward.
import { mkdirSync, rmSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InvalidArgument, fromNodeError } from '../lib/errors.js';
import { InRoot, closeQuietly, O_RDONLY, O_DIRECTORY } from '../sys/in-root.js';
import { MNT_DETACH, MS_PRIVATE, MS_RDONLY, MS_NODEV, MS_NOSUID, type Sys } from '../sys/sys.js';
import { copyDirContent, type CopyStats } from './tree-copy.js';
import type { VolumeStore } from './store.js';

/** An image's layers as the overlay mount names them (the runtime's lowerLinks). */
export interface ImageLayers {
  /** <root>/overlay2: the short links l/<link> are relative to it */
  readonly overlayRoot: string;
  /** short link names, top-most layer first */
  readonly lowerLinks: readonly string[];
}

export type CopyUpOutcome =
  | { readonly outcome: 'copied'; readonly stats: CopyStats }
  /** the volume holds data already: never overwritten */
  | { readonly outcome: 'not-empty' }
  /** the image has nothing (or no directory) at the target: nothing to copy */
  | { readonly outcome: 'no-content' };

/**
 * The image's merged layers, read-only, mounted for `fn` under <root>/volumes/.copyup-<pid>-<rand>/
 * (repair unmounts and removes one whose process is gone). Overlay needs two lower layers when
 * there is no upper: a one-layer image gets an empty directory below it.
 */
export function withImageView<T>(store: VolumeStore, image: ImageLayers, fn: (root: InRoot) => T): T {
  if (image.lowerLinks.length === 0) throw new InvalidArgument('an image without layers has no content to copy');
  for (const l of image.lowerLinks) if (!/^[A-Z0-9]{26}$/.test(l)) throw new InvalidArgument(`malformed layer link ${JSON.stringify(l)}`);
  const work = join(store.dir, `.copyup-${process.pid}-${randomBytes(6).toString('hex')}`);
  const mnt = join(work, 'mnt');
  const empty = join(work, 'empty');
  const sys = store.sys;
  try { mkdirSync(mnt, { recursive: true, mode: 0o700 }); mkdirSync(empty, { mode: 0o755 }); } catch (err) { throw fromNodeError(err, 'mkdir', work); }
  let mounted = false;
  try {
    const lower = image.lowerLinks.map((l) => `l/${l}`);
    if (lower.length === 1) lower.push(empty);
    mountRelative(sys, image.overlayRoot, mnt, `lowerdir=${lower.join(':')}`);
    mounted = true;
    sys.mount('', mnt, '', MS_PRIVATE, null);
    const root = InRoot.open(sys, mnt);
    try { return fn(root); } finally { root.close(); }
  } finally {
    if (mounted) {
      try { sys.umount2(mnt, MNT_DETACH); } catch { /* repair unmounts what is left */ }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The overlay's lowerdirs are short relative links (l/XXXX), as the shim mounts them, so the
 * option string stays under the kernel's one-page limit for images with many layers: they are
 * resolved against the cwd, hence a chdir for the (synchronous) mount call.
 */
function mountRelative(sys: Sys, overlayRoot: string, target: string, options: string): void {
  const back = process.cwd();
  process.chdir(overlayRoot);
  try {
    sys.mount('overlay', target, 'overlay', MS_RDONLY | MS_NOSUID | MS_NODEV, options);
  } finally {
    process.chdir(back);
  }
}

/**
 * Fills `volume` with the image's content at `target` if the volume is empty and the image has a
 * directory there. Synchronous: the engine runs it where blocking is acceptable (a worker).
 */
export function copyUp(store: VolumeStore, volume: string, image: ImageLayers, target: string): CopyUpOutcome {
  const record = store.get(volume); // settles an interrupted earlier copy-up first
  // a tmpfs-style volume is filled once its tmpfs is mounted (the copy lives in the tmpfs)
  if (store.backing(record).kind === 'tmpfs') store.activate(volume);
  if (!store.isEmpty(volume)) return { outcome: 'not-empty' };
  return withImageView(store, image, (root) => {
    let src: number;
    try { src = root.open(target, O_RDONLY | O_DIRECTORY); } catch { return { outcome: 'no-content' } as const; }
    try {
      const staging = store.beginCopyUp(volume);
      let dst = -1;
      try {
        dst = store.sys.openat2(-100, staging, O_RDONLY | O_DIRECTORY | 0o2000000, 0, 0);
        const stats = copyDirContent(root, store.sys, src, dst, { owner: 'keep', xattrs: true, devices: true });
        const st = fstatSync(src);
        store.markMoving(volume, { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtimeMs / 1000 });
        closeQuietly(dst);
        dst = -1;
        store.finishCopyUp(volume);
        return { outcome: 'copied', stats } as const;
      } catch (err) {
        closeQuietly(dst);
        // an error (not a crash): undo now rather than leave it to repair
        if (store.copyUpPending(volume)) store.settleCopyUpOwn(volume);
        throw err;
      }
    } finally { closeQuietly(src); }
  });
}
