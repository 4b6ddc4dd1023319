// `diff`: what a container changed in its filesystem, read from its overlay upper directory, as
// `docker diff` prints it — A (added), C (changed), D (deleted), one path per line, sorted.
//   - a whiteout (a 0/0 character device) in the upper directory: D, when the image had the path;
//   - anything else in the upper directory: C when the image's layers have the path, else A
//     (a directory copied up because something below it changed is a C, as Docker shows);
//   - an opaque directory (trusted.overlay.opaque=y): the image's entries below it that the
//     upper directory does not have are D.
// The mount points the runtime itself creates (/proc, /sys, /dev, /etc/hostname, /etc/hosts,
// /etc/resolv.conf, /dev/init) are not the container's changes: they sit in Docker's init layer
// and `docker diff` never shows them. The upper directory belongs to a possibly running container:
// it is walked by descriptor (no symlink in it is followed), and the image layers are looked up
// one name at a time without following symlinks either.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { closeQuietly, fdPath, InRoot, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_RDONLY } from '../sys/in-root.js';
import { O_CLOEXEC, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, type Sys } from '../sys/sys.js';

export interface DiffEntry {
  readonly kind: 'A' | 'C' | 'D';
  readonly path: string;
}

/** What the shim makes in the upper directory for its own mounts (Docker's init layer). */
export const RUNTIME_PATHS: readonly string[] = ['/proc', '/sys', '/dev', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf'];

const STRICT = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function opaque(sys: Sys, path: string): boolean {
  const v = sys.lgetxattr(path, 'trusted.overlay.opaque');
  return v !== undefined && v.length === 1 && v[0] === 0x79; // "y"
}

/** The image's layers, top-most first, held open: "is this path in the image?" */
class Lowers {
  private readonly fds: number[];
  constructor(private readonly sys: Sys, dirs: readonly string[]) {
    this.fds = dirs.map((d) => sys.openat2(-100, d, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0));
  }
  close(): void { for (const fd of this.fds) closeQuietly(fd); }

  /** lstat of `rel` (no leading "/") in the merged image, or undefined when absent or whited out. */
  lookup(rel: string): Stats | undefined {
    const parts = rel.split('/');
    for (const layer of this.fds) {
      let hiddenBelow = false;
      // an opaque ancestor in this layer hides every lower layer's content under it
      for (let i = 1; i < parts.length && !hiddenBelow; i++) {
        const st = this.at(layer, parts.slice(0, i).join('/'));
        if (st && !st.isDirectory()) return undefined; // a non-directory ancestor: nothing below it
        if (st && opaque(this.sys, this.pathIn(layer, parts.slice(0, i).join('/')))) hiddenBelow = true;
      }
      const st = this.at(layer, rel);
      if (st) return isWhiteout(st) ? undefined : st;
      if (hiddenBelow) return undefined;
    }
    return undefined;
  }

  /** The names directly in `rel` over all layers, whiteouts and opaque directories applied. */
  children(rel: string): Set<string> {
    const names = new Set<string>();
    const gone = new Set<string>();
    for (const layer of this.fds) {
      let fd: number;
      try { fd = this.sys.openat2(layer, rel === '' ? '.' : rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, STRICT); } catch { continue; }
      try {
        for (const n of readdirSync(fdPath(fd))) {
          if (names.has(n) || gone.has(n)) continue;
          const st = lstatSync(fdPath(fd, n));
          if (isWhiteout(st)) gone.add(n); else names.add(n);
        }
        if (opaque(this.sys, this.pathIn(layer, rel))) break;
      } finally { closeQuietly(fd); }
    }
    return names;
  }

  /** A path through the layer's descriptor; only for `rel` already found to be a directory chain (no symlinks). */
  private pathIn(layer: number, rel: string): string {
    return rel === '' ? fdPath(layer) : fdPath(layer, rel);
  }

  private at(layer: number, rel: string): Stats | undefined {
    const slash = rel.lastIndexOf('/');
    let dir: number;
    try { dir = this.sys.openat2(layer, slash < 0 ? '.' : rel.slice(0, slash), O_PATH | O_DIRECTORY | O_CLOEXEC, 0, STRICT); } catch { return undefined; }
    try { return lstatSync(fdPath(dir, rel.slice(slash + 1))); } catch { return undefined; } finally { closeQuietly(dir); }
  }
}

/**
 * The changes in `upperDir` over `lowerDirs` (top-most first). `exclude`: paths that are not the
 * container's changes (RUNTIME_PATHS by default); a directory whose only content is excluded
 * is left out too.
 */
export function containerDiff(sys: Sys, upperDir: string, lowerDirs: readonly string[], exclude: readonly string[] = RUNTIME_PATHS): DiffEntry[] {
  const excluded = new Set(exclude);
  const lowers = new Lowers(sys, lowerDirs);
  const root = InRoot.open(sys, upperDir);
  const out: DiffEntry[] = [];
  try {
    const top = root.open('/', O_RDONLY | O_DIRECTORY);
    try { walk(sys, root, lowers, top, '', excluded, out); } finally { closeQuietly(top); }
  } finally {
    root.close();
    lowers.close();
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Adds the entries under the directory `dirFd` (path `rel`); returns how many it added. */
function walk(sys: Sys, root: InRoot, lowers: Lowers, dirFd: number, rel: string, excluded: ReadonlySet<string>, out: DiffEntry[]): number {
  let added = 0;
  for (const name of readdirSync(fdPath(dirFd)).sort()) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const path = `/${childRel}`;
    if (excluded.has(path)) continue;
    let st: Stats;
    try { st = lstatSync(fdPath(dirFd, name)); } catch { continue; } // removed meanwhile
    const inImage = lowers.lookup(childRel);
    if (isWhiteout(st)) {
      if (inImage) { out.push({ kind: 'D', path }); added++; }
      continue;
    }
    if (!st.isDirectory()) {
      out.push({ kind: inImage ? 'C' : 'A', path });
      added++;
      continue;
    }
    let below = 0;
    let childCount = 0;
    let fd: number;
    try { fd = root.openChild(dirFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW); } catch { continue; }
    try {
      childCount = readdirSync(fdPath(fd)).length;
      if (inImage?.isDirectory() && opaque(sys, fdPath(dirFd, name))) {
        const mine = new Set(readdirSync(fdPath(fd)));
        for (const n of lowers.children(childRel)) {
          if (!mine.has(n)) { out.push({ kind: 'D', path: `${path}/${n}` }); below++; }
        }
      }
      below += walk(sys, root, lowers, fd, childRel, excluded, out);
    } finally { closeQuietly(fd); }
    // a directory present only because of excluded mount points is not a change
    if (childCount > 0 && below === 0 && !(inImage && !inImage.isDirectory())) continue;
    out.push({ kind: inImage ? 'C' : 'A', path });
    added += below + 1;
  }
  return added;
}

/** `docker diff`'s text: "C /etc" lines. */
export function formatDiff(entries: readonly DiffEntry[]): string {
  return entries.map((e) => `${e.kind} ${e.path}\n`).join('');
}
