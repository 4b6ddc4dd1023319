// One small handler per route of api/routes.ts: read the path parameters, the query and the body,
// check each against its type (api/requests.ts), call one EngineApi method. The server
// (server.ts) owns the wire: it matches the route, reads the body within its limits, and writes
// the answer the route declares. Nothing here trusts a byte the client sent before a check.
import type { AttachIo, EngineApi } from '../api/engine-api.js';
import type { ContainerArchiveOptions, ContainerLogsOptions, LogsOptions, TerminalSize } from '../api/types.js';
import { ROUTES, type Answer, type RouteName } from '../api/routes.js';
import { isValidProjectName, queryFlag, type StreamOutcome } from '../api/codec.js';
import * as req from '../api/requests.js';
import * as imageReq from '../api/image-requests.js';
import { InvalidArgument } from '../lib/errors.js';

/** What a handler sees of its request. */
export interface RouteRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** the body as parsed JSON (undefined when empty), read within the server's size and depth limits */
  body(): Promise<unknown>;
}

/** The first frame of an attached stream, checked. */
export interface AttachStart {
  readonly size?: TerminalSize;
  readonly stdin: boolean;
  readonly exec?: import('../api/types.js').ExecOptions;
}

/**
 * What a stream handler emits: the records of its api method (EngineEvent or LogLine), which the
 * server writes as they are. Typed loosely on purpose: the method's own signature is the check.
 */
export type Emit = (record: any) => void;

export type Handler =
  | { readonly answer: 'json'; readonly status?: number; readonly run: (api: EngineApi, r: RouteRequest) => Promise<unknown> }
  /** checks the request (answered with a 4xx before the stream begins), then returns what streams */
  | { readonly answer: 'ndjson'; readonly prepare: (api: EngineApi, r: RouteRequest) => Promise<StreamRun> }
  | { readonly answer: 'attach'; readonly run: (api: EngineApi, r: RouteRequest, start: AttachStart, io: AttachIo, signal: AbortSignal) => Promise<number> };

const json = (run: (api: EngineApi, r: RouteRequest) => Promise<unknown>, status?: number): Handler => ({ answer: 'json', run, ...(status !== undefined ? { status } : {}) });
export type StreamRun = (emit: Emit, signal: AbortSignal) => Promise<number | void | StreamOutcome>;
const ndjson = (prepare: (api: EngineApi, r: RouteRequest) => Promise<StreamRun> | StreamRun): Handler => ({ answer: 'ndjson', prepare: async (api, r) => prepare(api, r) });
const attach = (run: Extract<Handler, { answer: 'attach' }>['run']): Handler => ({ answer: 'attach', run });

// ---- query and path checks ----

export function flag(query: URLSearchParams, key: string): boolean {
  const value = queryFlag(query.get(key));
  if (value === undefined) throw new InvalidArgument(`query parameter "${key}" must be 1, true, 0 or false`);
  return value;
}

function nonNegativeInteger(key: string, text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new InvalidArgument(`"${key}" must be a non-negative integer, not "${text}"`);
  return Number(text);
}

function projectName(r: RouteRequest): string {
  const name = r.params.project!;
  if (!isValidProjectName(name)) throw new InvalidArgument(`invalid project name "${name}": use lower-case letters, digits, "-" and "_", starting with a letter or digit`);
  return name;
}

function ref(r: RouteRequest): string {
  const value = r.params.ref!;
  if (value === '' || value.length > 512 || value.includes('\0')) throw new InvalidArgument(`invalid reference "${value.slice(0, 64)}"`);
  return value;
}

function logsQuery(query: URLSearchParams): ContainerLogsOptions {
  const tail = query.get('tail');
  const since = query.get('since');
  return {
    follow: flag(query, 'follow'),
    ...(tail !== null && tail !== 'all' ? { tail: nonNegativeInteger('tail', tail) } : {}),
    ...(since !== null ? { since } : {}),
  };
}

function volumeName(r: RouteRequest): string {
  const value = r.params.name!;
  if (value === '' || value.length > 255 || value.includes('\0') || value.includes('/')) throw new InvalidArgument(`invalid volume name "${value.slice(0, 64)}"`);
  return value;
}

/** `cp` with `-`: ?direction=in|out&path=…&archive=1&follow=1 */
function archiveQuery(query: URLSearchParams): ContainerArchiveOptions {
  const direction = query.get('direction');
  if (direction !== 'in' && direction !== 'out') throw new InvalidArgument('query parameter "direction" must be "in" or "out"');
  const path = query.get('path');
  if (path === null || path === '' || path.includes('\0')) throw new InvalidArgument('query parameter "path" must name a path in the container');
  return { direction, path, archive: flag(query, 'archive'), followLink: flag(query, 'follow') };
}

/** The body of `up`/`down`/`run` names its project: it must be the one of the path. */
function sameProject(path: string, body: { readonly project?: { readonly name: string } }): void {
  if (body.project !== undefined && body.project.name !== path) throw new InvalidArgument(`the project in the body is "${body.project.name}" but the path names "${path}"`);
}

export const HANDLERS: { readonly [K in RouteName]: Handler } = {
  info: json(async (api) => api.info()),
  version: json((api) => api.version()),
  systemInfo: json((api) => api.systemInfo()),
  engineStatus: json((api, r) => api.engineStatus({ reset: flag(r.query, 'reset') })),
  events: ndjson((api) => (emit, signal) => api.events(emit, signal)),
  // the server answers 202 and then stops (server.ts): the api's shutdown() runs after the answer
  shutdown: json(async () => ({}), 202),

  ls: json((api, r) => api.ls({ all: flag(r.query, 'all') })),
  up: ndjson(async (api, r) => {
    const name = projectName(r);
    const body = req.upRequest(await r.body(), '');
    if (body.project.name !== name) throw new InvalidArgument(`the project in the body is "${body.project.name}" but the path names "${name}"`);
    return (emit, signal) => api.up(body, emit, signal);
  }),
  down: ndjson(async (api, r) => {
    const name = projectName(r);
    const body = req.downRequest(await r.body(), '');
    sameProject(name, body);
    return (emit, signal) => api.down(name, body, emit, signal);
  }),
  start: ndjson(async (api, r) => { const name = projectName(r); const o = req.servicesOptions(await r.body(), ''); return (emit, signal) => api.start(name, o, emit, signal); }),
  stop: ndjson(async (api, r) => { const name = projectName(r); const o = req.stopOptions(await r.body(), ''); return (emit, signal) => api.stop(name, o, emit, signal); }),
  restart: ndjson(async (api, r) => { const name = projectName(r); const o = req.stopOptions(await r.body(), ''); return (emit, signal) => api.restart(name, o, emit, signal); }),
  kill: ndjson(async (api, r) => { const name = projectName(r); const o = req.killOptions(await r.body(), ''); return (emit, signal) => api.kill(name, o, emit, signal); }),
  pause: ndjson(async (api, r) => { const name = projectName(r); const o = req.servicesOptions(await r.body(), ''); return (emit, signal) => api.pause(name, o, emit, signal); }),
  unpause: ndjson(async (api, r) => { const name = projectName(r); const o = req.servicesOptions(await r.body(), ''); return (emit, signal) => api.unpause(name, o, emit, signal); }),
  ps: json((api, r) => api.ps(projectName(r), { all: flag(r.query, 'all'), services: r.query.getAll('service') })),
  logs: ndjson((api, r) => {
    const name = projectName(r);
    const opts: LogsOptions = { services: r.query.getAll('service'), ...logsQuery(r.query) };
    return (emit, signal) => api.logs(name, opts, emit, signal);
  }),
  createOneOff: json(async (api, r) => {
    const name = projectName(r);
    const body = req.serviceRunRequest(await r.body(), '');
    sameProject(name, body);
    return api.createOneOff(name, body);
  }),

  watch: ndjson(async (api, r) => {
    const name = projectName(r);
    const body = req.watchRequest(await r.body(), '');
    sameProject(name, body);
    return (emit, signal) => api.watch(body, emit, signal);
  }),
  watchStop: json((api, r) => api.watchStop(projectName(r))),

  containerCreate: json(async (api, r) => api.containerCreate(req.containerCreateOptions(await r.body(), ''))),
  containerList: json((api, r) => api.containerList({ all: flag(r.query, 'all') })),
  containerInspect: json((api, r) => api.containerInspect(ref(r))),
  containerStart: json(async (api, r) => { await api.containerStart(ref(r)); return {}; }),
  containerStartAttached: attach((api, r, _start, io, signal) => api.containerStartAttached(ref(r), io, signal)),
  containerStop: json(async (api, r) => { await api.containerStop(ref(r), req.containerStopOptions(await r.body(), '')); return {}; }),
  containerKill: json(async (api, r) => { await api.containerKill(ref(r), req.containerKillOptions(await r.body(), '')); return {}; }),
  containerRemove: json(async (api, r) => { await api.containerRemove(ref(r), { force: flag(r.query, 'force'), volumes: flag(r.query, 'v') }); return {}; }),
  containerPause: json(async (api, r) => { await api.containerPause(ref(r)); return {}; }),
  containerUnpause: json(async (api, r) => { await api.containerUnpause(ref(r)); return {}; }),
  containerLogs: ndjson((api, r) => { const target = ref(r); const o = logsQuery(r.query); return (emit, signal) => api.containerLogs(target, o, emit, signal); }),
  containerTop: json((api, r) => api.containerTop(ref(r))),
  containerStats: json((api, r) => api.containerStats(ref(r))),
  containerUpdate: json(async (api, r) => { await api.containerUpdate(ref(r), req.containerUpdateOptions(await r.body(), '')); return {}; }),
  containerExec: attach((api, r, start, io, signal) => {
    if (!start.exec) throw new InvalidArgument('an exec stream must start with its options ("exec")');
    return api.containerExec(ref(r), start.exec, io, signal);
  }),
  containerExecDetached: json(async (api, r) => { await api.containerExecDetached(ref(r), req.execOptions(await r.body(), '')); return {}; }),
  containerPort: json((api, r) => api.containerPort(ref(r))),

  networkList: json((api) => api.networkList()),
  networkCreate: json(async (api, r) => api.networkCreate(req.networkCreateOptions(await r.body(), '')), 201),
  networkInspect: json((api, r) => api.networkInspect(ref(r))),
  networkRemove: json(async (api, r) => { await api.networkRemove(ref(r)); return {}; }),
  networkConnect: json(async (api, r) => { await api.networkConnect(ref(r), req.networkConnectOptions(await r.body(), '')); return {}; }),
  networkDisconnect: json(async (api, r) => { await api.networkDisconnect(ref(r), req.networkDisconnectOptions(await r.body(), '')); return {}; }),
  networkPrune: json((api) => api.networkPrune()),
  containerCopy: json(async (api, r) => api.containerCopy(ref(r), req.containerCopyOptions(await r.body(), ''))),
  containerArchive: attach((api, r, _start, io, signal) => api.containerArchive(ref(r), archiveQuery(r.query), io, signal)),
  containerDiff: json((api, r) => api.containerDiff(ref(r))),

  volumeCreate: json(async (api, r) => api.volumeCreate(req.volumeCreateOptions(await r.body(), ''))),
  volumeList: json((api, r) => api.volumeList({ filters: r.query.getAll('filter') })),
  volumeInspect: json((api, r) => api.volumeInspect(volumeName(r))),
  volumeRemove: json(async (api, r) => { await api.volumeRemove(volumeName(r), { force: flag(r.query, 'force') }); return {}; }),
  volumePrune: json(async (api, r) => api.volumePrune(req.volumePruneOptions(await r.body(), ''))),

  imageList: json((api) => api.imageList()),
  imageInspect: json((api, r) => api.imageInspect(ref(r))),
  imageLoad: json(async (api, r) => api.imageLoad(req.imageLoadRequest(await r.body(), ''))),
  imageImport: json(async (api, r) => api.imageImport(req.imageImportRequest(await r.body(), ''))),
  imageRemove: json((api, r) => api.imageRemove(ref(r), { force: flag(r.query, 'force') })),
  imagePull: ndjson(async (api, r) => {
    const body = imageReq.imagePullRequest(await r.body(), '');
    return async (emit, signal) => ({ exitCode: 0, value: await api.imagePull(body, emit, signal) });
  }),
  imagePush: ndjson(async (api, r) => {
    const target = ref(r);
    const body = imageReq.imagePushRequest(await r.body(), '');
    return async (emit, signal) => ({ exitCode: 0, value: await api.imagePush(target, body, emit, signal) });
  }),
  imageBuild: ndjson(async (api, r) => {
    const body = imageReq.imageBuildRequest(await r.body(), '');
    return async (emit, signal) => ({ exitCode: 0, value: await api.imageBuild(body, emit, signal) });
  }),
  imageTag: json(async (api, r) => { await api.imageTag(ref(r), imageReq.imageTagRequest(await r.body(), '')); return {}; }),
  imageSave: attach((api, r, _start, io, signal) => {
    const refs = r.query.getAll('ref');
    if (refs.length === 0) throw new InvalidArgument('save needs at least one image ("ref" query parameters)');
    return api.imageSave(refs, io, signal);
  }),
  imageHistory: json((api, r) => api.imageHistory(ref(r))),
  imagePrune: json(async (api, r) => api.imagePrune(imageReq.imagePruneOptions(await r.body(), ''))),
  containerCommit: json(async (api, r) => api.containerCommit(ref(r), imageReq.containerCommitOptions(await r.body(), ''))),
  registryLogin: json(async (api, r) => api.registryLogin(imageReq.registryLoginRequest(await r.body(), ''))),
  projectPull: ndjson(async (api, r) => {
    const name = projectName(r);
    const body = imageReq.projectPullRequest(await r.body(), '');
    sameProject(name, body);
    return (emit, signal) => api.projectPull(name, body, emit, signal);
  }),
  projectBuild: ndjson(async (api, r) => {
    const name = projectName(r);
    const body = imageReq.projectBuildRequest(await r.body(), '');
    sameProject(name, body);
    return (emit, signal) => api.projectBuild(name, body, emit, signal);
  }),
  projectPrepare: ndjson(async (api, r) => {
    const name = projectName(r);
    const body = imageReq.projectPrepareRequest(await r.body(), '');
    sameProject(name, body);
    return (emit, signal) => api.projectPrepare(name, body, emit, signal);
  }),
  projectImages: json((api, r) => api.projectImages(projectName(r), { services: r.query.getAll('service') })),
};

/** Every handler answers the way its route says (a test pins this; the server relies on it). */
export function handlerAnswers(): ReadonlyArray<readonly [RouteName, Answer, Answer]> {
  return (Object.keys(ROUTES) as RouteName[]).map((name) => [name, ROUTES[name].answer, HANDLERS[name].answer] as const);
}
