// docker image prune: images no container uses and (without `all`) no tag names, then every
// layer no image, build cache entry or in-flight pull/build references, and stale downloads.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageStore } from './store.js';

export interface PruneOptions {
  /** docker image prune -a: every unused image, tagged or not */
  readonly all: boolean;
  /** whether a container (in any state) uses the image */
  readonly inUse: (imageId: string) => boolean;
  /** layers to keep although no image references them (the build cache's) */
  readonly keepLayers?: ReadonlySet<string>;
  /** only these image ids are candidates (watch --prune: the images its rebuilds replaced) */
  readonly only?: ReadonlySet<string>;
  /** only images created before this (docker's --filter until=) */
  readonly until?: Date;
  /** downloads untouched for this long are deleted (default 24 h) */
  readonly staleDownloadMs?: number;
  readonly now?: () => Date;
}

export interface PruneResult {
  /** "untagged: …" and "deleted: sha256:…" lines, in docker's order */
  readonly lines: string[];
  readonly imagesDeleted: string[];
  readonly layersDeleted: string[];
  /** bytes of layer content and blobs freed */
  readonly spaceReclaimed: number;
}

export function pruneImages(store: ImageStore, opts: PruneOptions): PruneResult {
  const lines: string[] = [];
  const tags = store.tags();
  const tagged = new Set(Object.values(tags));
  const victims = store.list().filter((image) => {
    if (opts.only !== undefined && !opts.only.has(image.id)) return false;
    if (opts.inUse(image.id)) return false;
    if (!opts.all && tagged.has(image.id)) return false;
    if (opts.until && image.created !== '' && new Date(image.created) >= opts.until) return false;
    return true;
  });
  const victimIds = new Set(victims.map((v) => v.id));
  lines.push(...store.untagWhere((_, id) => victimIds.has(id)));
  for (const v of victims) {
    store.deleteConfig(v.id);
    lines.push(`deleted: ${v.id}`);
  }
  const referenced = new Set<string>(opts.keepLayers ?? []);
  for (const id of store.ids()) for (const c of store.chainOf(id)) referenced.add(c);
  // a kept layer keeps its parents
  const all = store.allLayers();
  const byChain = new Map(all.map((l) => [l.chainId, l]));
  for (const c of [...referenced]) {
    for (let p = byChain.get(c)?.parent ?? null; p !== null && !referenced.has(p); p = byChain.get(p)?.parent ?? null) referenced.add(p);
  }
  let reclaimed = 0;
  const layersDeleted: string[] = [];
  // top-most first: a child goes before its parent
  const depth = (l: { parent: string | null }): number => { let d = 0; for (let p = l.parent; p !== null; p = byChain.get(p)?.parent ?? null) d++; return d; };
  for (const l of all.filter((x) => !referenced.has(x.chainId) && !store.isPinned(x.chainId)).sort((a, b) => depth(b) - depth(a))) {
    reclaimed += l.size + (l.blob?.size ?? 0);
    store.deleteLayer(l.chainId);
    layersDeleted.push(l.chainId);
    lines.push(`deleted: ${l.chainId}`);
  }
  const downloads = join(store.stateDir(), 'downloads');
  const now = (opts.now ?? (() => new Date()))().getTime();
  let names: string[] = [];
  try { names = readdirSync(downloads); } catch { /* none */ }
  for (const n of names) {
    const p = join(downloads, n);
    try {
      const st = statSync(p);
      if (now - st.mtimeMs >= (opts.staleDownloadMs ?? 24 * 3600_000)) { reclaimed += st.size; rmSync(p, { force: true }); }
    } catch { /* gone meanwhile */ }
  }
  return { lines, imagesDeleted: victims.map((v) => v.id), layersDeleted, spaceReclaimed: reclaimed };
}
