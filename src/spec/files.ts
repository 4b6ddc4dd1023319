// The only module of spec/ that touches the filesystem: it reads compose files, .env files and
// env_file files for the pure loader, and finds the compose file the way docker compose does.
// Every file is read bounded (limits.ts): only a regular file, of at most MAX_INPUT_FILE_BYTES,
// opened non-blocking (a FIFO must never hang the loader) and read no further than the cap even
// if it grows while being read.
import { readFileSync, statSync, mkdirSync, writeFileSync, renameSync, openSync, fstatSync, readSync, closeSync, constants, type Stats } from 'node:fs';
import type { FileSource } from './load.js';
import { FileRefused, MAX_INPUT_FILE_BYTES, formatSize } from './limits.js';

/** What a non-regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function errno(e: unknown): string | undefined { return (e as NodeJS.ErrnoException).code; }

/**
 * How files are reached: this process's own access (node:fs), or a caller's (the warm CLI opens
 * as the user who typed the command: warm/files.ts). Errors carry an errno name in `code`.
 */
export interface FileAccess {
  stat(path: string): Stats;
  open(path: string, flags: number): number;
}

export const nodeFileAccess: FileAccess = { stat: (path) => statSync(path), open: (path, flags) => openSync(path, flags) };

/** Reads a regular file of at most `limit` bytes; undefined when it does not exist. Throws FileRefused. */
export function readBounded(path: string, limit = MAX_INPUT_FILE_BYTES, access: FileAccess = nodeFileAccess): string | undefined {
  let st: Stats;
  try { st = access.stat(path); } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new FileRefused(path, `a file that cannot be read (${code ?? String(e)})`);
  }
  // checked before opening: opening a device can have effects of its own
  if (!st.isFile()) throw new FileRefused(path, kindOf(st));
  if (st.size > limit) throw new FileRefused(path, `a file of ${formatSize(st.size)}`);
  let fd: number;
  try { fd = access.open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY); } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new FileRefused(path, `a file that cannot be read (${code ?? String(e)})`);
  }
  try {
    // the path may have been replaced between the stat and the open
    const again = fstatSync(fd);
    if (!again.isFile()) throw new FileRefused(path, kindOf(again));
    const buf = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(again.size + 1, 4096)));
    let chunks: Buffer[] = [], total = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
      if (total > limit) throw new FileRefused(path, `a file of more than ${formatSize(limit)}`);
    }
    const out = Buffer.concat(chunks, total).toString('utf8');
    chunks = [];
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The loader's files through one access. */
export function fileSource(access: FileAccess): FileSource {
  return {
    read(path: string): string | undefined { return readBounded(path, MAX_INPUT_FILE_BYTES, access); },
    isFile(path: string): boolean {
      try { return access.stat(path).isFile(); } catch { return false; }
    },
    isDir(path: string): boolean {
      try { return access.stat(path).isDirectory(); } catch { return false; }
    },
  };
}

export const nodeFileSource: FileSource = fileSource(nodeFileAccess);

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
