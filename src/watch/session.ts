// One watched project: the notifier, the batcher, the snapshot and the actions, put together.
// The engine holds one ProjectWatch per watched project (`up --watch`, `watch`, `watch -d`): it
// lives in the engine, so it outlives the terminal that asked for it (docs/watch.md).
//
//   start: check the rules (compileRules did), watch every root, take the snapshot of the tree;
//          when a persisted snapshot exists, apply what changed since (the engine was down);
//          initial_sync rules copy what differs; from then on every batch is applied in order.
//   batch: paths (or a rescan: the tree compared with the snapshot) → planBatch → applyPlan →
//          the snapshot updated → saved at most every `saveEveryMs`.
//   a root that vanished: its paths are gone (synced as deletions), and the root is looked for
//          every `recoverEveryMs` on the clock; when it is back, a new notifier and a rescan.
//   stop:  what is gathered is applied, the snapshot saved, the helper stopped.
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import type { Clock } from '../lib/clock.js';
import type { Sys } from '../sys/sys.js';
import { Batcher, type Batch, type BatchOptions } from './batch.js';
import { HostTree } from './host-tree.js';
import { Notifier, type NotifyEvent } from './notify.js';
import { covers, ignores, inside, planBatch, wantsDirectory, watchRoots, type CompiledProject, type CompiledRule, type WatchedService, type WatchRoot } from './rules.js';
import * as snapshots from './snapshot.js';
import { applyPlan, syncService, type ActionContext, type WatchEffects, type WatchReport } from './actions.js';

export interface ProjectWatchOptions {
  readonly sys: Sys;
  readonly clock: Clock;
  /** native/build/berth-notify */
  readonly helperPath: string;
  readonly project: CompiledProject;
  /** every service of the project (for depends_on.restart dependents outside the watched ones) */
  readonly allServices?: ReadonlyMap<string, Pick<WatchedService, 'name' | 'dependsOn'>>;
  readonly effects: WatchEffects;
  readonly onReport: (r: WatchReport) => void;
  /** where the snapshot is persisted for catching up after an engine restart; none when absent */
  readonly snapshotFile?: string;
  readonly batch?: Partial<BatchOptions>;
  /** default 2000 */
  readonly saveEveryMs?: number;
  /** how often a vanished root is looked for; default 500 */
  readonly recoverEveryMs?: number;
}

export class ProjectWatch {
  private readonly roots: WatchRoot[];
  private readonly rules: readonly CompiledRule[];
  private notifier: Notifier | undefined;
  private readonly batcher: Batcher;
  private snapshot: snapshots.Snapshot = new Map();
  private readonly ctx: ActionContext;
  /** batches wait for start to finish (catch-up and initial sync come first) */
  private gate!: { promise: Promise<void>; open: () => void };
  private lastSave = -Infinity;
  private saveTimer: AbortController | undefined;
  private recovering: AbortController | undefined;
  private stopped = false;
  /** batches applied (for tests and `watch` status) */
  batches = 0;

  constructor(private readonly opts: ProjectWatchOptions) {
    this.rules = opts.project.rules;
    this.roots = watchRoots(this.rules);
    this.ctx = { sys: opts.sys, clock: opts.clock, effects: opts.effects, report: opts.onReport };
    this.batcher = new Batcher(opts.clock, (b) => this.flush(b), opts.batch, (err) => opts.onReport({ kind: 'error', message: `watch batch failed: ${err instanceof Error ? err.message : String(err)}` }));
    let open!: () => void;
    const promise = new Promise<void>((r) => { open = r; });
    this.gate = { promise, open };
  }

  /** the directories watched, for `ps`/`ls` and tests */
  get watchedRoots(): readonly WatchRoot[] { return this.roots; }

  /** Whether `abs` is a path some rule takes into account. */
  private counts = (abs: string): boolean => this.rules.some((r) => covers(r, abs) && !ignores(r, abs));

  /** Whether directory `abs` is watched and walked: some rule wants it, or it leads to a rule. */
  private wants = (abs: string): boolean => this.rules.some((r) => wantsDirectory(r, abs) || inside(abs, r.kind === 'dir' ? r.path : posix.dirname(r.path)) !== undefined);

  async start(): Promise<void> {
    await this.startNotifier();
    const now = this.scan();
    const before = this.opts.snapshotFile !== undefined ? snapshots.load(this.opts.snapshotFile) : undefined;
    this.snapshot = now;
    if (before !== undefined) {
      const changed = snapshots.diff(before, now);
      if (changed.length > 0) {
        this.opts.onReport({ kind: 'caught-up', paths: changed.length });
        await applyPlan(this.ctx, planBatch(this.opts.project, changed, this.opts.allServices));
      }
    }
    await this.initialSync();
    this.save(true);
    this.gate.open();
  }

  /** Applies what is gathered, saves the snapshot, stops watching. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.gate.open();
    await this.batcher.settle();
    this.stopped = true;
    this.recovering?.abort();
    this.saveTimer?.abort();
    await this.batcher.close();
    await this.notifier?.stop();
    this.notifier = undefined;
    this.save(true);
  }

  /** Waits until every event seen so far is applied (tests, and `watch` before it prints "ready"). */
  async settle(): Promise<void> { await this.batcher.settle(); }

  private async startNotifier(): Promise<void> {
    const roots = this.roots;
    const notifier = new Notifier({
      sys: this.opts.sys,
      helperPath: this.opts.helperPath,
      roots,
      shouldWatch: (i, rel) => this.wants(posix.join(roots[i]!.path, rel)),
      onEvent: (e) => this.onEvent(e),
    });
    await notifier.start();
    this.notifier = notifier;
  }

  private onEvent(e: NotifyEvent): void {
    switch (e.kind) {
      case 'change': case 'dir': case 'meta': case 'gone':
        this.batcher.add(posix.join(this.roots[e.root]!.path, e.path));
        return;
      case 'overflow':
        this.batcher.addRescan();
        return;
      case 'warning':
        this.opts.onReport({ kind: 'warning', message: e.message });
        return;
      case 'root-gone':
        this.opts.onReport({ kind: 'warning', message: `${this.roots[e.root]!.path} was removed or moved: its files are removed from the containers, and it is watched again when it is back` });
        this.batcher.addRescan();
        void this.recover();
        return;
      case 'failed':
        this.opts.onReport({ kind: 'error', message: `${e.message}; watching again` });
        this.batcher.addRescan();
        void this.recover();
        return;
    }
  }

  /** Waits (on the clock) until every root exists again, then watches anew and rescans. */
  private async recover(): Promise<void> {
    if (this.recovering || this.stopped) return;
    const abort = new AbortController();
    this.recovering = abort;
    try {
      const old = this.notifier;
      this.notifier = undefined;
      await old?.stop();
      for (;;) {
        const missing = this.roots.filter((r) => { try { HostTree.open(this.opts.sys, r.path).close(); return false; } catch { return true; } });
        if (missing.length === 0) {
          try { await this.startNotifier(); break; } catch { /* gone again: keep looking */ }
        }
        await this.opts.clock.sleep(this.opts.recoverEveryMs ?? 500, abort.signal);
      }
      this.batcher.addRescan();
    } catch { /* stopped */ } finally {
      if (this.recovering === abort) this.recovering = undefined;
    }
  }

  private scan(): snapshots.Snapshot {
    const opened: snapshots.ScanRoot[] = [];
    try {
      for (const r of this.roots) {
        try { opened.push({ path: r.path, recursive: r.recursive, tree: HostTree.open(this.opts.sys, r.path) }); } catch { /* gone: nothing of it */ }
      }
      return snapshots.scan(opened, this.wants, this.counts);
    } finally { for (const o of opened) o.tree.close(); }
  }

  /** lstat of absolute host paths under the roots, each root opened once for the whole call. */
  private lstatter(): { lstat: (abs: string) => Stats | undefined; close: () => void } {
    const trees = new Map<string, HostTree>();
    return {
      lstat: (abs) => {
        for (const r of this.roots) {
          const rel = inside(r.path, abs);
          if (rel === undefined) continue;
          let tree = trees.get(r.path);
          if (tree === undefined) { tree = HostTree.openOrEmpty(this.opts.sys, r.path); trees.set(r.path, tree); }
          return tree.lstat(rel);
        }
        return undefined;
      },
      close: () => { for (const t of trees.values()) t.close(); },
    };
  }

  private async flush(batch: Batch): Promise<void> {
    await this.gate.promise;
    if (this.stopped) return;
    this.opts.onReport({ kind: 'batch', events: batch.events, paths: batch.paths.size, rescan: batch.rescan });
    let paths: string[];
    let next: snapshots.Snapshot | undefined;
    if (batch.rescan) {
      next = this.scan();
      paths = snapshots.diff(this.snapshot, next);
    } else {
      paths = [...batch.paths];
    }
    await applyPlan(this.ctx, planBatch(this.opts.project, paths, this.opts.allServices));
    if (next !== undefined) this.snapshot = next;
    else {
      const st = this.lstatter();
      try { snapshots.update(this.snapshot, paths, st.lstat, this.counts); } finally { st.close(); }
    }
    this.batches++;
    this.save(false);
  }

  /**
   * Copies what differs between the tree and the service's replicas for every sync rule of the
   * service (nothing removed). The engine calls it when a replica of a watched service starts
   * fresh (scaled up, or recreated for a reason other than a rebuild), so it gets what was synced
   * into its predecessors. Waits for the batch being applied first.
   */
  async resync(service: string): Promise<void> {
    await this.gate.promise;
    await this.batcher.settle();
    await this.initialSync((r) => r.service === service);
  }

  /** initial_sync rules (or those `which` picks): what differs between the tree and each replica, copied. */
  private async initialSync(which: (r: CompiledRule) => boolean = (r) => r.initialSync): Promise<void> {
    const perService = new Map<string, Map<CompiledRule, string[]>>();
    for (const rule of this.rules) {
      if (!which(rule) || rule.target === undefined) continue;
      const paths = [...this.snapshot.keys()].filter((p) => covers(rule, p) && !ignores(rule, p));
      const m = perService.get(rule.service) ?? new Map<CompiledRule, string[]>();
      m.set(rule, paths);
      perService.set(rule.service, m);
    }
    for (const [service, perRule] of perService) await syncService(this.ctx, service, perRule, true);
  }

  /** Persists the snapshot now (`force`) or when the last save is `saveEveryMs` old (else later). */
  private save(force: boolean): void {
    const file = this.opts.snapshotFile;
    if (file === undefined) return;
    const every = this.opts.saveEveryMs ?? 2000;
    const now = this.opts.clock.now();
    if (!force && now - this.lastSave < every) {
      if (this.saveTimer === undefined && !this.stopped) {
        const abort = new AbortController();
        this.saveTimer = abort;
        this.opts.clock.sleep(every - (now - this.lastSave), abort.signal).then(() => { this.saveTimer = undefined; this.save(true); }, () => { this.saveTimer = undefined; });
      }
      return;
    }
    try {
      snapshots.save(file, this.snapshot);
      this.lastSave = now;
    } catch (err) {
      this.opts.onReport({ kind: 'warning', message: `cannot save the watch state to ${file}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}
