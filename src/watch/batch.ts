// Debouncing file events into batches, on an injected Clock (pure: no timers, no files).
//
// A batch is flushed when nothing happened for `quietMs` (tens of ms: an editor's save — write a
// temp file, rename, chmod — and a `git checkout` writing files back to back are one batch each),
// or when `maxWaitMs` passed since its first event (a process that never stops writing in the
// tree cannot hold every other change back forever). Compose waits for a 500 ms quiet period.
//
// A batch is a set of paths, not a list of events: the sync reads each path's state when it runs,
// so a path written 100 times is one entry, and what the container gets is what the host has
// now. Batches are applied one at a time, in order: events arriving while a batch is being
// applied gather in the next one.
//
// Memory is bounded (docker/compose#13136: a branch switch of many thousand files wedged compose
// watch): past `maxPaths` distinct paths, or when the notifier lost events (the kernel's queue
// overflowed), the paths are dropped and the batch becomes a rescan — the flush compares the whole
// tree with what it last saw, which costs a walk of the tree and no memory per event.
import type { Clock } from '../lib/clock.js';

export interface BatchOptions {
  /** flush after this long without an event (default 20 ms) */
  readonly quietMs: number;
  /** flush at the latest this long after a batch's first event (default 1 s) */
  readonly maxWaitMs: number;
  /** past this many distinct paths, the batch turns into a rescan (default 20,000) */
  readonly maxPaths: number;
}

export const DEFAULT_BATCH: BatchOptions = { quietMs: 20, maxWaitMs: 1000, maxPaths: 20_000 };

export interface Batch {
  /** distinct paths changed (empty when `rescan`) */
  readonly paths: ReadonlySet<string>;
  /** events were lost or too many: compare everything */
  readonly rescan: boolean;
  /** how many events this batch gathered */
  readonly events: number;
  /** clock time of the first and last event */
  readonly firstAt: number;
  readonly lastAt: number;
}

export class Batcher {
  private paths = new Set<string>();
  private rescan = false;
  private events = 0;
  private firstAt = 0;
  private lastAt = 0;
  private running: Promise<void> | undefined;
  /** aborts the loop's current sleep (settle and close wake it) */
  private wake: AbortController | undefined;
  /** settle() in progress: flush without waiting for quiet */
  private forced = 0;
  private closed = false;
  private readonly opts: BatchOptions;

  constructor(
    private readonly clock: Clock,
    private readonly flush: (batch: Batch) => Promise<void> | void,
    opts: Partial<BatchOptions> = {},
    /** a flush that threw (the batcher goes on with the next batch) */
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.opts = { ...DEFAULT_BATCH, ...opts };
  }

  /** whether nothing is gathered or being applied */
  get idle(): boolean { return this.running === undefined && this.events === 0; }

  /** how many distinct paths the gathering batch holds (bounded by maxPaths) */
  get size(): number { return this.paths.size; }

  /** One event for `path`. */
  add(path: string): void {
    if (this.closed) return;
    this.touch();
    if (this.rescan) return;
    this.paths.add(path);
    if (this.paths.size > this.opts.maxPaths) this.markRescan();
  }

  /** Events were lost: the next batch compares everything. */
  addRescan(): void {
    if (this.closed) return;
    this.touch();
    this.markRescan();
  }

  /** Flushes what is gathered now (no quiet wait) and waits for every batch to be applied. */
  async settle(): Promise<void> {
    this.forced++;
    try {
      while (this.running !== undefined || this.events > 0) {
        if (this.running === undefined) this.start();
        this.wake?.abort();
        await this.running;
      }
    } finally { this.forced--; }
  }

  /** Stops: what is gathered is dropped, a batch being applied is awaited. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.abort();
    this.paths = new Set();
    this.events = 0;
    await this.running;
  }

  private touch(): void {
    const now = this.clock.now();
    if (this.events === 0) this.firstAt = now;
    this.lastAt = now;
    this.events++;
    if (this.running === undefined) this.start();
  }

  private markRescan(): void {
    this.rescan = true;
    this.paths = new Set();
  }

  private start(): void {
    this.running = this.loop().finally(() => { this.running = undefined; });
  }

  private async loop(): Promise<void> {
    while (this.events > 0 && !this.closed) {
      const due = this.forced > 0 ? -Infinity : Math.min(this.lastAt + this.opts.quietMs, this.firstAt + this.opts.maxWaitMs);
      const now = this.clock.now();
      if (now < due) {
        const wake = new AbortController();
        this.wake = wake;
        try { await this.clock.sleep(due - now, wake.signal); } catch { /* woken: look again */ } finally { this.wake = undefined; }
        continue;
      }
      const batch: Batch = { paths: this.paths, rescan: this.rescan, events: this.events, firstAt: this.firstAt, lastAt: this.lastAt };
      this.paths = new Set();
      this.rescan = false;
      this.events = 0;
      try { await this.flush(batch); } catch (err) { this.onError(err); }
    }
  }
}
