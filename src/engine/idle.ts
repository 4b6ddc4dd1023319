// The engine's quiet moment: once nothing has been asked of it for `quietMs` (no api request on
// the socket, no warm-CLI command in flight), `onIdle` runs — once per quiet spell; the next
// request starts a new spell. engine/main.ts gives each server `busy` and runs malloc_trim there
// (docs/crash-consistency.md, "Memory"): never during a request, never more than once a spell.
import type { Clock } from '../lib/clock.js';

export interface IdleWatch {
  /** marks one piece of work in flight; call the returned function (once) when it ends */
  busy(): () => void;
  /** how many times onIdle has run */
  readonly runs: number;
  /** cancels a pending onIdle; busy() still counts, nothing runs any more */
  close(): void;
}

export function idleWatch(opts: { readonly clock: Clock; readonly quietMs: number; readonly onIdle: () => void; readonly log?: (line: string) => void }): IdleWatch {
  let inFlight = 0;
  let runs = 0;
  let closed = false;
  let waiting: AbortController | undefined;

  const arm = (): void => {
    waiting?.abort();
    if (closed) return;
    const mine = new AbortController();
    waiting = mine;
    opts.clock.sleep(opts.quietMs, mine.signal).then(() => {
      if (waiting !== mine || inFlight > 0 || closed) return;
      waiting = undefined;
      runs++;
      try { opts.onIdle(); } catch (err) { opts.log?.(`idle: ${(err as Error)?.message ?? String(err)}`); }
    }, () => { /* aborted: work arrived, or closed */ });
  };

  return {
    busy() {
      inFlight++;
      waiting?.abort();
      waiting = undefined;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        if (--inFlight === 0) arm();
      };
    },
    get runs() { return runs; },
    close() {
      closed = true;
      waiting?.abort();
      waiting = undefined;
    },
  };
}
