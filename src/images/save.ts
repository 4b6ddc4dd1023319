// docker save: images → one tar that both `docker load` (any version) and OCI tools read, in the
// layout docker ≥ 25 writes: blobs/sha256/<hex> for configs, layers and manifests; manifest.json
// (the docker-archive index: Config, RepoTags, Layers as blob paths); index.json + oci-layout.
// Layers are the blobs the store kept (gzip, zstd or plain, as pulled or built); docker load and
// berth load both decompress by magic bytes. A layer without a kept blob is written again from its
// tree, and must reproduce its diffID.
import { createWriteStream, rmSync, renameSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { join, dirname, basename } from 'node:path';
import { InvalidArgument, Unsupported, fromNodeError } from '../lib/errors.js';
import type { Sys } from '../sys/sys.js';
import { familiarTag, parseReference } from './reference.js';
import type { ImageStore, ImageRecord, BlobRef, LayerMeta } from './store.js';
import { TarWriter } from './tar-writer.js';

export interface SaveOptions {
  readonly sys: Pick<Sys, 'lgetxattr'>;
}

const hex = (d: string) => d.slice('sha256:'.length);

/** Which tag a saved image carries: the one `text` names, or none when it names an id. */
function namedTags(store: ImageStore, text: string, image: ImageRecord): string[] {
  let tag: string;
  try { tag = familiarTag(text); } catch { return []; }
  return store.tags()[tag] === image.id ? [tag] : [];
}

/** Writes `refs` to `outFile` (atomically: a temp file renamed at the end). */
export async function saveImages(store: ImageStore, refs: readonly string[], outFile: string, opts: SaveOptions): Promise<{ images: number; bytes: number }> {
  const tmp = join(dirname(outFile), `.${basename(outFile)}.${process.pid}.tmp`);
  const out = createWriteStream(tmp, { mode: 0o644 });
  try {
    const saved = await saveImagesTo(store, refs, out, opts);
    try { renameSync(tmp, outFile); } catch (err) { throw fromNodeError(err, 'rename', outFile); }
    return saved;
  } catch (err) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes the archive of `refs` to `out` (a stream: the engine sends it to the client, which
 * writes a file or its stdout) and ends it. Every reference is resolved before a byte is written.
 */
export async function saveImagesTo(store: ImageStore, refs: readonly string[], out: Writable, opts: SaveOptions): Promise<{ images: number; bytes: number }> {
  if (refs.length === 0) throw new InvalidArgument('save needs at least one image');
  const images = new Map<string, { record: ImageRecord; tags: Set<string> }>();
  for (const text of refs) {
    const record = store.resolve(text);
    const entry = images.get(record.id) ?? { record, tags: new Set<string>() };
    for (const t of namedTags(store, text, record)) entry.tags.add(t);
    images.set(record.id, entry);
  }
  const tar = new TarWriter(out);
  const written = new Set<string>();
  const cleanup: string[] = [];
  // the layers stay while they are read, whatever an rmi or prune does meanwhile
  const release = store.pinMore([...images.values()].flatMap((i) => i.record.layers.map((l) => l.chainId)));
  try {
    await tar.directory('blobs');
    await tar.directory('blobs/sha256');
    const blob = async (digest: string, data: Buffer | string) => {
      if (written.has(digest)) return;
      written.add(digest);
      if (Buffer.isBuffer(data)) await tar.buffer(`blobs/sha256/${hex(digest)}`, data);
      else await tar.file(`blobs/sha256/${hex(digest)}`, data);
    };
    const manifestJson: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const index: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[] = [];
    const { createHash } = await import('node:crypto');
    for (const { record, tags } of images.values()) {
      const configBytes = store.configBytes(record.id);
      await blob(record.id, configBytes);
      const layers: BlobRef[] = [];
      for (const l of record.layers) {
        const { ref, file } = await layerBlob(store, store.layer(l.chainId)!, opts.sys, cleanup);
        await blob(ref.digest, file);
        layers.push(ref);
      }
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: record.id, size: configBytes.length },
        layers: layers.map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size })),
      }));
      const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
      await blob(manifestDigest, manifest);
      const sortedTags = [...tags].sort();
      manifestJson.push({ Config: `blobs/sha256/${hex(record.id)}`, RepoTags: sortedTags, Layers: layers.map((b) => `blobs/sha256/${hex(b.digest)}`) });
      if (sortedTags.length === 0) index.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length });
      for (const t of sortedTags) {
        const ref = parseReference(t);
        index.push({
          mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length,
          annotations: { 'io.containerd.image.name': `${ref.domain}/${ref.path}:${ref.tag}`, 'org.opencontainers.image.ref.name': ref.tag! },
        });
      }
    }
    await tar.buffer('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index })));
    await tar.buffer('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    await tar.buffer('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    await tar.end();
    return { images: images.size, bytes: tar.bytes };
  } finally {
    release();
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * A layer's blob and the file holding it: the one the store kept, else written again from the
 * layer's tree into a temp dir (pushed onto `cleanup`), refused when it no longer gives the
 * layer's diffID.
 */
export async function layerBlob(store: ImageStore, meta: LayerMeta, sys: SaveOptions['sys'], cleanup: string[]): Promise<{ ref: BlobRef; file: string }> {
  if (meta.blob) return { ref: meta.blob, file: store.blobPath(meta.blob.digest) };
  const { writeLayerBlob } = await import('./layer-tar.js');
  const dir = store.tempDir('save-');
  cleanup.push(dir);
  const file = join(dir, 'layer.tar.gz');
  const w = await writeLayerBlob(store.layerDiffDir(meta), file, { sys });
  if (w.diffId !== meta.diffId) throw new Unsupported(`layer ${meta.diffId} was stored without its original blob and cannot be reproduced byte for byte`);
  return { ref: { digest: w.blobDigest, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: w.blobSize }, file };
}
