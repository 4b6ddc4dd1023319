// docker commit (and every filesystem step of a build): a container layer's upper dir becomes a
// new top layer on its image, and a new image config records it.
//
// The upper dir is in the store's own format (overlayfs whiteouts), so the layer is written once
// as a tar (layer-tar.ts: that tar's sha256 is the diffID, its gzip the blob push and save send)
// and the tree goes into the store either by a rename (`adopt`: the builder's step containers,
// which are removed right after) or by extracting the blob (a user's container, whose upper dir
// must stay where it is). The caller freezes a running container for the duration, as docker does.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Sys } from '../sys/sys.js';
import { writeLayerBlob } from './layer-tar.js';
import type { ImageConfig, ImageStore, LayerMeta } from './store.js';

export interface HistoryEntry {
  readonly created: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** The parts of an image config a new image is made of. */
export interface ImageSpec {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly author?: string;
  readonly created: string;
  readonly config: ImageConfig & Record<string, unknown>;
  readonly diffIds: readonly string[];
  readonly history: readonly HistoryEntry[];
}

/** The config bytes of `spec`, with keys in docker's order (stable: same spec, same id). */
export function encodeConfig(spec: ImageSpec): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: spec.architecture,
    ...(spec.author ? { author: spec.author } : {}),
    config: spec.config,
    created: spec.created,
    history: spec.history,
    os: spec.os,
    rootfs: { type: 'layers', diff_ids: spec.diffIds },
    ...(spec.variant ? { variant: spec.variant } : {}),
  }));
}

/** What an image already in the store contributes to a new one on top of it. */
export function specOf(store: ImageStore, imageId: string): ImageSpec {
  const raw = JSON.parse(store.configBytes(imageId).toString('utf8')) as Partial<ImageSpec> & { rootfs?: { diff_ids?: string[] } };
  return {
    architecture: raw.architecture ?? 'amd64',
    os: raw.os ?? 'linux',
    ...(raw.variant ? { variant: raw.variant } : {}),
    ...(raw.author ? { author: raw.author } : {}),
    created: raw.created ?? '',
    config: (raw.config ?? {}) as ImageSpec['config'],
    diffIds: raw.rootfs?.diff_ids ?? [],
    history: raw.history ?? [],
  };
}

export interface LayerFromDirOptions {
  readonly sys: Pick<Sys, 'lgetxattr'>;
  /** "adopt": move `dir` into the store (it is gone afterwards); "copy": leave it, extract the blob */
  readonly mode: 'adopt' | 'copy';
  /** relative paths of empty files not to write (mount stubs; "copy" only: an adopted tree is kept whole) */
  readonly excludeEmptyFiles?: readonly string[];
}

/** Commits `dir` (an upper dir or a staged tree) as a layer on `parent` (chainID or null). */
export async function layerFromDir(store: ImageStore, dir: string, parent: string | null, opts: LayerFromDirOptions): Promise<LayerMeta> {
  const tmp = store.tempDir('commit-');
  try {
    const blobFile = join(tmp, 'layer.tar.gz');
    const written = await writeLayerBlob(dir, blobFile, { sys: opts.sys, ...(opts.mode === 'copy' && opts.excludeEmptyFiles ? { excludeEmptyFiles: opts.excludeEmptyFiles } : {}) });
    if (opts.mode === 'adopt') {
      return store.adoptLayer({ dir, diffId: written.diffId, parent, blobFile, size: written.tarSize });
    }
    return await store.addLayer({ file: blobFile, label: `layer from ${dir}`, parent, diffId: written.diffId, keep: 'move' });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface CommitOptions {
  readonly sys: Pick<Sys, 'lgetxattr'>;
  /** the container's image (its config is the base), or null for scratch */
  readonly baseImageId: string | null;
  /** the container layer's upper dir */
  readonly upperDir: string;
  /** config fields that replace the base's (docker commit -c, or the container's own config) */
  readonly config?: Partial<ImageConfig> & Record<string, unknown>;
  readonly author?: string;
  readonly comment?: string;
  /** "repository[:tag]" names to tag the new image with */
  readonly tags?: readonly string[];
  readonly now?: () => Date;
  /** relative paths in the upper dir that are left out when they are empty files (the runtime's mount stubs) */
  readonly exclude?: readonly string[];
}

/** docker commit: returns the new image id. */
export async function commitContainer(store: ImageStore, opts: CommitOptions): Promise<string> {
  const base = opts.baseImageId === null ? undefined : specOf(store, opts.baseImageId);
  const baseChain = opts.baseImageId === null ? [] : store.chainOf(opts.baseImageId);
  return store.withPinned(baseChain, async () => {
    const parent = baseChain.length > 0 ? baseChain[baseChain.length - 1] : null;
    const layer = await layerFromDir(store, opts.upperDir, parent, { sys: opts.sys, mode: 'copy', ...(opts.exclude ? { excludeEmptyFiles: opts.exclude } : {}) });
    const created = (opts.now ?? (() => new Date()))().toISOString();
    const spec: ImageSpec = {
      architecture: base?.architecture ?? (await import('./store.js')).ociArchitecture(),
      os: base?.os ?? 'linux',
      ...(base?.variant ? { variant: base.variant } : {}),
      ...(opts.author ? { author: opts.author } : {}),
      created,
      config: { ...(base?.config ?? {}), ...(opts.config ?? {}) },
      diffIds: [...(base?.diffIds ?? []), layer.diffId],
      history: [...(base?.history ?? []), { created, ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}) }],
    };
    return store.commitConfig(encodeConfig(spec), opts.tags ?? []).id;
  });
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
