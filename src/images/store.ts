// The content-addressed image store.
//
// On disk, under the root passed in (BERTH_ROOT; never a constant):
//   overlay2/<chainIdHex>/{diff,link,lower}      image layers, in the layout container layers share
//                                                 (src/lib/overlay-layout.ts); one dir per chainID
//   image/layerdb/sha256/<chainIdHex>/layer.json {chainId, diffId, parent, cacheId, link, size}
//   image/imagedb/content/sha256/<idHex>          the image config, byte-exact (its sha256 is the id)
//   image/repositories.json                      {"tags": {"busybox:latest": "sha256:…"},
//                                                  "digests": {"busybox@sha256:…": "sha256:<id>"}}
//   image/blobs/sha256/<hex>                      each layer's distributable blob, as it arrived
//                                                 (gzip/zstd/plain): push and save send these bytes,
//                                                 so a layer keeps its digest and diffID everywhere
//   image/distribution/<hex>.json                 which registry repositories hold a blob (push skips)
//   image/tmp/                                    staging for archives and layers being extracted
//
// Identity: a layer is its OCI chainID (chainID(L0) = diffID0, chainID(Ln) =
// sha256(chainID(Ln-1) + " " + diffIDn)), so a layer shared by two images is stored once; an
// image is the sha256 of its config bytes, as docker computes it.
//
// Crash safety: each object has one commit point, written last, and everything before it is
// repairable garbage. A layer is extracted into image/tmp, renamed into overlay2/<chainIdHex>/diff
// and committed by writing layer.json; a stale overlay2 dir without layer.json is deleted and
// redone on the next load. An image is committed by writing its config; tags are written after.
// Deletion runs in the reverse order (tags, config, then each layer.json before its dir), so a
// crash can at worst leave an unreferenced layer behind, which a later load of the same layer
// reuses.
//
// Concurrency within one process: load and import run one at a time (a promise chain). remove is
// synchronous and may run between their steps; layers a load has already decided to use are
// pinned, so remove never deletes them from under it. Cross-process locking is the engine's job
// (one engine per root).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, existsSync, chmodSync, copyFileSync, statSync, linkSync, openSync, readSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { Conflict, InternalError, InvalidArgument, NotFound, SysError, fromNodeError } from '../lib/errors.js';
import { readJson, writeFileAtomic, writeJsonAtomic, CorruptFile } from '../lib/atomic.js';
import { createLayerDir, readLayerDir, removeLayerDir } from '../lib/overlay-layout.js';
import type { Sys } from '../sys/sys.js';
// The archive readers (and the tar library under them) are imported only by load and import:
// `run`, `images` and `rmi` resolve images without paying for them.
import type { ArchiveLayer } from './archive.js';
import type { ExtractLimits } from './extract.js';
import { FULL_ID, familiarTag, parseReference } from './reference.js';

/** The image config's `config` object: only what berth uses. */
export interface ImageConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
}

export interface ImageLayer {
  /** "sha256:<hex>": the layer's identity in the store */
  readonly chainId: string;
  /** "sha256:<hex>" of the uncompressed layer tar */
  readonly diffId: string;
  /** the directory name under overlay2/ (the chainID's hex) */
  readonly cacheId: string;
  /** the short name under overlay2/l/ */
  readonly link: string;
}

export interface ImageRecord {
  /** "sha256:<hex>" of the config bytes */
  readonly id: string;
  /** familiar "repository:tag" names, sorted */
  readonly repoTags: string[];
  /** "repository@sha256:<manifest digest>" for each registry manifest this image was pulled or pushed as */
  readonly repoDigests?: string[];
  /** RFC 3339 from the config, or "" */
  readonly created: string;
  /** bytes of regular-file content over all layers (uncompressed) */
  readonly size: number;
  readonly config: ImageConfig;
  /** bottom-most first */
  readonly layers: ImageLayer[];
  readonly architecture?: string;
  readonly os?: string;
}

export interface ImageStoreOptions {
  /** BERTH_ROOT: the store lives in <root>/image and <root>/overlay2 */
  readonly root: string;
  readonly sys: Sys;
  /** when the store runs as root; decides chown and device nodes. Default: the process's uid is 0 */
  readonly privileged?: boolean;
  /** the clock for `created` of imported images */
  readonly now?: () => Date;
  /** caps for hostile archives; defaults in extract.ts */
  readonly limits?: Partial<ExtractLimits>;
}

export interface RemoveOptions {
  /** docker rmi -f: delete an image by id even when several tags name it */
  readonly force?: boolean;
  /** whether a container (in any state) uses the image */
  readonly inUse: (imageId: string) => boolean;
}

/** A layer's distributable form: the file under image/blobs that push and save send. */
export interface BlobRef {
  /** "sha256:<hex>" of the blob bytes */
  readonly digest: string;
  /** OCI layer media type matching the blob's compression */
  readonly mediaType: string;
  readonly size: number;
}

export interface LayerMeta {
  readonly chainId: string;
  readonly diffId: string;
  /** chainID of the layer below, or null for a bottom layer */
  readonly parent: string | null;
  readonly cacheId: string;
  readonly link: string;
  readonly size: number;
  /** absent for layers stored before blobs were kept: push and save regenerate those */
  readonly blob?: BlobRef;
}

/** The OCI layer media type for a blob's compression. */
export function layerMediaType(compression: string): string {
  if (compression === 'gzip') return 'application/vnd.oci.image.layer.v1.tar+gzip';
  if (compression === 'zstd') return 'application/vnd.oci.image.layer.v1.tar+zstd';
  return 'application/vnd.oci.image.layer.v1.tar';
}

/** What addLayer needs: a (plain, gzip or zstd) layer tar and where it goes in a chain. */
export interface AddLayerInput {
  readonly file: string;
  /** names the layer in errors */
  readonly label: string;
  /** the layer below (its chainID), or null for a bottom layer */
  readonly parent: string | null;
  /** checked against the file's sha256 while it is read */
  readonly blobDigest?: string;
  /** checked against the uncompressed tar's sha256 (the config's diff_id) */
  readonly diffId?: string;
  /** "move": the file is ours (a download, a tar the builder wrote, a staged archive member) and
   *  is hard-linked into blobs (the caller deletes its name); "copy": the caller's file is copied */
  readonly keep: 'move' | 'copy';
}

interface RawConfig {
  created?: unknown;
  architecture?: unknown;
  os?: unknown;
  config?: ImageConfig | null;
  rootfs?: { type?: unknown; diff_ids?: unknown };
}

interface Repositories { tags: Record<string, string>; digests?: Record<string, string> }

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return `sha256:${hash.digest('hex')}`;
}

function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

const hex = (digest: string) => digest.slice('sha256:'.length);

/** OCI chainIDs for a list of diffIDs, bottom-most first. */
/**
 * `store.resolve`, each reference looked up once for as long as the returned function is kept (one
 * verb's decisions, during which the store does not change); a failed look-up throws its error again.
 */
export function resolveEach(store: Pick<ImageStore, 'resolve'>): (ref: string) => ImageRecord {
  const seen = new Map<string, { readonly image: ImageRecord } | { readonly error: unknown }>();
  return (ref) => {
    let r = seen.get(ref);
    if (r === undefined) {
      try { r = { image: store.resolve(ref) }; } catch (error) { r = { error }; }
      seen.set(ref, r);
    }
    if ('error' in r) throw r.error;
    return r.image;
  };
}

export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) out.push(out.length === 0 ? diffId : sha256(`${out[out.length - 1]} ${diffId}`));
  return out;
}

/** Node's process.arch in OCI/GOARCH spelling. */
export function ociArchitecture(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[nodeArch] ?? nodeArch;
}

export class ImageStore {
  private readonly root: string;
  private readonly sys: Sys;
  private readonly privileged: boolean;
  private readonly now: () => Date;
  private readonly limits: Partial<ExtractLimits>;
  /** serialises load/import */
  private queue: Promise<unknown> = Promise.resolve();
  /** chainIDs an in-flight load/import will reference; remove() leaves them alone */
  private readonly pinned = new Map<string, number>();

  constructor(opts: ImageStoreOptions) {
    this.root = opts.root;
    this.sys = opts.sys;
    this.privileged = opts.privileged ?? process.getuid?.() === 0;
    this.now = opts.now ?? (() => new Date());
    this.limits = opts.limits ?? {};
  }

  overlayRoot(): string { return join(this.root, 'overlay2'); }
  private imageDir(): string { return join(this.root, 'image'); }
  private contentDir(): string { return join(this.imageDir(), 'imagedb', 'content', 'sha256'); }
  private layerDbDir(): string { return join(this.imageDir(), 'layerdb', 'sha256'); }
  private repositoriesFile(): string { return join(this.imageDir(), 'repositories.json'); }
  private tmpDir(): string { return join(this.imageDir(), 'tmp'); }
  /** image/: the folder other image facilities (pull downloads, build cache) keep state under */
  stateDir(): string { return this.imageDir(); }
  blobsDir(): string { return join(this.imageDir(), 'blobs', 'sha256'); }
  blobPath(digest: string): string { return join(this.blobsDir(), hex(digest)); }

  ensureDirs(): void {
    for (const dir of [this.contentDir(), this.layerDbDir(), this.tmpDir(), this.overlayRoot(), this.blobsDir()]) {
      try { mkdirSync(dir, { recursive: true, mode: 0o700 }); } catch (err) { throw fromNodeError(err, 'mkdir', dir); }
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- reading -------------------------------------------------------------------------------

  private readTags(): Record<string, string> {
    return readJson<Repositories>(this.repositoriesFile())?.tags ?? {};
  }

  private readDigests(): Record<string, string> {
    return readJson<Repositories>(this.repositoriesFile())?.digests ?? {};
  }

  private writeTags(tags: Record<string, string>, digests: Record<string, string> = this.readDigests()): void {
    const sort = (o: Record<string, string>) => {
      const out: Record<string, string> = {};
      for (const key of Object.keys(o).sort()) out[key] = o[key];
      return out;
    };
    const value: Repositories = Object.keys(digests).length > 0 ? { tags: sort(tags), digests: sort(digests) } : { tags: sort(tags) };
    writeJsonAtomic(this.repositoriesFile(), value);
  }

  private readLayer(chainId: string): LayerMeta | undefined {
    return readJson<LayerMeta>(join(this.layerDbDir(), hex(chainId), 'layer.json'));
  }

  private imageIds(): string[] {
    try {
      return readdirSync(this.contentDir()).filter((n) => FULL_ID.test(n)).map((n) => `sha256:${n}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fromNodeError(err, 'readdir', this.contentDir());
    }
  }

  private readConfig(id: string): RawConfig | undefined {
    const path = join(this.contentDir(), hex(id));
    let bytes: Buffer;
    try { bytes = readFileSync(path); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fromNodeError(err, 'read', path);
    }
    // the id is the sha256 of the config's bytes: a file that no longer hashes to it (truncated,
    // garbage, edited) is corrupt, whether or not it still parses
    if (createHash('sha256').update(bytes).digest('hex') !== hex(id)) throw new CorruptFile(path, `its sha256 is not the image id ${id}`);
    try { return JSON.parse(bytes.toString('utf8')) as RawConfig; } catch (err) {
      throw new CorruptFile(path, `it is not valid JSON (${(err as Error).message})`);
    }
  }

  private record(id: string, tags: Record<string, string>): ImageRecord | undefined {
    const raw = this.readConfig(id);
    if (raw === undefined) return undefined;
    const diffIds = diffIdsOf(raw, id);
    const layers: ImageLayer[] = [];
    let size = 0;
    for (const chainId of chainIds(diffIds)) {
      const meta = this.readLayer(chainId);
      const metaFile = join(this.layerDbDir(), hex(chainId), 'layer.json');
      if (!meta) throw new SysError('read', metaFile, 'ENOENT', `image ${id}: its layer ${chainId} is missing ("${metaFile}" does not exist): remove the image (rmi -f) and pull or load it again`);
      if (typeof meta !== 'object' || meta === null || typeof meta.cacheId !== 'string' || typeof meta.size !== 'number') throw new CorruptFile(metaFile, 'not a layer record');
      const diff = this.layerDiffDir(meta);
      if (!existsSync(diff)) throw new SysError('stat', diff, 'ENOENT', `image ${id}: the content of its layer ${chainId} is missing ("${diff}" does not exist): remove the image (rmi -f) and pull or load it again`);
      layers.push({ chainId: meta.chainId, diffId: meta.diffId, cacheId: meta.cacheId, link: meta.link });
      size += meta.size;
    }
    const digests = this.readDigests();
    const record: ImageRecord = {
      id,
      repoTags: Object.keys(tags).filter((t) => tags[t] === id).sort(),
      repoDigests: Object.keys(digests).filter((d) => digests[d] === id).sort(),
      created: typeof raw.created === 'string' ? raw.created : '',
      size,
      config: raw.config ?? {},
      layers,
      ...(typeof raw.architecture === 'string' ? { architecture: raw.architecture } : {}),
      ...(typeof raw.os === 'string' ? { os: raw.os } : {}),
    };
    return record;
  }

  /**
   * Every image, newest first. An image whose config or layers cannot be read is left out (one
   * damaged image never hides the others); naming it (`run`, `inspect`, `rmi`) says what is wrong.
   */
  list(): ImageRecord[] {
    const tags = this.readTags();
    const out: ImageRecord[] = [];
    for (const id of this.imageIds()) {
      let record: ImageRecord | undefined;
      try { record = this.record(id, tags); } catch (err) {
        if (err instanceof SysError) continue;
        throw err;
      }
      if (record) out.push(record);
    }
    return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id.localeCompare(b.id)));
  }

  /**
   * Finds an image by name[:tag], full id (with or without "sha256:"), or an id prefix of at
   * least 4 hex digits, in docker's order: exact id, then name, then prefix.
   */
  resolve(ref: string): ImageRecord {
    return this.lookup(ref).image;
  }

  private lookup(ref: string): { image: ImageRecord; tag: string | undefined } {
    const tags = this.readTags();
    const byId = (id: string) => this.record(id, tags);
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(ref);
    if (full) {
      const image = byId(`sha256:${full[1]}`);
      if (image) return { image, tag: undefined };
    }
    let tag: string | undefined;
    try { tag = familiarTag(ref); } catch { tag = undefined; }
    if (tag === undefined && ref.includes('@')) {
      let pinned: string | undefined;
      try { const r = parseReference(ref); pinned = r.digest === undefined ? undefined : `${r.repository}@${r.digest}`; } catch { pinned = undefined; }
      const id = pinned === undefined ? undefined : this.readDigests()[pinned];
      const image = id === undefined ? undefined : byId(id);
      if (image) return { image, tag: undefined };
    }
    if (tag !== undefined && tags[tag] !== undefined) {
      const image = byId(tags[tag]);
      if (image) return { image, tag };
    }
    const prefix = /^(?:sha256:)?([a-f0-9]{4,63})$/.exec(ref);
    if (prefix) {
      const matches = this.imageIds().filter((id) => hex(id).startsWith(prefix[1]));
      if (matches.length > 1) throw new InvalidArgument(`image id prefix "${ref}" is ambiguous: ${matches.length} images match`);
      if (matches.length === 1) {
        const image = byId(matches[0]);
        if (image) return { image, tag: undefined };
      }
    }
    throw new NotFound(`no such image: ${ref}`);
  }

  // ---- writing -------------------------------------------------------------------------------

  /** Loads every image in a docker-archive or OCI image-layout archive (plain or gzip). */
  load(file: string): Promise<{ loaded: ImageRecord[]; messages: string[] }> {
    return this.exclusive(async () => {
      this.ensureDirs();
      const staging = this.makeTemp('load-');
      try {
        const { stageArchive, readArchiveImages } = await import('./archive.js');
        const staged = await stageArchive(file, staging, this.limits);
        const images = readArchiveImages(staged, ociArchitecture());
        // validate every tag before writing anything
        const tagLists = images.map((image) => image.repoTags.map((t) => familiarTag(t)));
        const loaded: ImageRecord[] = [];
        const messages: string[] = [];
        for (let i = 0; i < images.length; i++) {
          const id = await this.commitImage(images[i].configBytes, images[i].layers, `archive "${file}"`);
          for (const tag of tagLists[i]) this.setTag(tag, id, messages);
          if (tagLists[i].length === 0) messages.push(`Loaded image ID: ${id}`);
          else for (const tag of tagLists[i]) messages.push(`Loaded image: ${tag}`);
          const record = this.record(id, this.readTags());
          if (!record) throw new InternalError(`image ${id} vanished after loading`);
          loaded.push(record);
        }
        return { loaded, messages };
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    });
  }

  /**
   * Imports a plain rootfs tarball (gzip or not) as a one-layer image, like `docker import`.
   * `changes.config` becomes the image's config; nothing else is defaulted (no Cmd).
   */
  import(file: string, ref: string | undefined, changes?: { config?: Partial<ImageConfig> }): Promise<ImageRecord> {
    return this.exclusive(async () => {
      const tag = ref === undefined ? undefined : familiarTag(ref);
      this.ensureDirs();
      const label = `import "${file}"`;
      const staged = await this.extractToStaging(file, label, undefined);
      let id: string;
      try {
        const created = this.now().toISOString();
        const config = {
          architecture: ociArchitecture(),
          config: { ...(changes?.config ?? {}) },
          created,
          history: [{ created, created_by: 'berth import', comment: `Imported from ${basename(file)}` }],
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [staged.diffId] },
        };
        const configBytes = Buffer.from(JSON.stringify(config));
        id = sha256(configBytes);
        this.pin([staged.diffId]);
        try {
          this.commitLayer(staged.diffId, staged.diffId, null, staged, { file, move: false });
          this.writeConfig(id, configBytes);
        } finally {
          this.unpin([staged.diffId]);
        }
      } finally {
        rmSync(staged.dir, { recursive: true, force: true });
      }
      const messages: string[] = [];
      if (tag !== undefined) this.setTag(tag, id, messages);
      const record = this.record(id, this.readTags());
      if (!record) throw new InternalError(`image ${id} vanished after import`);
      return record;
    });
  }

  /**
   * docker rmi. By tag: untag; when that was the image's last tag, delete the image too. By id:
   * delete the image and all its tags (several tags need `force`). Layers no other image uses
   * are deleted with it.
   *
   * An image a container uses is never deleted, even with `force`: the container's overlay
   * mount names the image's layers as its lower dirs. (Docker untags such an image with -f
   * when its containers are stopped and refuses for running ones; berth refuses both, and
   * changes nothing.) Untagging one of several tags is allowed while in use.
   */
  remove(ref: string, opts: RemoveOptions): string[] {
    let found: { image: ImageRecord; tag: string | undefined };
    try { found = this.lookup(ref); } catch (err) {
      if (!(err instanceof SysError)) throw err;
      return this.removeDamaged(ref, opts, err);
    }
    const { image, tag } = found;
    const short = hex(image.id).slice(0, 12);
    const lines: string[] = [];
    const tags = this.readTags();
    if (tag !== undefined && image.repoTags.length > 1) {
      delete tags[tag];
      this.writeTags(tags);
      return [`Untagged: ${tag}`];
    }
    if (tag === undefined && image.repoTags.length > 1 && !opts.force) {
      throw new Conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
    }
    if (opts.inUse(image.id)) {
      throw new Conflict(`conflict: unable to delete ${tag ?? short} (${short}) - image is being used by a container`);
    }
    for (const t of image.repoTags) {
      delete tags[t];
      lines.push(`Untagged: ${t}`);
    }
    const digests = this.readDigests();
    for (const d of image.repoDigests ?? []) {
      delete digests[d];
      lines.push(`Untagged: ${d}`);
    }
    if (image.repoTags.length > 0 || (image.repoDigests ?? []).length > 0) this.writeTags(tags, digests);
    const configPath = join(this.contentDir(), hex(image.id));
    try { rmSync(configPath, { force: true }); } catch (err) { throw fromNodeError(err, 'unlink', configPath); }
    lines.push(`Deleted: ${image.id}`);

    const stillUsed = new Set<string>(this.pinned.keys());
    for (const id of this.imageIds()) {
      let raw: RawConfig | undefined;
      try { raw = this.readConfig(id); } catch (err) {
        // a damaged config does not say which layers it uses: keep them all (its layers may be
        // this image's too), rather than delete what another image may need
        if (!(err instanceof SysError)) throw err;
        lines.push(`Kept the layers: image ${id} cannot be read (${err.message})`);
        return lines;
      }
      if (raw) for (const chainId of chainIds(diffIdsOf(raw, id))) stillUsed.add(chainId);
    }
    for (const layer of [...image.layers].reverse()) {
      if (stillUsed.has(layer.chainId)) continue;
      this.deleteLayer(layer.chainId);
      lines.push(`Deleted: ${layer.chainId}`);
    }
    return lines;
  }

  /**
   * rmi of an image that cannot be read (its config or a layer damaged or missing): its tags and
   * its config go; its layers stay (which ones it used cannot be known for sure), for a later
   * `image prune` of layers no image uses. Needs -f, and refuses while a container uses it.
   */
  private removeDamaged(ref: string, opts: RemoveOptions, why: SysError): string[] {
    const tags = this.readTags();
    const digests = this.readDigests();
    let tag: string | undefined;
    try { tag = familiarTag(ref); } catch { tag = undefined; }
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(ref);
    const prefix = /^(?:sha256:)?([a-f0-9]{4,63})$/.exec(ref);
    const byPrefix = prefix ? this.imageIds().filter((i) => hex(i).startsWith(prefix[1])) : [];
    const id = full ? `sha256:${full[1]}` : tag !== undefined && tags[tag] !== undefined ? tags[tag] : byPrefix.length === 1 ? byPrefix[0] : undefined;
    if (id === undefined) throw why;
    if (!opts.force) throw new Conflict(`image ${ref} is damaged (${why.message}): remove it with rmi -f`);
    if (opts.inUse(id)) throw new Conflict(`conflict: unable to delete ${ref} (${hex(id).slice(0, 12)}) - image is being used by a container`);
    const lines: string[] = [];
    for (const t of Object.keys(tags).filter((t) => tags[t] === id)) { delete tags[t]; lines.push(`Untagged: ${t}`); }
    for (const d of Object.keys(digests).filter((d) => digests[d] === id)) { delete digests[d]; lines.push(`Untagged: ${d}`); }
    if (lines.length > 0) this.writeTags(tags, digests);
    const configPath = join(this.contentDir(), hex(id));
    try { rmSync(configPath, { force: true }); } catch (err) { throw fromNodeError(err, 'unlink', configPath); }
    lines.push(`Deleted: ${id}`);
    return lines;
  }

  /**
   * Deletes one layer: layer.json first (the commit point), then its dir, then its blob unless
   * another layer shares it. The caller has checked that nothing references it.
   */
  deleteLayer(chainId: string): void {
    const meta = this.readLayer(chainId);
    const metaDir = join(this.layerDbDir(), hex(chainId));
    try { rmSync(metaDir, { recursive: true, force: true }); } catch (err) { throw fromNodeError(err, 'rm', metaDir); }
    removeLayerDir(this.overlayRoot(), meta?.cacheId ?? hex(chainId));
    if (meta?.blob && !this.allLayers().some((l) => l.blob?.digest === meta.blob?.digest)) {
      rmSync(this.blobPath(meta.blob.digest), { force: true });
    }
  }

  // ---- the layer and config API used by pull, push, save, commit and build -----------------

  /** Every committed layer (damaged ones left out). */
  allLayers(): LayerMeta[] {
    let names: string[];
    try { names = readdirSync(this.layerDbDir()); } catch { return []; }
    const out: LayerMeta[] = [];
    for (const n of names) {
      if (!FULL_ID.test(n)) continue;
      let meta: LayerMeta | undefined;
      // a damaged layer.json is no layer anyone can use: left alone (rmi of its image says why)
      try { meta = this.readLayer(`sha256:${n}`); } catch (err) { if (err instanceof SysError) continue; throw err; }
      if (meta) out.push(meta);
    }
    return out;
  }

  /** A committed layer, or undefined. */
  layer(chainId: string): LayerMeta | undefined {
    return this.readLayer(chainId);
  }

  /** The extracted tree of a committed layer (overlay2/<cacheId>/diff). */
  layerDiffDir(meta: LayerMeta): string {
    return join(this.overlayRoot(), meta.cacheId, 'diff');
  }

  /** The image config exactly as stored (its sha256 is the id). */
  configBytes(id: string): Buffer {
    const path = join(this.contentDir(), hex(id));
    try { return readFileSync(path); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound(`no such image: ${id}`);
      throw fromNodeError(err, 'read', path);
    }
  }

  /** Every image id in the store. */
  ids(): string[] { return this.imageIds(); }

  /** Tags → image ids (familiar names). */
  tags(): Record<string, string> { return this.readTags(); }

  /**
   * Holds `chainIds` against removal (rmi, prune) while `work` runs: a pull or a build pins
   * layers it has committed but not yet referenced from an image config.
   */
  async withPinned<T>(chainIdsToPin: readonly string[], work: () => Promise<T>): Promise<T> {
    this.pin(chainIdsToPin);
    try { return await work(); } finally { this.unpin(chainIdsToPin); }
  }

  /** Pins more layers during a withPinned() (for layers found as the work goes). */
  pinMore(chainIdsToPin: readonly string[]): () => void {
    this.pin(chainIdsToPin);
    return () => this.unpin(chainIdsToPin);
  }

  /** Whether a chainID is pinned by a pull or a build in progress. */
  isPinned(chainId: string): boolean { return this.pinned.has(chainId); }

  /**
   * Extracts a layer tar into the store on top of `parent` and keeps its blob. Verifies the
   * blob digest and diffID when given; nothing is committed when either differs. Returns the
   * existing layer (and leaves the file alone) when the chain already has it.
   */
  async addLayer(input: AddLayerInput): Promise<LayerMeta> {
    this.ensureDirs();
    const parentMeta = input.parent === null ? undefined : this.readLayer(input.parent);
    if (input.parent !== null && !parentMeta) throw new InternalError(`${input.label}: parent layer ${input.parent} is not in the store`);
    if (input.diffId !== undefined) {
      const chainId = input.parent === null ? input.diffId : sha256(`${input.parent} ${input.diffId}`);
      const existing = this.readLayer(chainId);
      if (existing) return existing;
    }
    const staged = await this.extractToStaging(input.file, input.label, input.blobDigest);
    try {
      if (input.diffId !== undefined && staged.diffId !== input.diffId) {
        throw new InvalidArgument(`${input.label}: content has diffID ${staged.diffId}, expected ${input.diffId}`);
      }
      const chainId = input.parent === null ? staged.diffId : sha256(`${input.parent} ${staged.diffId}`);
      return this.commitLayer(chainId, staged.diffId, input.parent, staged, { file: input.file, move: input.keep === 'move' });
    } finally {
      rmSync(staged.dir, { recursive: true, force: true });
    }
  }

  /**
   * Commits a directory that is already in the store's layer format (a stopped container's upper
   * dir, a staged build step) as the layer `diffId` on top of `parent`, moving `dir` into place
   * (same filesystem) and linking `blob` (its tar, written by layer-tar.ts) into blobs. The caller
   * computed diffId from this very tree; the dir is gone afterwards whatever happens.
   */
  adoptLayer(input: { dir: string; diffId: string; parent: string | null; blobFile: string; size: number }): LayerMeta {
    this.ensureDirs();
    const chainId = input.parent === null ? input.diffId : sha256(`${input.parent} ${input.diffId}`);
    const existing = this.readLayer(chainId);
    if (existing) { rmSync(input.dir, { recursive: true, force: true }); return existing; }
    if (input.parent !== null && !this.readLayer(input.parent)) throw new InternalError(`parent layer ${input.parent} is not in the store`);
    const blobDigest = sha256File(input.blobFile);
    const staged: StagedLayer = { dir: input.dir, diff: input.dir, diffId: input.diffId, size: input.size, blobDigest, compression: 'gzip' };
    try {
      return this.commitLayer(chainId, input.diffId, input.parent, staged, { file: input.blobFile, move: true });
    } finally {
      rmSync(input.dir, { recursive: true, force: true });
    }
  }

  /**
   * Commits an image config whose layers are all in the store, then its tags (familiar names)
   * and repo digests ("repo@sha256:…"). Returns the image id and docker's messages for tags that
   * moved from another image.
   */
  commitConfig(configBytes: Buffer, tags: readonly string[] = [], repoDigests: readonly string[] = []): { id: string; messages: string[] } {
    this.ensureDirs();
    const id = sha256(configBytes);
    let raw: RawConfig;
    try { raw = JSON.parse(configBytes.toString('utf8')) as RawConfig; } catch (err) {
      throw new InvalidArgument(`image config ${id} is not valid JSON: ${(err as Error).message}`);
    }
    for (const chainId of chainIds(diffIdsOf(raw, id))) {
      if (!this.readLayer(chainId)) throw new InternalError(`image ${id}: layer ${chainId} is not in the store`);
    }
    const normalized = tags.map((t) => familiarTag(t));
    this.writeConfig(id, configBytes);
    const messages: string[] = [];
    for (const t of normalized) this.setTag(t, id, messages);
    if (repoDigests.length > 0) {
      const digests = this.readDigests();
      for (const d of repoDigests) digests[d] = id;
      this.writeTags(this.readTags(), digests);
    }
    return { id, messages };
  }

  /** docker tag SOURCE TARGET: TARGET names the image SOURCE resolves to. */
  tag(source: string, target: string): { id: string; messages: string[] } {
    const image = this.resolve(source);
    const tag = familiarTag(target);
    const messages: string[] = [];
    this.setTag(tag, image.id, messages);
    return { id: image.id, messages };
  }

  /** Untags every tag and repo digest of images for which `drop` holds (prune's first step). */
  untagWhere(drop: (tag: string, id: string) => boolean): string[] {
    const tags = this.readTags();
    const digests = this.readDigests();
    const lines: string[] = [];
    for (const [t, id] of Object.entries(tags)) if (drop(t, id)) { delete tags[t]; lines.push(`untagged: ${t}`); }
    for (const [d, id] of Object.entries(digests)) if (drop(d, id)) { delete digests[d]; lines.push(`untagged: ${d}`); }
    if (lines.length > 0) this.writeTags(tags, digests);
    return lines;
  }

  /** Deletes an image config (its tags must be gone already); its layers are left to the caller. */
  deleteConfig(id: string): void {
    const configPath = join(this.contentDir(), hex(id));
    try { rmSync(configPath, { force: true }); } catch (err) { throw fromNodeError(err, 'unlink', configPath); }
  }

  /** The chainIDs an image config references, bottom-most first. */
  chainOf(id: string): string[] {
    const raw = this.readConfig(id);
    return raw ? chainIds(diffIdsOf(raw, id)) : [];
  }

  /** A temporary directory under image/tmp (same filesystem as the store: renames work). */
  tempDir(prefix: string): string {
    this.ensureDirs();
    return this.makeTemp(prefix);
  }

  private setTag(tag: string, id: string, messages: string[]): void {
    const tags = this.readTags();
    const previous = tags[tag];
    if (previous === id) return;
    if (previous !== undefined) {
      messages.push(`The image ${tag} already exists, renaming the old one with ID ${previous} to empty string`);
    }
    tags[tag] = id;
    this.writeTags(tags);
  }

  private makeTemp(prefix: string): string {
    try { return mkdtempSync(join(this.tmpDir(), prefix)); } catch (err) { throw fromNodeError(err, 'mkdtemp', this.tmpDir()); }
  }

  private pin(ids: readonly string[]): void {
    for (const id of ids) this.pinned.set(id, (this.pinned.get(id) ?? 0) + 1);
  }

  private unpin(ids: readonly string[]): void {
    for (const id of ids) {
      const n = (this.pinned.get(id) ?? 0) - 1;
      if (n <= 0) this.pinned.delete(id); else this.pinned.set(id, n);
    }
  }

  /** Extracts a layer file into image/tmp/<x>/diff and returns its digests and size. */
  private async extractToStaging(file: string, label: string, blobDigest: string | undefined): Promise<StagedLayer> {
    const dir = this.makeTemp('layer-');
    const diff = join(dir, 'diff');
    try {
      mkdirSync(diff);
      chmodSync(diff, 0o755);
      const [{ openTar }, { extractLayer }] = await Promise.all([import('./compression.js'), import('./extract.js')]);
      const source = openTar(file, label);
      const result = await extractLayer(source.chunks, diff, { sys: this.sys, privileged: this.privileged, label, limits: this.limits });
      if (blobDigest !== undefined && source.fileDigest() !== blobDigest) {
        throw new InvalidArgument(`${label}: blob digest is ${source.fileDigest()}, expected ${blobDigest}`);
      }
      return { dir, diff, diffId: source.tarDigest(), size: result.size, blobDigest: source.fileDigest(), compression: source.compression };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Moves a staged layer into overlay2/<chainIdHex> and commits layer.json, unless it exists. */
  private commitLayer(chainId: string, diffId: string, parent: string | null, staged: StagedLayer, keep?: { file: string; move: boolean }): LayerMeta {
    const existing = this.readLayer(chainId);
    if (existing) return existing;
    // the blob goes in first: layer.json (the commit point) names it
    let blob: BlobRef | undefined;
    if (keep) {
      const target = this.blobPath(staged.blobDigest);
      try {
        if (!existsSync(target)) {
          const tmp = `${target}.${process.pid}.tmp`;
          rmSync(tmp, { force: true });
          if (keep.move) {
            // a hard link, so a file an archive names twice (two equal layers) can be read again
            try { linkSync(keep.file, tmp); } catch (err) {
              if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
              copyFileSync(keep.file, tmp);
            }
          } else {
            copyFileSync(keep.file, tmp);
          }
          renameSync(tmp, target);
        }
        blob = { digest: staged.blobDigest, mediaType: layerMediaType(staged.compression), size: statSync(target).size };
      } catch (err) {
        throw fromNodeError(err, 'rename', target);
      }
    }
    const overlayRoot = this.overlayRoot();
    const cacheId = hex(chainId);
    // a dir without layer.json is a crashed earlier attempt: redo it
    if (existsSync(join(overlayRoot, cacheId))) removeLayerDir(overlayRoot, cacheId);
    const lower: string[] = [];
    for (let below = parent; below !== null;) {
      const meta = this.readLayer(below);
      if (!meta) throw new InternalError(`layer ${chainId}: parent ${below} is missing from the layer store`);
      lower.push(meta.link);
      below = meta.parent;
    }
    const layerDir = createLayerDir(overlayRoot, cacheId, lower);
    try {
      rmdirSync(layerDir.diff);
      renameSync(staged.diff, layerDir.diff);
    } catch (err) {
      removeLayerDir(overlayRoot, cacheId);
      throw fromNodeError(err, 'rename', layerDir.diff);
    }
    const meta: LayerMeta = { chainId, diffId, parent, cacheId, link: readLayerDir(overlayRoot, cacheId).link, size: staged.size, ...(blob ? { blob } : {}) };
    const metaDir = join(this.layerDbDir(), cacheId);
    try { mkdirSync(metaDir, { recursive: true, mode: 0o700 }); } catch (err) { throw fromNodeError(err, 'mkdir', metaDir); }
    writeJsonAtomic(join(metaDir, 'layer.json'), meta);
    return meta;
  }

  private writeConfig(id: string, configBytes: Buffer): void {
    writeFileAtomic(join(this.contentDir(), hex(id)), configBytes);
  }

  /** Stores the layers an image needs (reusing existing ones), then its config. Returns the id. */
  private async commitImage(configBytes: Buffer, layers: readonly ArchiveLayer[], label: string): Promise<string> {
    const id = sha256(configBytes);
    let raw: RawConfig;
    try { raw = JSON.parse(configBytes.toString('utf8')) as RawConfig; } catch (err) {
      throw new InvalidArgument(`${label}: image config ${id} is not valid JSON: ${(err as Error).message}`);
    }
    const diffIds = diffIdsOf(raw, id);
    if (diffIds.length !== layers.length) {
      throw new InvalidArgument(`${label}: image ${id} lists ${diffIds.length} layers in its config but the archive has ${layers.length}`);
    }
    const chain = chainIds(diffIds);
    this.pin(chain);
    try {
      for (let i = 0; i < chain.length; i++) {
        if (this.readLayer(chain[i])) continue;
        const layerLabel = `${label}: layer ${layers[i].name}`;
        const staged = await this.extractToStaging(layers[i].file, layerLabel, layers[i].blobDigest);
        try {
          if (staged.diffId !== diffIds[i]) {
            throw new InvalidArgument(`${layerLabel}: content has diffID ${staged.diffId}, the config says ${diffIds[i]}`);
          }
          this.commitLayer(chain[i], diffIds[i], i === 0 ? null : chain[i - 1], staged, { file: layers[i].file, move: true });
        } finally {
          rmSync(staged.dir, { recursive: true, force: true });
        }
      }
      this.writeConfig(id, configBytes);
    } finally {
      this.unpin(chain);
    }
    return id;
  }
}

interface StagedLayer {
  /** the staging dir to remove afterwards */
  readonly dir: string;
  /** the extracted tree (moved away by commitLayer) */
  readonly diff: string;
  readonly diffId: string;
  readonly size: number;
  /** sha256 of the file as read (compressed or not) */
  readonly blobDigest: string;
  readonly compression: string;
}

function diffIdsOf(raw: RawConfig, id: string): string[] {
  const diffIds = raw.rootfs?.diff_ids ?? [];
  if (!Array.isArray(diffIds) || diffIds.some((d) => typeof d !== 'string' || !DIGEST.test(d))) {
    throw new InvalidArgument(`image config ${id}: rootfs.diff_ids must be a list of sha256 digests`);
  }
  return diffIds as string[];
}

export { parseReference, familiarTag };
