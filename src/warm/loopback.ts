// The warm CLI's way to the engine: the engine's own route handlers (engine/routes.ts), called
// in-process. The command code is the Node CLI's, and it builds its requests with the same client
// (client/client.ts engineClientOver): same paths, same query strings, same bodies. Here each
// request is matched to its route, its body goes through the same checks (api/requests.ts) as
// one that arrived on the socket, values cross as JSON (nothing the command holds is an object of
// the engine's, nor the reverse), and errors cross as their bodies (errorBody → fromBody), so a
// command sees exactly what it would over the socket — minus a connection, a parser and a relay.
//
// Everything a session asks is also bound to the session's signal: when its client goes away,
// every stream it opened is aborted and every later request refused, so that a dead client leaves
// no work running in the engine.
import type { AttachIo, EngineApi } from '../api/engine-api.js';
import { matchRoute } from '../api/routes.js';
import { isReservedEvent, isStreamOutcome, type StreamEnd } from '../api/codec.js';
import { attachStart } from '../api/requests.js';
import type { EngineEvent } from '../api/types.js';
import { Cancelled, InternalError, NotFound, cancelledBy, errorBody, fromBody } from '../lib/errors.js';
import type { RequestTransport } from '../client/client.js';
import { HANDLERS, type Handler, type RouteRequest } from '../engine/routes.js';

/** A value as the other side of the socket would see it. */
function copy<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Rejects with the signal's reason once it aborts (what the socket client does when its caller
 * aborts a request: it does not wait for the engine's side to finish).
 */
function whenAborted(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => { if (onAbort) signal.removeEventListener('abort', onAbort); } };
}

export function loopbackTransport(api: EngineApi, session: AbortSignal, log: (line: string) => void): RequestTransport {
  const rebuilt = (err: unknown): Error => fromBody(errorBody(err, (bug) => log(`internal error (warm cli): ${(bug as Error)?.stack ?? String(bug)}`)));
  const route = (method: string, path: string, body: unknown): { handler: Handler; request: RouteRequest } => {
    const url = new URL(path, 'http://engine');
    const match = matchRoute(method, url.pathname);
    if (match.kind !== 'found') throw new NotFound(`no route "${url.pathname}"`);
    const checked = copy(body);
    return { handler: HANDLERS[match.name], request: { params: match.params, query: url.searchParams, body: async () => checked } };
  };
  // what a stream's caller sees when it fails: its own abort, the session's end, or the engine's error
  const failure = (err: unknown, signal: AbortSignal): unknown =>
    signal.aborted ? signal.reason : session.aborted ? cancelledBy(session) : rebuilt(err);
  const refuseIfGone = (): void => {
    if (session.aborted) throw cancelledBy(session);
  };

  return {
    socketPath: '(the engine, in-process)',

    async json<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      refuseIfGone();
      try {
        const { handler, request } = route(method, path, body);
        if (handler.answer !== 'json') throw new InternalError(`${method} ${path} is not a JSON route`);
        return copy(await handler.run(api, request)) as T;
      } catch (err) {
        throw rebuilt(err);
      }
    },

    async stream<T>(method: 'GET' | 'POST', path: string, body: unknown, emit: (record: T) => void, signal: AbortSignal, cancel?: AbortSignal): Promise<number> {
      return (await this.streamResult(method, path, body, emit, signal, cancel)).exitCode;
    },

    // the whole end record: a verb that answers more than an exit code (pull, push, build) puts its value there
    async streamResult<T>(method: 'GET' | 'POST', path: string, body: unknown, emit: (record: T) => void, signal: AbortSignal, cancel?: AbortSignal): Promise<Extract<StreamEnd, { kind: 'result' }>> {
      refuseIfGone();
      if (signal.aborted) throw signal.reason;
      if (cancel?.aborted) throw cancel.reason;
      const both = AbortSignal.any([signal, session]);
      // a cancel aborts the method's signal only: its records and its end are still awaited (the socket's cancel route does the same)
      const cancelled = new AbortController();
      cancel?.addEventListener('abort', () => cancelled.abort(new Cancelled('cancelled by the client')), { once: true });
      const runSignal = AbortSignal.any([both, cancelled.signal]);
      let run;
      try {
        const { handler, request } = route(method, path, body);
        if (handler.answer !== 'ndjson') throw new InternalError(`${method} ${path} is not a streaming route`);
        run = await handler.prepare(api, request);
      } catch (err) {
        throw rebuilt(err);
      }
      const aborted = whenAborted(both);
      try {
        const code = await Promise.race([
          run((record: EngineEvent) => {
            // the socket reserves these kinds for a stream's end, and the server drops them
            if (both.aborted || isReservedEvent(record)) return;
            emit(copy(record) as T);
          }, runSignal),
          aborted.promise,
        ]);
        const time = new Date().toISOString();
        if (isStreamOutcome(code)) return { kind: 'result', exitCode: code.exitCode, value: copy(code.value), time };
        return { kind: 'result', exitCode: typeof code === 'number' ? code : 0, time };
      } catch (err) {
        throw failure(err, signal);
      } finally {
        aborted.dispose();
      }
    },

    async attach(path: string, start: unknown, io: AttachIo, signal: AbortSignal): Promise<number> {
      refuseIfGone();
      if (signal.aborted) throw signal.reason;
      const both = AbortSignal.any([signal, session]);
      const aborted = whenAborted(both);
      try {
        const { handler, request } = route('POST', path, undefined);
        if (handler.answer !== 'attach') throw new InternalError(`POST ${path} is not an attached stream`);
        const checked = attachStart(copy(start), 'start');
        const attached: AttachIo = {
          ...(checked.size ? { size: checked.size } : {}),
          ...(checked.stdin && io.stdin ? { stdin: io.stdin } : {}),
          write: (stream, data) => io.write(stream, data),
          onControl: (listener) => io.onControl(listener),
          ...(io.handoff ? { handoff: io.handoff } : {}),
        };
        return await Promise.race([handler.run(api, request, checked, attached, both), aborted.promise]);
      } catch (err) {
        throw failure(err, signal);
      } finally {
        aborted.dispose();
      }
    },

    close(): void { /* nothing held: the session's end aborts what is still running */ },
  };
}
