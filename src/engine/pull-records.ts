// When each image reference was last pulled by this engine: what pull_policy daily, weekly and
// every_<duration> compare against (compose keeps the same fact in the image's metadata). One
// small JSON file in the image directory, written atomically after each successful pull; a
// missing or torn file means "never pulled", which only costs one pull more.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { readJson, writeJsonAtomic } from '../lib/atomic.js';

/** Most references a record keeps (the oldest are dropped): the file stays small whatever is pulled. */
const MAX_RECORDS = 2000;

export class PullRecords {
  private readonly file: string;

  constructor(root: string) {
    this.file = join(root, 'image', 'pulled.json');
  }

  private read(): Record<string, number> {
    try {
      const value = readJson<Record<string, unknown>>(this.file) ?? {};
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(value)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
      return out;
    } catch {
      return {};
    }
  }

  /** epoch ms of the last pull of `reference` (as written: "busybox" and "busybox:latest" are one key) */
  lastPull(reference: string): number | undefined {
    return this.read()[key(reference)];
  }

  notePull(reference: string, atMs: number): void {
    const all = this.read();
    all[key(reference)] = atMs;
    const entries = Object.entries(all).sort(([, a], [, b]) => b - a).slice(0, MAX_RECORDS);
    mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
    writeJsonAtomic(this.file, Object.fromEntries(entries), { durable: false });
  }
}

/** A tag-less reference means :latest (docker's default); a digest is its own key. */
function key(reference: string): string {
  if (reference.includes('@')) return reference;
  const slash = reference.lastIndexOf('/');
  return reference.lastIndexOf(':') > slash ? reference : `${reference}:latest`;
}
