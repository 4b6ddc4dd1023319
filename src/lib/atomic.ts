// Atomic state files: write a temporary sibling, fsync it, rename over the target, fsync the
// directory. A crash at any point leaves either the old content or the new, never a torn file.
// `durable: false` skips the two fsyncs: the rename still makes a process crash (SIGKILL) leave
// the old content or the new; only a host crash may lose the last write. For files that are
// rewritten often and whose loss is harmless (the launch file, the engine's per-container state).
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { fromNodeError } from './errors.js';

export interface WriteOptions { readonly mode?: number; readonly durable?: boolean }

export function writeFileAtomic(path: string, data: string | Uint8Array, modeOrOptions: number | WriteOptions = 0o644): void {
  const { mode = 0o644, durable = true } = typeof modeOrOptions === 'number' ? { mode: modeOrOptions } : modeOrOptions;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'w', mode);
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw fromNodeError(err, 'write', path);
  }
  if (!durable) return;
  try {
    const dfd = openSync(dirname(path), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* directory fsync is best effort on filesystems that refuse it */ }
}

export function writeJsonAtomic(path: string, value: unknown, options: WriteOptions = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', options);
}

/** Reads a JSON file; undefined when it does not exist. */
export function readJson<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromNodeError(err, 'read', path);
  }
  return JSON.parse(text) as T;
}
