// Time as a parameter: restart back-off, health intervals and timeouts read a Clock, so their
// tests run on a manual clock in milliseconds instead of waiting in real time.

import { nextTurn } from './coalesce.js';

export interface Clock {
  /** epoch milliseconds */
  now(): number;
  /** resolves after `ms`, or rejects with an AbortError when `signal` aborts first */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(timer); reject(abortError()); };
    signal?.addEventListener('abort', onAbort, { once: true });
  }),
};

/** A clock that moves only when told: `advance(ms)` wakes the sleepers whose time has come. */
export class ManualClock implements Clock {
  private time: number;
  private sleepers: { at: number; resolve: () => void }[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== entry);
        reject(abortError());
      };
      const entry = { at: this.time + Math.max(0, ms), resolve: (): void => { signal?.removeEventListener('abort', onAbort); resolve(); } };
      this.sleepers.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward, waking sleepers in time order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers[0];
      if (!next || next.at > target) break;
      this.sleepers.shift();
      this.time = next.at;
      next.resolve();
      // let the woken task run up to its next await before waking the next sleeper
      for (let i = 0; i < 10; i++) await Promise.resolve();
      await nextTurn();
    }
    this.time = target;
  }

  /** how many sleepers are waiting (for tests that assert a task is parked) */
  pending(): number {
    return this.sleepers.length;
  }
}
