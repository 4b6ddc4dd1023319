// File change notification for watch: inotify through the native helper berth-notify
// (native/cmd/notify.c), one process for all the roots of a watched project.
//
// Why not chokidar (measured: docs/decisions/2026-11-30-watch-inotify-helper.md): chokidar
// stats every path it reports, throttles a second `change` of a file within 50 ms (an edit landing
// just after a batch was synced would be lost for good), and sits on Node's fs.watch, which drops
// the kernel's queue-overflow event without a word. The helper reads the kernel's events as they
// are, says when the queue overflowed (the watcher then rescans), and costs no stat per event.
//
// This module turns the helper's records into NotifyEvents and drives the recursion: the helper
// watches only what it is told to, and this side decides, per directory, with `shouldWatch` (a
// directory every rule ignores whole — `.git`, `node_modules/` — is never watched). A directory
// is listed only after its watch is in place, so nothing created in it between its creation and
// its watch is missed: new directories' contents are reported as changes.
import { Readable } from 'node:stream';
import { InvalidArgument, NotFound, InternalError } from '../lib/errors.js';
import { spawnPiped, type PipedProcess } from '../sys/spawn.js';
import type { Sys } from '../sys/sys.js';
import { HostTree } from './host-tree.js';

export interface NotifyRoot {
  /** absolute host path of a directory */
  readonly path: string;
  /** false: only the root directory itself (a rule naming one file watches its directory) */
  readonly recursive: boolean;
}

export type NotifyEvent =
  /** something not a directory was created, written, chmod'ed or moved in at `path` */
  | { readonly kind: 'change'; readonly root: number; readonly path: string }
  /** a directory appeared at `path` (its content follows as further events) */
  | { readonly kind: 'dir'; readonly root: number; readonly path: string }
  /** a directory's own attributes changed */
  | { readonly kind: 'meta'; readonly root: number; readonly path: string }
  /** `path` is gone (deleted or moved away; a directory with all below it) */
  | { readonly kind: 'gone'; readonly root: number; readonly path: string }
  /** events were lost (the kernel's queue overflowed): everything must be compared again */
  | { readonly kind: 'overflow' }
  /** the root directory itself was deleted or moved: this watcher sees nothing of it any more */
  | { readonly kind: 'root-gone'; readonly root: number }
  /** a directory could not be watched for a reason the user must hear (the watch limit) */
  | { readonly kind: 'warning'; readonly root: number; readonly path: string; readonly message: string }
  /** the helper died: the watcher must be started again */
  | { readonly kind: 'failed'; readonly message: string };

export interface NotifierOptions {
  readonly sys: Sys;
  /** native/build/berth-notify */
  readonly helperPath: string;
  readonly roots: readonly NotifyRoot[];
  /** whether directory `rel` (below root `root`, never "") is to be watched */
  readonly shouldWatch: (root: number, rel: string) => boolean;
  readonly onEvent: (event: NotifyEvent) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** The most roots one helper takes (its argv limit: native/cmd/notify.c MAX_ROOTS). */
export const MAX_ROOTS = 256;

const join = (a: string, b: string): string => (a === '' ? b : `${a}/${b}`);

export class Notifier {
  private helper: PipedProcess | undefined;
  /** watches asked for and not answered yet: key "root:rel" → report the listing as changes? */
  private readonly pending = new Map<string, boolean>();
  private ready: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private stopping = false;
  /** directories the helper watches, per root (for tests and `ps`-like reporting) */
  private watchedCount = 0;

  constructor(private readonly opts: NotifierOptions) {
    if (opts.roots.length === 0 || opts.roots.length > MAX_ROOTS) throw new InvalidArgument(`watch needs 1 to ${MAX_ROOTS} directories, not ${opts.roots.length}`);
  }

  /** the helper's pid (for measurements) */
  get helperPid(): number | undefined { return this.helper?.pid; }

  /** how many directories are watched now */
  get watched(): number { return this.watchedCount; }

  /**
   * Starts the helper and watches every root (and, recursively, what shouldWatch allows).
   * Resolves once every initial watch is in place: a change after that is reported.
   */
  async start(): Promise<void> {
    if (this.helper) throw new InternalError('notifier started twice');
    // no descriptor of a root is kept: one held would keep a removed root from being reported
    for (const root of this.opts.roots) {
      try { HostTree.open(this.opts.sys, root.path).close(); } catch {
        throw new NotFound(`cannot watch ${root.path}: it does not exist or is not a directory`);
      }
    }
    const helper = spawnPiped(this.opts.helperPath, this.opts.roots.map((r) => r.path), this.opts.env ?? {});
    this.helper = helper;
    this.readRecords(helper.stdout);
    void helper.exited.then((exit) => {
      if (this.stopping) return;
      const message = `the file watcher (berth-notify) exited${exit.code !== null ? ` with code ${exit.code}` : exit.signal ? ` on ${exit.signal}` : ''}${exit.stderr ? `: ${exit.stderr.trim()}` : ''}`;
      if (this.ready) { this.ready.reject(new InternalError(message)); this.ready = undefined; }
      this.opts.onEvent({ kind: 'failed', message });
    });
    const done = new Promise<void>((resolve, reject) => { this.ready = { resolve, reject }; });
    this.opts.roots.forEach((_, i) => this.request(i, '', false));
    await done;
  }

  /** Stops the helper and waits for it to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    const helper = this.helper;
    if (helper) {
      helper.stdin.end();
      const timer = setTimeout(() => helper.kill('SIGKILL'), 2000);
      try { await helper.exited; } finally { clearTimeout(timer); }
    }
    if (this.ready) { this.ready.reject(new InternalError('watch stopped before it was ready')); this.ready = undefined; }
  }

  private request(root: number, rel: string, report: boolean): void {
    const key = `${root}:${rel}`;
    const asked = this.pending.get(key);
    if (asked !== undefined) {
      // asked for by the initial walk, and since then reported as new: its listing is news
      if (report && !asked) this.pending.set(key, true);
      return;
    }
    this.pending.set(key, report);
    this.helper!.stdin.write(`+${key}\0`);
  }

  /** The answer to a watch request: whether its listing is to be reported. */
  private settle(key: string): boolean | undefined {
    const report = this.pending.get(key);
    this.pending.delete(key);
    return report;
  }

  /** Start is done once no watch is pending (each listing asks for its subdirectories first). */
  private checkReady(): void {
    if (this.pending.size === 0 && this.ready) { this.ready.resolve(); this.ready = undefined; }
  }

  private readRecords(stdout: NodeJS.ReadableStream): void {
    let rest = Buffer.alloc(0);
    (stdout as Readable).on('data', (chunk: Buffer) => {
      const buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (;;) {
        const end = buf.indexOf(0, start);
        if (end < 0) break;
        this.record(buf.toString('utf8', start, end));
        start = end + 1;
      }
      rest = start < buf.length ? Buffer.from(buf.subarray(start)) : Buffer.alloc(0);
    });
  }

  private record(text: string): void {
    const kind = text[0];
    const colon = text.indexOf(':');
    const root = Number(text.slice(1, colon));
    let rel = text.slice(colon + 1);
    const emit = this.opts.onEvent;
    switch (kind) {
      case 'A': {
        const report = this.settle(`${root}:${rel}`);
        this.watchedCount++;
        this.list(root, rel, report === true);
        this.checkReady();
        return;
      }
      case 'E': {
        const sep = rel.indexOf(':');
        const errno = rel.slice(0, sep);
        rel = rel.slice(sep + 1);
        this.settle(`${root}:${rel}`);
        this.checkReady();
        if (errno === 'ENOSPC') {
          emit({ kind: 'warning', root, path: rel, message: `cannot watch ${join(this.opts.roots[root]!.path, rel)}: the inotify watch limit is reached (sysctl fs.inotify.max_user_watches); ignore large directories in .dockerignore or the rule's ignore, or raise the limit` });
        }
        // ENOENT/ENOTDIR/ELOOP: gone or replaced by a symlink since it was seen (its event says so);
        // EEXIST: the same directory reached twice (a bind mount in the tree): watched once
        return;
      }
      case 'f': emit({ kind: 'change', root, path: rel }); return;
      case 'm': emit({ kind: 'meta', root, path: rel }); return;
      case 'x': emit({ kind: 'gone', root, path: rel }); return;
      case 'd':
        emit({ kind: 'dir', root, path: rel });
        if (this.opts.roots[root]!.recursive && this.opts.shouldWatch(root, rel)) this.request(root, rel, true);
        return;
      case 'O': emit({ kind: 'overflow' }); return;
      case 'R':
        this.watchedCount = 0;
        emit({ kind: 'root-gone', root });
        return;
      default:
        return;
    }
  }

  /**
   * After directory rel of root is watched: its subdirectories are asked for, and when `report`
   * (a directory that appeared while watching) its entries are reported as changes.
   */
  private list(root: number, rel: string, report: boolean): void {
    if (!this.opts.roots[root]!.recursive && !report) return;
    let tree: HostTree;
    try { tree = HostTree.open(this.opts.sys, this.opts.roots[root]!.path); } catch { return; } // the root is gone: 'R' follows
    let entries: ReturnType<HostTree['readdir']>;
    try { entries = tree.readdir(rel); } finally { tree.close(); }
    if (entries === undefined) return; // gone already: its 'gone' event follows
    for (const entry of entries) {
      const path = join(rel, entry.name);
      if (entry.isDirectory()) {
        if (report) this.opts.onEvent({ kind: 'dir', root, path });
        if (this.opts.roots[root]!.recursive && this.opts.shouldWatch(root, path)) this.request(root, path, report);
      } else if (report) {
        this.opts.onEvent({ kind: 'change', root, path });
      }
    }
  }
}
