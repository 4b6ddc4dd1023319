// The engine API's wire format, shared by engine/server.ts and api/client.ts so that the two
// sides cannot drift: where the engine lives under BERTH_RUN, the route paths, how options travel
// in query strings, how errors map to HTTP statuses, and NDJSON framing. docs/engine-api.md
// describes the same things for humans. Data and pure functions only: no node: imports, so the
// client that every compose verb loads stays light.
import type { ErrorBody, ErrorCode } from '../lib/errors.js';
import type { EngineEvent, LogsOptions } from './types.js';

/** Every route starts with this; a breaking change to the wire format gets a new prefix. */
export const API_PREFIX = '/v1';
/** Sent on every response so that a client can tell which wire format it is talking to. */
export const API_VERSION_HEADER = 'berth-api-version';

/** Files of one engine under BERTH_RUN. */
export interface EnginePaths {
  /** the HTTP listener: mode 0660, owned by the engine's user (root) */
  readonly socket: string;
  /** the engine's pid, written atomically once it owns the socket */
  readonly pidFile: string;
  /** stdout and stderr of an engine started in the background by a client (appended to) */
  readonly logFile: string;
}

export function enginePaths(run: string): EnginePaths {
  const dir = run.endsWith('/') ? run.slice(0, -1) : run;
  return { socket: `${dir}/berth.sock`, pidFile: `${dir}/engine.pid`, logFile: `${dir}/engine.log` };
}

/** A request body larger than this is refused with 413 before it is read any further. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The verbs that change state; each is a POST to /v1/projects/:name/<verb> answered with NDJSON events. */
export const STREAMING_VERBS = ['up', 'down', 'start', 'stop', 'restart', 'kill', 'pause', 'unpause'] as const;
export type StreamingVerb = (typeof STREAMING_VERBS)[number];

export function isStreamingVerb(s: string): s is StreamingVerb {
  return (STREAMING_VERBS as readonly string[]).includes(s);
}

/**
 * Docker compose's rule for project names: lower-case letters, digits, '-' and '_', starting with
 * a letter or a digit. Checked on both sides, and it keeps a name safe in a URL path segment.
 */
export function isValidProjectName(name: string): boolean {
  return /^[a-z0-9][a-z0-9_-]*$/.test(name);
}

export const routes = {
  info: (): string => `${API_PREFIX}/info`,
  shutdown: (): string => `${API_PREFIX}/shutdown`,
  events: (): string => `${API_PREFIX}/events`,
  projects: (all: boolean): string => `${API_PREFIX}/projects${all ? '?all=1' : ''}`,
  verb: (projectName: string, verb: StreamingVerb): string => `${API_PREFIX}/projects/${encodeURIComponent(projectName)}/${verb}`,
  containers: (projectName: string, opts: { readonly all: boolean; readonly services: readonly string[] }): string =>
    withQuery(`${API_PREFIX}/projects/${encodeURIComponent(projectName)}/containers`, [
      ...(opts.all ? [['all', '1'] as const] : []),
      ...opts.services.map((s) => ['service', s] as const),
    ]),
  logs: (projectName: string, opts: LogsOptions): string =>
    withQuery(`${API_PREFIX}/projects/${encodeURIComponent(projectName)}/logs`, [
      ...(opts.follow ? [['follow', '1'] as const] : []),
      ...(opts.tail !== undefined ? [['tail', String(opts.tail)] as const] : []),
      ...(opts.since !== undefined ? [['since', opts.since] as const] : []),
      ...opts.services.map((s) => ['service', s] as const),
    ]),
};

function withQuery(path: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  if (pairs.length === 0) return path;
  return `${path}?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

/** A boolean query flag: `1`, `true` or a bare key mean true; absent, `0` or `false` mean false; anything else is malformed (undefined). */
export function queryFlag(value: string | null): boolean | undefined {
  if (value === null || value === '0' || value === 'false') return false;
  if (value === '' || value === '1' || value === 'true') return true;
  return undefined;
}

/** The HTTP status for an error that ends a request before any stream began. */
export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case 'NOT_FOUND': return 404;
    case 'CONFLICT': return 409;
    case 'INVALID_ARGUMENT':
    case 'SPEC': return 400;
    case 'UNSUPPORTED': return 501;
    case 'DEPENDENCY_FAILED': return 424;
    // nginx's "client closed request": only ever logged, the client is gone
    case 'CANCELLED': return 499;
    default: return 500;
  }
}

/**
 * The last record of every NDJSON stream, and the only records with these kinds on the wire:
 * `result` for an api method that returned, `error` for one that threw. A stream that ends
 * without one was cut (the engine died or the connection broke).
 */
export type StreamEnd =
  | { readonly kind: 'result'; readonly exitCode: number; readonly time: string }
  | { readonly kind: 'error'; readonly error: ErrorBody; readonly time: string };

export function isStreamEnd(record: unknown): record is StreamEnd {
  const kind = (record as { kind?: unknown } | null)?.kind;
  return kind === 'result' || kind === 'error';
}

/** Is this event one the transport reserves for the end of a stream? (The server does not forward them.) */
export function isReservedEvent(e: EngineEvent): boolean {
  return e.kind === 'result' || e.kind === 'error';
}

/** One NDJSON record: JSON.stringify never emits a raw newline, so the line is the frame. */
export function ndjson(record: unknown): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * Splits decoded text into lines and hands each complete, non-empty line to `onLine`. Feed it
 * strings from a stream with setEncoding('utf8') (so multi-byte characters are never split);
 * `rest()` is whatever followed the last newline (non-empty only for a cut stream).
 */
export function lineSplitter(onLine: (line: string) => void): { push(text: string): void; rest(): string } {
  let pending = '';
  return {
    push(text: string): void {
      pending += text;
      let start = 0;
      let nl = pending.indexOf('\n', start);
      while (nl >= 0) {
        const line = pending.slice(start, nl);
        if (line.trim() !== '') onLine(line);
        start = nl + 1;
        nl = pending.indexOf('\n', start);
      }
      pending = pending.slice(start);
    },
    rest: () => pending,
  };
}
