// docker push: every layer blob and the config to the repository, then the manifest under the tag.
// A blob the repository already has is not sent again (HEAD); one that a sibling repository of
// the same registry holds (as recorded by earlier pulls and pushes) is mounted across
// repositories (POST …/uploads/?mount=&from=), which registries answer 201 without a transfer.
// Layers are sent as the blobs the store kept, so their digests are those they were pulled or
// built with. A layer stored before blobs were kept is written again from its tree; when that
// does not reproduce its diffID the push says so instead of sending a wrong layer.
import { createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InvalidArgument, Unsupported } from '../../lib/errors.js';
import { parseReference } from '../reference.js';
import type { ImageStore, LayerMeta, BlobRef } from '../store.js';
import { noEvents, shortDigest, type EventSink } from '../events.js';
import { RegistryClient } from './client.js';
import { MEDIA, sha256Digest } from './manifest.js';
import { knownRepositories, rememberRepository } from './distribution.js';
import type { RegistryAccess } from './pull.js';
import { limited, allOrFirstError } from './limit.js';
import type { Sys } from '../../sys/sys.js';

export interface PushOptions extends RegistryAccess {
  readonly onEvent?: EventSink;
  /** parallel uploads (default 5, as docker) */
  readonly concurrency?: number;
  /** reads xattrs when a layer must be written again from its tree */
  readonly sys: Pick<Sys, 'lgetxattr'>;
}

export interface PushResult {
  readonly tag: string;
  /** the manifest digest the registry stored */
  readonly digest: string;
  readonly size: number;
  /** blobs actually uploaded (the others existed or were mounted) */
  readonly uploaded: number;
}

/** A layer's blob, written again from its tree when the store has none (layers from old stores). */
async function blobOf(store: ImageStore, meta: LayerMeta, sys: Pick<Sys, 'lgetxattr'>): Promise<{ blob: BlobRef; file: string; temporary: boolean }> {
  if (meta.blob) return { blob: meta.blob, file: store.blobPath(meta.blob.digest), temporary: false };
  const { writeLayerBlob } = await import('../layer-tar.js');
  const dir = store.tempDir('push-');
  const file = join(dir, 'layer.tar.gz');
  const written = await writeLayerBlob(store.layerDiffDir(meta), file, { sys });
  if (written.diffId !== meta.diffId) {
    rmSync(dir, { recursive: true, force: true });
    throw new Unsupported(`layer ${meta.diffId} was stored without its original blob and cannot be reproduced byte for byte; pull or load the image again to push it`);
  }
  return { blob: { digest: written.blobDigest, mediaType: MEDIA.ociLayerGzip, size: written.blobSize }, file, temporary: true };
}

export async function pushImage(store: ImageStore, text: string, opts: PushOptions): Promise<PushResult> {
  const ref = parseReference(text);
  if (ref.digest !== undefined) throw new InvalidArgument(`cannot push a digest reference: "${text}"`);
  const tag = ref.tag ?? 'latest';
  const image = store.resolve(`${ref.repository}:${tag}`);
  const emit = opts.onEvent ?? noEvents;
  const resourceId = `push:${ref.repository}:${tag}`;
  emit({ kind: 'message', resourceId, text: `The push refers to repository [${ref.domain}/${ref.path}]` });
  const client = new RegistryClient(ref.domain, ref.path, opts);
  const stateDir = store.stateDir();
  const here = `${ref.domain}/${ref.path}`;
  const configBytes = store.configBytes(image.id);
  const layers = image.layers.map((l) => store.layer(l.chainId)!);
  const blobs = await Promise.all(layers.map((meta) => blobOf(store, meta, opts.sys)));
  let uploaded = 0;

  const sendBlob = async (digest: string, size: number, file: string | Buffer, short: string): Promise<void> => {
    const progress = (status: 'preparing' | 'pushing' | 'pushed' | 'layer already exists' | 'mounted', t?: string) =>
      emit({ kind: 'layer', resourceId, id: short, status, total: size, ...(status === 'pushed' ? { current: size } : {}), ...(t ? { text: t } : {}) });
    progress('preparing');
    if (await client.hasBlob(digest)) { progress('layer already exists'); rememberRepository(stateDir, digest, here); return; }
    let location: URL | undefined;
    for (const other of knownRepositories(stateDir, digest)) {
      if (other === here || !other.startsWith(`${ref.domain}/`)) continue;
      const from = other.slice(ref.domain.length + 1);
      const mounted = await client.mountBlob(digest, from);
      if (mounted.mounted) { progress('mounted', `Mounted from ${from}`); rememberRepository(stateDir, digest, here); return; }
      location = mounted.location;
      break;
    }
    location ??= await client.startUpload();
    progress('pushing');
    await client.putBlob(location, digest, size, () => (Buffer.isBuffer(file) ? bufferStream(file) : createReadStream(file)));
    uploaded++;
    rememberRepository(stateDir, digest, here);
    progress('pushed');
  };

  try {
    const tasks = blobs.map((b) => () => sendBlob(b.blob.digest, b.blob.size, b.file, shortDigest(b.blob.digest)));
    await allOrFirstError(limited(opts.concurrency ?? 5, tasks));
    const configDigest = sha256Digest(configBytes);
    await sendBlob(configDigest, configBytes.length, configBytes, shortDigest(configDigest));
    // Docker's schema 2 when every layer is gzip (what every registry and client reads), OCI otherwise.
    const allGzip = blobs.every((b) => b.blob.mediaType === MEDIA.ociLayerGzip || b.blob.mediaType === MEDIA.dockerLayerGzip);
    const docker = allGzip;
    const manifest = {
      schemaVersion: 2,
      mediaType: docker ? MEDIA.dockerManifest : MEDIA.ociManifest,
      config: { mediaType: docker ? MEDIA.dockerConfig : MEDIA.ociConfig, digest: configDigest, size: configBytes.length },
      layers: blobs.map((b) => ({ mediaType: docker ? MEDIA.dockerLayerGzip : b.blob.mediaType, digest: b.blob.digest, size: b.blob.size })),
    };
    const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
    const digest = sha256Digest(bytes);
    const stored = await client.putManifest(tag, manifest.mediaType, bytes);
    if (stored !== undefined && stored !== digest) throw new InvalidArgument(`${ref.repository}:${tag}: the registry stored the manifest as ${stored}, berth sent ${digest}`);
    store.commitConfig(configBytes, [], [`${ref.repository}@${digest}`]);
    emit({ kind: 'message', resourceId, text: `${tag}: digest: ${digest} size: ${bytes.length}` });
    return { tag: `${ref.repository}:${tag}`, digest, size: bytes.length, uploaded };
  } finally {
    for (const b of blobs) if (b.temporary) rmSync(join(b.file, '..'), { recursive: true, force: true });
  }
}

/** A fresh stream per attempt (a 401 retry sends the body again). */
function bufferStream(buf: Buffer): Readable {
  return Readable.from([buf]);
}
