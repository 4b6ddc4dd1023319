// One warm command: a launcher's connection, from its HELLO to its EXIT (docs/warm-cli.md). Read
// in lifecycle order:
//
//   1. the preamble, with the caller's descriptors 0, 1, 2 (SCM_RIGHTS), read with recvmsg before
//      Node reads a byte of the socket (the server pauses every connection on accept);
//   2. the caller, from the kernel (SO_PEERCRED, SO_PEERGROUPS): never from what it sends;
//   3. the body: argv, cwd, environment (bounded: MAX_BODY_BYTES, HELLO_TIMEOUT_MS);
//   4. FALLBACK when this command must run in a `berth` process of its own (another mount
//      namespace or root directory than the engine's, other roots, a verb that writes the
//      caller's files or stops the engine); else STARTED, and the command runs: runCli() with a
//      context made of the caller's streams, its environment and working directory, files read as
//      the caller, signals from the launcher's frames, and the engine's own api in-process;
//   5. meanwhile STOP (Ctrl-Z at the caller's terminal): the command's output is held back and
//      STOPPED answered, after which the launcher stops itself; CONT (fg) lets the output go on;
//   6. EXIT with the code once stdout and stderr are flushed (or DIE when a signal arrived that
//      the command had no handler for: the launcher then dies of it, as a Node CLI would).
// The connection closing early (the client died, Ctrl-\ of the launcher) aborts the session:
// every request the command has running in the engine is cancelled.
import { readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { EngineApi } from '../api/engine-api.js';
import type { Roots } from '../lib/paths.js';
import { resolveRoots } from '../lib/paths.js';
import { realClock } from '../lib/clock.js';
import { Cancelled } from '../lib/errors.js';
import type { CliContext, Terminal } from '../cli/context.js';
import { engineClientOver } from '../client/client.js';
import type { CallerSys, Credentials } from '../sys/caller.js';
import { callerFiles } from './files.js';
import { loopbackTransport } from './loopback.js';
import { clientStreams, closeAll, type ClientStreams } from './streams.js';

/** Frames of the launcher's channel (native/cmd/launch.c). */
export const WARM_FRAME = { SIGNAL: 1, WINCH: 2, STOP: 3, CONT: 4, STARTED: 10, EXIT: 11, DIE: 12, FALLBACK: 13, STOPPED: 14 } as const;
const PREAMBLE = 8;
/** argv + cwd + environment: Linux caps argv and environment together at a few MiB */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const HELLO_TIMEOUT_MS = 5_000;
const ENGINE_UID = process.geteuid?.() ?? 0;

export interface SessionHost {
  readonly api: EngineApi;
  readonly roots: Roots;
  readonly packageRoot: string;
  readonly version: string;
  readonly sys: CallerSys;
  readonly log: (line: string) => void;
  /** runs one command (cli/main.ts runCli) */
  readonly runCli: (argv: readonly string[], ctx: CliContext) => Promise<number>;
}

export interface Hello {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** bytes that followed the hello (the first frames) */
  readonly pending: Buffer;
}

function frame(kind: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const head = Buffer.alloc(8);
  head[0] = kind;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** Waits for the preamble and its descriptors, without letting libuv read the socket. */
async function preamble(sys: CallerSys, fd: number, closed: () => boolean): Promise<readonly [number, number, number]> {
  const deadline = Date.now() + HELLO_TIMEOUT_MS;
  let got = Buffer.alloc(0);
  let fds: number[] = [];
  for (let delay = 0; ; delay = Math.min(Math.max(1, delay * 2), 20)) {
    const r = sys.receive(fd, PREAMBLE - got.length, 4);
    if (r) {
      if (r.bytes.length === 0) { closeAll([...fds, ...r.fds]); throw new Cancelled('the client closed the connection before its hello'); }
      got = Buffer.concat([got, r.bytes]);
      fds = [...fds, ...r.fds];
      if (got.length === PREAMBLE) break;
      continue;
    }
    if (closed() || Date.now() > deadline) { closeAll(fds); throw new Cancelled('no hello from the client'); }
    await new Promise((resolve) => (delay === 0 ? setImmediate(resolve) : setTimeout(resolve, delay)));
  }
  if (got.toString('latin1', 0, 4) !== 'BRTH' || got[4] !== 1 || got[5] !== 3 || fds.length !== 3) {
    closeAll(fds);
    throw new Cancelled(`a malformed hello (${fds.length} descriptors)`);
  }
  return [fds[0]!, fds[1]!, fds[2]!];
}

/** The records after the preamble: A(rg), C(wd), E(nv), Z (end). */
function readBody(socket: Socket): Promise<Hello> {
  return new Promise((resolve, reject) => {
    const argv: string[] = [];
    const env: Record<string, string> = {};
    let cwd = '/';
    let buf: Buffer = Buffer.alloc(0);
    let total = 0;
    const timer = setTimeout(() => finish(new Cancelled('the client did not finish its hello')), HELLO_TIMEOUT_MS);
    const finish = (err?: Error, hello?: Hello): void => {
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err); else resolve(hello!);
    };
    const onClose = (): void => finish(new Cancelled('the client closed the connection before its hello'));
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > MAX_BODY_BYTES) { finish(new Cancelled(`a hello larger than ${MAX_BODY_BYTES} bytes`)); return; }
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 5 + len) break;
        const tag = String.fromCharCode(buf[0]!);
        const value = buf.toString('utf8', 5, 5 + len);
        const rest: Buffer = buf.subarray(5 + len);
        buf = rest;
        if (tag === 'A') argv.push(value);
        else if (tag === 'C') cwd = value;
        else if (tag === 'E') {
          const at = value.indexOf('=');
          if (at > 0) env[value.slice(0, at)] ??= value.slice(at + 1);
        } else if (tag === 'Z') {
          // anything after the end is a frame: the command's reader takes it
          finish(undefined, { argv, cwd, env, pending: Buffer.from(rest) });
          return;
        } else {
          finish(new Cancelled(`an unknown hello record "${tag}"`));
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.resume();
  });
}

/** Why this command runs in a process of its own; undefined when it runs here. */
function fallbackReason(hello: Hello, creds: Credentials, roots: Roots): string | undefined {
  // Only the engine's own user (root) runs commands here. berth.sock (0660, the engine's user and
  // group) lets group members in; they, and anyone else the kernel lets connect, get a `berth`
  // process of their own, which reads their files with their access and talks to berth.sock as
  // today. So a command here never reads a file its caller could not (docs/warm-cli.md).
  if (creds.uid !== ENGINE_UID) return `uid ${creds.uid} is not the engine's user`;
  const [verb, sub] = hello.argv;
  // files are written with the caller's identity and umask there (convert -o, the systemd unit)
  if (hello.argv.includes('convert') || hello.argv.includes('--install-unit')) return 'writes files';
  // `engine stop` waits for this very process to go away
  if (verb === 'engine' && sub !== 'status') return 'stops the engine';
  // a caller in another mount namespace or under another root names other files than ours
  try {
    if (readlinkSync(`/proc/${creds.pid}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt')) return 'another mount namespace';
    if (readlinkSync(`/proc/${creds.pid}/root`) !== '/') return 'another root directory';
  } catch {
    return 'the client process is gone';
  }
  const theirs = resolveRoots(hello.env);
  if (theirs.root !== roots.root || theirs.run !== roots.run || theirs.cgroupParent !== roots.cgroupParent) return 'other roots';
  return undefined;
}

export async function runSession(host: SessionHost, socket: Socket): Promise<void> {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  socket.on('error', () => undefined);
  if (typeof fd !== 'number' || fd < 0) { socket.destroy(); return; }
  let gone = false;
  socket.on('close', () => { gone = true; });

  let fds: readonly [number, number, number];
  let creds: Credentials;
  let hello: Hello;
  try {
    creds = host.sys.peerCredentials(fd);
    fds = await preamble(host.sys, fd, () => gone);
  } catch (err) {
    host.log(`warm cli: ${(err as Error).message}`);
    socket.destroy();
    return;
  }
  try {
    hello = await readBody(socket);
  } catch (err) {
    host.log(`warm cli: ${(err as Error).message}`);
    closeAll(fds);
    socket.destroy();
    return;
  }
  const why = fallbackReason(hello, creds, host.roots);
  if (why !== undefined) {
    host.log(`warm cli: uid ${creds.uid} pid ${creds.pid}: ${hello.argv.slice(0, 2).join(' ')} → the Node CLI (${why})`);
    closeAll(fds);
    socket.end(frame(WARM_FRAME.FALLBACK, Buffer.from(why)));
    return;
  }
  socket.write(frame(WARM_FRAME.STARTED));
  const started = process.hrtime.bigint();
  const streams = clientStreams(fds, host.sys);
  const code = await command(host, socket, hello, creds, fds, streams);
  host.log(`warm cli: uid ${creds.uid} pid ${creds.pid}: ${hello.argv.slice(0, 2).join(' ')} → ${code.kind === 'exit' ? `exit ${code.code}` : code.kind === 'die' ? `signal ${code.signal}` : 'client gone'} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`);
  await streams.close();
  closeAll(fds);
  if (code.kind === 'exit') socket.end(frame(WARM_FRAME.EXIT, Uint8Array.of(code.code & 0xff)));
  else if (code.kind === 'die') socket.end(frame(WARM_FRAME.DIE, Uint8Array.of(code.signal)));
  else socket.destroy();
}

type Outcome = { kind: 'exit'; code: number } | { kind: 'die'; signal: number } | { kind: 'gone' };

/** Runs the command; resolves with how it ended. */
function command(host: SessionHost, socket: Socket, hello: Hello, creds: Credentials, fds: readonly [number, number, number], streams: ClientStreams): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const session = new AbortController();
    let ended = false;
    const end = (outcome: Outcome): void => {
      if (ended) return;
      ended = true;
      session.abort(new Cancelled(outcome.kind === 'gone' ? 'the client went away' : 'the command ended'));
      for (const undo of cleanups.splice(0).reverse()) { try { undo(); } catch { /* undone */ } }
      resolve(outcome);
    };
    const cleanups: (() => void)[] = [];
    const signalListeners = new Map<string, Set<() => void>>();
    const resizeListeners = new Set<(size: { rows: number; columns: number }) => void>();

    // frames from the launcher: signals and window-size changes
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 8) {
        const len = buf.readUInt32BE(4);
        if (len > 64) { socket.destroy(); return; }
        if (buf.length < 8 + len) break;
        const kind = buf[0];
        const payload = buf.subarray(8, 8 + len);
        buf = buf.subarray(8 + len);
        if (kind === WARM_FRAME.WINCH) {
          streams.refreshSize();
          const size = streams.size();
          if (size) for (const l of [...resizeListeners]) l(size);
        } else if (kind === WARM_FRAME.STOP) {
          // Ctrl-Z: the launcher stops itself once we answer (tmux's suspend-client pattern); a
          // stopped Node CLI writes nothing, so neither does the command until CONT
          streams.pause();
          if (!socket.destroyed) socket.write(frame(WARM_FRAME.STOPPED));
        } else if (kind === WARM_FRAME.CONT) {
          streams.resume();
        } else if (kind === WARM_FRAME.SIGNAL && payload.length === 1) {
          const number = payload[0]!;
          const name = Object.entries(osConstants.signals).find(([, n]) => n === number)?.[0];
          const listeners = name ? signalListeners.get(name) : undefined;
          if (listeners && listeners.size > 0) for (const l of [...listeners]) l();
          else end({ kind: 'die', signal: number }); // no handler: a Node process dies of it
        }
      }
    };
    socket.on('data', onData);
    socket.on('close', () => end({ kind: 'gone' }));
    if (hello.pending.length > 0) onData(hello.pending);
    socket.resume();

    let raw: Buffer | undefined;
    const terminal: Terminal = {
      isTTY: (which) => streams.isTTY(which),
      size: () => streams.size(),
      onResize(listener) {
        resizeListeners.add(listener);
        return () => { resizeListeners.delete(listener); };
      },
      setRaw() {
        if (!streams.isTTY('stdin')) return () => {};
        const saved = host.sys.getTermios(fds[0]);
        host.sys.setTermios(fds[0], host.sys.makeRaw(saved));
        raw = saved;
        const restore = (): void => {
          if (raw === undefined) return;
          raw = undefined;
          try { host.sys.setTermios(fds[0], saved); } catch { /* the terminal is gone */ }
        };
        cleanups.push(restore);
        return restore;
      },
    };
    const roots = host.roots;
    let connection: ReturnType<typeof engineClientOver> | undefined;
    const ctx: CliContext = {
      stdout: streams.stdout,
      stderr: streams.stderr,
      get stdin() { return streams.stdin(); },
      env: hello.env,
      cwd: hello.cwd,
      terminal,
      onSignal(signal, handler) {
        let set = signalListeners.get(signal);
        if (!set) signalListeners.set(signal, (set = new Set()));
        set.add(handler);
        return () => { set.delete(handler); };
      },
      exit: (code) => {
        void streams.flush().then(() => end({ kind: 'exit', code }));
      },
      clock: realClock,
      async connect() {
        connection ??= engineClientOver(loopbackTransport(host.api, session.signal, host.log), host.api.info());
        return connection;
      },
      roots,
      packageRoot: host.packageRoot,
      nodePath: process.execPath,
      files: callerFiles(host.sys, creds),
      handoff: { stdin: fds[0], stdout: fds[1], stderr: fds[2], flush: () => streams.flush() },
    };

    const [first] = hello.argv;
    const run = (first === '--version' || first === '-v') && hello.argv.length >= 1
      // bin/berth.mjs answers these before loading anything: so does the warm path
      ? Promise.resolve().then(() => { streams.stdout.write(`berth version ${host.version}\n`); return 0; })
      : host.runCli(hello.argv, ctx);
    run.then(
      async (code) => {
        await streams.flush();
        end({ kind: 'exit', code });
      },
      async (err: unknown) => {
        // runCli renders every error itself; this is a bug in the warm path
        host.log(`warm cli: ${(err as Error)?.stack ?? String(err)}`);
        streams.stderr.write(`Error: internal error: ${(err as Error)?.message ?? String(err)}\n`);
        await streams.flush();
        end({ kind: 'exit', code: 125 });
      },
    );
  });
}
