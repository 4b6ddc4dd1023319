// Attached processes (`run` without -d, `start -a`, `exec`): the engine starts the shim with
// stdio of its own and relays between it and the caller's AttachIo. The shim supervises as it
// does for a detached container (log, exit record); the relay only adds a reader and a writer.
//
//   without a tty: three pipes. stdin is a pipe when the caller attached it (-i), else
//     /dev/null; EOF from the caller closes it (the container sees EOF, as with `docker run -i`).
//     A signal the caller forwards (Docker's sig-proxy: Ctrl-C of `run` without -t) goes to the
//     shim, which passes it to the container.
//   with a tty: the shim's stdin and stdout are the slave of a pty the engine opens (neither end
//     is anyone's controlling terminal), stderr a pipe for the shim's own messages. The shim sees
//     a terminal on its stdin, so it puts it in raw mode and copies its window size into the
//     container's pty when it gets SIGWINCH; a resize from the caller is therefore TIOCSWINSZ on
//     our master, then SIGWINCH to the shim. The caller's own terminal is the caller's business
//     (raw mode, its size changes).
// When the caller goes away (its connection closes), the relay stops and our ends are closed: the
// shim's copy fails with EPIPE/EIO, which stops only the copy, and the container runs on.
import { closeSync } from 'node:fs';
import { ReadStream as TtyStream } from 'node:tty';
import type { AttachIo } from '../api/engine-api.js';
import type { AttachControl } from '../api/types.js';
import { InternalError, cancelledBy } from '../lib/errors.js';
import type { Sys } from '../sys/sys.js';
import type { SpawnedProcess } from '../sys/spawn.js';
import type { ShimStdio } from '../runtime/container.js';

/** The signals the shim passes on to the container (native/src/supervise.c); nothing else may reach it. */
const FORWARDABLE = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']);

export interface AttachedRun {
  /** the shim's exit status: the container's (or the exec'd process's) exit code */
  readonly exitCode: number;
}

/**
 * Starts a shim through `spawn` with stdio for `tty`, relays until it exits, and resolves with its
 * exit status. Rejects (Cancelled) when `signal` aborts: the process runs on, unattached.
 */
export async function relayAttached(sys: Sys, tty: boolean, io: AttachIo, signal: AbortSignal, spawn: (stdio: ShimStdio) => Promise<SpawnedProcess>): Promise<AttachedRun> {
  if (signal.aborted) throw cancelledBy(signal);
  if (io.handoff) return handedOver(io, signal, spawn);
  let pty: { master: number; slave: number } | undefined;
  let stdio: ShimStdio;
  if (tty) {
    pty = sys.openPty();
    try {
      if (io.size) sys.setWindowSize(pty.master, io.size.rows, io.size.columns);
    } catch (err) {
      closeSync(pty.master);
      closeSync(pty.slave);
      throw err;
    }
    stdio = [pty.slave, pty.slave, 'pipe'];
  } else {
    stdio = [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'];
  }
  let child: SpawnedProcess;
  try {
    child = await spawn(stdio);
  } catch (err) {
    if (pty) { closeSync(pty.master); closeSync(pty.slave); }
    throw err;
  } finally {
    // the shim holds its own copy of the slave: ours would keep the master from seeing the end
    if (pty) { try { closeSync(pty.slave); } catch { /* closed above */ } }
  }

  const master = pty ? new TtyStream(pty.master) : undefined;
  master?.on('error', () => undefined); // EIO once the shim is gone: the end of the output
  const outputs: Promise<void>[] = [];
  const pump = async (from: NodeJS.ReadableStream | null | undefined, stream: 'stdout' | 'stderr'): Promise<void> => {
    if (!from) return;
    try {
      for await (const chunk of from as AsyncIterable<Uint8Array>) {
        if (signal.aborted) break;
        await io.write(stream, chunk);
      }
    } catch {
      // the reader broke (EIO on a pty whose slave closed): nothing more to copy
    }
  };
  outputs.push(pump(master ?? child.stdout, 'stdout'), pump(child.stderr, 'stderr'));

  const stdinTarget: NodeJS.WritableStream | undefined = master ?? child.stdin ?? undefined;
  let exited = false;
  const feed = (async () => {
    if (!io.stdin || !stdinTarget) return;
    try {
      for await (const chunk of io.stdin) {
        if (exited || signal.aborted) return;
        if (!stdinTarget.write(chunk)) await new Promise<void>((resolve) => stdinTarget.once('drain', () => resolve()));
      }
      // EOF from the caller: the container's stdin closes (a pty has no EOF to give)
      if (!master) child.stdin?.end();
    } catch {
      // the shim closed its stdin (the container did): stop reading the caller's
    }
  })();

  io.onControl((c: AttachControl) => {
    if (exited) return;
    try {
      if (c.kind === 'resize' && pty) {
        sys.setWindowSize(pty.master, c.size.rows, c.size.columns);
        child.kill('SIGWINCH');
      } else if (c.kind === 'signal' && FORWARDABLE.has(c.signal)) {
        child.kill(c.signal as NodeJS.Signals);
      }
    } catch { /* the shim is gone: its exit ends the relay */ }
  });

  const detach = (): void => {
    // the caller went away: close our ends, the process runs on under its shim
    child.stdin?.end();
    (child.stdout as { destroy?: () => void } | null)?.destroy?.();
    (child.stderr as { destroy?: () => void } | null)?.destroy?.();
    master?.destroy();
  };
  signal.addEventListener('abort', detach, { once: true });
  try {
    const exit = await Promise.race([child.exited, new Promise<never>((_resolve, reject) => {
      if (signal.aborted) reject(cancelledBy(signal));
      signal.addEventListener('abort', () => reject(cancelledBy(signal)), { once: true });
    })]);
    exited = true;
    await Promise.all(outputs);
    master?.destroy();
    void feed;
    if (exit.code === null) throw new InternalError(`berth-shim was killed by ${exit.signal}`);
    return { exitCode: exit.code };
  } finally {
    signal.removeEventListener('abort', detach);
  }
}

/**
 * The warm CLI's case: the caller's own descriptors become the shim's stdio, so nothing is
 * copied here. With a tty the shim finds the caller's terminal on its stdin: it puts it in raw
 * mode itself and reads its window size on SIGWINCH, so a resize is only that signal. When the
 * caller goes away the process runs on, writing to descriptors that may be closed (the shim stops
 * copying on EPIPE/EIO), as with a relay.
 */
async function handedOver(io: AttachIo, signal: AbortSignal, spawn: (stdio: ShimStdio) => Promise<SpawnedProcess>): Promise<AttachedRun> {
  const fds = io.handoff!;
  await fds.ready();
  if (signal.aborted) throw cancelledBy(signal);
  const child = await spawn([fds.stdin ?? 'ignore', fds.stdout, fds.stderr]);
  let exited = false;
  io.onControl((c: AttachControl) => {
    if (exited) return;
    try {
      if (c.kind === 'resize') child.kill('SIGWINCH');
      else if (FORWARDABLE.has(c.signal)) child.kill(c.signal as NodeJS.Signals);
    } catch { /* the shim is gone: its exit ends the wait */ }
  });
  let onAbort: (() => void) | undefined;
  try {
    const exit = await Promise.race([child.exited, new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(cancelledBy(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    })]);
    exited = true;
    if (exit.code === null) throw new InternalError(`berth-shim was killed by ${exit.signal}`);
    return { exitCode: exit.code };
  } finally {
    exited = true;
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
