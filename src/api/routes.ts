// The route table: one route per EngineApi method (the compiler checks that every method has
// one). The server (engine/routes.ts) binds one small handler to each; the client
// (client/client.ts) builds its requests from the same entries, so the two sides cannot drift.
//
//   answer 'json'    a JSON body (or an error body with a 4xx/5xx status)
//   answer 'ndjson'  a stream of records, ended by a result or error record (codec.ts)
//   answer 'attach'  an HTTP upgrade to a framed, two-way byte stream (frames.ts)
//
// Path segments starting with ':' are parameters, each URI-encoded into one segment (image
// references hold "/" and ":"). Adding a verb: a method in engine-api.ts, a route here, a
// handler in engine/routes.ts, a method in the client; see docs/architecture.md.
import type { EngineApi } from './engine-api.js';

export type Answer = 'json' | 'ndjson' | 'attach';
export type Method = 'GET' | 'POST' | 'DELETE';

export interface Route {
  readonly method: Method;
  readonly path: string;
  readonly answer: Answer;
}

const json = (method: Method, path: string): Route => ({ method, path, answer: 'json' });
const ndjson = (method: Method, path: string): Route => ({ method, path, answer: 'ndjson' });
const attach = (path: string): Route => ({ method: 'POST', path, answer: 'attach' });

export type RouteName = keyof EngineApi;

export const ROUTES: { readonly [K in RouteName]: Route } = {
  info: json('GET', '/v1/info'),
  version: json('GET', '/v1/version'),
  systemInfo: json('GET', '/v1/system/info'),
  engineStatus: json('GET', '/v1/system/status'),
  events: ndjson('GET', '/v1/events'),
  shutdown: json('POST', '/v1/shutdown'),

  ls: json('GET', '/v1/projects'),
  up: ndjson('POST', '/v1/projects/:project/up'),
  down: ndjson('POST', '/v1/projects/:project/down'),
  start: ndjson('POST', '/v1/projects/:project/start'),
  stop: ndjson('POST', '/v1/projects/:project/stop'),
  restart: ndjson('POST', '/v1/projects/:project/restart'),
  kill: ndjson('POST', '/v1/projects/:project/kill'),
  pause: ndjson('POST', '/v1/projects/:project/pause'),
  unpause: ndjson('POST', '/v1/projects/:project/unpause'),
  ps: json('GET', '/v1/projects/:project/containers'),
  logs: ndjson('GET', '/v1/projects/:project/logs'),
  createOneOff: json('POST', '/v1/projects/:project/run'),
  watch: ndjson('POST', '/v1/projects/:project/watch'),
  watchStop: json('DELETE', '/v1/projects/:project/watch'),

  containerCreate: json('POST', '/v1/containers'),
  containerList: json('GET', '/v1/containers'),
  containerInspect: json('GET', '/v1/containers/:ref'),
  containerStart: json('POST', '/v1/containers/:ref/start'),
  containerStartAttached: attach('/v1/containers/:ref/attach'),
  containerStop: json('POST', '/v1/containers/:ref/stop'),
  containerKill: json('POST', '/v1/containers/:ref/kill'),
  containerRemove: json('DELETE', '/v1/containers/:ref'),
  containerPause: json('POST', '/v1/containers/:ref/pause'),
  containerUnpause: json('POST', '/v1/containers/:ref/unpause'),
  containerLogs: ndjson('GET', '/v1/containers/:ref/logs'),
  containerTop: json('GET', '/v1/containers/:ref/top'),
  containerStats: json('GET', '/v1/containers/:ref/stats'),
  containerUpdate: json('POST', '/v1/containers/:ref/update'),
  containerExec: attach('/v1/containers/:ref/exec'),
  containerExecDetached: json('POST', '/v1/containers/:ref/exec-detached'),
  containerPort: json('GET', '/v1/containers/:ref/port'),

  networkList: json('GET', '/v1/networks'),
  networkCreate: json('POST', '/v1/networks'),
  networkInspect: json('GET', '/v1/networks/:ref'),
  networkRemove: json('DELETE', '/v1/networks/:ref'),
  networkConnect: json('POST', '/v1/networks/:ref/connect'),
  networkDisconnect: json('POST', '/v1/networks/:ref/disconnect'),
  networkPrune: json('POST', '/v1/networks/prune'),
  containerCopy: json('POST', '/v1/containers/:ref/copy'),
  containerArchive: attach('/v1/containers/:ref/archive'),
  containerDiff: json('GET', '/v1/containers/:ref/changes'),

  volumeCreate: json('POST', '/v1/volumes'),
  volumeList: json('GET', '/v1/volumes'),
  volumeInspect: json('GET', '/v1/volumes/:name'),
  volumeRemove: json('DELETE', '/v1/volumes/:name'),
  volumePrune: json('POST', '/v1/volumes/prune'),

  imageList: json('GET', '/v1/images'),
  imageInspect: json('GET', '/v1/images/:ref'),
  imageLoad: json('POST', '/v1/images/load'),
  imageImport: json('POST', '/v1/images/import'),
  imageRemove: json('DELETE', '/v1/images/:ref'),
  imagePull: ndjson('POST', '/v1/images/pull'),
  imagePush: ndjson('POST', '/v1/images/:ref/push'),
  imageBuild: ndjson('POST', '/v1/images/build'),
  imageTag: json('POST', '/v1/images/:ref/tag'),
  imageSave: attach('/v1/images/save'),
  imageHistory: json('GET', '/v1/images/:ref/history'),
  imagePrune: json('POST', '/v1/images/prune'),
  containerCommit: json('POST', '/v1/containers/:ref/commit'),
  registryLogin: json('POST', '/v1/registry/login'),
  projectPull: ndjson('POST', '/v1/projects/:project/pull'),
  projectBuild: ndjson('POST', '/v1/projects/:project/build'),
  projectPrepare: ndjson('POST', '/v1/projects/:project/prepare'),
  projectImages: json('GET', '/v1/projects/:project/images'),
};

/** The path of a route with its parameters encoded, and a query string of the pairs given. */
export function pathOf(route: Route, params: Readonly<Record<string, string>> = {}, query: ReadonlyArray<readonly [string, string]> = []): string {
  const path = route.path.replace(/:([a-z]+)/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`route ${route.path}: no value for :${name}`);
    return encodeURIComponent(value);
  });
  if (query.length === 0) return path;
  return `${path}?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly name: RouteName; readonly route: Route; readonly params: Readonly<Record<string, string>> }
  /** the path is known, the method is not one of its routes' */
  | { readonly kind: 'method'; readonly allow: readonly Method[] }
  | { readonly kind: 'none' };

const compiled = (Object.entries(ROUTES) as [RouteName, Route][]).map(([name, route]) => ({ name, route, segments: route.path.split('/').filter((s) => s !== '') }));

/**
 * Finds the route for a method and a path (without its query). Literal segments win over
 * parameters, so `/v1/images/load` is the load route, not an image named "load". A parameter
 * that is not valid percent-encoding does not match.
 */
export function matchRoute(method: string, pathname: string): RouteMatch {
  const parts = pathname.split('/').filter((s) => s !== '');
  let best: { name: RouteName; route: Route; params: Record<string, string>; literals: number } | undefined;
  const allow = new Set<Method>();
  for (const c of compiled) {
    if (c.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const want = c.segments[i]!;
      if (want.startsWith(':')) {
        try { params[want.slice(1)] = decodeURIComponent(parts[i]!); } catch { ok = false; }
      } else if (want === parts[i]) {
        literals++;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (c.route.method !== method) {
      allow.add(c.route.method);
      continue;
    }
    if (!best || literals > best.literals) best = { name: c.name, route: c.route, params, literals };
  }
  if (best) return { kind: 'found', name: best.name, route: best.route, params: best.params };
  return allow.size > 0 ? { kind: 'method', allow: [...allow] } : { kind: 'none' };
}
