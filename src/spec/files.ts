// The only module of spec/ that touches the filesystem: it reads compose files, .env files and
// env_file files for the pure loader, and finds the compose file the way docker compose does.
import { readFileSync, statSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import type { FileSource } from './load.js';



export const nodeFileSource: FileSource = {
  read(path: string): string | undefined {
    try { return readFileSync(path, 'utf8'); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw e;
    }
  },
  isFile(path: string): boolean {
    try { return statSync(path).isFile(); } catch { return false; }
  },
  isDir(path: string): boolean {
    try { return statSync(path).isDirectory(); } catch { return false; }
  },
};

/** Where the project cache keeps its entries: plain JSON files, written atomically. */
export const cacheFiles = {
  read(path: string): string | undefined {
    try { return readFileSync(path, 'utf8'); } catch { return undefined; }
  },
  write(dir: string, path: string, text: string): void {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, path);
    } catch { /* a cache that cannot be written is only a slower next start */ }
  },
};
