// The engine transport: engine/server.ts and api/client.ts against each other over a real unix
// socket, with a scripted engine behind the server; then the real `bin/berth engine` process,
// started by the client itself. Each test leaves no engine process and no socket behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeRoots, cleanupRoots, repoRoot, eventually, type TestRoots } from '../helpers/env.js';
import { startServer, type EngineServer } from '../../src/engine/server.js';
import { connectEngine, type EngineClient } from '../../src/client/client.js';
import { enginePaths, MAX_BODY_BYTES } from '../../src/api/codec.js';
import type { EngineApi, EngineInfo } from '../../src/api/engine-api.js';
import type { ContainerSummary, EngineEvent, LogLine, ProjectSummary, UpRequest } from '../../src/api/types.js';
import { API_VERSION } from '../../src/api/types.js';
import type { Project } from '../../src/spec/model.js';
import { testProject, testService } from '../../src/plan/testing.js';
import { BerthError, Conflict, InternalError, NotFound, SysError, Unsupported } from '../../src/lib/errors.js';
import type { Roots } from '../../src/lib/paths.js';

// ---- a recording, scripted engine ----

interface Call { readonly method: string; readonly args: readonly unknown[] }

interface Script {
  /** emitted in order by every streaming verb, one per event-loop turn */
  events: EngineEvent[];
  exitCode: number;
  /** thrown by the next call, after its events */
  error?: unknown;
  /** streaming calls wait for their signal to abort, then resolve */
  hold: boolean;
  containers: ContainerSummary[];
  projects: ProjectSummary[];
  logLines: LogLine[];
  /** what a method without its own script answers */
  value: unknown;
}

/** An EngineApi that plays `script` and records every call, its arguments and its signal. */
function scriptedEngine(): { api: EngineApi; script: Script; calls: Call[]; signals: AbortSignal[]; shutdowns: number } {
  const script: Script = { events: [], exitCode: 0, hold: false, containers: [], projects: [], logLines: [], value: {} };
  const calls: Call[] = [];
  const signals: AbortSignal[] = [];
  const state = { api: undefined as unknown as EngineApi, script, calls, signals, shutdowns: 0 };
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const failIfScripted = (): void => {
    const err = script.error;
    if (err !== undefined) { script.error = undefined; throw err; }
  };
  const play = async <T>(records: readonly T[], emit: (r: T) => void, signal: AbortSignal): Promise<void> => {
    signals.push(signal);
    for (const r of records) { await turn(); emit(r); }
    if (script.hold) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    failIfScripted();
  };
  const verb = (method: string) => async (...params: unknown[]): Promise<number> => {
    const emit = params[params.length - 2] as (e: EngineEvent) => void;
    const signal = params[params.length - 1] as AbortSignal;
    calls.push({ method, args: params.slice(0, -2) });
    await play(script.events, emit, signal);
    return script.exitCode;
  };
  const known: Partial<EngineApi> = {
    info: (): EngineInfo => ({ version: 'scripted', apiVersion: API_VERSION, pid: process.pid, root: '/scripted' }),
    up: verb('up') as EngineApi['up'],
    down: verb('down') as EngineApi['down'],
    start: verb('start') as EngineApi['start'],
    stop: verb('stop') as EngineApi['stop'],
    restart: verb('restart') as EngineApi['restart'],
    kill: verb('kill') as EngineApi['kill'],
    pause: verb('pause') as EngineApi['pause'],
    unpause: verb('unpause') as EngineApi['unpause'],
    async ps(projectName, opts) { calls.push({ method: 'ps', args: [projectName, opts] }); failIfScripted(); return script.containers; },
    async ls(opts) { calls.push({ method: 'ls', args: [opts] }); failIfScripted(); return script.projects; },
    async logs(projectName, opts, emit: (l: LogLine) => void, signal) { calls.push({ method: 'logs', args: [projectName, opts] }); await play(script.logLines, emit, signal); },
    async events(emit: (e: EngineEvent) => void, signal) { calls.push({ method: 'events', args: [] }); await play(script.events, emit, signal); },
    async shutdown() { state.shutdowns++; },
  };
  // every other method records its call and answers the scripted value
  state.api = new Proxy(known as EngineApi, {
    get(target, prop: string | symbol) {
      // not a thenable: `await engine` must not call a scripted "then"
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      const own = (target as unknown as Record<string, unknown>)[prop];
      if (own !== undefined) return own;
      return async (...args: unknown[]) => { calls.push({ method: prop, args }); failIfScripted(); return script.value; };
    },
  });
  return state;
}

// ---- helpers ----

const roots = makeRoots();
const testRoots = (r: TestRoots): Roots => ({ root: r.root, run: r.run, cgroupParent: r.cgroupParent });
const paths = enginePaths(roots.run);

after(async () => {
  const stray = engineProcesses(roots.run);
  for (const pid of stray) process.kill(pid, 'SIGKILL');
  assert.deepEqual(stray, [], 'an engine process was left running');
  assert.equal(existsSync(paths.socket), false, 'the socket was left behind');
  await cleanupRoots(roots);
});

/** `bin/berth engine` processes serving this BERTH_RUN (found by their environment). */
function engineProcesses(run: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (!(cmdline.some((a) => a.endsWith('bin/berth.mjs')) && cmdline.includes('engine'))) continue;
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (environ.includes(`BERTH_RUN=${run}`)) found.push(Number(name));
    } catch { /* exited meanwhile */ }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    // a zombie (exited, not yet reaped by its parent) counts as gone
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Runs `body` against an in-process server (scripted engine) and a client with auto-start off. */
async function withServer(body: (engine: ReturnType<typeof scriptedEngine>, client: EngineClient, server: EngineServer) => Promise<void>): Promise<void> {
  const engine = scriptedEngine();
  const server = await startServer({ socketPath: paths.socket, api: engine.api });
  const client = await connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env, autoStart: false });
  try {
    await body(engine, client, server);
  } finally {
    client.close();
    await server.close();
  }
  assert.equal(existsSync(paths.socket), false, 'close() removes the socket');
}

/** A raw HTTP request over the socket: status and parsed JSON body. */
function raw(method: string, path: string, body?: string, headers: Record<string, string | number> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: paths.socket, method, path, headers: { ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}), ...headers } });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => { text += s; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const time = '2026-11-24T00:00:00.000Z';
const scriptedEvents: EngineEvent[] = [
  { kind: 'operation', resourceId: 'network:default', status: 'started', text: 'creating', time },
  { kind: 'operation', resourceId: 'network:default', status: 'done', text: 'created', time },
  { kind: 'container', resourceId: 'service:web:1', action: 'start', containerId: 'c0ffee', attributes: { name: 'demo-web-1' }, time },
  { kind: 'warning', text: 'línea con "comillas"\ny un salto', time },
];
// a complete project model: the engine checks every field of what it is sent
const project: Project = testProject('demo', [testService('web'), testService('db')]);
const upRequest: UpRequest = {
  project,
  options: { services: ['web'], noDeps: true, forceRecreate: false, noRecreate: false, noStart: false, removeOrphans: true, scale: { web: 2 }, wait: false, waitTimeout: 0 },
};

// ---- the transport, in process ----

test('info answers over the socket; a warm round trip is timed', async (t) => {
  await withServer(async (_engine, client) => {
    assert.deepEqual(client.info(), { version: 'scripted', apiVersion: API_VERSION, pid: process.pid, root: '/scripted' });
    assert.deepEqual(await client.ping(), client.info());
    for (let i = 0; i < 10; i++) await client.ping(); // warm up
    const samples: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await client.ping();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    t.diagnostic(`info round trip over the socket: median ${samples[50]!.toFixed(3)} ms, p90 ${samples[90]!.toFixed(3)} ms (100 samples, warm client)`);
  });
});

test('every state-changing verb streams its events in order and ends with its exit code', async () => {
  await withServer(async (engine, client) => {
    engine.script.events = scriptedEvents;
    const never = new AbortController().signal;
    const cases: Array<[string, (emit: (e: EngineEvent) => void) => Promise<number>, readonly unknown[]]> = [
      ['up', (emit) => client.up(upRequest, emit, never), [upRequest]],
      ['down', (emit) => client.down('demo', { options: { removeOrphans: true, volumes: true, timeout: 3 } }, emit, never), ['demo', { options: { removeOrphans: true, volumes: true, timeout: 3 } }]],
      ['start', (emit) => client.start('demo', { services: ['a', 'b'] }, emit, never), ['demo', { services: ['a', 'b'] }]],
      ['stop', (emit) => client.stop('demo', { services: [], timeout: 0 }, emit, never), ['demo', { services: [], timeout: 0 }]],
      ['restart', (emit) => client.restart('demo', { services: ['web'] }, emit, never), ['demo', { services: ['web'] }]],
      ['kill', (emit) => client.kill('demo', { services: [], signal: 'SIGUSR1' }, emit, never), ['demo', { services: [], signal: 'SIGUSR1' }]],
      ['pause', (emit) => client.pause('demo', { services: ['web'] }, emit, never), ['demo', { services: ['web'] }]],
      ['unpause', (emit) => client.unpause('demo', { services: ['web'] }, emit, never), ['demo', { services: ['web'] }]],
    ];
    let exitCode = 3;
    for (const [method, call, args] of cases) {
      engine.script.exitCode = exitCode;
      const received: EngineEvent[] = [];
      assert.equal(await call((e) => received.push(e)), exitCode, `${method} returns the engine's exit code`);
      assert.deepEqual(received, scriptedEvents, `${method} streams every event, in order`);
      assert.deepEqual(engine.calls.at(-1), { method, args }, `${method} reaches its api method with its arguments`);
      exitCode++;
    }
  });
});

test('ps, ls and logs carry their options in the query string', async () => {
  await withServer(async (engine, client) => {
    const container = { id: 'c0ffee', name: 'demo-web-1', service: 'web', number: 1, image: 'busybox', command: 'sh', created: time, state: 'running', status: 'Up 1 second', health: '', exitCode: 0, ports: '' };
    engine.script.containers = [container];
    engine.script.projects = [{ name: 'demo', status: 'running(1)', configFiles: '/srv/demo/compose.yaml' }];
    assert.deepEqual(await client.ps('demo', { all: true, services: ['web', 'db'] }), [container]);
    assert.deepEqual(engine.calls.at(-1), { method: 'ps', args: ['demo', { all: true, services: ['web', 'db'] }] });
    await client.ps('demo', { all: false, services: [] });
    assert.deepEqual(engine.calls.at(-1), { method: 'ps', args: ['demo', { all: false, services: [] }] });
    assert.deepEqual(await client.ls({ all: true }), engine.script.projects);
    assert.deepEqual(engine.calls.at(-1), { method: 'ls', args: [{ all: true }] });

    engine.script.logLines = Array.from({ length: 500 }, (_, i) => ({ service: 'web', container: 'demo-web-1', stream: i % 2 ? 'stderr' : 'stdout', time, line: `line ${i} ✓` }) as LogLine);
    const lines: LogLine[] = [];
    await client.logs('demo', { services: ['web'], follow: true, tail: 10, since: '2026-11-24T00:00:00Z' }, (l) => lines.push(l), new AbortController().signal);
    assert.deepEqual(lines, engine.script.logLines);
    assert.deepEqual(engine.calls.at(-1), { method: 'logs', args: ['demo', { services: ['web'], follow: true, tail: 10, since: '2026-11-24T00:00:00Z' }] });
    await client.logs('demo', { services: [], follow: false }, () => {}, new AbortController().signal);
    assert.deepEqual(engine.calls.at(-1), { method: 'logs', args: ['demo', { services: [], follow: false }] });
  });
});

test('errors come back as the same BerthError class, with message and details', async () => {
  await withServer(async (engine, client) => {
    engine.script.error = new NotFound('no such project "ghost"', { project: 'ghost' });
    await assert.rejects(client.ps('ghost', { all: false, services: [] }), (err: unknown) => {
      assert.ok(err instanceof NotFound);
      assert.equal(err.message, 'no such project "ghost"');
      assert.deepEqual(err.details, { project: 'ghost' });
      return true;
    });

    // an error after some events: the events arrive, then the error is thrown
    engine.script.events = scriptedEvents.slice(0, 2);
    engine.script.error = new Conflict('container name "/demo-web-1" is already in use');
    const received: EngineEvent[] = [];
    await assert.rejects(client.up(upRequest, (e) => received.push(e), new AbortController().signal), (err: unknown) => {
      assert.ok(err instanceof Conflict);
      assert.equal(err.message, 'container name "/demo-web-1" is already in use');
      return true;
    });
    assert.deepEqual(received, scriptedEvents.slice(0, 2));

    engine.script.events = [];
    engine.script.error = new Unsupported('pause of a cgroup v1 freezer is not supported');
    await assert.rejects(client.pause('demo', { services: [] }, () => {}, new AbortController().signal), Unsupported);
    engine.script.error = new SysError('mount', '/var/lib/berth/overlay2/x/merged', 'EPERM');
    await assert.rejects(client.ls({ all: false }), (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, 'SYS');
      assert.equal(err.message, 'mount "/var/lib/berth/overlay2/x/merged": EPERM');
      return true;
    });
    // not a BerthError: a bug in the engine, reported as one
    engine.script.error = new TypeError('cannot read properties of undefined');
    await assert.rejects(client.kill('demo', { services: [], signal: 'KILL' }, () => {}, new AbortController().signal), (err: unknown) => {
      assert.ok(err instanceof InternalError);
      assert.equal(err.message, 'internal error: cannot read properties of undefined');
      return true;
    });
  });
});

test('malformed requests are refused with a 4xx status and an error body', async () => {
  await withServer(async (engine) => {
    const calls = engine.calls.length;
    const bad = await raw('POST', '/v1/projects/demo/up', '{"project": {');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_ARGUMENT');
    assert.match(bad.body.message, /not valid JSON/);
    assert.equal((await raw('POST', '/v1/projects/demo/up', '[1]')).status, 400);
    assert.equal((await raw('POST', '/v1/projects/other/up', JSON.stringify(upRequest))).status, 400, 'path and body name different projects');
    assert.equal((await raw('POST', '/v1/projects/demo/stop', '{"services": "web"}')).body.code, 'INVALID_ARGUMENT');
    assert.equal((await raw('POST', '/v1/projects/Demo!/stop', '{}')).status, 400, 'invalid project name');
    assert.equal((await raw('GET', '/v1/projects/demo/logs?tail=-1')).status, 400);
    assert.equal((await raw('GET', '/v1/projects?all=maybe')).status, 400);
    const notFound = await raw('GET', '/v1/nothing');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.code, 'NOT_FOUND');
    assert.equal((await raw('GET', '/v2/info')).status, 404, 'an unknown api version');
    assert.equal((await raw('GET', '/v1/projects/demo/up')).status, 405);
    const big = await raw('POST', '/v1/projects/demo/up', '', { 'content-length': MAX_BODY_BYTES + 1 }).catch((err: Error) => ({ status: -1, body: err.message }));
    assert.equal(big.status, 413, `a body over 16 MiB is refused (${JSON.stringify(big.body)})`);
    // a body of the wrong type is a 400 naming the path, never an internal error
    const badProject = await raw('POST', '/v1/projects/demo/up', JSON.stringify({ project: { name: 'demo', services: { web: {} } } }));
    assert.equal(badProject.status, 400);
    assert.equal(badProject.body.code, 'INVALID_ARGUMENT');
    assert.match(badProject.body.message, /^project\.working_dir: expected a string, got undefined|^project\.\w+/);
    const badService = await raw('POST', '/v1/projects/demo/up', JSON.stringify({ project: { ...project, services: { web: { ...project.services.web, scale: 'two' } } } }));
    assert.equal(badService.status, 400);
    assert.equal(badService.body.message, 'project.services.web.scale: expected a non-negative integer, got "two"');
    assert.equal((await raw('POST', '/v1/containers', JSON.stringify({ command: ['true'] }))).body.message, 'image: expected a value (it is required), got undefined');
    assert.equal((await raw('POST', '/v1/containers/x/kill', JSON.stringify({ signal: 9 }))).status, 400);
    assert.equal(engine.calls.length, calls, 'no malformed request reached the engine');
    // an empty body takes the defaults
    assert.equal((await raw('POST', '/v1/projects/demo/stop')).status, 200);
    assert.deepEqual(engine.calls.at(-1), { method: 'stop', args: ['demo', { services: [] }] });
  });
});

test('a body nested too deep is refused at once, before it is parsed or read to its end', async (t) => {
  await withServer(async (engine) => {
    // 57 MiB of nesting would have kept the engine parsing for seconds: refused from the first kilobytes
    const depth = 200_000;
    const t0 = performance.now();
    const nested = await raw('POST', '/v1/projects/demo/up', '['.repeat(depth) + ']'.repeat(depth)).catch((err: Error) => ({ status: -1, body: err.message }));
    const ms = performance.now() - t0;
    assert.equal(nested.status, 400, JSON.stringify(nested.body));
    assert.match(nested.body.message, /nested deeper than 100 levels/);
    t.diagnostic(`a body nested 200,000 deep refused in ${ms.toFixed(1)} ms`);
    // the engine answers others meanwhile and after
    assert.equal((await raw('GET', '/v1/info')).status, 200);
    assert.equal(engine.calls.length, 0);
  });
});

test('every EngineApi method has its route: the client reaches the engine method with the same arguments', async () => {
  await withServer(async (engine, client) => {
    const never = new AbortController().signal;
    const io = { write: () => undefined, onControl: () => undefined };
    const create = { image: 'bb', command: ['true'], env: ['A=1'], labels: [], init: false, autoRemove: true, interactive: false, tty: false, noHealthcheck: false, memory: '64m' };
    const exec = { command: ['ls', '-l'], env: [], tty: false, interactive: false, user: 'app' };
    const runRequest = { project, service: 'web', command: [], env: [], labels: [], tty: false, interactive: true, autoRemove: true };
    const cases: Array<[string, () => Promise<unknown>, readonly unknown[]]> = [
      ['version', () => client.version(), []],
      ['systemInfo', () => client.systemInfo(), []],
      ['engineStatus', () => client.engineStatus({ reset: true }), [{ reset: true }]],
      ['createOneOff', () => client.createOneOff('demo', runRequest), ['demo', runRequest]],
      ['containerCreate', () => client.containerCreate(create), [create]],
      ['containerList', () => client.containerList({ all: true }), [{ all: true }]],
      ['containerInspect', () => client.containerInspect('web/1:x'), ['web/1:x']],
      ['containerStart', () => client.containerStart('c1'), ['c1']],
      ['containerStop', () => client.containerStop('c1', { timeout: 3, signal: 'SIGHUP' }), ['c1', { timeout: 3, signal: 'SIGHUP' }]],
      ['containerKill', () => client.containerKill('c1', { signal: 'USR1' }), ['c1', { signal: 'USR1' }]],
      ['containerRemove', () => client.containerRemove('c1', { force: true }), ['c1', { force: true }]],
      ['containerPause', () => client.containerPause('c1'), ['c1']],
      ['containerUnpause', () => client.containerUnpause('c1'), ['c1']],
      ['containerTop', () => client.containerTop('c1'), ['c1']],
      ['containerStats', () => client.containerStats('c1'), ['c1']],
      ['containerUpdate', () => client.containerUpdate('c1', { restart: 'always' }), ['c1', { restart: 'always' }]],
      ['containerExecDetached', () => client.containerExecDetached('c1', exec), ['c1', exec]],
      ['imageList', () => client.imageList(), []],
      ['imageInspect', () => client.imageInspect('localhost:5000/org/app:1.2'), ['localhost:5000/org/app:1.2']],
      ['imageLoad', () => client.imageLoad({ path: '/tmp/a.tar' }), [{ path: '/tmp/a.tar' }]],
      ['imageImport', () => client.imageImport({ path: '/tmp/r.tar', reference: 'x:1', changes: ['CMD ["sh"]'] }), [{ path: '/tmp/r.tar', reference: 'x:1', changes: ['CMD ["sh"]'] }]],
      ['imageRemove', () => client.imageRemove('bb', { force: false }), ['bb', { force: false }]],
    ];
    for (const [method, call, args] of cases) {
      await call();
      const last = engine.calls.at(-1)!;
      assert.equal(last.method, method);
      // the engine gets the checked copy: every field the type has, defaults filled in
      for (const [i, arg] of args.entries()) {
        if (typeof arg === 'object' && arg !== null) for (const [k, v] of Object.entries(arg)) assert.deepEqual((last.args[i] as Record<string, unknown>)[k], v, `${method}: ${k}`);
        else assert.deepEqual(last.args[i], arg, method);
      }
    }
    // attached routes too (scripted: they answer the scripted value as the exit code)
    engine.script.value = 0;
    assert.equal(await client.containerStartAttached('c1', io, never), 0);
    assert.equal(engine.calls.at(-1)!.method, 'containerStartAttached');
    assert.equal(await client.containerExec('c1', exec, io, never), 0);
    assert.deepEqual(engine.calls.at(-1)!.args.slice(0, 2), ['c1', { ...exec, interactive: false }]);
    engine.script.value = {};
  });
});

test('an attached stream carries stdin, stdout and stderr, resizes and signals, and ends with the exit code', async () => {
  const engine = scriptedEngine();
  const controls: unknown[] = [];
  const attachedApi = new Proxy(engine.api, {
    get(target, prop: string | symbol) {
      if (prop !== 'containerExec') return (target as unknown as Record<string | symbol, unknown>)[prop];
      return async (_ref: string, _o: unknown, io: import('../../src/api/engine-api.js').AttachIo) => {
        io.onControl((c) => controls.push(c));
        let input = '';
        for await (const chunk of io.stdin!) input += Buffer.from(chunk).toString();
        await io.write('stdout', Buffer.from(`echo:${input}`));
        await io.write('stderr', Buffer.from(`size:${io.size?.rows}x${io.size?.columns}`));
        return 42;
      };
    },
  });
  const server = await startServer({ socketPath: paths.socket, api: attachedApi });
  const client = await connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env, autoStart: false });
  try {
    let out = '';
    let err = '';
    let send: (c: import('../../src/api/types.js').AttachControl) => void = () => undefined;
    async function* stdin(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('hello ');
      send({ kind: 'resize', size: { rows: 40, columns: 120 } });
      send({ kind: 'signal', signal: 'SIGINT' });
      await eventually(() => controls.length === 2, 10_000, 'the controls to arrive before the last of stdin');
      yield Buffer.from('world');
    }
    const code = await client.containerExec('c1', { command: ['cat'], env: [], tty: true, interactive: true }, {
      size: { rows: 24, columns: 80 },
      stdin: stdin(),
      write: (stream, data) => { if (stream === 'stdout') out += Buffer.from(data).toString(); else err += Buffer.from(data).toString(); },
      onControl: (listener) => { send = listener; },
    }, new AbortController().signal);
    assert.equal(code, 42);
    assert.equal(out, 'echo:hello world');
    assert.equal(err, 'size:24x80');
    assert.deepEqual(controls, [{ kind: 'resize', size: { rows: 40, columns: 120 } }, { kind: 'signal', signal: 'SIGINT' }]);
    // an error becomes the stream's end: the same class on this side
    engine.script.error = new NotFound('no such container: ghost');
    await assert.rejects(client.containerStartAttached('ghost', { write: () => undefined, onControl: () => undefined }, new AbortController().signal), NotFound);
    // a plain request to an attach route is told to upgrade
    assert.equal((await raw('POST', '/v1/containers/c1/attach', '{}')).status, 426);
  } finally {
    client.close();
    await server.close();
  }
});

test("a client's abort aborts the engine's signal", async () => {
  await withServer(async (engine, client) => {
    engine.script.events = scriptedEvents.slice(0, 1);
    engine.script.hold = true;
    const controller = new AbortController();
    const received: EngineEvent[] = [];
    const up = client.up(upRequest, (e) => { received.push(e); controller.abort(); }, controller.signal);
    await assert.rejects(up, (err: Error) => err.name === 'AbortError');
    assert.deepEqual(received, scriptedEvents.slice(0, 1));
    const upSignal = engine.signals.at(-1)!;
    await eventually(() => upSignal.aborted, 10_000, 'the engine-side signal of up aborts');

    // events and logs end normally when aborted
    engine.script.events = [];
    const feed = new AbortController();
    const events = client.events(() => {}, feed.signal);
    await eventually(() => engine.calls.at(-1)?.method === 'events', 10_000, 'the events request reaches the engine');
    const eventsSignal = engine.signals.at(-1)!;
    assert.equal(eventsSignal.aborted, false);
    feed.abort();
    await events;
    await eventually(() => eventsSignal.aborted, 10_000, 'the engine-side signal of events aborts');
    engine.script.hold = false;

    // an abort before the call never reaches the engine
    const before = engine.calls.length;
    await assert.rejects(client.stop('demo', { services: [] }, () => {}, AbortSignal.abort()), (err: Error) => err.name === 'AbortError');
    assert.equal(engine.calls.length, before);
  });
});

test('close() ends running streams, and their clients see the stream end', async () => {
  const engine = scriptedEngine();
  engine.script.hold = true;
  const server = await startServer({ socketPath: paths.socket, api: engine.api });
  const client = await connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env, autoStart: false });
  try {
    const events = client.events(() => {}, new AbortController().signal);
    await eventually(() => engine.calls.length === 1, 10_000, 'the events request reaches the engine');
    await server.close();
    await events; // the engine's events() returned when the server aborted it: a normal end
    assert.equal(engine.signals[0]!.aborted, true);
    await assert.rejects(client.ping(), (err: unknown) => err instanceof SysError && err.syscall === 'connect');
  } finally {
    client.close();
    await server.close();
  }
});

test('a draining engine answers 503 shutting-down; one whose socket was removed stops itself', async () => {
  let lost = 0;
  const server = await startServer({ socketPath: paths.socket, api: scriptedEngine().api, onLostSocket: () => { lost++; } });
  const client = await connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env, autoStart: false });
  try {
    await server.drain();
    await assert.rejects(client.ping(), (err: unknown) => {
      assert.ok(err instanceof Conflict);
      assert.equal(err.message, 'the engine is shutting down');
      assert.deepEqual(err.details, { shuttingDown: true });
      return true;
    });
    assert.equal((await raw('GET', '/v1/info')).status, 503);
    assert.equal(lost, 0);
    unlinkSync(paths.socket);
    await eventually(() => lost === 1, 10_000, 'the server notices that its socket path is gone');
  } finally {
    client.close();
    await server.close();
  }
});

test('a second server on the same socket is refused with Conflict', async () => {
  const first = await startServer({ socketPath: paths.socket, api: scriptedEngine().api });
  try {
    let factoryCalled = false;
    await assert.rejects(
      startServer({ socketPath: paths.socket, api: () => { factoryCalled = true; return scriptedEngine().api; } }),
      (err: unknown) => err instanceof Conflict && /another engine is running on/.test(err.message),
    );
    assert.equal(factoryCalled, false, 'the loser never builds its engine');
    const client = await connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env, autoStart: false });
    assert.equal(client.info().version, 'scripted', 'the first server still answers');
    client.close();
    assert.deepEqual(readdirSync(roots.run).filter((n) => n.startsWith('.')), [], 'no private socket name is left');
  } finally {
    await first.close();
  }
});

test('a stale socket file (its engine died) is replaced', async () => {
  // A socket nobody listens on: bind one under a second name, close it (which removes only the
  // name it was bound to), and keep the other name.
  mkdirSync(roots.run, { recursive: true, mode: 0o711 });
  const scratch = join(roots.run, 'scratch.sock');
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(scratch, resolve));
  linkSync(scratch, paths.socket);
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  assert.ok(statSync(paths.socket).isSocket());
  await assert.rejects(connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env, autoStart: false }), NotFound);

  const server = await startServer({ socketPath: paths.socket, api: scriptedEngine().api });
  try {
    const client = await connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env, autoStart: false });
    assert.equal(client.info().version, 'scripted');
    assert.equal(statSync(paths.socket).mode & 0o777, 0o660);
    client.close();
  } finally {
    await server.close();
  }
  // a regular file in the way is not removed
  const { writeFileSync } = await import('node:fs');
  writeFileSync(paths.socket, 'not a socket');
  await assert.rejects(startServer({ socketPath: paths.socket, api: scriptedEngine().api }), (err: unknown) => err instanceof Conflict && /is not a socket/.test(err.message));
  unlinkSync(paths.socket);
});

// ---- the real engine process, started by the client ----

function connectReal(): Promise<EngineClient> {
  return connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env });
}

test('connectEngine starts `berth engine` when none answers, and shutdown stops it', async (t) => {
  assert.deepEqual(engineProcesses(roots.run), []);
  const t0 = performance.now();
  const client = await connectReal();
  const startMs = performance.now() - t0;
  t.diagnostic(`auto-start: connectEngine → first answer in ${startMs.toFixed(1)} ms`);
  try {
    const { pid } = client.info();
    assert.notEqual(pid, process.pid);
    assert.deepEqual(engineProcesses(roots.run), [pid]);
    assert.equal(readFileSync(paths.pidFile, 'utf8'), `${pid}\n`);
    const st = statSync(paths.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(statSync(roots.run).mode & 0o777, 0o711);
    assert.match(readFileSync(paths.logFile, 'utf8'), new RegExp(`engine\\[${pid}\\] listening on`));
    assert.deepEqual(await client.ping(), client.info());

    // a second client finds the running engine
    const second = await connectReal();
    assert.equal(second.info().pid, pid);
    second.close();

    await client.shutdown();
    await eventually(() => !alive(pid), 10_000, `engine ${pid} exits`);
    assert.equal(existsSync(paths.socket), false, 'the socket is removed');
    assert.equal(existsSync(paths.pidFile), false, 'the pid file is removed');
  } finally {
    client.close();
  }
});

test('two clients auto-starting at once end with exactly one engine', async () => {
  const [a, b] = await Promise.all([connectReal(), connectReal()]);
  try {
    assert.equal(a.info().pid, b.info().pid, 'both clients reach the same engine');
    // the losing engine exits on Conflict
    await eventually(() => engineProcesses(roots.run).length === 1, 10_000, 'one engine process remains');
    assert.deepEqual(engineProcesses(roots.run), [a.info().pid]);
    assert.equal(readFileSync(paths.pidFile, 'utf8'), `${a.info().pid}\n`);
    await b.shutdown();
    await eventually(() => !alive(a.info().pid), 10_000, 'the engine exits');
    assert.equal(existsSync(paths.socket), false);
    assert.equal(existsSync(paths.pidFile), false);
  } finally {
    a.close();
    b.close();
  }
});

test('a SIGKILLed engine is replaced by the next client; SIGTERM stops one gracefully', async () => {
  const first = await connectReal();
  const killed = first.info().pid;
  first.close();
  process.kill(killed, 'SIGKILL');
  await eventually(() => !alive(killed), 10_000, 'the killed engine is gone');
  assert.ok(existsSync(paths.socket), 'a killed engine leaves its socket');

  const second = await connectReal();
  const pid = second.info().pid;
  try {
    assert.notEqual(pid, killed);
    assert.equal(readFileSync(paths.pidFile, 'utf8'), `${pid}\n`, 'the stale pid file is replaced');
    process.kill(pid, 'SIGTERM');
    await eventually(() => !alive(pid), 10_000, 'SIGTERM stops the engine');
    assert.equal(existsSync(paths.socket), false);
    assert.equal(existsSync(paths.pidFile), false);
    assert.match(readFileSync(paths.logFile, 'utf8'), new RegExp(`engine\\[${pid}\\] stopping: SIGTERM`));
  } finally {
    second.close();
  }
});

test('with auto-start off, no engine is NotFound; an engine that cannot start is reported with its log', async () => {
  await assert.rejects(connectEngine({ roots: testRoots(roots), packageRoot: repoRoot, env: roots.env, autoStart: false }), NotFound);
  // a package root without bin/berth: node exits at once, and the error quotes engine.log
  const t0 = Date.now();
  await assert.rejects(connectEngine({ roots: testRoots(roots), packageRoot: join(roots.dir, 'nowhere'), env: roots.env }), (err: unknown) => {
    assert.ok(err instanceof SysError);
    assert.match(err.message, /exited with code 1; the last lines of ".*engine\.log"/);
    assert.match(err.message, /Cannot find module/);
    return true;
  });
  assert.ok(Date.now() - t0 < 4_000, 'a crashed engine is reported without waiting the full start timeout');
  assert.deepEqual(engineProcesses(roots.run), []);
});
