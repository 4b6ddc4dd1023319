// Work that many events ask for and one run satisfies (a look at the host, a sweep of unused
// mounts): at most one run at a time, and every call made before a run has begun shares that run.
// A call made while a run is going gets the next one (what it asks about may have changed after
// the running one read it), so N events during a run cost one more run, not N.

/** The next turn of the event loop: I/O and timers waiting to run go first. */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Wraps `work` so that calls coalesce: the returned function resolves when a run that began after
 * the call has finished (rejects with that run's error). A run starts on the next turn of the
 * event loop, so the calls of one burst of events (one tick, one batch of inotify events) share it.
 */
export function coalesced(work: () => void | Promise<void>): () => Promise<void> {
  // the run in progress or last finished (never rejects: the next run waits for it, errors go to its callers)
  let last: Promise<void> = Promise.resolve();
  // the run not yet begun, which new calls share
  let queued: Promise<void> | undefined;
  return () => {
    if (queued) return queued;
    const run = last.then(nextTurn).then(() => {
      queued = undefined; // from here on, a call asks for the next run
      return work();
    });
    queued = run;
    last = run.catch(() => undefined);
    return run;
  };
}
