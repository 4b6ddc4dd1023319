// A warm client's stdin, stdout and stderr as the streams a command writes to, made from the
// descriptors the launcher sent (SCM_RIGHTS). The descriptors themselves stay untouched for the
// whole command: an attached process is given them as they came (cli/attach.ts handOver). The
// streams work on descriptions of their own, so that making one non-blocking (which libuv does)
// never changes the caller's shell's file (a pipe's O_NONBLOCK is shared by everyone who holds it):
//
//   a terminal  reopened through /proc/self/fd (a new description of the same terminal), a
//               tty.WriteStream, as Node makes process.stdout on a terminal (blocking writes)
//   a pipe      reopened the same way, a net.Socket over it (non-blocking, back-pressure)
//   a socket    a duplicate (a socket cannot be reopened), a net.Socket
//   a file, /dev/null, another device: written synchronously at the caller's own offset, as Node
//               writes process.stdout to a file
//
// A write that fails (the reader went away: EPIPE, EIO) stops that stream quietly: never an
// 'error' event nobody handles, which would end the engine.
import { closeSync, constants, createReadStream, fstatSync, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { ReadStream as TtyReadStream, WriteStream as TtyWriteStream, isatty } from 'node:tty';
import { Writable } from 'node:stream';
import type { TerminalSize } from '../api/types.js';
import type { CallerSys } from '../sys/caller.js';

export interface ClientStreams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** made on first use, as process.stdin is */
  stdin(): NodeJS.ReadableStream;
  isTTY(which: 'stdin' | 'stdout' | 'stderr'): boolean;
  size(): TerminalSize | undefined;
  /** the terminal's size changed (the launcher's SIGWINCH): re-read it */
  refreshSize(): void;
  /**
   * The caller is stopping (Ctrl-Z): what the command writes from now on is held back, in memory,
   * until resume() (a stopped `berth` process does not write either). Idempotent.
   */
  pause(): void;
  /** The caller was continued (fg): what was held back is written, and writes go through again. */
  resume(): void;
  /** resolves once everything written so far has left */
  flush(): Promise<void>;
  /** flush, then close what was opened here (never the caller's descriptors) */
  close(): Promise<void>;
}

const O_CLOEXEC = 0o2000000; // node:fs constants lack it (Node opens everything close-on-exec anyway)

type Output = NodeJS.WritableStream & { writableLength?: number };

/** A file or device, written synchronously at the descriptor's own offset. */
class SyncWriter extends Writable {
  constructor(private readonly fd: number) { super({ decodeStrings: true }); }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      for (let off = 0; off < chunk.length;) off += writeSync(this.fd, chunk, off, chunk.length - off);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

/** A description of our own of the caller's file (terminal or pipe), or undefined when it cannot be reopened. */
function reopen(fd: number, flags: number): number | undefined {
  try {
    return openSync(`/proc/self/fd/${fd}`, flags | constants.O_NOCTTY | O_CLOEXEC);
  } catch {
    return undefined;
  }
}

export function clientStreams(fds: readonly [number, number, number], sys: CallerSys): ClientStreams {
  const opened: { destroy(): void }[] = [];
  const quiet = <T extends NodeJS.EventEmitter>(s: T): T => { s.on('error', () => undefined); return s; };

  const output = (fd: number): Output => {
    let st;
    try { st = fstatSync(fd); } catch { return quiet(new SyncWriter(fd)); }
    if (isatty(fd)) {
      const own = reopen(fd, constants.O_RDWR);
      if (own !== undefined) {
        const s = quiet(new TtyWriteStream(own));
        opened.push(s);
        return s;
      }
    } else if (st.isFIFO()) {
      // non-blocking: a pipe whose reader is gone must not hang the engine (ENXIO then)
      const own = reopen(fd, constants.O_WRONLY | constants.O_NONBLOCK);
      if (own !== undefined) {
        const s = quiet(new Socket({ fd: own, readable: false, writable: true }));
        opened.push(s);
        return s;
      }
    } else if (st.isSocket()) {
      const s = quiet(new Socket({ fd: sys.duplicate(fd), readable: false, writable: true }));
      opened.push(s);
      return s;
    }
    return quiet(new SyncWriter(fd));
  };

  const stdout = output(fds[1]);
  const stderr = output(fds[2]);
  let stdin: NodeJS.ReadableStream | undefined;
  let paused = false;

  const terminalOf = (): TtyWriteStream | undefined =>
    [stdout, stderr].find((s): s is TtyWriteStream => s instanceof TtyWriteStream);

  // Everything written has left. 'drain' alone is not enough: a stream emits it only after a
  // write that returned false, so a last write that fitted under the high-water mark never gets
  // one (a warm `save` to a pipe then hung at its exit). The length is looked at again after
  // each write completes, and on a short timer as a backstop.
  const drained = (s: Output): Promise<void> => new Promise((resolve) => {
    const w = s as Writable;
    const idle = (): boolean => w.destroyed || !w.writable || (w.writableLength ?? 0) === 0;
    if (idle()) { resolve(); return; }
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      w.off('drain', done); w.off('close', done); w.off('error', done);
      resolve();
    };
    const look = (): void => { if (idle()) done(); else timer = setTimeout(look, 5); };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
    timer = setTimeout(look, 5);
  });

  return {
    stdout,
    stderr,
    stdin(): NodeJS.ReadableStream {
      if (stdin) return stdin;
      const fd = fds[0];
      let st;
      try { st = fstatSync(fd); } catch { st = undefined; }
      if (isatty(fd)) {
        const own = reopen(fd, constants.O_RDONLY);
        if (own !== undefined) stdin = new TtyReadStream(own);
      } else if (st?.isFIFO()) {
        const own = reopen(fd, constants.O_RDONLY | constants.O_NONBLOCK);
        if (own !== undefined) stdin = new Socket({ fd: own, readable: true, writable: false });
      } else if (st?.isSocket()) {
        stdin = new Socket({ fd: sys.duplicate(fd), readable: true, writable: false });
      }
      // a file (read from the caller's offset, as Node reads process.stdin), /dev/null
      stdin ??= createReadStream('', { fd: sys.duplicate(fd), autoClose: true });
      quiet(stdin as NodeJS.EventEmitter);
      opened.push(stdin as unknown as { destroy(): void });
      return stdin;
    },
    isTTY: (which) => isatty(fds[which === 'stdin' ? 0 : which === 'stdout' ? 1 : 2]),
    size(): TerminalSize | undefined {
      const t = terminalOf();
      if (!t) return undefined;
      const [columns, rows] = t.getWindowSize();
      return rows > 0 && columns > 0 ? { rows, columns } : undefined;
    },
    refreshSize(): void {
      for (const s of [stdout, stderr]) {
        // what Node does for process.stdout on SIGWINCH: re-read the size, emit 'resize'
        if (s instanceof TtyWriteStream) (s as unknown as { _refreshSize?: () => void })._refreshSize?.();
      }
    },
    pause(): void {
      if (paused) return;
      paused = true;
      for (const s of [stdout, stderr]) (s as Writable).cork?.();
    },
    resume(): void {
      if (!paused) return;
      paused = false;
      for (const s of [stdout, stderr]) (s as Writable).uncork?.();
    },
    async flush(): Promise<void> {
      await Promise.all([drained(stdout), drained(stderr)]);
    },
    async close(): Promise<void> {
      this.resume();
      await Promise.race([Promise.all([drained(stdout), drained(stderr)]), new Promise((r) => setTimeout(r, 2_000).unref())]);
      for (const s of opened) { try { s.destroy(); } catch { /* closed already */ } }
    },
  };
}

/** Closes descriptors, ignoring those already closed. */
export function closeAll(fds: readonly number[]): void {
  for (const fd of fds) { try { closeSync(fd); } catch { /* closed */ } }
}
