// spec/'s public door: load a compose project from disk. Everything else in spec/ is pure. The
// loader itself (YAML, schema validation) is imported only when the project cache misses.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { nodeFileSource, cacheFiles } from './files.js';
export { fileSource, type FileAccess } from './files.js';
import { cacheKey, entryText, lookup, recording } from './cache.js';
import type { FileSource, LoadOptions, LoadResult } from './load.js';

export type { FileSource, LoadOptions, LoadResult } from './load.js';
export type * from './model.js';
export { SpecError, type SpecIssue } from './errors.js';

/**
 * Loads, validates and normalizes a compose project. Throws SpecError with every located problem.
 * With `cacheDir`, a result is reused while every file and variable the load looked at is unchanged.
 * `files` reads the files (default: node:fs); the warm CLI passes one that reads as its caller.
 */
export async function loadProject(opts: LoadOptions, cacheDir?: string, files: FileSource = nodeFileSource): Promise<LoadResult> {
  const entry = cacheDir && opts.stdin === undefined
    ? join(cacheDir, `${createHash('sha256').update(cacheKey(opts)).digest('hex').slice(0, 32)}.json`)
    : undefined;
  if (entry) {
    const hit = lookup(cacheFiles.read(entry), files, opts.env);
    if (hit) return hit;
  }
  const { load } = await import('./load.js');
  if (!entry) return load(opts, files);
  const rec = recording(files, opts.env);
  const result = load({ ...opts, env: rec.env }, rec.fs);
  if (!rec.enumerated()) cacheFiles.write(cacheDir!, entry, entryText(rec.reads, rec.envReads, result));
  return result;
}
