// The caller's side of an attached process (`run` attached, `start -a`, `exec`): the command's
// stdin, stdout and stderr, its terminal (raw mode, window size) and its signals, as the AttachIo
// the engine relays to. Docker's manners: with -t the terminal is raw and resizes follow it;
// without -t the signals berth receives are passed on to the process (sig-proxy).
import type { AttachIo } from '../api/engine-api.js';
import type { AttachControl } from '../api/types.js';
import type { CliContext } from './context.js';

/** The signals passed on to an attached process (Docker's sig-proxy). */
const PROXIED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export interface Attachment {
  readonly io: AttachIo;
  /** restores the terminal and stops listening; call when the process ended */
  dispose(): void;
}

export function attachTo(ctx: CliContext, opts: { readonly stdin: boolean; readonly tty: boolean }): Attachment {
  if (ctx.handoff) return handOver(ctx, ctx.handoff, opts);
  const undo: (() => void)[] = [];
  if (opts.tty && opts.stdin) undo.push(ctx.terminal.setRaw());
  const size = opts.tty ? ctx.terminal.size() : undefined;
  const stdin = opts.stdin ? ctx.stdin : undefined;
  if (stdin) undo.push(() => { (stdin as { destroy?: () => void }).destroy?.(); });
  const write = (stream: 'stdout' | 'stderr', data: Uint8Array): Promise<void> | void => {
    const out = stream === 'stderr' ? ctx.stderr : ctx.stdout;
    if (out.write(data)) return;
    return new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  const io: AttachIo = {
    ...(size ? { size } : {}),
    ...(stdin ? { stdin: stdin as unknown as AsyncIterable<Uint8Array> } : {}),
    write,
    onControl(listener: (c: AttachControl) => void): void {
      if (opts.tty) undo.push(ctx.terminal.onResize((s) => listener({ kind: 'resize', size: s })));
      // with a raw terminal Ctrl-C arrives as a byte; a signal can then only come from kill(1)
      for (const signal of PROXIED) undo.push(ctx.onSignal(signal, () => listener({ kind: 'signal', signal })));
    },
  };
  return {
    io,
    dispose() {
      for (const u of undo.reverse()) { try { u(); } catch { /* already undone */ } }
      undo.length = 0;
    },
  };
}

/**
 * Inside the engine (the warm CLI) the process gets the caller's descriptors themselves: nothing
 * is relayed, and the shim puts the terminal in raw mode and follows its size as it does for a
 * `berth-shim run` started from a shell. With -t the shim's stdin is the caller's terminal even
 * without -i (it only reads the window size from it then).
 */
function handOver(ctx: CliContext, fds: NonNullable<CliContext['handoff']>, opts: { readonly stdin: boolean; readonly tty: boolean }): Attachment {
  const undo: (() => void)[] = [];
  const size = opts.tty ? ctx.terminal.size() : undefined;
  const terminalIn = ctx.terminal.isTTY('stdin') ? fds.stdin : ctx.terminal.isTTY('stdout') ? fds.stdout : undefined;
  const stdin = opts.stdin ? fds.stdin : opts.tty ? terminalIn : undefined;
  const io: AttachIo = {
    ...(size ? { size } : {}),
    write: () => undefined,
    onControl(listener: (c: AttachControl) => void): void {
      if (opts.tty) undo.push(ctx.terminal.onResize((s) => listener({ kind: 'resize', size: s })));
      for (const signal of PROXIED) undo.push(ctx.onSignal(signal, () => listener({ kind: 'signal', signal })));
    },
    handoff: { ...(stdin !== undefined ? { stdin } : {}), stdout: fds.stdout, stderr: fds.stderr, ready: () => fds.flush() },
  };
  return {
    io,
    dispose() {
      for (const u of undo.reverse()) { try { u(); } catch { /* already undone */ } }
      undo.length = 0;
    },
  };
}

/** `-e NAME` without a value takes NAME from the caller's environment (or is dropped), as docker run does. */
export function resolveEnv(entries: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.includes('=')) out.push(e);
    else if (env[e] !== undefined) out.push(`${e}=${env[e]}`);
  }
  return out;
}
