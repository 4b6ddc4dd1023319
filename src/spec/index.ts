// spec/'s public door: load a compose project from disk. Everything else in spec/ is pure.
import { nodeFileSource } from './files.js';
import { load, type LoadOptions, type LoadResult } from './load.js';

export type { LoadOptions, LoadResult } from './load.js';
export type * from './model.js';
export { SpecError, type SpecIssue } from './errors.js';

/** Loads, validates and normalizes a compose project. Throws SpecError with every located problem. */
export async function loadProject(opts: LoadOptions): Promise<LoadResult> {
  return load(opts, nodeFileSource);
}
