// The engine API's wire format, shared by engine/server.ts and client/ so that the two sides
// cannot drift: where the engine lives under BERTH_RUN, body limits, how flags travel in query
// strings, how errors map to HTTP statuses, and NDJSON framing (routes.ts has the paths,
// frames.ts the attached streams). docs/engine-api.md describes the same things for humans.
// Data and pure functions only: no node: imports, so the client every verb loads stays light.
import type { ErrorBody, ErrorCode } from '../lib/errors.js';
import type { EngineEvent } from './types.js';

/** Every route starts with this; a breaking change to the wire format gets a new prefix. */
export const API_PREFIX = '/v1';
/** Sent on every response so that a client can tell which wire format it is talking to. */
export const API_VERSION_HEADER = 'berth-api-version';
/**
 * A streaming request that may be cancelled carries an id (hex, 8–64 digits) in this header;
 * `POST <REQUESTS_PATH>/<id>/cancel` then aborts its api signal while its stream goes on to its
 * end record (docs/engine-api.md, "Cancelling a request").
 */
export const REQUEST_ID_HEADER = 'berth-request-id';
export const REQUESTS_PATH = '/v1/requests';
export const REQUEST_ID = /^[0-9a-f]{8,64}$/;

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

/**
 * Node flags the engine is started with (by a client, and in the systemd unit). V8 lets the young
 * generation of a busy process grow to two 16 MiB semi-spaces and keeps them: in the up/down soak
 * (bench/soak.ts) that was ~30 MiB of the engine's RSS after a few dozen cycles, for a live heap
 * of ~17 MiB. Two 2 MiB semi-spaces cost more (cheap) scavenges and hold the engine's RSS near its
 * live size (issue 17).
 */
export const ENGINE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * Environment the engine is started with (by a client, in the systemd unit), unless the caller's
 * own environment sets the same name. MALLOC_ARENA_MAX: glibc gives each thread that mallocs
 * (libuv's pool, the spawner worker, V8's threads) its own arena, up to 8 per core; in the up/down
 * soak those arenas held 5–9 MiB and grew, with two they hold 0.5–1.4 (bench/README.md, issue 17).
 */
export const ENGINE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * A request body larger than this is refused with 413 before it is read any further. The
 * largest legitimate body is an `up` with its project; 16 MiB is far beyond any compose project
 * and small enough that parsing it keeps the event loop busy for well under a second.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Deepest nesting of objects and arrays a request body may have (a project is about 8 deep). */
export const MAX_JSON_DEPTH = 100;

/**
 * Follows the nesting depth of JSON text as its bytes arrive, outside strings, so that a body
 * nested too deep is refused at the first byte past the limit, before it is parsed (JSON.parse
 * of a deeply nested 57 MiB body kept an engine busy for 12 s). UTF-8 continuation bytes are
 * never ASCII, so scanning bytes is exact.
 */
export class JsonDepthGuard {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxDepth: number = MAX_JSON_DEPTH) {}

  /** false once the depth went past the limit */
  scan(chunk: Uint8Array): boolean {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
      } else if (c === 0x22) {
        this.inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        if (++this.depth > this.maxDepth) return false;
      } else if (c === 0x7d || c === 0x5d) {
        this.depth--;
      }
    }
    return true;
  }
}

/**
 * Docker compose's rule for project names: lower-case letters, digits, '-' and '_', starting with
 * a letter or a digit. Checked on both sides, and it keeps a name safe in a URL path segment.
 */
export function isValidProjectName(name: string): boolean {
  return /^[a-z0-9][a-z0-9_-]*$/.test(name);
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
  /** `value`: what a verb that answers more than an exit code returned (pull's image id, build's result) */
  | { readonly kind: 'result'; readonly exitCode: number; readonly value?: unknown; readonly time: string }
  | { readonly kind: 'error'; readonly error: ErrorBody; readonly time: string };

/** What a stream's api method may resolve with: an exit code, or an exit code and a value for the end record. */
export interface StreamOutcome { readonly exitCode: number; readonly value: unknown }

export function isStreamOutcome(x: unknown): x is StreamOutcome {
  return typeof x === 'object' && x !== null && typeof (x as { exitCode?: unknown }).exitCode === 'number' && Object.hasOwn(x, 'value');
}

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
