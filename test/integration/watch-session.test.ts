// ProjectWatch against a plain directory standing in for a container's root (effects.openRoot):
// the notifier, batcher, snapshot and sync are the real ones; no container is needed for what
// these check (bounded bursts, back-to-back edits, a target that is the watched tree itself).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock } from '../../src/lib/clock.js';
import { lazySys } from '../../src/sys/index.js';
import { InRoot } from '../../src/sys/in-root.js';
import { compileRules } from '../../src/watch/rules.js';
import { ProjectWatch } from '../../src/watch/session.js';
import type { WatchReport } from '../../src/watch/actions.js';
import type { BatchOptions } from '../../src/watch/batch.js';
import { hostListing, eventually, listingDiff, helperPath } from './watch-harness.js';
import { leftovers, type TestRoots } from '../helpers/env.js';

interface Setup { readonly base: string; readonly src: string; readonly ctr: string; readonly watch: ProjectWatch; readonly reports: WatchReport[] }

function setUp(opts: { batch?: Partial<BatchOptions>; containerRoot?: (base: string) => string; target?: string; reuse?: Setup } = {}): Setup {
  const base = opts.reuse?.base ?? mkdtempSync(join(tmpdir(), 'berth-watch-session-'));
  const src = join(base, 'src');
  const ctr = join(base, 'ctr');
  mkdirSync(src, { recursive: true });
  mkdirSync(ctr, { recursive: true });
  const project = compileRules({
    services: [{ name: 'web', dependsOn: {}, rules: [{ path: src, action: 'sync', target: opts.target ?? '/app', ignore: [], include: [], initial_sync: true }] }],
    pathKinds: new Map([[src, 'dir']]), ignoreFiles: new Map(), composeFiles: [],
  });
  const reports: WatchReport[] = [];
  const root = opts.containerRoot ? opts.containerRoot(base) : ctr;
  const watch = new ProjectWatch({
    sys: lazySys, clock: realClock, helperPath, project, batch: opts.batch,
    effects: {
      replicas: async () => [{ containerId: 'c'.repeat(64), pid: 1, owner: { uid: 0, gid: 0 } }],
      openRoot: () => InRoot.open(lazySys, root),
      restartService: async () => {}, execInService: async () => {}, rebuildService: async () => {}, recreate: async () => {},
    },
    onReport: (r) => reports.push(r),
  });
  return { base, src, ctr, watch, reports };
}

async function tearDown(s: Setup): Promise<void> {
  await s.watch.stop();
  const left = leftovers({ dir: s.base, root: join(s.base, 'none'), run: '', cgroupParent: 'berth-none', env: {} } as TestRoots);
  rmSync(s.base, { recursive: true, force: true });
  assert.deepEqual(left, [], 'nothing left running');
}

test('a burst past the batch bound becomes a rescan and still ends in the same tree', async () => {
  const s = setUp({ batch: { maxPaths: 50 } });
  try {
    await s.watch.start();
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(s.src, `d${d}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(s.src, `d${d}`, `f${f}`), `${d}/${f}\n`);
    }
    await eventually('2,000 files', 30_000, () => listingDiff(hostListing(s.src), hostListing(join(s.ctr, 'app'))) || true);
    assert.ok(s.reports.some((r) => r.kind === 'batch' && r.rescan), 'a rescan batch');
    // deletions through a rescan too
    for (let d = 0; d < 20; d += 2) rmSync(join(s.src, `d${d}`), { recursive: true });
    await eventually('half removed', 30_000, () => listingDiff(hostListing(s.src), hostListing(join(s.ctr, 'app'))) || true);
  } finally { await tearDown(s); }
});

test('an edit right after the previous one was synced is never lost', async () => {
  const s = setUp();
  try {
    await s.watch.start();
    const file = join(s.src, 'app.js');
    for (let i = 0; i < 30; i++) {
      writeFileSync(file, `version ${i}\n`);
      await eventually(`version ${i}`, 10_000, () => { try { return readFileSync(join(s.ctr, 'app', 'app.js'), 'utf8') === `version ${i}\n`; } catch { return false; } });
    }
    // and back-to-back writes with no wait: the last one is what stays
    for (let i = 0; i < 50; i++) writeFileSync(file, `burst ${i}\n`);
    await eventually('the last write', 10_000, () => readFileSync(join(s.ctr, 'app', 'app.js'), 'utf8') === 'burst 49\n');
  } finally { await tearDown(s); }
});

test('a target that is the watched tree itself (a bind mount of it) is left alone: no endless loop', async () => {
  // the "container root" is the base directory, and the target /src is the watched directory
  const s = setUp({ containerRoot: (base) => base, target: '/src' });
  try {
    writeFileSync(join(s.src, 'a.txt'), 'a\n');
    await s.watch.start();
    writeFileSync(join(s.src, 'b.txt'), 'b\n');
    await eventually('the change was handled', 10_000, () => s.reports.some((r) => r.kind === 'synced' && r.paths.some((p) => p.endsWith('b.txt'))));
    await s.watch.settle();
    const synced = s.reports.filter((r) => r.kind === 'synced');
    const last = synced[synced.length - 1];
    assert.ok(last && last.kind === 'synced' && last.stats.written === 0, 'nothing rewritten onto itself');
    // a sentinel change later shows that no batch kept coming
    const before = s.reports.filter((r) => r.kind === 'batch').length;
    writeFileSync(join(s.src, 'c.txt'), 'c\n');
    await eventually('the sentinel', 10_000, () => s.reports.some((r) => r.kind === 'synced' && r.paths.some((p) => p.endsWith('c.txt'))));
    await s.watch.settle();
    assert.ok(s.reports.filter((r) => r.kind === 'batch').length - before <= 2, 'one batch for one change, not a loop');
    assert.equal(readFileSync(join(s.src, 'b.txt'), 'utf8'), 'b\n');
  } finally { await tearDown(s); }
});

test('initial sync copies only what differs: a second start on a synced tree writes nothing; resync fills a fresh replica', async () => {
  const s = setUp();
  try {
    for (let d = 0; d < 10; d++) for (let f = 0; f < 50; f++) { mkdirSync(join(s.src, `d${d}`), { recursive: true }); writeFileSync(join(s.src, `d${d}`, `f${f}`), `${d}.${f}\n`); }
    await s.watch.start();
    const first = s.reports.find((r) => r.kind === 'synced');
    assert.ok(first && first.kind === 'synced' && first.stats.written === 500, JSON.stringify(first));
    assert.equal(listingDiff(hostListing(s.src), hostListing(join(s.ctr, 'app'))), '');
    await s.watch.stop();
    // a new watch over the same tree and container: everything equal, nothing written
    const second = setUp({ reuse: s });
    await second.watch.start();
    const synced = second.reports.find((r) => r.kind === 'synced');
    assert.ok(synced && synced.kind === 'synced' && synced.stats.written === 0 && synced.stats.unchanged >= 500, JSON.stringify(synced));
    // a replica that starts fresh (its files gone) gets them back with resync
    rmSync(join(s.ctr, 'app'), { recursive: true });
    await second.watch.resync('web');
    assert.equal(listingDiff(hostListing(s.src), hostListing(join(s.ctr, 'app'))), '');
    await second.watch.stop();
  } finally { await tearDown(s); }
});
