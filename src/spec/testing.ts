// Test helpers for spec/: an in-memory FileSource, so loader tests need no disk.
import type { FileSource } from './load.js';
import { FileRefused } from './limits.js';

/**
 * Files by absolute path. `refused` names paths the real FileSource would refuse to read (a
 * FIFO, a device, a file above the size limit), each with what it is.
 */
export function memoryFiles(files: Record<string, string>, refused: Record<string, string> = {}): FileSource {
  const dirs = new Set<string>();
  for (const p of Object.keys(files)) { let d = p; while ((d = d.slice(0, d.lastIndexOf('/')) || '/') !== '/') dirs.add(d); dirs.add('/'); }
  return {
    read: (p) => {
      if (p in refused) throw new FileRefused(p, refused[p]!);
      return files[p];
    },
    isFile: (p) => p in files,
    isDir: (p) => dirs.has(p),
  };
}
