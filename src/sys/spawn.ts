// Process spawning: the only place besides libc.ts that reaches the host's process table.
import { spawn } from 'node:child_process';
import { Worker, SHARE_ENV } from 'node:worker_threads';
import { readFileSync, readdirSync, closeSync } from 'node:fs';
import { openOwnedForAppend } from '../lib/atomic.js';
import { SysError } from '../lib/errors.js';
import { lazySys } from './index.js';

export interface Exit { readonly code: number | null; readonly signal: NodeJS.Signals | null }

/** One of a child's standard descriptors: a new pipe, /dev/null, or a descriptor of ours. */
export type StdioSlot = 'pipe' | 'ignore' | number;

/** A process started by spawnProcess; its pipes are the streams of the slots that were 'pipe'. */
export interface SpawnedProcess {
  readonly pid: number;
  readonly stdin: NodeJS.WritableStream | null;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  /** settles once the process has exited and its pipes are closed (never rejects after a spawn) */
  readonly exited: Promise<Exit>;
  /** false when the process is already gone */
  kill(signal: NodeJS.Signals): boolean;
}

/**
 * Starts `file args` with the given stdin/stdout/stderr, in a session of its own (a signal to the
 * caller's process group, a terminal's Ctrl-C included, never reaches it: the caller forwards
 * what it means to). Rejects when the file cannot be executed.
 */
export function spawnProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv, stdio: readonly [StdioSlot, StdioSlot, StdioSlot]): Promise<SpawnedProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [...stdio], env, detached: true });
    const exited = new Promise<Exit>((done) => child.on('close', (code, signal) => done({ code, signal })));
    child.once('error', (err: NodeJS.ErrnoException) => reject(new SysError('execve', file, err.code ?? 'EUNKNOWN')));
    child.once('spawn', () => resolve({
      pid: child.pid!,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      kill: (signal) => { try { return child.kill(signal); } catch { return false; } },
    }));
  });
}

/**
 * Runs a command to completion, capturing its output. stdin is closed, or carries `input` (the
 * network facility's `nft -f -` and `berth-net` batches).
 *
 * The spawn itself runs on a worker thread (below): Node's spawn is synchronous up to the child's
 * exec — a fork of the whole process, then a wait until the child has exec'd — which on a loaded
 * machine takes 40–200 ms per call for an engine of 100+ MB, during which the event loop stood
 * still (issue 17: `up -d` of 30 services spawns 30 supervisors, and the engine's event loop
 * stalled for seconds). BERTH_SPAWN_WORKER=0 spawns on the calling thread instead.
 */
export function runCaptured(file: string, args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Promise<Exit & { stdout: string; stderr: string }> {
  if (process.env.BERTH_SPAWN_WORKER !== '0') {
    const worker = spawner();
    if (worker) return worker.run(file, args, env, input);
  }
  return runCapturedHere(file, args, env, input);
}

function runCapturedHere(file: string, args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Promise<Exit & { stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env });
    if (input !== undefined) {
      child.stdin!.on('error', () => { /* the tool exited before reading everything: its exit says why */ });
      child.stdin!.end(input);
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', (err: NodeJS.ErrnoException) => reject(new SysError('execve', file, err.code ?? 'EUNKNOWN')));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// ── the spawner thread ─────────────────────────────────────────────────────────────────────
// One worker thread per process, made on first use, runs runCaptured's children: the same spawn,
// pipes and exit as runCapturedHere, with the result posted back. Its source is inline (eval) so
// that it works the same from dist/src and from the bundled CLI. The thread keeps the process
// alive only while a command runs (ref'd while one is pending). If it dies, what was pending
// fails and the next call makes a new one.
const SPAWNER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { spawn } = require('node:child_process');
parentPort.on('message', (m) => {
  if (m.kind === 'keep') {
    // a long-lived child on descriptors of the caller's (spawnKept): its pid now, its exit later
    let child;
    try {
      child = spawn(m.file, m.args, { stdio: m.stdio, env: m.env, detached: true });
    } catch (err) { parentPort.postMessage({ id: m.id, error: (err && err.code) || 'EUNKNOWN' }); return; }
    child.on('error', (err) => parentPort.postMessage({ id: m.id, error: (err && err.code) || 'EUNKNOWN' }));
    child.on('spawn', () => parentPort.postMessage({ id: m.id, pid: child.pid }));
    child.on('exit', (code, signal) => parentPort.postMessage({ id: m.id, exit: true, code, signal }));
    return;
  }
  let done = false;
  const post = (r) => { if (!done) { done = true; parentPort.postMessage(r); } };
  let child;
  try {
    child = spawn(m.file, m.args, { stdio: [m.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: m.env });
  } catch (err) { post({ id: m.id, error: (err && err.code) || 'EUNKNOWN' }); return; }
  if (m.input !== undefined) { child.stdin.on('error', () => {}); child.stdin.end(m.input); }
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s) => { stdout += s; });
  child.stderr.setEncoding('utf8').on('data', (s) => { stderr += s; });
  child.on('error', (err) => post({ id: m.id, error: (err && err.code) || 'EUNKNOWN' }));
  child.on('close', (code, signal) => post({ id: m.id, code, signal, stdout, stderr }));
});
`;

interface SpawnerReply { id: number; error?: string; code?: number | null; signal?: NodeJS.Signals | null; stdout?: string; stderr?: string; pid?: number; exit?: boolean }
interface Spawner {
  run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Promise<Exit & { stdout: string; stderr: string }>;
  keep(file: string, args: readonly string[], env: NodeJS.ProcessEnv, stdio: readonly [number, number, number]): Promise<KeptProcess>;
}

/** A child started by spawnKept: its pid, and its exit once it has been reaped. */
export interface KeptProcess {
  readonly pid: number;
  /** settles when the child has exited (or the spawner thread died: code and signal null) */
  readonly exited: Promise<Exit>;
}

/**
 * Starts `file args` in a session of its own with the caller's descriptors as its stdio (the
 * caller closes its copies once this resolves), on the spawner thread: the fork of the whole
 * engine happens there, so the event loop goes on meanwhile. For children started ahead of need
 * (warm slots, runtime/slots.ts) whose spawn must never hold up a request in progress.
 * BERTH_SPAWN_WORKER=0, or no worker: on the calling thread.
 */
export function spawnKept(file: string, args: readonly string[], env: NodeJS.ProcessEnv, stdio: readonly [number, number, number]): Promise<KeptProcess> {
  if (process.env.BERTH_SPAWN_WORKER !== '0') {
    const worker = spawner();
    if (worker) return worker.keep(file, args, env, stdio);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [...stdio], env, detached: true });
    const exited = new Promise<Exit>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    child.once('error', (err: NodeJS.ErrnoException) => reject(new SysError('execve', file, err.code ?? 'EUNKNOWN')));
    child.once('spawn', () => resolve({ pid: child.pid!, exited }));
  });
}

let current: Spawner | undefined;
let unavailable = false;

function spawner(): Spawner | undefined {
  if (current || unavailable) return current;
  let worker: Worker;
  try {
    worker = new Worker(SPAWNER_SOURCE, { eval: true, env: SHARE_ENV, stdout: false, stderr: false });
  } catch {
    unavailable = true;
    return undefined;
  }
  worker.unref();
  const pending = new Map<number, { file: string; resolve: (r: Exit & { stdout: string; stderr: string }) => void; reject: (err: Error) => void }>();
  // spawnKept's children: first their pid, then (while they live) their exit
  const kept = new Map<number, { file: string; started?: (pid: number) => void; reject?: (err: Error) => void; exit?: (e: Exit) => void }>();
  let next = 1;
  const refs = (): void => { if (pending.size === 0) worker.unref(); };
  const fail = (why: string): void => {
    if (current === self) current = undefined;
    for (const [, p] of pending) p.reject(new SysError('execve', p.file, 'EUNKNOWN', `spawn ${p.file}: the spawner thread ${why}`));
    pending.clear();
    for (const [, k] of kept) {
      k.reject?.(new SysError('execve', k.file, 'EUNKNOWN', `spawn ${k.file}: the spawner thread ${why}`));
      k.exit?.({ code: null, signal: null });
    }
    kept.clear();
  };
  worker.on('message', (r: SpawnerReply) => {
    const k = kept.get(r.id);
    if (k) {
      if (r.error !== undefined && k.reject) { kept.delete(r.id); pending.delete(r.id); refs(); k.reject(new SysError('execve', k.file, r.error)); return; }
      if (r.pid !== undefined && k.started) { pending.delete(r.id); refs(); const started = k.started; k.started = undefined; k.reject = undefined; started(r.pid); return; }
      if (r.exit) { kept.delete(r.id); k.exit?.({ code: r.code ?? null, signal: r.signal ?? null }); }
      return;
    }
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (pending.size === 0) worker.unref();
    if (r.error !== undefined) p.reject(new SysError('execve', p.file, r.error));
    else p.resolve({ code: r.code ?? null, signal: r.signal ?? null, stdout: r.stdout ?? '', stderr: r.stderr ?? '' });
  });
  worker.on('error', (err) => fail(`failed: ${err.message}`));
  worker.on('exit', (code) => fail(`exited (${code})`));
  const self: Spawner = {
    run(file, args, env, input) {
      return new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { file, resolve, reject });
        worker.ref();
        worker.postMessage({ id, file, args: [...args], env: { ...env }, input });
      });
    },
    keep(file, args, env, stdio) {
      return new Promise((resolve, reject) => {
        const id = next++;
        let exit!: (e: Exit) => void;
        const exited = new Promise<Exit>((done) => { exit = done; });
        kept.set(id, { file, started: (pid) => resolve({ pid, exited }), reject, exit });
        // ref'd until the pid is back (a pending entry), not for the child's whole life
        pending.set(id, { file, resolve: () => undefined, reject });
        worker.ref();
        worker.postMessage({ kind: 'keep', id, file, args: [...args], env: { ...env }, stdio: [...stdio] });
      });
    },
  };
  current = self;
  return self;
}

/**
 * Is a process with this pid alive? A zombie is not: it has exited and only waits for its parent
 * (or, for an orphan, for PID 1, which on some hosts reaps late) to collect its status.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // the state is the first field after the parenthesised command name, which may hold spaces
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Sends a signal; false when the process is already gone. */
export function signalProcess(pid: number, signal: number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new SysError('kill', String(pid), (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
  }
}

/**
 * Starts `file args` as a daemon: its own session (no controlling terminal, out of the caller's
 * process group, so the caller's Ctrl-C never reaches it), working directory "/" (it must not
 * keep the caller's directory busy), stdin from /dev/null, stdout and stderr appended to
 * `logFile` (created 0640). The caller may exit at once: nothing here keeps its event loop alive.
 * `exited` settles when the process exits while the caller still runs (never rejects).
 */
export function spawnDetached(file: string, args: readonly string[], env: NodeJS.ProcessEnv, logFile: string): { readonly pid: number; readonly exited: Promise<Exit> } {
  // libuv passes on every descriptor that is not close-on-exec: whatever the caller's shell left
  // open (`exec 200</`) would live on in the daemon, and from there reach what it starts. Node's
  // own descriptors are close-on-exec already; mark the rest so.
  lazySys.cloexecFrom(3);
  // never through a symlink, only a regular file of ours (BERTH_RUN may be shared)
  const fd = openOwnedForAppend(logFile);
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd], env, cwd: '/' });
    if (child.pid === undefined) {
      // spawn reports a failed exec asynchronously; the pid is missing synchronously in that case.
      child.on('error', () => { /* reported through the thrown error below */ });
      throw new SysError('execve', file, 'ENOENT');
    }
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

/** What `spawnCaptured` collects: stdout and stderr in arrival order, up to a byte limit. */
export interface CapturedOutput extends Exit {
  /** at most `maxOutput` bytes */
  readonly output: Buffer;
  /** true when bytes past `maxOutput` were dropped */
  readonly truncated: boolean;
}

/**
 * Starts `file args` with stdin on /dev/null and stdout and stderr captured into one buffer, in
 * the order their chunks arrive (the two are separate pipes, so this interleaving is as close as
 * a reader of both can get — Docker's health log has the same). Bytes past `maxOutput` are read
 * and dropped, so a chatty child never blocks on a full pipe. `done` settles once the child has
 * exited and both pipes are closed. The caller owns killing it: `pid` is returned at once, and
 * `unreaped()` says whether it still names this child.
 */
export function spawnCaptured(file: string, args: readonly string[], env: NodeJS.ProcessEnv, maxOutput: number): { readonly pid: number; readonly done: Promise<CapturedOutput>; unreaped(): boolean } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  // Until Node has reaped the child (its 'exit' event), its pid cannot belong to anyone else:
  // signalling it or reading its children is safe exactly while this is true.
  let reaped = child.pid === undefined;
  child.on('exit', () => { reaped = true; });
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  const take = (chunk: Buffer): void => {
    const room = maxOutput - kept;
    if (chunk.length > room) truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(part);
    kept += part.length;
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const done = new Promise<CapturedOutput>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => reject(new SysError('execve', file, err.code ?? 'EUNKNOWN')));
    child.on('close', (code, signal) => resolve({ code, signal, output: Buffer.concat(chunks), truncated }));
  });
  // Without a pid the exec failed: `done` rejects with the reason.
  return { pid: child.pid ?? -1, done, unreaped: () => !reaped };
}

/** One line of /proc/<pid>/stat, the fields after the command name: state, ppid, pgrp, session. */
function procStat(pid: number): { state: string; ppid: number; session: number } | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  // The command name is in parentheses and may itself contain ") ": split after the last one.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0]!, ppid: Number(rest[1]), session: Number(rest[3]) };
}

function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/** The live (non-zombie) children of `pid`, as pids of this process's pid namespace. */
export function childPids(pid: number): number[] {
  return allPids().filter((p) => {
    const s = procStat(p);
    return s !== undefined && s.ppid === pid && s.state !== 'Z';
  });
}

/** The live processes whose session id is `sessionId` (the session leader included). */
export function sessionMembers(sessionId: number): number[] {
  return allPids().filter((p) => {
    const s = procStat(p);
    return s !== undefined && s.session === sessionId && s.state !== 'Z';
  });
}


/** A helper process talking over pipes: what `spawnPiped` returns. */
export interface PipedProcess {
  readonly pid: number;
  /** the helper's stdin (commands) */
  readonly stdin: NodeJS.WritableStream;
  /** the helper's stdout (records) */
  readonly stdout: NodeJS.ReadableStream;
  /** settles when the helper has exited (never rejects: a failed exec is code null) */
  readonly exited: Promise<Exit & { readonly stderr: string }>;
  /** signals the helper unless it has been reaped already */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts a long-running helper (berth-notify) with stdin and stdout as pipes and stderr captured
 * (up to 64 KiB, for the error that ends it). Nothing here keeps the caller alive longer than the
 * helper: closing stdin is how the caller asks it to exit.
 */
export function spawnPiped(file: string, args: readonly string[], env: NodeJS.ProcessEnv): PipedProcess {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let reaped = false;
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { if (stderr.length < 65536) stderr += s; });
  // a helper that died leaves its stdin pipe broken: the caller learns that from `exited`
  child.stdin!.on('error', () => { /* EPIPE */ });
  const exited = new Promise<Exit & { stderr: string }>((resolve) => {
    child.once('error', () => { reaped = true; resolve({ code: null, signal: null, stderr: stderr || `cannot run ${file}` }); });
    child.once('close', (code, signal) => { reaped = true; resolve({ code, signal, stderr }); });
  });
  return {
    pid: child.pid ?? -1,
    stdin: child.stdin!,
    stdout: child.stdout!,
    exited,
    kill(signal = 'SIGTERM') { if (!reaped) { try { child.kill(signal); } catch { /* gone */ } } },
  };
}
