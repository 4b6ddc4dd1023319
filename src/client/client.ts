// The CLI's side of the engine socket: an EngineApi whose methods are requests to
// <BERTH_RUN>/berth.sock, built from the route table (api/routes.ts; docs/engine-api.md). When no
// engine answers, connectEngine() starts one in the background and waits for it. Every verb loads
// this module, so it stays light: node:http, node:fs and the api contract only; the spawn helper
// is imported only to auto-start (docs/decisions/2026-11-24-api-client-spawns-engine.md).
import { Agent, request, type IncomingMessage } from 'node:http';
import { mkdirSync, openSync, readSync, closeSync, fstatSync, writeSync } from 'node:fs';
import { checkPrivateDir, openOwnedForAppend } from '../lib/atomic.js';
import { join } from 'node:path';
import type { Roots } from '../lib/paths.js';
import { BerthError, Conflict, InternalError, NotFound, SysError, Unsupported, fromBody, type ErrorBody } from '../lib/errors.js';
import { realClock } from '../lib/clock.js';
import type { AttachIo, EngineConnection, EngineInfo } from '../api/engine-api.js';
import { API_VERSION } from '../api/types.js';
import type { ContainerArchiveOptions, ContainerLogsOptions, EngineEvent, LogLine, LogsOptions, TerminalSize, ExecOptions, ImageBuildResult, ImagePullResult } from '../api/types.js';
import { ENGINE_ENV, ENGINE_NODE_FLAGS, REQUEST_ID_HEADER, REQUESTS_PATH, enginePaths, isStreamEnd, lineSplitter, type StreamEnd } from '../api/codec.js';
import { ROUTES, pathOf, type RouteName } from '../api/routes.js';
import { ATTACH_PROTOCOL, FRAME, FrameReader, encodeFrames, encodeJsonFrame, frameJson, type ExitRecord } from '../api/frames.js';

export interface ConnectOptions {
  readonly roots: Roots;
  /** where bin/berth.mjs lives, to start the engine */
  readonly packageRoot: string;
  /** the caller's environment: PATH and BERTH_* are passed on to an engine it starts */
  readonly env: NodeJS.ProcessEnv;
  /** start an engine when none answers (default true); false → NotFound */
  readonly autoStart?: boolean;
}

/** The engine as the CLI sees it: the EngineApi over the socket, plus what only a client has. */
export interface EngineClient extends EngineConnection {
  /** The engine's info as it answered when this client connected (info() needs no round trip). */
  info(): EngineInfo;
  /** GET /v1/info: one round trip to the engine */
  ping(): Promise<EngineInfo>;
  readonly socketPath: string;
}

const INFO_PATH = ROUTES.info.path;
/** numbers the cancellable requests of this process (their ids) */
let requestSeq = 0;

/** How long an auto-started engine has to answer. */
const START_TIMEOUT_MS = 5_000;
/** How long shutdown() and a connect that meets a stopping engine wait for it to be gone. */
const STOP_TIMEOUT_MS = 30_000;

export async function connectEngine(opts: ConnectOptions): Promise<EngineClient> {
  const paths = enginePaths(opts.roots.run);
  const transport = new Transport(paths.socket);
  let info: EngineInfo;
  try {
    try {
      info = await transport.json<EngineInfo>('GET', INFO_PATH);
    } catch (err) {
      if (!notAnswering(err) && !shuttingDown(err)) throw err;
      if (opts.autoStart === false) {
        throw new NotFound(`no engine answers on "${paths.socket}" (start one with \`berth engine\`)`, { path: paths.socket });
      }
      if (shuttingDown(err)) await waitUntilGone(transport);
      info = await startEngine(transport, opts);
    }
    if (info.apiVersion !== API_VERSION) {
      throw new Unsupported(`the engine on "${paths.socket}" (pid ${info.pid}, berth ${info.version}) speaks api version ${info.apiVersion}; this client speaks ${API_VERSION}. Stop that engine (kill ${info.pid}); the next command starts a matching one`);
    }
  } catch (err) {
    transport.close();
    throw err;
  }
  return engineClient(transport, info);
}

/**
 * What engineClient() sends its requests through: HTTP over the socket (Transport below), or, for
 * the warm CLI running inside the engine, the engine's own route handlers called in-process
 * (warm/loopback.ts) — the same paths, bodies and checks either way.
 */
export interface RequestTransport {
  readonly socketPath: string;
  json<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /**
   * An NDJSON request. `cancel` (optional) asks the engine to end it (its api signal aborts) while
   * the records, the end record included, are still read: the engine's acknowledgement.
   */
  stream<T>(method: 'GET' | 'POST', path: string, body: unknown, emit: (record: T) => void, signal: AbortSignal, cancel?: AbortSignal): Promise<number>;
  /** stream(), resolving with the whole result record (its `value`: what the api method returned) */
  streamResult<T>(method: 'GET' | 'POST', path: string, body: unknown, emit: (record: T) => void, signal: AbortSignal, cancel?: AbortSignal): Promise<Extract<StreamEnd, { kind: 'result' }>>;
  attach(path: string, start: unknown, io: AttachIo, signal: AbortSignal): Promise<number>;
  close(): void;
}

/** The EngineClient over any transport (the socket's is connectEngine()). */
export function engineClientOver(t: RequestTransport, handshake: EngineInfo): EngineClient {
  return engineClient(t, handshake);
}

function engineClient(t: RequestTransport, handshake: EngineInfo): EngineClient {
  type Query = ReadonlyArray<readonly [string, string]>;
  const path = (name: RouteName, params: Readonly<Record<string, string>> = {}, query: Query = []): string => pathOf(ROUTES[name], params, query);
  const json = <T>(name: RouteName, params?: Readonly<Record<string, string>>, body?: unknown, query?: Query): Promise<T> =>
    t.json<T>(ROUTES[name].method, path(name, params, query), body);
  const project = (projectName: string): Record<string, string> => ({ project: projectName });
  const flags = (pairs: Record<string, boolean>): Query => Object.entries(pairs).filter(([, on]) => on).map(([k]) => [k, '1'] as const);
  const logsQuery = (o: ContainerLogsOptions): Query => [
    ...(o.follow ? [['follow', '1'] as const] : []),
    ...(o.tail !== undefined ? [['tail', String(o.tail)] as const] : []),
    ...(o.since !== undefined ? [['since', o.since] as const] : []),
  ];
  const attachStart = (io: AttachIo, exec?: ExecOptions): { size?: TerminalSize; stdin: boolean; exec?: ExecOptions } =>
    ({ ...(io.size ? { size: io.size } : {}), stdin: io.stdin !== undefined, ...(exec ? { exec } : {}) });
  const ok = async (p: Promise<unknown>): Promise<void> => { await p; };
  return {
    socketPath: t.socketPath,
    info: () => handshake,
    ping: () => t.json<EngineInfo>('GET', path('info')),
    version: () => json('version'),
    systemInfo: () => json('systemInfo'),
    engineStatus: (o) => json('engineStatus', {}, undefined, flags({ reset: o.reset })),
    // logs and events end normally when the caller aborts them (EngineApi's contract).
    events: (emit, signal) => resolveOnAbort(t.stream<EngineEvent>('GET', path('events'), undefined, emit, signal), signal),
    async shutdown(): Promise<void> {
      await t.json<unknown>('POST', path('shutdown'), {});
      await waitUntilGone(t);
    },

    ls: (o) => json('ls', {}, undefined, flags({ all: o.all })),
    up: (req, emit, signal, cancel) => t.stream('POST', path('up', project(req.project.name)), req, emit, signal, cancel),
    watch: (req, emit, signal) => t.stream('POST', path('watch', project(req.project.name)), req, emit, signal),
    watchStop: (projectName) => json('watchStop', project(projectName)),
    down: (projectName, req, emit, signal) => t.stream('POST', path('down', project(projectName)), req, emit, signal),
    start: (projectName, opts, emit, signal) => t.stream('POST', path('start', project(projectName)), opts, emit, signal),
    stop: (projectName, opts, emit, signal) => t.stream('POST', path('stop', project(projectName)), opts, emit, signal),
    restart: (projectName, opts, emit, signal) => t.stream('POST', path('restart', project(projectName)), opts, emit, signal),
    kill: (projectName, opts, emit, signal) => t.stream('POST', path('kill', project(projectName)), opts, emit, signal),
    pause: (projectName, opts, emit, signal) => t.stream('POST', path('pause', project(projectName)), opts, emit, signal),
    unpause: (projectName, opts, emit, signal) => t.stream('POST', path('unpause', project(projectName)), opts, emit, signal),
    ps: (projectName, opts) => json('ps', project(projectName), undefined, [...flags({ all: opts.all }), ...opts.services.map((s) => ['service', s] as const)]),
    logs: (projectName, opts: LogsOptions, emit, signal) => resolveOnAbort(t.stream<LogLine>('GET',
      path('logs', project(projectName), [...logsQuery(opts), ...opts.services.map((s) => ['service', s] as const)]), undefined, emit, signal), signal),
    createOneOff: (projectName, req) => json('createOneOff', project(projectName), req),

    containerCreate: (o) => json('containerCreate', {}, o),
    containerList: (o) => json('containerList', {}, undefined, flags({ all: o.all })),
    containerInspect: (ref) => json('containerInspect', { ref }),
    containerStart: (ref) => ok(json('containerStart', { ref }, {})),
    containerStartAttached: (ref, io, signal) => t.attach(path('containerStartAttached', { ref }), attachStart(io), io, signal),
    containerStop: (ref, o) => ok(json('containerStop', { ref }, o)),
    containerKill: (ref, o) => ok(json('containerKill', { ref }, o)),
    containerRemove: (ref, o) => ok(json('containerRemove', { ref }, undefined, flags({ force: o.force, v: o.volumes === true }))),
    containerPause: (ref) => ok(json('containerPause', { ref }, {})),
    containerUnpause: (ref) => ok(json('containerUnpause', { ref }, {})),
    containerLogs: (ref, o, emit, signal) => resolveOnAbort(t.stream<LogLine>('GET', path('containerLogs', { ref }, logsQuery(o)), undefined, emit, signal), signal),
    containerTop: (ref) => json('containerTop', { ref }),
    containerStats: (ref) => json('containerStats', { ref }),
    containerUpdate: (ref, o) => ok(json('containerUpdate', { ref }, o)),
    containerExec: (ref, o, io, signal) => t.attach(path('containerExec', { ref }), attachStart(io, o), io, signal),
    containerExecDetached: (ref, o) => ok(json('containerExecDetached', { ref }, o)),
    containerPort: (ref) => json('containerPort', { ref }),

    networkList: () => json('networkList'),
    networkCreate: (o) => json('networkCreate', {}, o),
    networkInspect: (ref) => json('networkInspect', { ref }),
    networkRemove: (ref) => ok(json('networkRemove', { ref })),
    networkConnect: (ref, o) => ok(json('networkConnect', { ref }, o)),
    networkDisconnect: (ref, o) => ok(json('networkDisconnect', { ref }, o)),
    networkPrune: () => json('networkPrune', {}, {}),
    containerCopy: (ref, o) => json('containerCopy', { ref }, o),
    containerArchive: (ref, o: ContainerArchiveOptions, io, signal) => t.attach(path('containerArchive', { ref }, [
      ['direction', o.direction], ['path', o.path], ...flags({ archive: o.archive, follow: o.followLink }),
    ]), attachStart(io), io, signal),
    containerDiff: (ref) => json('containerDiff', { ref }),

    volumeCreate: (o) => json('volumeCreate', {}, o),
    volumeList: (o) => json('volumeList', {}, undefined, o.filters.map((f) => ['filter', f] as const)),
    volumeInspect: (name) => json('volumeInspect', { name }),
    volumeRemove: (name, o) => ok(json('volumeRemove', { name }, undefined, flags({ force: o.force }))),
    volumePrune: (o) => json('volumePrune', {}, o),

    imageList: () => json('imageList'),
    imageInspect: (ref) => json('imageInspect', { ref }),
    imageLoad: (req) => json('imageLoad', {}, req),
    imageImport: (req) => json('imageImport', {}, req),
    imageRemove: (ref, o) => json('imageRemove', { ref }, undefined, flags({ force: o.force })),
    imagePull: async (req, emit, signal) => (await t.streamResult('POST', path('imagePull'), req, emit, signal)).value as ImagePullResult,
    imagePush: async (ref, req, emit, signal) => (await t.streamResult('POST', path('imagePush', { ref }), req, emit, signal)).value as { digest: string },
    imageBuild: async (req, emit, signal) => (await t.streamResult('POST', path('imageBuild'), req, emit, signal)).value as ImageBuildResult,
    imageTag: (ref, req) => ok(json('imageTag', { ref }, req)),
    imageSave: (refs, io, signal) => t.attach(path('imageSave', {}, refs.map((r) => ['ref', r] as const)), { stdin: false }, io, signal),
    imageHistory: (ref) => json('imageHistory', { ref }),
    imagePrune: (o) => json('imagePrune', {}, o),
    containerCommit: (ref, o) => json('containerCommit', { ref }, o),
    registryLogin: (req) => json('registryLogin', {}, req),
    projectPull: (projectName, req, emit, signal) => t.stream('POST', path('projectPull', project(projectName)), req, emit, signal),
    projectBuild: (projectName, req, emit, signal) => t.stream('POST', path('projectBuild', project(projectName)), req, emit, signal),
    projectPrepare: (projectName, req, emit, signal) => t.stream('POST', path('projectPrepare', project(projectName)), req, emit, signal),
    projectImages: (projectName, o) => json('projectImages', project(projectName), undefined, o.services.map((s) => ['service', s] as const)),

    close: () => t.close(),
  };
}

async function resolveOnAbort(run: Promise<number>, signal: AbortSignal): Promise<void> {
  try {
    await run;
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

/**
 * No engine serves the socket. ENOENT: no socket file; ECONNREFUSED: a socket file nobody listens
 * on; ECONNRESET on a fresh connection: its engine just died (the kernel accepts connections on a
 * dead process's listening socket for a moment, then resets them).
 */
function notAnswering(err: unknown): boolean {
  return err instanceof SysError && err.syscall === 'connect' && (err.errno === 'ENOENT' || err.errno === 'ECONNREFUSED' || err.errno === 'ECONNRESET');
}

/** The engine answered 503: it is draining before it exits. */
function shuttingDown(err: unknown): boolean {
  return err instanceof Conflict && (err.details as { shuttingDown?: unknown } | undefined)?.shuttingDown === true;
}

/** Polls until nothing answers on the socket (the engine released it), at most STOP_TIMEOUT_MS. */
async function waitUntilGone(t: RequestTransport): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    try {
      await t.json<EngineInfo>('GET', INFO_PATH);
    } catch (err) {
      if (notAnswering(err)) return;
      if (!shuttingDown(err)) throw err;
    }
    if (Date.now() >= deadline) {
      throw new SysError('connect', t.socketPath, 'ETIMEDOUT', `the engine on "${t.socketPath}" is still stopping after ${STOP_TIMEOUT_MS / 1000} s`);
    }
    await realClock.sleep(delay);
  }
}

/**
 * Starts `berth engine` in the background and waits until it answers. Several clients may do this
 * at once: every engine but one exits on Conflict (server.ts), and every client reaches that one.
 */
async function startEngine(t: Transport, opts: ConnectOptions): Promise<EngineInfo> {
  const paths = enginePaths(opts.roots.run);
  checkPrivateDir(opts.roots.run); // before anything is written there
  try {
    mkdirSync(opts.roots.run, { recursive: true, mode: 0o711 });
  } catch (err) {
    throw new SysError('mkdir', opts.roots.run, (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
  }
  const logFd = openOwnedForAppend(paths.logFile);
  try { writeSync(logFd, `${new Date().toISOString()} client[${process.pid}] no engine answered on "${paths.socket}": starting one\n`); } finally { closeSync(logFd); }
  const { spawnDetached } = await import('../sys/spawn.js');
  const child = spawnDetached(process.execPath, [...ENGINE_NODE_FLAGS, join(opts.packageRoot, 'bin', 'berth.mjs'), 'engine'], engineEnv(opts.roots, opts.env), paths.logFile);
  let exitedAt: number | undefined;
  let exitText = '';
  void child.exited.then((e) => {
    exitedAt = Date.now();
    exitText = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'ENOENT';
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    try {
      return await t.json<EngineInfo>('GET', INFO_PATH);
    } catch (err) {
      if (!notAnswering(err) && !shuttingDown(err)) throw err;
      last = err instanceof SysError ? err.errno : 'EBUSY';
    }
    // Our engine exited and, a moment later, still nobody answers: no need to wait the full time.
    const gaveUp = exitedAt !== undefined && Date.now() - exitedAt > 300;
    if (gaveUp || Date.now() >= deadline) {
      const why = gaveUp ? `the engine (pid ${child.pid}) ${exitText}` : `the engine (pid ${child.pid}) did not answer within ${START_TIMEOUT_MS / 1000} s`;
      throw new SysError('connect', paths.socket, last, `${why}; the last lines of "${paths.logFile}":\n${tailOf(paths.logFile, 20)}`);
    }
    await realClock.sleep(delay);
  }
}

/**
 * The environment of an engine a client starts: the roots it serves (as resolved, so that it
 * serves exactly what this client asked for), the caller's other BERTH_* settings, PATH and TZ,
 * and ENGINE_ENV (the caller's value of each name where it has one).
 * Nothing else: the engine outlives the shell that started it and serves every later client.
 */
function engineEnv(roots: Roots, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  if (env.TZ !== undefined) out.TZ = env.TZ;
  for (const [key, value] of Object.entries(ENGINE_ENV)) out[key] = env[key] ?? value;
  for (const [key, value] of Object.entries(env)) if (key.startsWith('BERTH_') && value !== undefined) out[key] = value;
  out.BERTH_ROOT = roots.root;
  out.BERTH_RUN = roots.run;
  out.BERTH_CGROUP_PARENT = roots.cgroupParent;
  return out;
}

/** The last `lines` lines of a file (read from its last 16 KiB). */
function tailOf(path: string, lines: number): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 16 * 1024);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      return buf.toString('utf8').split('\n').filter((l) => l !== '').slice(-lines).map((l) => `  ${l}`).join('\n');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return `  (unreadable: ${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}

/** HTTP over the unix socket, with kept-alive connections. */
class Transport implements RequestTransport {
  private readonly agent = new Agent({ keepAlive: true });
  constructor(readonly socketPath: string) {}

  close(): void {
    this.agent.destroy();
  }

  /** A JSON request: the parsed body, or the engine's error rebuilt and thrown. */
  async json<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body, undefined, false);
    const text = await this.readAll(res);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InternalError(`the engine answered ${method} ${path} with ${res.statusCode} and a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if ((res.statusCode ?? 500) >= 400) throw errorFrom(value, res.statusCode ?? 500);
    return value as T;
  }

  /**
   * An NDJSON request: each record goes to `emit` as it arrives; resolves with the stream's
   * result, throws its error. On abort the request is destroyed and this rejects with the
   * signal's reason (the engine sees the disconnect and aborts its side).
   */
  async stream<T>(method: 'GET' | 'POST', path: string, body: unknown, emit: (record: T) => void, signal: AbortSignal, cancel?: AbortSignal): Promise<number> {
    return (await this.streamResult(method, path, body, emit, signal, cancel)).exitCode;
  }

  /**
   * stream(), resolving with the whole result record (its `value` is what the api method returned).
   * With `cancel`, the request carries an id, and cancel's abort sends POST /v1/requests/<id>/cancel
   * (server.ts) on another connection; this goes on reading the stream to its end.
   */
  async streamResult<T>(method: 'GET' | 'POST', path: string, body: unknown, emit: (record: T) => void, signal: AbortSignal, cancel?: AbortSignal): Promise<Extract<StreamEnd, { kind: 'result' }>> {
    // unique on this host: the pid, the time and a count (no crypto import on every verb's path)
    const requestId = cancel ? `${process.pid.toString(16)}${process.hrtime.bigint().toString(16)}${(++requestSeq).toString(16)}` : undefined;
    const onCancel = (): void => {
      // a cancel that fails (the stream ended meanwhile, the engine went) changes nothing: the stream's end says what happened
      this.json('POST', `${REQUESTS_PATH}/${requestId}/cancel`).catch(() => undefined);
    };
    if (cancel?.aborted) throw cancel.reason;
    cancel?.addEventListener('abort', onCancel, { once: true });
    try {
      const res = await this.send(method, path, body, signal, true, false, requestId);
      if ((res.statusCode ?? 500) >= 400) {
        const text = await this.readAll(res);
        let value: unknown;
        try { value = JSON.parse(text); } catch { value = undefined; }
        throw errorFrom(value, res.statusCode ?? 500);
      }
      const end = await this.readRecords(res, emit);
      if (end.kind === 'error') throw fromBody(end.error);
      return end;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    } finally {
      cancel?.removeEventListener('abort', onCancel);
    }
  }

  /**
   * An attached stream (docs/engine-api.md, "Attached streams"): upgrade the request, send the
   * START frame, then stdin and controls one way and output the other, until the EXIT frame.
   * Resolves with the exit code; throws the engine's error; on abort the connection is closed
   * (the process runs on, unattached) and this rejects with the signal's reason.
   */
  attach(path: string, start: unknown, io: AttachIo, signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err: unknown, code?: number): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (err !== undefined) reject(err); else resolve(code!);
      };
      const req = request({
        socketPath: this.socketPath,
        agent: false,
        method: 'POST',
        path,
        headers: { connection: 'Upgrade', upgrade: ATTACH_PROTOCOL },
      });
      const onAbort = (): void => { req.destroy(); settle(signal.reason); };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => settle(new SysError('connect', this.socketPath, err.code ?? 'EUNKNOWN')));
      // refused before the upgrade (404, 503…): an error body
      req.on('response', (res) => {
        void this.readAll(res).then((text) => {
          let value: unknown;
          try { value = JSON.parse(text); } catch { value = undefined; }
          settle(errorFrom(value, res.statusCode ?? 500));
        }, (err: unknown) => settle(err));
      });
      req.on('upgrade', (_res, socket, head) => {
        const reader = new FrameReader();
        let exit: ExitRecord | undefined;
        socket.on('error', () => undefined);
        const send = (frames: readonly Uint8Array[]): boolean => {
          let ok = true;
          for (const f of frames) if (!socket.destroyed) ok = socket.write(f);
          return ok;
        };
        send([encodeJsonFrame(FRAME.START, start)]);
        io.onControl((c) => { if (!socket.destroyed && exit === undefined) send([encodeJsonFrame(FRAME.CONTROL, c)]); });
        if (io.stdin) {
          const stdin = io.stdin;
          void (async () => {
            try {
              for await (const chunk of stdin) {
                if (socket.destroyed || exit !== undefined) return;
                if (!send(encodeFrames(FRAME.STDIN, chunk))) await new Promise<void>((r) => { socket.once('drain', () => r()); socket.once('close', () => r()); });
              }
            } catch { /* our stdin broke: to the process, that is its end */ }
            if (!socket.destroyed && exit === undefined) send([encodeFrames(FRAME.STDIN_EOF)[0]!]);
          })();
        }
        const onData = (chunk: Buffer): void => {
          let frames;
          try { frames = reader.push(chunk); } catch (err) { socket.destroy(); settle(new InternalError(`the engine sent a malformed attach stream: ${(err as Error).message}`)); return; }
          for (const f of frames) {
            if (f.kind === FRAME.STDOUT || f.kind === FRAME.STDERR) {
              const pending = io.write(f.kind === FRAME.STDERR ? 'stderr' : 'stdout', f.payload);
              if (pending) { socket.pause(); void pending.then(() => socket.resume()); }
            } else if (f.kind === FRAME.EXIT) {
              try { exit = frameJson(f) as ExitRecord; } catch { exit = { error: { code: 'INTERNAL', message: 'the engine sent an EXIT frame that is not JSON' } }; }
            }
          }
        };
        socket.on('data', onData);
        if (head.length > 0) onData(head);
        socket.on('close', () => {
          if (exit === undefined) settle(this.cut(undefined));
          else if ('exitCode' in exit && typeof exit.exitCode === 'number') settle(undefined, exit.exitCode);
          else if ('error' in exit) settle(fromBody(exit.error));
          else settle(new InternalError('the engine sent an EXIT frame without an exit code'));
        });
      });
      req.end();
    });
  }

  private send(method: string, path: string, body: unknown, signal: AbortSignal | undefined, streaming: boolean, retried = false, requestId?: string): Promise<IncomingMessage> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request({
        socketPath: this.socketPath,
        // A stream gets a connection of its own, closed with it: aborting a stream (req.destroy)
        // must never reach a kept-alive socket the agent has meanwhile handed to another request.
        agent: streaming ? false : this.agent,
        method,
        path,
        headers: {
          accept: streaming ? 'application/x-ndjson' : 'application/json',
          ...(requestId !== undefined ? { [REQUEST_ID_HEADER]: requestId } : {}),
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      });
      let responded = false;
      const onAbort = (): void => { req.destroy(); };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('response', (res) => {
        responded = true;
        res.on('close', () => signal?.removeEventListener('abort', onAbort));
        resolve(res);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (responded) return; // surfaces on the response stream
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) { reject(signal.reason); return; }
        // A kept-alive connection the engine closed just as we reused it: the request never
        // reached the engine, so sending it again on a fresh connection is safe.
        if (req.reusedSocket && !retried && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          resolve(this.send(method, path, body, signal, streaming, true, requestId));
          return;
        }
        reject(new SysError('connect', this.socketPath, err.code ?? 'EUNKNOWN'));
      });
      req.end(payload);
    });
  }

  readAll(res: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => { text += s; });
      res.on('end', () => resolve(text));
      res.on('error', (err: NodeJS.ErrnoException) => reject(this.cut(err)));
      res.on('close', () => { if (!res.complete) reject(this.cut(undefined)); });
    });
  }

  /** Parses NDJSON, hands every record before the StreamEnd to `emit`, resolves with the StreamEnd. */
  private readRecords<T>(res: IncomingMessage, emit: (record: T) => void): Promise<StreamEnd> {
    return new Promise((resolve, reject) => {
      let end: StreamEnd | undefined;
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        res.destroy();
        reject(err);
      };
      const splitter = lineSplitter((line) => {
        if (end) return; // the engine writes nothing after the end; ignore it if it did
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          throw new InternalError(`the engine sent a record that is not JSON: ${line.slice(0, 200)}`);
        }
        if (isStreamEnd(record)) end = record;
        else emit(record as T);
      });
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        try { splitter.push(text); } catch (err) { fail(err); }
      });
      res.on('end', () => {
        if (settled) return;
        if (end) { settled = true; resolve(end); } else fail(this.cut(undefined));
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(this.cut(err)));
      res.on('close', () => { if (!res.complete) fail(this.cut(undefined)); });
    });
  }

  /** The connection broke, or the stream ended without its last record: the engine went away. */
  cut(err: NodeJS.ErrnoException | undefined): BerthError {
    return new SysError('read', this.socketPath, err?.code ?? 'ECONNRESET', `the engine closed the connection on "${this.socketPath}" before the end of its answer`);
  }
}

function errorFrom(value: unknown, status: number): BerthError {
  const body = value as Partial<ErrorBody> | undefined;
  if (body && typeof body.code === 'string' && typeof body.message === 'string') return fromBody(body as ErrorBody);
  return new InternalError(`the engine answered with status ${status} and no error body`);
}
