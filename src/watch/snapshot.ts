// What watch last saw of the host tree: one signature per watched path (type, size, mtime, mode).
//
// It serves three cases with one comparison, "walk the tree now, compare with what was seen":
// - the notifier lost events (the kernel's queue overflowed) or a batch grew past its bound: the
//   rescan finds exactly what changed, with memory proportional to the tree, not to the events;
// - a watched directory vanished and came back (a branch switch that removes `src/` and
//   restores it): the rescan after it is watched again;
// - the engine was down: the snapshot is persisted (`<stateDir>/<project>.json`, written
//   atomically after batches, at most every few seconds, and at stop), so a restarted watcher
//   compares the tree with the last state it synced and catches up the edits, creations and
//   deletions made meanwhile — including those that should trigger a rebuild or a restart.
// A snapshot may lag behind what was synced (the engine died between a batch and the next save);
// then the catch-up redoes some work, which is idempotent. It never runs ahead of the sync: it is
// updated only after a batch was applied.
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { readJson, writeJsonAtomic } from '../lib/atomic.js';
import type { HostTree } from './host-tree.js';

export type Signature = string;
/** absolute host path → signature */
export type Snapshot = Map<string, Signature>;

/** The signature of a path's lstat; undefined for what watch never syncs (fifos, sockets, devices). */
export function signature(st: Stats): Signature | undefined {
  if (st.isFile()) return `f${st.size}:${Math.floor(st.mtimeMs)}:${(st.mode & 0o7777).toString(8)}`;
  if (st.isDirectory()) return `d${(st.mode & 0o7777).toString(8)}`;
  if (st.isSymbolicLink()) return `l${st.size}:${Math.floor(st.mtimeMs)}`;
  return undefined;
}

export interface ScanRoot {
  readonly path: string;
  readonly recursive: boolean;
  readonly tree: HostTree;
}

/**
 * Walks the roots: every directory `wantsDirectory` allows is descended (never through a symlink),
 * every path `counts` accepts gets its signature.
 */
export function scan(roots: readonly ScanRoot[], wantsDirectory: (abs: string) => boolean, counts: (abs: string) => boolean): Snapshot {
  const out: Snapshot = new Map();
  for (const root of roots) {
    const stack = [''];
    while (stack.length > 0) {
      const rel = stack.pop()!;
      const entries = root.tree.readdir(rel);
      if (entries === undefined) continue;
      for (const e of entries) {
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
        const abs = posix.join(root.path, childRel);
        const isDir = e.isDirectory();
        if (isDir && root.recursive && wantsDirectory(abs)) stack.push(childRel);
        if (!counts(abs)) continue;
        const st = root.tree.lstat(childRel);
        const sig = st === undefined ? undefined : signature(st);
        if (sig !== undefined) out.set(abs, sig);
      }
    }
  }
  return out;
}

/** Paths whose signature differs, that appeared, or that are gone, sorted. */
export function diff(before: ReadonlyMap<string, Signature>, now: ReadonlyMap<string, Signature>): string[] {
  const out: string[] = [];
  for (const [p, sig] of now) if (before.get(p) !== sig) out.push(p);
  for (const p of before.keys()) if (!now.has(p)) out.push(p);
  return out.sort();
}

/**
 * Updates `snap` for paths just synced: each path's current state (gone: it and everything below
 * it dropped). `lstat` answers for an absolute host path.
 */
export function update(snap: Snapshot, paths: Iterable<string>, lstat: (abs: string) => Stats | undefined, counts: (abs: string) => boolean): void {
  for (const p of paths) {
    const st = lstat(p);
    const sig = st === undefined ? undefined : signature(st);
    // a directory that is gone or is a directory no more takes what was seen below it along
    if (snap.get(p)?.startsWith('d') && (st === undefined || !st.isDirectory())) {
      const prefix = `${p}/`;
      for (const k of snap.keys()) if (k.startsWith(prefix)) snap.delete(k);
    }
    if (sig !== undefined && counts(p)) snap.set(p, sig); else snap.delete(p);
  }
}

interface SnapshotFile { readonly version: 1; readonly entries: Readonly<Record<string, string>> }

/** The persisted snapshot, or undefined when there is none (or it cannot be read: a full compare). */
export function load(file: string): Snapshot | undefined {
  let data: SnapshotFile | undefined;
  try { data = readJson<SnapshotFile>(file); } catch { return undefined; }
  if (data === undefined || data.version !== 1 || typeof data.entries !== 'object' || data.entries === null) return undefined;
  const out: Snapshot = new Map();
  for (const [k, v] of Object.entries(data.entries)) if (typeof v === 'string' && k.startsWith('/')) out.set(k, v);
  return out;
}

/** Persists the snapshot (atomic rename; not fsync'ed: a lost save only means some work redone). */
export function save(file: string, snap: ReadonlyMap<string, Signature>): void {
  const entries: Record<string, string> = {};
  for (const [k, v] of snap) entries[k] = v;
  writeJsonAtomic(file, { version: 1, entries } satisfies SnapshotFile, { mode: 0o600, durable: false });
}
