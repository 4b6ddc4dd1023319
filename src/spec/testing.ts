// Test helpers for spec/: an in-memory FileSource, so loader tests need no disk.
import type { FileSource } from './load.js';

export function memoryFiles(files: Record<string, string>): FileSource {
  const dirs = new Set<string>();
  for (const p of Object.keys(files)) { let d = p; while ((d = d.slice(0, d.lastIndexOf('/')) || '/') !== '/') dirs.add(d); dirs.add('/'); }
  return {
    read: (p) => files[p],
    isFile: (p) => p in files,
    isDir: (p) => dirs.has(p),
  };
}
