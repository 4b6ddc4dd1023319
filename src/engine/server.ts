// The engine's HTTP server on its unix socket: routes → EngineApi methods. It owns the wire, not
// the behaviour: it parses and checks requests, calls one api method, and writes JSON or NDJSON
// back (docs/engine-api.md; the shared wire details are in api/codec.ts). The socket is claimed
// so that two engines racing for one BERTH_RUN end with exactly one listening:
//
//   1. listen on a private name (.berth.sock.<pid>.tmp), chmod it 0660;
//   2. link(2) the private name to berth.sock: link never replaces an existing file, so exactly
//      one of several racing engines wins, and the public path only ever names a socket that is
//      already accepting connections;
//   3. on EEXIST, connect to what is there: a listener answers → Conflict (another engine runs);
//      ECONNREFUSED → a dead engine's file: move it aside, check it is still dead, remove it, and
//      retry the link.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createConnection } from 'node:net';
import { chmodSync, linkSync, lstatSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { EngineApi } from '../api/engine-api.js';
import type { DownRequest, EngineEvent, KillOptions, LogLine, ServicesOptions, StopOptions, UpOptions, UpRequest } from '../api/types.js';
import { API_VERSION } from '../api/types.js';
import {
  API_VERSION_HEADER, MAX_BODY_BYTES, isReservedEvent, isStreamingVerb, isValidProjectName, ndjson, queryFlag, statusForCode,
  type StreamEnd, type StreamingVerb,
} from '../api/codec.js';
import { BerthError, Conflict, InvalidArgument, NotFound, errorBody, fromNodeError, type ErrorBody } from '../lib/errors.js';

export interface ServerOptions {
  /** `<BERTH_RUN>/berth.sock`; its directory is created (0711) if missing */
  readonly socketPath: string;
  /**
   * The engine, or a factory for it. A factory is called only once this process owns the socket,
   * so an engine that loses the start-up race never builds a controller. Requests that arrive
   * before it returns wait for it.
   */
  readonly api: EngineApi | (() => EngineApi | Promise<EngineApi>);
  /** one line per request and per notable event; default: nothing */
  readonly log?: (line: string) => void;
  /** POST /v1/shutdown, called after the 202 went out; default: api.shutdown() */
  readonly onShutdown?: () => void;
  /** the socket path no longer leads to this server (removed by hand, or taken over) */
  readonly onLostSocket?: () => void;
}

export interface EngineServer {
  /** Refuse new requests (503), abort the signals of running ones and wait (≤ 5 s) for them to end. Still owns the socket. */
  drain(): Promise<void>;
  /** drain(), stop listening, and remove the socket file if it is still ours */
  close(): Promise<void>;
}

/** How long drain() waits for running requests after aborting their signals. */
const DRAIN_TIMEOUT_MS = 5_000;
/** How often the server checks that the socket path still names its own socket. */
const WATCHDOG_INTERVAL_MS = 1_000;

export async function startServer(opts: ServerOptions): Promise<EngineServer> {
  const log = opts.log ?? ((): void => {});
  const socketPath = opts.socketPath;
  // Requests may arrive as soon as the socket is linked, before the api exists: they wait for it.
  let api: EngineApi | undefined;
  let apiResolve!: (engine: EngineApi) => void;
  let apiReject!: (err: unknown) => void;
  const apiReady = new Promise<EngineApi>((resolve, reject) => { apiResolve = resolve; apiReject = reject; });
  apiReady.catch(() => { /* startServer rejects with it; waiting requests end with it */ });
  let draining = false;
  let shutdownRequested = false;
  /** every request being answered, with the controller of its api signal */
  const running = new Set<{ readonly abort: AbortController; readonly done: Promise<void> }>();

  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const abort = new AbortController();
    const entry = { abort, done: handle(req, res, abort) };
    running.add(entry);
    void entry.done.finally(() => running.delete(entry));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, abort: AbortController): Promise<void> {
    const startedAt = process.hrtime.bigint();
    res.setHeader(API_VERSION_HEADER, String(API_VERSION));
    // A response that closes before it finished means the client went away: tell the api method.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new Error('the client disconnected'));
      const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
      log(`${req.method} ${req.url} ${res.statusCode}${res.writableFinished ? '' : ' (cut)'} ${ms.toFixed(1)} ms`);
    });
    try {
      if (draining) throw new HttpFailure(503, new Conflict('the engine is shutting down', { shuttingDown: true }));
      const engine = api ?? (await apiReady);
      await route(engine, req, res, abort.signal);
    } catch (err) {
      if (!res.headersSent) {
        const failure = err instanceof HttpFailure ? err : new HttpFailure(statusFor(err), err);
        sendJson(res, failure.status, bodyOf(failure.error, log), failure.headers);
      } else {
        log(`${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
        res.destroy();
      }
    }
  }

  async function route(engine: EngineApi, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://engine');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v1') throw new NotFound(`no route "${url.pathname}": the engine speaks api version ${API_VERSION} (prefix /v1)`);
    const rest = parts.slice(1);
    const method = req.method ?? 'GET';
    const only = (allowed: 'GET' | 'POST'): void => {
      if (method !== allowed) throw new HttpFailure(405, new InvalidArgument(`${method} is not allowed on "${url.pathname}" (use ${allowed})`), { allow: allowed });
    };

    if (rest.length === 1 && rest[0] === 'info') {
      only('GET');
      return sendJson(res, 200, await engine.info());
    }
    if (rest.length === 1 && rest[0] === 'shutdown') {
      only('POST');
      await drainBody(req);
      sendJson(res, 202, {});
      if (!shutdownRequested) {
        shutdownRequested = true;
        res.on('finish', () => {
          log('shutdown requested over the api');
          if (opts.onShutdown) opts.onShutdown();
          else engine.shutdown().catch((err: unknown) => log(`shutdown: ${(err as Error)?.stack ?? String(err)}`));
        });
      }
      return;
    }
    if (rest.length === 1 && rest[0] === 'events') {
      only('GET');
      return stream(res, signal, log, (emit, s) => engine.events(emit, s));
    }
    if (rest.length === 1 && rest[0] === 'projects') {
      only('GET');
      return sendJson(res, 200, await engine.ls({ all: flag(url, 'all') }));
    }
    if (rest.length === 3 && rest[0] === 'projects') {
      const projectName = projectNameOf(rest[1]!);
      const what = rest[2]!;
      if (what === 'containers') {
        only('GET');
        return sendJson(res, 200, await engine.ps(projectName, { all: flag(url, 'all'), services: url.searchParams.getAll('service') }));
      }
      if (what === 'logs') {
        only('GET');
        const tail = url.searchParams.get('tail');
        const since = url.searchParams.get('since');
        const logsOptions = {
          services: url.searchParams.getAll('service'),
          follow: flag(url, 'follow'),
          ...(tail !== null && tail !== 'all' ? { tail: nonNegativeInteger('tail', tail) } : {}),
          ...(since !== null ? { since } : {}),
        };
        return stream(res, signal, log, (emit: (l: LogLine) => void, s) => engine.logs(projectName, logsOptions, emit, s));
      }
      if (isStreamingVerb(what)) {
        only('POST');
        const body = await readJsonBody(req);
        const call = verbCall(engine, what, projectName, body);
        return stream(res, signal, log, call);
      }
    }
    throw new NotFound(`no route "${url.pathname}"`);
  }

  // Claim the socket path (see the header), then serve.
  const owned = await claimSocket(server, socketPath, log);
  try {
    api = typeof opts.api === 'function' ? await opts.api() : opts.api;
    apiResolve(api);
  } catch (err) {
    apiReject(err);
    await stopListening(server, socketPath, owned);
    throw err;
  }
  log(`listening on "${socketPath}" (api v${API_VERSION}, pid ${process.pid})`);

  const watchdog = setInterval(() => {
    if (ownsPath(socketPath, owned)) return;
    clearInterval(watchdog);
    log(`"${socketPath}" no longer names this engine's socket`);
    opts.onLostSocket?.();
  }, WATCHDOG_INTERVAL_MS);
  watchdog.unref();

  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    drained ??= (async () => {
      draining = true;
      for (const r of running) r.abort.abort(new Error('the engine is shutting down'));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, DRAIN_TIMEOUT_MS); });
      await Promise.race([Promise.allSettled([...running].map((r) => r.done)), timeout]);
      clearTimeout(timer);
    })();
    return drained;
  };
  let closed: Promise<void> | undefined;
  return {
    drain,
    close(): Promise<void> {
      closed ??= (async () => {
        await drain();
        clearInterval(watchdog);
        await stopListening(server, socketPath, owned);
      })();
      return closed;
    },
  };
}

/** The device and inode of the socket this server listens on: how it recognises its own path. */
interface OwnedSocket { readonly dev: number; readonly ino: number }

async function claimSocket(server: Server, socketPath: string, log: (line: string) => void): Promise<OwnedSocket> {
  const dir = dirname(socketPath);
  prepareRunDir(dir);
  const privateName = join(dir, `.${basename(socketPath)}.${process.pid}.tmp`);
  try { unlinkSync(privateName); } catch { /* usually absent; a leftover of an earlier process with our pid otherwise */ }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(fromNodeError(err, 'listen', privateName));
    server.once('error', onError);
    server.listen(privateName, () => { server.off('error', onError); resolve(); });
  });
  try {
    chmodSync(privateName, 0o660);
    const st = statSync(privateName);
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(privateName, socketPath);
        return { dev: st.dev, ino: st.ino };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw fromNodeError(err, 'link', socketPath);
      }
      await removeIfDead(socketPath, log);
    }
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  } finally {
    // The public name is a hard link to the same socket; the private one is no longer needed.
    try { unlinkSync(privateName); } catch { /* gone already */ }
  }
}

/** mkdir -p BERTH_RUN (0711), and refuse one that another user owns or that others may write to. */
function prepareRunDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
  } catch (err) {
    throw fromNodeError(err, 'mkdir', dir);
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Conflict(`"${dir}" is not a directory`, { path: dir });
  const uid = process.getuid?.() ?? st.uid;
  if (st.uid !== uid) throw new Conflict(`"${dir}" belongs to uid ${st.uid}, not to the engine's user (uid ${uid})`, { path: dir });
  if ((st.mode & 0o022) !== 0) throw new Conflict(`"${dir}" is writable by its group or others (mode ${(st.mode & 0o7777).toString(8)}); remove that permission`, { path: dir });
}

type Probe = 'live' | 'dead' | 'absent';

/**
 * Is an engine serving on this unix socket? Connecting is not enough: for a moment after its
 * process died (even as a zombie), the kernel still accepts connections on a listening socket
 * and then resets them. So ask GET /v1/info and count any answer as live; a reset or a refusal
 * is dead; anything unclear (no answer within 2 s, EACCES…) counts as live, so that we never
 * remove a socket we could not prove dead.
 */
function probeSocket(path: string): Promise<Probe> {
  return new Promise((resolve) => {
    const conn = createConnection(path);
    let settled = false;
    const settle = (result: Probe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => settle('live'), 2_000);
    conn.once('connect', () => conn.write('GET /v1/info HTTP/1.1\r\nHost: engine\r\nConnection: close\r\n\r\n'));
    conn.once('data', () => settle('live'));
    conn.once('end', () => settle('dead'));
    conn.once('error', (err: NodeJS.ErrnoException) => {
      settle(err.code === 'ENOENT' ? 'absent' : err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'dead' : 'live');
    });
  });
}

async function removeIfDead(socketPath: string, log: (line: string) => void): Promise<void> {
  let st;
  try { st = lstatSync(socketPath); } catch { return; }
  if (!st.isSocket()) throw new Conflict(`"${socketPath}" exists and is not a socket; remove it if no engine is running`, { path: socketPath });
  const probe = await probeSocket(socketPath);
  if (probe === 'absent') return;
  if (probe === 'live') throw new Conflict(`another engine is running on "${socketPath}"`, { path: socketPath });
  // Dead. Another engine may be doing this same cleanup and have linked its live socket in the
  // meantime, so never unlink the public name: rename it to a private one, and check again there.
  const aside = `${socketPath}.dead.${process.pid}`;
  try { renameSync(socketPath, aside); } catch { return; }
  try {
    if ((await probeSocket(aside)) === 'live') {
      try { linkSync(aside, socketPath); } catch { /* a third engine took the name: it serves */ }
      throw new Conflict(`another engine is running on "${socketPath}"`, { path: socketPath });
    }
    log(`removed the socket of a dead engine at "${socketPath}"`);
  } finally {
    try { unlinkSync(aside); } catch { /* gone already */ }
  }
}

function ownsPath(socketPath: string, owned: OwnedSocket): boolean {
  try {
    const st = statSync(socketPath);
    return st.dev === owned.dev && st.ino === owned.ino;
  } catch {
    return false;
  }
}

async function stopListening(server: Server, socketPath: string, owned: OwnedSocket): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  // Only our own link: after a takeover the path is another engine's.
  if (ownsPath(socketPath, owned)) {
    try { unlinkSync(socketPath); } catch { /* gone already */ }
  }
}

/** Writes an NDJSON stream: headers now, then every emitted record, then one StreamEnd. */
async function stream<T>(
  res: ServerResponse,
  signal: AbortSignal,
  log: (line: string) => void,
  run: (emit: (record: T) => void, signal: AbortSignal) => Promise<number | void>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  let warned = false;
  const emit = (record: T): void => {
    if (res.destroyed || res.writableEnded) return;
    if (isReservedEvent(record as EngineEvent)) {
      // `result` and `error` end a stream on the wire; the api method's return value is its result.
      if (!warned) log('an api method emitted a result/error event; the transport reserves those kinds and drops it');
      warned = true;
      return;
    }
    res.write(ndjson(record));
  };
  let end: StreamEnd;
  try {
    const exitCode = await run(emit, signal);
    end = { kind: 'result', exitCode: typeof exitCode === 'number' ? exitCode : 0, time: new Date().toISOString() };
  } catch (err) {
    end = { kind: 'error', error: bodyOf(err, log), time: new Date().toISOString() };
  }
  if (!res.destroyed && !res.writableEnded) res.end(ndjson(end));
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A failure with an HTTP status other than the one its error code implies (405, 413, 503). */
class HttpFailure extends Error {
  constructor(readonly status: number, readonly error: unknown, readonly headers: Readonly<Record<string, string>> = {}) {
    super((error as Error)?.message ?? String(error));
  }
}

function statusFor(err: unknown): number {
  return err instanceof BerthError ? statusForCode(err.code) : 500;
}

/** A BerthError crosses as its body; anything else is a bug, logged with its stack. */
function bodyOf(err: unknown, log: (line: string) => void): ErrorBody {
  return errorBody(err, (bug) => log(`internal error: ${(bug as Error)?.stack ?? String(bug)}`));
}

async function drainBody(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) { /* discard */ }
}

/** Reads a JSON body of at most MAX_BODY_BYTES; an empty body is `{}`. */
async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const tooLarge = (): HttpFailure =>
    // The rest of the body stays unread: the connection must not carry another request.
    new HttpFailure(413, new InvalidArgument(`request body is larger than ${MAX_BODY_BYTES} bytes`), { connection: 'close' });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgument('request body must be a JSON object');
  return value as Record<string, unknown>;
}

// ---- request checking: the engine trusts its types only after these ----

function flag(url: URL, key: string): boolean {
  const value = queryFlag(url.searchParams.get(key));
  if (value === undefined) throw new InvalidArgument(`query parameter "${key}" must be 1, true, 0 or false`);
  return value;
}

function nonNegativeInteger(key: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgument(`"${key}" must be a non-negative integer, not "${text}"`);
  return Number(text);
}

function projectNameOf(segment: string): string {
  let name: string;
  try { name = decodeURIComponent(segment); } catch { name = segment; }
  if (!isValidProjectName(name)) throw new InvalidArgument(`invalid project name "${name}": use lower-case letters, digits, "-" and "_", starting with a letter or digit`);
  return name;
}

function objectAt(body: Record<string, unknown>, key: string, required: boolean): Record<string, unknown> {
  const v = body[key];
  if (v === undefined && !required) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgument(`"${key}" must be an object`);
  return v as Record<string, unknown>;
}

function boolAt(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new InvalidArgument(`"${key}" must be a boolean`);
  return v;
}

function numberAt(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidArgument(`"${key}" must be a non-negative number`);
  return v;
}

function servicesAt(o: Record<string, unknown>): string[] {
  const v = o.services;
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new InvalidArgument('"services" must be an array of strings');
  return v as string[];
}

function scaleAt(o: Record<string, unknown>): Record<string, number> {
  const v = objectAt(o, 'scale', false);
  for (const [service, n] of Object.entries(v)) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new InvalidArgument(`"scale.${service}" must be a non-negative integer`);
  }
  return v as Record<string, number>;
}

type VerbCall = (emit: (e: EngineEvent) => void, signal: AbortSignal) => Promise<number>;

/** Checks a verb's body and binds it to its api method. Missing fields take the CLI's defaults. */
function verbCall(engine: EngineApi, verb: StreamingVerb, projectName: string, body: Record<string, unknown>): VerbCall {
  const services: ServicesOptions = { services: servicesAt(body) };
  const stop = (): StopOptions => {
    const timeout = numberAt(body, 'timeout');
    return timeout === undefined ? services : { ...services, timeout };
  };
  switch (verb) {
    case 'up': {
      const project = objectAt(body, 'project', true);
      if (project.name !== projectName) throw new InvalidArgument(`the project in the body is "${String(project.name)}" but the path names "${projectName}"`);
      const o = objectAt(body, 'options', false);
      const options: UpOptions = {
        services: servicesAt(o), noDeps: boolAt(o, 'noDeps'), forceRecreate: boolAt(o, 'forceRecreate'), noRecreate: boolAt(o, 'noRecreate'),
        noStart: boolAt(o, 'noStart'), removeOrphans: boolAt(o, 'removeOrphans'), scale: scaleAt(o), wait: boolAt(o, 'wait'),
        waitTimeout: numberAt(o, 'waitTimeout') ?? 0,
      };
      const req = { project, options } as unknown as UpRequest;
      return (emit, signal) => engine.up(req, emit, signal);
    }
    case 'down': {
      const o = objectAt(body, 'options', false);
      const timeout = numberAt(o, 'timeout');
      const project = body.project === undefined ? undefined : objectAt(body, 'project', true);
      if (project !== undefined && project.name !== projectName) throw new InvalidArgument(`the project in the body is "${String(project.name)}" but the path names "${projectName}"`);
      const req = {
        ...(project !== undefined ? { project } : {}),
        options: { removeOrphans: boolAt(o, 'removeOrphans'), volumes: boolAt(o, 'volumes'), ...(timeout !== undefined ? { timeout } : {}) },
      } as unknown as DownRequest;
      return (emit, signal) => engine.down(projectName, req, emit, signal);
    }
    case 'start': return (emit, signal) => engine.start(projectName, services, emit, signal);
    case 'stop': { const o = stop(); return (emit, signal) => engine.stop(projectName, o, emit, signal); }
    case 'restart': { const o = stop(); return (emit, signal) => engine.restart(projectName, o, emit, signal); }
    case 'kill': {
      const signalName = body.signal ?? 'SIGKILL';
      if (typeof signalName !== 'string' || signalName === '') throw new InvalidArgument('"signal" must be a signal name or number as a string');
      const o: KillOptions = { ...services, signal: signalName };
      return (emit, signal) => engine.kill(projectName, o, emit, signal);
    }
    case 'pause': return (emit, signal) => engine.pause(projectName, services, emit, signal);
    case 'unpause': return (emit, signal) => engine.unpause(projectName, services, emit, signal);
  }
}
