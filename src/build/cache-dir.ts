// The build cache in a directory: `cache_to: type=local,dest=DIR` writes it, `cache_from:
// type=local,src=DIR` reads it (on another root, or after `image prune`), so a rebuild there
// finds its steps cached. berth's own format, not BuildKit's (docs/images.md):
//
//   DIR/berth-build-cache.json   {"format": "berth-build-cache", "version": 1, "entries": [
//                                   {"key": <step key, 64 hex>, "spec": <the image spec after the
//                                    step>, "layers": [{"diffId", "digest", "mediaType", "size"}…]}]}
//   DIR/blobs/sha256/<hex>       each layer's blob (the gzip/zstd/plain tar the store keeps),
//                                named by its sha256
//
// A step's entry lists its whole layer chain, bottom first, so one entry is enough to rebuild
// its result. Writing: blobs first (each a temp file renamed to its digest), then the index
// (atomic rename), then blobs the new index does not name are removed: the directory holds one
// build's cache and never grows without bound (BuildKit's local exporter keeps old blobs).
// Reading is bounded and checked: the index's size, counts and every field's form; a blob is
// opened without following symlinks, must be a regular file of the listed size, is copied into
// the store's temp dir and enters the store only through addLayer, which verifies its digest and
// diffID and extracts it confined to the layer directory. A hostile directory can make a step
// miss, never write outside berth's roots. (A cache says which result a step had: import one
// only from a source you trust, as with any build cache.)
import { closeSync, constants, copyFileSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { InvalidArgument, fromNodeError } from '../lib/errors.js';
import { isTemporaryName, temporaryName, writeJsonAtomic } from '../lib/atomic.js';
import { chainIds, type ImageStore } from '../images/store.js';
import type { ImageSpec } from '../images/commit.js';
import type { Sys } from '../sys/sys.js';

export const CACHE_INDEX = 'berth-build-cache.json';
const FORMAT = 'berth-build-cache';

/** Bounds for a directory berth did not necessarily write. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
const MAX_ENTRIES = 100_000;
const MAX_LAYERS = 1000;
const MAX_HISTORY = 10_000;
const MAX_BLOB_BYTES = 64 * 1024 * 1024 * 1024;

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const KEY = /^[0-9a-f]{64}$/;
const MEDIA_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);

export interface CacheLayer { readonly diffId: string; readonly digest: string; readonly mediaType: string; readonly size: number }
export interface CacheDirEntry { readonly key: string; readonly spec: ImageSpec; readonly layers: readonly CacheLayer[] }

const hex = (digest: string) => digest.slice('sha256:'.length);

/** One writer per directory at a time in this process (a second build's cleanup must not remove the first's blobs). */
const writers = new Map<string, Promise<unknown>>();

/**
 * Writes `entries` (step key → its spec and layer chain) to `dir`. Entries whose layers left the
 * store are skipped. Returns what was written.
 */
export async function exportBuildCache(
  store: ImageStore, dir: string, entries: ReadonlyMap<string, { readonly spec: ImageSpec; readonly chain: readonly string[] }>, sys: Pick<Sys, 'lgetxattr'>,
): Promise<{ entries: number; blobs: number; bytes: number }> {
  const previous = writers.get(dir) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => writeCacheDir(store, dir, entries, sys));
  writers.set(dir, run);
  try { return await run; } finally { if (writers.get(dir) === run) writers.delete(dir); }
}

async function writeCacheDir(
  store: ImageStore, dir: string, entries: ReadonlyMap<string, { readonly spec: ImageSpec; readonly chain: readonly string[] }>, sys: Pick<Sys, 'lgetxattr'>,
): Promise<{ entries: number; blobs: number; bytes: number }> {
  const { layerBlob } = await import('../images/save.js');
  const blobs = join(dir, 'blobs', 'sha256');
  try { mkdirSync(blobs, { recursive: true, mode: 0o755 }); } catch (err) { throw fromNodeError(err, 'mkdir', blobs); }
  const cleanup: string[] = [];
  const allChains = [...entries.values()].flatMap((e) => e.chain);
  const release = store.pinMore(allChains);
  const out: CacheDirEntry[] = [];
  const written = new Set<string>();
  let bytes = 0;
  try {
    for (const [key, e] of [...entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const metas = e.chain.map((c) => store.layer(c));
      if (metas.some((m) => m === undefined)) continue;
      const layers: CacheLayer[] = [];
      for (const meta of metas) {
        const { ref, file } = await layerBlob(store, meta!, sys, cleanup);
        const target = join(blobs, hex(ref.digest));
        if (!written.has(ref.digest)) {
          let present = false;
          try { const st = lstatSync(target); present = st.isFile() && st.size === ref.size; } catch { present = false; }
          if (!present) {
            const tmp = temporaryName(target);
            try {
              copyFileSync(file, tmp, constants.COPYFILE_FICLONE);
              renameSync(tmp, target);
            } catch (err) {
              rmSync(tmp, { force: true });
              throw fromNodeError(err, 'write', target);
            }
            bytes += ref.size;
          }
          written.add(ref.digest);
        }
        layers.push({ diffId: meta!.diffId, digest: ref.digest, mediaType: ref.mediaType, size: ref.size });
      }
      out.push({ key, spec: e.spec, layers });
    }
    writeJsonAtomic(join(dir, CACHE_INDEX), { format: FORMAT, version: 1, entries: out });
    // what the new index does not name goes: blobs of older exports, temporaries of a crashed one
    for (const name of readdirSync(blobs)) {
      if ((KEY.test(name) && !written.has(`sha256:${name}`)) || isTemporaryName(name)) {
        const p = join(blobs, name);
        try { if (lstatSync(p).isFile()) rmSync(p); } catch { /* gone meanwhile */ }
      }
    }
  } finally {
    release();
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  }
  return { entries: out.length, blobs: written.size, bytes };
}

/** The index of a cache directory, checked; InvalidArgument (naming the field) when it is not one berth can read. */
export function readBuildCache(dir: string): Map<string, CacheDirEntry> {
  const file = join(dir, CACHE_INDEX);
  let text: string;
  let fd = -1;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InvalidArgument(`${file} is not a regular file`);
    if (st.size > MAX_INDEX_BYTES) throw new InvalidArgument(`${file} is larger than ${MAX_INDEX_BYTES} bytes`);
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof InvalidArgument) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidArgument(code === 'ENOENT' ? `no ${CACHE_INDEX} in ${dir} (not a berth build cache, or none exported yet)` : `cannot read ${file} (${code})`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (err) { throw new InvalidArgument(`${file}: not valid JSON (${(err as Error).message})`); }
  const bad = (path: string, expected: string): never => { throw new InvalidArgument(`${file}: ${path}: expected ${expected}`); };
  const obj = (v: unknown, path: string): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : bad(path, 'an object'));
  const arr = (v: unknown, path: string, max: number): unknown[] => (Array.isArray(v) && v.length <= max ? v : bad(path, `a list of at most ${max} items`));
  const str = (v: unknown, path: string, re?: RegExp): string => (typeof v === 'string' && (re === undefined || re.test(v)) ? v : bad(path, re ? `a string matching ${re.source}` : 'a string'));
  const top = obj(raw, '(top)');
  if (top['format'] !== FORMAT || top['version'] !== 1) bad('format, version', `"${FORMAT}", 1`);
  const out = new Map<string, CacheDirEntry>();
  arr(top['entries'], 'entries', MAX_ENTRIES).forEach((item, i) => {
    const at = `entries[${i}]`;
    const e = obj(item, at);
    const key = str(e['key'], `${at}.key`, KEY);
    const layers = arr(e['layers'], `${at}.layers`, MAX_LAYERS).map((l, j): CacheLayer => {
      const lo = obj(l, `${at}.layers[${j}]`);
      const size = lo['size'];
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_BLOB_BYTES) bad(`${at}.layers[${j}].size`, `a byte count up to ${MAX_BLOB_BYTES}`);
      const mediaType = str(lo['mediaType'], `${at}.layers[${j}].mediaType`);
      if (!MEDIA_TYPES.has(mediaType)) bad(`${at}.layers[${j}].mediaType`, 'a layer tar media type (plain, gzip or zstd)');
      return { diffId: str(lo['diffId'], `${at}.layers[${j}].diffId`, DIGEST), digest: str(lo['digest'], `${at}.layers[${j}].digest`, DIGEST), mediaType, size: size as number };
    });
    const s = obj(e['spec'], `${at}.spec`);
    const diffIds = arr(s['diffIds'], `${at}.spec.diffIds`, MAX_LAYERS).map((d, j) => str(d, `${at}.spec.diffIds[${j}]`, DIGEST));
    if (diffIds.length !== layers.length || diffIds.some((d, j) => d !== layers[j]!.diffId)) bad(`${at}.spec.diffIds`, 'the diffIds of its layers, in order');
    const history = arr(s['history'], `${at}.spec.history`, MAX_HISTORY).map((h, j) => obj(h, `${at}.spec.history[${j}]`));
    const spec: ImageSpec = {
      architecture: str(s['architecture'], `${at}.spec.architecture`),
      os: str(s['os'], `${at}.spec.os`),
      ...(s['variant'] !== undefined ? { variant: str(s['variant'], `${at}.spec.variant`) } : {}),
      ...(s['author'] !== undefined ? { author: str(s['author'], `${at}.spec.author`) } : {}),
      created: str(s['created'], `${at}.spec.created`),
      config: obj(s['config'], `${at}.spec.config`) as ImageSpec['config'],
      diffIds,
      history: history as unknown as ImageSpec['history'],
    };
    out.set(key, { key, spec, layers });
  });
  return out;
}

/**
 * Brings an entry's layers into the store (those it lacks, verified) and returns its result: the
 * spec and the chain of chainIDs. Throws (naming the blob) when a blob is missing, of another
 * size or type, or does not hash to its digest and diffID; nothing is stored then.
 */
export async function importCacheEntry(store: ImageStore, dir: string, entry: CacheDirEntry): Promise<{ spec: ImageSpec; chain: string[] }> {
  const chain = chainIds(entry.layers.map((l) => l.diffId));
  for (let i = 0; i < chain.length; i++) {
    if (store.layer(chain[i]!)) continue;
    const layer = entry.layers[i]!;
    const copy = copyBlob(store, join(dir, 'blobs', 'sha256', hex(layer.digest)), layer.size, layer.digest);
    try {
      await store.addLayer({ file: copy.file, label: `cache ${dir}: layer ${layer.digest}`, parent: i === 0 ? null : chain[i - 1]!, blobDigest: layer.digest, diffId: layer.diffId, keep: 'move' });
    } finally {
      rmSync(copy.dir, { recursive: true, force: true });
    }
  }
  return { spec: entry.spec, chain };
}

/**
 * Copies a blob into the store's temp dir: opened without following links, a regular file of
 * exactly `size` bytes hashing to `digest` (addLayer checks again, and the diffID).
 */
function copyBlob(store: ImageStore, path: string, size: number, digest: string): { dir: string; file: string } {
  let fd: number;
  try { fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK); } catch (err) {
    throw new InvalidArgument(`cache blob ${path}: cannot open (${(err as NodeJS.ErrnoException).code})`);
  }
  const tmp = store.tempDir('cache-import-');
  const file = join(tmp, 'blob');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InvalidArgument(`cache blob ${path}: not a regular file`);
    if (st.size !== size) throw new InvalidArgument(`cache blob ${path}: ${st.size} bytes, the index says ${size}`);
    const out = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const hash = createHash('sha256');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let total = 0;
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        total += n;
        if (total > size) throw new InvalidArgument(`cache blob ${path}: grew past ${size} bytes while read`);
        hash.update(buf.subarray(0, n));
        let off = 0;
        while (off < n) off += writeSync(out, buf, off, n - off);
      }
    } finally { closeSync(out); }
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== digest) throw new InvalidArgument(`cache blob ${path}: content is ${got}, the index says ${digest}`);
    return { dir: tmp, file };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    closeSync(fd);
  }
}
