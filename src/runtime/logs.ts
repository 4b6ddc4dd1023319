// Reading a container's json-file log: the records the shim wrote, tail and follow.
//
// Memory stays bounded whatever the log's size: records are parsed and emitted one read buffer
// at a time (never the whole file), `tail` finds its starting point by reading backwards from the
// end in blocks, and a record longer than MAX_RECORD_BYTES is skipped rather than buffered (the
// shim writes at most 16 KiB of text per record, about 100 KiB escaped). Rotated files (<log>.1,
// <log>.2, … oldest last, written by the shim's rotation) are read oldest first, and `follow`
// moves to the new file when the shim rotates.
import { openSync, readSync, closeSync, fstatSync, statSync } from 'node:fs';
import { realClock, type Clock } from '../lib/clock.js';

export interface LogRecord {
  readonly log: string;
  readonly stream: 'stdout' | 'stderr';
  readonly time: string;
}

export interface LogReadOptions {
  /** last N records; undefined = all */
  readonly tail?: number;
  readonly follow: boolean;
  /** while following: is the container still running? (checked after each idle read) */
  readonly running: () => boolean;
  readonly pollMs?: number;
  /** what the follow loop sleeps on between reads (default: real time) */
  readonly clock?: Clock;
  /** stops following at once (the caller went away) */
  readonly signal?: AbortSignal;
}

/** Emitting may apply back-pressure: a returned promise is awaited before more is read. */
export type Emit = (r: LogRecord) => void | Promise<void>;

const BLOCK = 256 * 1024;
/** A longer line is not a record the shim wrote: skipped, never accumulated. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** The shim keeps at most this many rotated files (PROTOCOL.md: log_max_files ≤ 1000). */
const MAX_ROTATED = 1000;


function parse(line: string): LogRecord | undefined {
  try {
    const r = JSON.parse(line) as LogRecord;
    return typeof r.log === 'string' ? r : undefined;
  } catch {
    return undefined; // a torn last line while the shim writes: read again later
  }
}

/** The log's files, oldest first: <path>.N … <path>.1, <path>. Absent ones are left out. */
export function logFiles(path: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; i <= MAX_ROTATED; i++) {
    try { statSync(`${path}.${i}`); } catch { break; }
    rotated.push(`${path}.${i}`);
  }
  return [...rotated.reverse(), path];
}

/** Reads complete lines of fd from `offset`; calls onLine for each; returns the offset after the last complete line. */
async function readLines(fd: number, offset: number, end: number, onLine: (line: string) => void | Promise<void>): Promise<number> {
  const buf = Buffer.alloc(BLOCK);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  let pos = offset;
  let consumed = offset;
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(BLOCK, end - pos), pos);
    if (n <= 0) break;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0 || nl >= n) break;
      const piece = buf.subarray(start, nl);
      if (!skipping) {
        const line = pendingBytes > 0 ? Buffer.concat([...pending, piece]).toString('utf8') : piece.toString('utf8');
        await onLine(line);
      }
      pending = [];
      pendingBytes = 0;
      skipping = false;
      start = nl + 1;
      consumed = pos + start;
    }
    if (start < n && !skipping) {
      pendingBytes += n - start;
      if (pendingBytes > MAX_RECORD_BYTES) { skipping = true; pending = []; pendingBytes = 0; } else pending.push(Buffer.from(buf.subarray(start, n)));
    }
    pos += n;
  }
  return consumed;
}

/**
 * Where the last `count` lines of fd (up to `end`) start, reading backwards block by block:
 * { offset, found } with found ≤ count lines between offset and end.
 */
function tailStart(fd: number, end: number, count: number): { offset: number; found: number } {
  if (count <= 0) return { offset: end, found: 0 };
  const buf = Buffer.alloc(BLOCK);
  let found = 0;
  let pos = end;
  // the byte before `end` is the last line's newline: it ends a line, it does not start one
  let skipFinal = true;
  while (pos > 0) {
    const size = Math.min(BLOCK, pos);
    pos -= size;
    const n = readSync(fd, buf, 0, size, pos);
    for (let i = n - 1; i >= 0; i--) {
      if (buf[i] !== 10) continue;
      if (skipFinal && pos + i === end - 1) { skipFinal = false; continue; }
      found++;
      if (found === count) return { offset: pos + i + 1, found };
    }
    skipFinal = false;
  }
  // reached the start: every line of the file counts (the first has no newline before it)
  return { offset: 0, found: end > 0 ? found + 1 : 0 };
}

/** Calls `emit` for each record, in order; with `follow`, keeps reading until the container stops. */
export async function readLog(path: string, opts: LogReadOptions, emit: Emit): Promise<void> {
  const files = logFiles(path);
  const emitLine = async (line: string): Promise<void> => {
    const r = parse(line);
    if (r) await emit(r);
  };

  // 1. What exists now: every file (oldest first), or only the tail's share of each.
  let current = -1;
  let offset = 0;
  const opened: { file: string; fd: number; size: number }[] = [];
  let followed = -1; // a descriptor the follow loop opened itself (after a rotation)
  try {
    for (const file of files) {
      try {
        const fd = openSync(file, 'r');
        opened.push({ file, fd, size: fstatSync(fd).size });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const starts = new Map<number, number>();
    if (opts.tail !== undefined) {
      let want = opts.tail;
      for (let i = opened.length - 1; i >= 0 && want > 0; i--) {
        const t = tailStart(opened[i]!.fd, opened[i]!.size, want);
        starts.set(i, t.offset);
        want -= t.found;
      }
    }
    for (let i = 0; i < opened.length; i++) {
      const o = opened[i]!;
      const start = opts.tail === undefined ? 0 : starts.get(i);
      if (start === undefined) continue;
      const end = await readLines(o.fd, start, o.size, emitLine);
      if (o.file === path) { current = i; offset = end; }
    }
    if (!opts.follow) return;

    // 2. Follow the current file; when the shim rotates it, finish the old one and move on.
    let fd = current >= 0 ? opened[current]!.fd : -1;
    for (;;) {
      if (fd < 0) {
        try { fd = followed = openSync(path, 'r'); offset = 0; } catch { /* not written yet */ }
      }
      if (fd >= 0) {
        const size = fstatSync(fd).size;
        if (size > offset) {
          offset = await readLines(fd, offset, size, emitLine);
          continue;
        }
        // rotated (or truncated, max-file 1): the path names another file now, or a shorter one
        let renamed = false;
        try { renamed = statSync(path).ino !== fstatSync(fd).ino; } catch { renamed = true; }
        if (renamed || size < offset) {
          // what the shim wrote between our last read and the rotation is still in the old file
          if (renamed) await readLines(fd, offset, fstatSync(fd).size, emitLine);
          if (fd === followed) { closeSync(fd); followed = -1; }
          fd = -1;
          continue;
        }
      }
      if (!opts.running() || opts.signal?.aborted) return;
      try {
        await (opts.clock ?? realClock).sleep(opts.pollMs ?? 100, opts.signal);
      } catch {
        return; // aborted: the caller went away
      }
    }
  } finally {
    for (const o of opened) closeSync(o.fd);
    if (followed >= 0) closeSync(followed);
  }
}
