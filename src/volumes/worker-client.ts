// Starts the volumes worker (worker.ts) for one request and reads its answer: the engine's way to
// run a copy-up, a `cp`, a tar stream or a `diff` without blocking its event loop. The worker is
// a child process (not a worker thread): the facility's overlay mounts chdir for their short
// lowerdirs, which only a process may do, and a crashed copy must not take the engine with it.
import { fileURLToPath } from 'node:url';
import { InternalError, fromBody, type ErrorBody } from '../lib/errors.js';
import { spawnProcess, type StdioSlot } from '../sys/spawn.js';
import type { WorkerRequest } from './worker-types.js';

export type { WorkerRequest } from './worker-types.js';

export interface WorkerOptions {
  /** the Node.js binary (the engine's own) */
  readonly nodePath: string;
  /** the environment of the worker (PATH; nothing of the engine's clients) */
  readonly env: NodeJS.ProcessEnv;
  /** every line the worker writes before its answer (a bug's stack): to the engine log */
  readonly log?: (line: string) => void;
}

/** The compiled worker beside this file (dist/src/volumes/worker.js). */
export const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

/** argv carries the request: Linux refuses a single argument over 128 KiB. */
const MAX_REQUEST_BYTES = 120 * 1024;

export interface WorkerIo {
  /** the bytes for the worker's stdin (tar-to) */
  readonly input?: AsyncIterable<Uint8Array>;
  /** receives the worker's stdout (tar-from); a returned promise holds the next chunk back */
  readonly output?: (chunk: Uint8Array) => Promise<void> | void;
  /** the caller went away: stdin is ended and stdout closed (the worker then fails and cleans up) */
  readonly signal?: AbortSignal;
}

/** Runs one request in a worker; resolves with its answer, throws its error (the same class). */
export async function runWorker<T>(opts: WorkerOptions, request: WorkerRequest, io: WorkerIo = {}): Promise<T> {
  const text = JSON.stringify(request);
  if (Buffer.byteLength(text) > MAX_REQUEST_BYTES) throw new InternalError(`a ${request.op} request of ${Buffer.byteLength(text)} bytes is too large for the worker's argv`);
  const stdio: [StdioSlot, StdioSlot, StdioSlot] = [io.input ? 'pipe' : 'ignore', io.output ? 'pipe' : 'ignore', 'pipe'];
  const child = await spawnProcess(opts.nodePath, [WORKER_SCRIPT, text], { ...opts.env, NODE_NO_WARNINGS: '1' }, stdio);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => { if (stderr.length < 1 << 20) stderr += s; });

  const onAbort = (): void => {
    (child.stdin as NodeJS.WritableStream & { destroy?: () => void } | null)?.destroy?.();
    (child.stdout as NodeJS.ReadableStream & { destroy?: () => void } | null)?.destroy?.();
  };
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const feeding = io.input && child.stdin ? feed(io.input, child.stdin) : undefined;
    if (io.output && child.stdout) {
      const out = child.stdout;
      out.on('data', (chunk: Buffer) => {
        const pending = io.output!(chunk);
        if (pending) { out.pause(); void pending.then(() => out.resume(), () => onAbort()); }
      });
      out.on('error', () => undefined);
    }
    const exit = await child.exited;
    await feeding;
    const lines = stderr.split('\n').filter((l) => l !== '');
    const last = lines.pop();
    for (const l of lines) opts.log?.(`volumes worker ${child.pid}: ${l}`);
    let parsed: { ok?: unknown; error?: ErrorBody } | undefined;
    try { parsed = last !== undefined ? JSON.parse(last) as typeof parsed : undefined; } catch { parsed = undefined; }
    if (parsed?.error) throw fromBody(parsed.error);
    if (parsed && 'ok' in parsed && exit.code === 0) return parsed.ok as T;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
    if (last !== undefined) opts.log?.(`volumes worker ${child.pid}: ${last}`);
    throw new InternalError(`the volumes worker (${request.op}) ${how} without an answer`);
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
  }
}

/** Copies `input` into the worker's stdin with back-pressure, then ends it; a broken pipe ends the feeding. */
async function feed(input: AsyncIterable<Uint8Array>, stdin: NodeJS.WritableStream): Promise<void> {
  stdin.on('error', () => undefined);
  try {
    for await (const chunk of input) {
      if ((stdin as { destroyed?: boolean }).destroyed) return;
      if (!stdin.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => { stdin.off('drain', done); stdin.off('close', done); resolve(); };
          stdin.on('drain', done);
          stdin.on('close', done);
        });
      }
    }
  } catch {
    /* the caller's stream broke: the worker sees the end of its tar stream and says what is wrong */
  } finally {
    stdin.end();
  }
}
