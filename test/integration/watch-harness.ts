// Real containers for watch's facility tests, started through src/runtime's ContainerRuntime
// directly (the facility alone, with recording effects; test/e2e/watch.test.ts goes through the
// engine), plus the tree comparisons the tests make: a listing with
// types, modes and content hashes, read on the host side and through the container's
// /proc/<pid>/root. Shared by watch*.test.ts and bench/watch.ts.
import { rmSync, mkdirSync, readdirSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { makeRoots, busyboxTarball, cleanupRoots, repoRoot, type TestRoots } from '../helpers/env.js';
import { lazySys } from '../../src/sys/index.js';
import { ContainerRuntime } from '../../src/runtime/container.js';
import { hostCgroupDriver } from '../../src/runtime/cgroups/detect.js';
import { ImageStore } from '../../src/images/store.js';
import { mergeProcess } from '../../src/runtime/process-spec.js';
import { newContainerId } from '../../src/runtime/names.js';
import { InRoot, closeQuietly, fdPath, O_RDONLY, O_DIRECTORY, O_NOFOLLOW } from '../../src/sys/in-root.js';
import type { Replica } from '../../src/watch/actions.js';

export const helperPath = join(repoRoot, 'native', 'build', 'berth-notify');

export class WatchHarness {
  readonly roots: TestRoots;
  readonly runtime: ContainerRuntime;
  readonly images: ImageStore;
  /** the project directory (under the test roots, so the leak check sees the helper's argv) */
  readonly project: string;
  private readonly ids: string[] = [];

  private constructor() {
    this.roots = makeRoots();
    mkdirSync(this.roots.root, { recursive: true });
    const bin = join(repoRoot, 'native', 'build');
    this.runtime = new ContainerRuntime({
      root: this.roots.root, cgroupParent: this.roots.cgroupParent, cgroups: hostCgroupDriver(),
      shimPath: join(bin, 'berth-shim'), initPath: join(bin, 'berth-init'), sys: lazySys, env: this.roots.env, autoRemoveCommand: [],
    });
    this.images = new ImageStore({ root: this.roots.root, sys: lazySys });
    this.project = join(this.roots.dir, 'project');
    mkdirSync(this.project, { recursive: true });
  }

  /** New roots with the busybox image imported as `bb` (plus /bin/watch-probe, an inotify watcher). */
  static async create(): Promise<WatchHarness> {
    const h = new WatchHarness();
    const file = await busyboxTarball(h.roots.dir, { 'watch-probe': join(repoRoot, 'native', 'build', 'test', 'watch-probe') });
    await h.images.import(file, 'bb');
    rmSync(file, { force: true });
    return h;
  }

  /** Creates and starts a container of `bb` running `cmd`; returns it as a watch Replica. */
  async start(cmd: string[], user?: string, init = false): Promise<Replica> {
    const image = this.images.resolve('bb');
    const topFirst = [...image.layers].reverse();
    const id = newContainerId();
    const process = mergeProcess(image.config, { command: cmd, env: [], hostname: id.slice(0, 12), tty: false, user }, {});
    await this.runtime.create({
      id, imageId: image.id, imageRef: 'bb', lowerLinks: topFirst.map((l) => l.link),
      lowerDirs: topFirst.map((l) => join(this.images.overlayRoot(), l.cacheId, 'diff')),
      process, tty: false, openStdin: false, init, autoRemove: false, limits: {},
    });
    this.ids.push(id);
    const view = await this.runtime.startDetached(id);
    return { containerId: id, pid: view.observed.started!.pid };
  }

  /** The running replica of a container now (its pid changes when it is restarted). */
  replica(id: string): Replica {
    const view = this.runtime.find(id);
    if (view.observed.status !== 'running') throw new Error(`container ${id.slice(0, 12)} is ${view.observed.status}`);
    return { containerId: id, pid: view.observed.started!.pid };
  }

  logs(id: string): string {
    try {
      return readFileSync(this.runtime.logPath(id), 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { log: string }).log).join('');
    } catch { return ''; }
  }

  /** Removes every container, then checks that nothing is left on the host (the roots go with it). */
  async cleanup(): Promise<void> {
    for (const id of this.ids) {
      try { await this.runtime.remove(id, { force: true }); } catch { /* removed already */ }
    }
    await cleanupRoots(this.roots);
  }
}

/** One line per entry below dir: "path type mode [sha256|link]", sorted. */
export type Listing = string[];

function entryLine(rel: string, st: import('node:fs').Stats, content: () => Buffer, link: () => string): string | undefined {
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return `${rel} d ${mode}`;
  if (st.isFile()) return `${rel} f ${mode} ${createHash('sha256').update(content()).digest('hex').slice(0, 16)}`;
  if (st.isSymbolicLink()) return `${rel} l ${link()}`;
  return undefined;
}

/** The host tree below `dir` (nothing followed), minus what `skip` says. */
export function hostListing(dir: string, skip: (rel: string) => boolean = () => false): Listing {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (skip(r)) continue;
      const p = join(dir, r);
      const st = lstatSync(p);
      const line = entryLine(r, st, () => readFileSync(p), () => readlinkSync(p));
      if (line) out.push(line);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}

/** The tree below `dir` inside the container's root (resolved in it; nothing below followed). */
export function containerListing(pid: number, dir: string, skip: (rel: string) => boolean = () => false): Listing {
  const root = InRoot.open(lazySys, `/proc/${pid}/root`);
  const out: string[] = [];
  try {
    let base: number;
    try { base = root.open(dir, O_RDONLY | O_DIRECTORY); } catch { return []; }
    const walk = (fd: number, rel: string): void => {
      for (const name of readdirSync(fdPath(fd)).sort()) {
        const r = rel === '' ? name : `${rel}/${name}`;
        if (skip(r)) continue;
        const p = fdPath(fd, name);
        const st = lstatSync(p);
        const line = entryLine(r, st, () => readFileSync(p), () => readlinkSync(p));
        if (line) out.push(line);
        if (st.isDirectory()) {
          const child = root.openChild(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
          try { walk(child, r); } finally { closeQuietly(child); }
        }
      }
    };
    try { walk(base, ''); } finally { closeQuietly(base); }
  } finally { root.close(); }
  return out.sort();
}

/** Waits until `check` returns true (or throws the last mismatch), polling every 10 ms. */
export async function eventually(what: string, ms: number, check: () => boolean | string): Promise<void> {
  const deadline = Date.now() + ms;
  let last: boolean | string = false;
  for (;;) {
    try { last = check(); } catch (err) { last = (err as Error).message; }
    if (last === true) return;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}${typeof last === 'string' ? `\n${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A readable difference of two listings ('' when equal). */
export function listingDiff(want: Listing, got: Listing): string {
  const w = new Set(want);
  const g = new Set(got);
  const missing = want.filter((l) => !g.has(l));
  const extra = got.filter((l) => !w.has(l));
  if (missing.length === 0 && extra.length === 0) return '';
  return `missing in the container:\n  ${missing.slice(0, 10).join('\n  ')}${missing.length > 10 ? `\n  … ${missing.length - 10} more` : ''}\nextra in the container:\n  ${extra.slice(0, 10).join('\n  ')}${extra.length > 10 ? `\n  … ${extra.length - 10} more` : ''}`;
}

export const within = (dir: string, rel: string): string => posix.join(dir, rel);
