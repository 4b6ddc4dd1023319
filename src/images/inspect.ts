// docker image inspect and docker history, from the store (pure reads).
import { join } from 'node:path';
import type { ImageStore, ImageRecord } from './store.js';

interface HistoryEntry { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }
interface FullConfig {
  created?: string; author?: string; architecture?: string; os?: string; variant?: string;
  config?: Record<string, unknown>; history?: HistoryEntry[]; rootfs?: { type?: string; diff_ids?: string[] };
  comment?: string; docker_version?: string;
}

function fullConfig(store: ImageStore, id: string): FullConfig {
  return JSON.parse(store.configBytes(id).toString('utf8')) as FullConfig;
}

/** docker image inspect's object for one image. */
export function inspectImage(store: ImageStore, ref: string): Record<string, unknown> {
  const image = store.resolve(ref);
  const config = fullConfig(store, image.id);
  const layers = image.layers.map((l) => join(store.overlayRoot(), l.cacheId, 'diff'));
  const top = layers[layers.length - 1];
  return {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests ?? [],
    Parent: '',
    Comment: config.comment ?? '',
    Created: image.created,
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: config.config ?? {},
    Architecture: config.architecture ?? '',
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os ?? '',
    Size: image.size,
    GraphDriver: {
      Name: 'overlay2',
      Data: layers.length === 0 ? {} : {
        ...(layers.length > 1 ? { LowerDir: layers.slice(0, -1).reverse().join(':') } : {}),
        UpperDir: top,
        MergedDir: join(top, '..', 'merged'),
        WorkDir: join(top, '..', 'work'),
      },
    },
    RootFS: { Type: 'layers', Layers: image.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

export interface HistoryRow {
  /** the image id for the top row, "<missing>" below (docker shows the same) */
  readonly id: string;
  readonly created: string;
  readonly createdBy: string;
  /** bytes the step's layer adds (0 for a step without a layer) */
  readonly size: number;
  readonly comment: string;
  readonly emptyLayer: boolean;
}

/** docker history: newest first. Steps with a layer take the layers' sizes in order. */
export function imageHistory(store: ImageStore, ref: string): HistoryRow[] {
  const image: ImageRecord = store.resolve(ref);
  const config = fullConfig(store, image.id);
  const entries = config.history && config.history.length > 0
    ? config.history
    : image.layers.map(() => ({ created: image.created } as HistoryEntry));
  const sizes = image.layers.map((l) => store.layer(l.chainId)?.size ?? 0);
  let layer = 0;
  const rows = entries.map((h) => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : sizes[layer++] ?? 0;
    return { created: h.created ?? '', createdBy: h.created_by ?? '', size, comment: h.comment ?? '', emptyLayer: empty };
  });
  return rows.reverse().map((r, i) => ({ id: i === 0 ? image.id : '<missing>', ...r }));
}
