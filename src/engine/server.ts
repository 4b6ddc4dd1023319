// The engine's HTTP server on its unix socket. It owns the wire, not the behaviour: it claims the
// socket (socket.ts), matches each request to its route (api/routes.ts), reads the body within
// its limits (size, nesting depth), hands it to the route's handler (routes.ts), and writes the
// answer the route declares: JSON, an NDJSON stream, or an upgraded attach stream (api/frames.ts).
// docs/engine-api.md is the reference for all of it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AttachIo, EngineApi } from '../api/engine-api.js';
import type { AttachControl, EngineEvent } from '../api/types.js';
import { API_VERSION } from '../api/types.js';
import { matchRoute } from '../api/routes.js';
import {
  API_VERSION_HEADER, REQUEST_ID, REQUEST_ID_HEADER, REQUESTS_PATH, JsonDepthGuard, MAX_BODY_BYTES, MAX_JSON_DEPTH, isReservedEvent, isStreamOutcome, ndjson, statusForCode, type StreamEnd, type StreamOutcome,
} from '../api/codec.js';
import { ATTACH_PROTOCOL, FRAME, FrameReader, encodeFrames, encodeJsonFrame, frameJson, type ExitRecord } from '../api/frames.js';
import { attachControl, attachStart } from '../api/requests.js';
import { BerthError, Cancelled, Conflict, InvalidArgument, NotFound, errorBody, type ErrorBody } from '../lib/errors.js';
import { HANDLERS, type Emit, type RouteRequest } from './routes.js';
import { claimSocket, ownsPath, stopListening } from './socket.js';

export interface ServerOptions {
  /** `<BERTH_RUN>/berth.sock`; its directory is created (0711) if missing */
  readonly socketPath: string;
  /**
   * The engine, or a factory for it. A factory is called only once this process owns the socket,
   * so an engine that loses the start-up race never builds one. Requests that arrive before it
   * returns wait for it.
   */
  readonly api: EngineApi | (() => EngineApi | Promise<EngineApi>);
  /** one line per request and per notable event; default: nothing */
  readonly log?: (line: string) => void;
  /** POST /v1/shutdown, called after the 202 went out; default: api.shutdown() */
  readonly onShutdown?: () => void;
  /** the socket path no longer leads to this server (removed by hand, or taken over) */
  readonly onLostSocket?: () => void;
  /** called as each request starts; the function it returns, as it ends (engine/idle.ts) */
  readonly busy?: () => () => void;
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
/** How long an attach stream may take to send its first (START) frame. */
const ATTACH_START_TIMEOUT_MS = 30_000;
/** stdin bytes held for a process that does not read them before the socket is paused */
const STDIN_HIGH_WATER = 1024 * 1024;

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
  /** streams a client may cancel, by the id it sent (REQUEST_ID_HEADER) */
  const cancellable = new Map<string, AbortController>();
  const track = (abort: AbortController, work: Promise<void>): void => {
    const entry = { abort, done: work };
    const release = opts.busy?.();
    running.add(entry);
    void work.finally(() => { running.delete(entry); release?.(); });
  };

  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const abort = new AbortController();
    track(abort, handle(req, res, abort));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const abort = new AbortController();
    track(abort, upgrade(req, socket, head, abort));
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
      const url = new URL(req.url ?? '/', 'http://engine');
      const cancel = cancelRequestId(req.method, url.pathname);
      if (cancel !== undefined) {
        // the stream's api signal aborts; the stream itself goes on to its end record (the acknowledgement)
        const target = cancellable.get(cancel);
        target?.abort(new Cancelled('cancelled by the client'));
        sendJson(res, 200, { cancelled: target !== undefined });
        return;
      }
      const match = matchRoute(req.method ?? 'GET', url.pathname);
      if (match.kind === 'none') {
        throw new NotFound(url.pathname.startsWith('/v1/') ? `no route "${url.pathname}"` : `no route "${url.pathname}": the engine speaks api version ${API_VERSION} (prefix /v1)`);
      }
      if (match.kind === 'method') throw new HttpFailure(405, new InvalidArgument(`${req.method} is not allowed on "${url.pathname}" (use ${match.allow.join(', ')})`), { allow: match.allow.join(', ') });
      const handler = HANDLERS[match.name];
      if (handler.answer === 'attach') throw new HttpFailure(426, new InvalidArgument(`"${url.pathname}" is an attached stream: send "Connection: Upgrade" and "Upgrade: ${ATTACH_PROTOCOL}"`), { upgrade: ATTACH_PROTOCOL });
      const engine = api ?? (await apiReady);
      const request = routeRequest(req, match.params, url.searchParams);
      if (handler.answer === 'json') {
        const value = await handler.run(engine, request);
        sendJson(res, handler.status ?? 200, value);
        if (match.name === 'shutdown' && !shutdownRequested) {
          shutdownRequested = true;
          res.on('finish', () => {
            log('shutdown requested over the api');
            if (opts.onShutdown) opts.onShutdown();
            else engine.shutdown().catch((err: unknown) => log(`shutdown: ${(err as Error)?.stack ?? String(err)}`));
          });
        }
        return;
      }
      const run = await handler.prepare(engine, request);
      const requestId = req.headers[REQUEST_ID_HEADER];
      const id = typeof requestId === 'string' && REQUEST_ID.test(requestId) && !cancellable.has(requestId) ? requestId : undefined;
      if (id !== undefined) cancellable.set(id, abort);
      try {
        await stream(res, abort.signal, log, run);
      } finally {
        if (id !== undefined) cancellable.delete(id);
      }
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

  /** An attach stream: the HTTP upgrade, then frames both ways until the process exits. */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, abort: AbortController): Promise<void> {
    const startedAt = process.hrtime.bigint();
    socket.on('error', () => undefined);
    const refuse = (status: number, err: unknown): void => {
      const body = JSON.stringify(bodyOf(err, log));
      socket.end(`HTTP/1.1 ${status} ${status === 503 ? 'Service Unavailable' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${API_VERSION_HEADER}: ${API_VERSION}\r\nconnection: close\r\n\r\n${body}`);
      log(`${req.method} ${req.url} ${status} (upgrade refused)`);
    };
    try {
      if (draining) return refuse(503, new Conflict('the engine is shutting down', { shuttingDown: true }));
      const url = new URL(req.url ?? '/', 'http://engine');
      const match = matchRoute(req.method ?? 'GET', url.pathname);
      if (match.kind !== 'found') return refuse(match.kind === 'method' ? 405 : 404, new NotFound(`no route "${url.pathname}"`));
      const handler = HANDLERS[match.name];
      if (handler.answer !== 'attach') return refuse(400, new InvalidArgument(`"${url.pathname}" is not an attached stream: send it without "Upgrade"`));
      if ((req.headers.upgrade ?? '').toLowerCase() !== ATTACH_PROTOCOL) return refuse(400, new InvalidArgument(`unknown upgrade "${req.headers.upgrade ?? ''}": this engine speaks ${ATTACH_PROTOCOL}`));
      const engine = api ?? (await apiReady);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${ATTACH_PROTOCOL}\r\nconnection: Upgrade\r\n${API_VERSION_HEADER}: ${API_VERSION}\r\n\r\n`);
      const session = attachSession(socket, head, abort);
      let end: ExitRecord;
      try {
        const start = attachStart(await session.started, 'start');
        const io = session.io(start.size, start.stdin);
        end = { exitCode: await handler.run(engine, routeRequest(req, match.params, url.searchParams), start, io, abort.signal) };
      } catch (err) {
        end = { error: bodyOf(err, log) };
      }
      session.finish(end);
      const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
      log(`${req.method} ${req.url} 101 ${'exitCode' in end ? `exit ${end.exitCode}` : end.error.code} ${ms.toFixed(1)} ms`);
    } catch (err) {
      log(`${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      socket.destroy();
    }
  }

  // Claim the socket path (socket.ts), then serve.
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

/** A handler's view of its request; the body is read (once) only when the handler asks for it. */
function routeRequest(req: IncomingMessage, params: Readonly<Record<string, string>>, query: URLSearchParams): RouteRequest {
  let body: Promise<unknown> | undefined;
  return { params, query, body: () => (body ??= readJsonBody(req)) };
}

/**
 * The client's frames of one attach stream: the START frame, stdin as an async iterable (paused
 * at STDIN_HIGH_WATER), controls to the process's listener; output and the EXIT record back.
 * The socket closing (the client went away) aborts the request.
 */
function attachSession(socket: Duplex, head: Buffer, abort: AbortController) {
  const reader = new FrameReader();
  let resolveStart!: (v: unknown) => void;
  let rejectStart!: (e: unknown) => void;
  const started = new Promise<unknown>((resolve, reject) => { resolveStart = resolve; rejectStart = reject; });
  started.catch(() => undefined);
  let gotStart = false;
  const startTimer = setTimeout(() => rejectStart(new InvalidArgument(`no START frame within ${ATTACH_START_TIMEOUT_MS / 1000} s`)), ATTACH_START_TIMEOUT_MS);
  startTimer.unref();

  // stdin: chunks waiting for the process, and whoever waits for the next one
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let wake: (() => void) | undefined;
  const controlListeners: ((c: AttachControl) => void)[] = [];
  const pendingControls: AttachControl[] = [];
  let finished = false;

  const protocolError = (message: string): void => {
    rejectStart(new InvalidArgument(message));
    abort.abort(new InvalidArgument(message));
  };
  const onData = (chunk: Buffer): void => {
    let frames;
    try { frames = reader.push(chunk); } catch (err) { protocolError(`attach stream: ${(err as Error).message}`); return; }
    for (const f of frames) {
      if (f.kind === FRAME.START && !gotStart) {
        gotStart = true;
        clearTimeout(startTimer);
        try { resolveStart(frameJson(f)); } catch { protocolError('attach stream: the START frame is not JSON'); }
      } else if (f.kind === FRAME.STDIN && gotStart && !ended) {
        queue.push(f.payload);
        queued += f.payload.length;
        if (queued > STDIN_HIGH_WATER) socket.pause();
        wake?.();
      } else if (f.kind === FRAME.STDIN_EOF) {
        ended = true;
        wake?.();
      } else if (f.kind === FRAME.CONTROL && gotStart) {
        let control: AttachControl;
        try { control = attachControl(frameJson(f), 'control'); } catch { protocolError('attach stream: a malformed CONTROL frame'); return; }
        if (controlListeners.length === 0) pendingControls.push(control); // before the process listens: kept for it
        else for (const l of controlListeners) l(control);
      } else {
        protocolError(`attach stream: a frame of kind ${f.kind} was not expected here`);
        return;
      }
    }
  };
  socket.on('data', onData);
  socket.on('close', () => {
    ended = true;
    wake?.();
    clearTimeout(startTimer);
    rejectStart(new InvalidArgument('the client closed the attach stream'));
    if (!finished) abort.abort(new Error('the client disconnected'));
  });
  if (head.length > 0) onData(head);

  const stdin: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queue.shift();
        if (next) {
          queued -= next.length;
          if (queued <= STDIN_HIGH_WATER / 2) socket.resume();
          yield next;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = undefined;
      }
    },
  };

  return {
    started,
    io(size: AttachIo['size'], withStdin: boolean): AttachIo {
      return {
        ...(size ? { size } : {}),
        ...(withStdin ? { stdin } : {}),
        write(stream, data): Promise<void> | void {
          if (socket.destroyed) return;
          let ok = true;
          for (const frame of encodeFrames(stream === 'stderr' ? FRAME.STDERR : FRAME.STDOUT, data)) ok = socket.write(frame);
          if (ok) return;
          return new Promise<void>((resolve) => {
            const done = (): void => { socket.off('drain', done); socket.off('close', done); resolve(); };
            socket.on('drain', done);
            socket.on('close', done);
          });
        },
        onControl(listener) {
          controlListeners.push(listener);
          for (const c of pendingControls.splice(0)) listener(c);
        },
      };
    },
    finish(end: ExitRecord): void {
      finished = true;
      clearTimeout(startTimer);
      if (!socket.destroyed) socket.end(encodeJsonFrame(FRAME.EXIT, end));
    },
  };
}

/** The id of `POST /v1/requests/<id>/cancel`; undefined for any other request. */
function cancelRequestId(method: string | undefined, pathname: string): string | undefined {
  if (method !== 'POST' || !pathname.startsWith(`${REQUESTS_PATH}/`) || !pathname.endsWith('/cancel')) return undefined;
  const id = pathname.slice(REQUESTS_PATH.length + 1, -'/cancel'.length);
  return REQUEST_ID.test(id) ? id : undefined;
}

/** Writes an NDJSON stream: headers now, then every emitted record, then one StreamEnd. */
async function stream(
  res: ServerResponse,
  signal: AbortSignal,
  log: (line: string) => void,
  run: (emit: Emit, signal: AbortSignal) => Promise<number | void | StreamOutcome>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  let warned = false;
  const emit = (record: unknown): void => {
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
    const out = await run(emit, signal);
    end = isStreamOutcome(out)
      ? { kind: 'result', exitCode: out.exitCode, value: out.value, time: new Date().toISOString() }
      : { kind: 'result', exitCode: typeof out === 'number' ? out : 0, time: new Date().toISOString() };
  } catch (err) {
    end = { kind: 'error', error: bodyOf(err, log), time: new Date().toISOString() };
  }
  if (res.destroyed || res.writableEnded) return;
  // resolve once the end record is handed to the kernel: drain() waits for this, so that closing
  // the connections afterwards never cuts a stream before its end record
  await new Promise<void>((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
    res.end(ndjson(end));
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const body = JSON.stringify(value ?? {});
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A failure with an HTTP status other than the one its error code implies (405, 413, 426, 503). */
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

/**
 * Reads a JSON body of at most MAX_BODY_BYTES and MAX_JSON_DEPTH levels of nesting, refusing a
 * body as soon as it passes either (from its content-length when it declares one), before
 * parsing; undefined for an empty body. The value must be an object.
 */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  // The rest of the body stays unread: the connection must not carry another request.
  const tooLarge = (): HttpFailure => new HttpFailure(413, new InvalidArgument(`request body is larger than ${MAX_BODY_BYTES} bytes`), { connection: 'close' });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const guard = new JsonDepthGuard(MAX_JSON_DEPTH);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    if (!guard.scan(chunk as Buffer)) {
      throw new HttpFailure(400, new InvalidArgument(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`), { connection: 'close' });
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgument('request body must be a JSON object');
  return value;
}
