// Reading a container's json-file log: the records the shim wrote, tail and follow.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
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

function parse(line: string): LogRecord | undefined {
  try {
    const r = JSON.parse(line) as LogRecord;
    return typeof r.log === 'string' ? r : undefined;
  } catch {
    return undefined; // a torn last line while the shim writes: read again later
  }
}

/** Calls `emit` for each record, in order; with `follow`, keeps reading until the container stops. */
export async function readLog(path: string, opts: LogReadOptions, emit: (r: LogRecord) => void): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !opts.follow) return;
    throw err;
  }
  try {
    let offset = 0;
    let pending = '';
    const buf = Buffer.alloc(256 * 1024);
    const drain = (): LogRecord[] => {
      const out: LogRecord[] = [];
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        pending += buf.toString('utf8', 0, n);
      }
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) {
        const r = parse(l);
        if (r) out.push(r);
      }
      return out;
    };
    let first = drain();
    if (opts.tail !== undefined) first = opts.tail <= 0 ? [] : first.slice(-opts.tail);
    for (const r of first) emit(r);
    if (!opts.follow) return;
    for (;;) {
      const size = fstatSync(fd).size;
      if (size > offset) {
        for (const r of drain()) emit(r);
        continue;
      }
      if (!opts.running() || opts.signal?.aborted) {
        for (const r of drain()) emit(r);
        return;
      }
      try {
        await (opts.clock ?? realClock).sleep(opts.pollMs ?? 100, opts.signal);
      } catch {
        return; // aborted: the caller went away
      }
    }
  } finally {
    closeSync(fd);
  }
}
