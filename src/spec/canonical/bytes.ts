// Byte sizes as docker reads them ("512m", "1g", "1.5GB", "100kb", 1024): binary units.
import { FormError } from './form-error.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

export function parseBytes(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new FormError('a non-negative size', String(v));
    return Math.floor(v);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(v);
  if (!m) throw new FormError('a size like 512m, 1g or a number of bytes', JSON.stringify(v));
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}
