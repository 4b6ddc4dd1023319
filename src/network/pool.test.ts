import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { SandboxPool, poolSizeFromEnv, MAX_POOL } from './pool.js';
import type { Step } from './steps.js';

test('BERTH_NETNS_POOL: absent or empty follows the warm slots, 0 disables, up to the maximum is taken, anything else is refused', () => {
  assert.equal(poolSizeFromEnv(undefined, 2), 2);
  assert.equal(poolSizeFromEnv('', 0), 0);
  assert.equal(poolSizeFromEnv('0', 2), 0);
  assert.equal(poolSizeFromEnv(String(MAX_POOL), 2), MAX_POOL);
  for (const bad of ['-1', '1.5', 'x', String(MAX_POOL + 1)]) assert.throws(() => poolSizeFromEnv(bad, 2), /BERTH_NETNS_POOL must be a number from 0 to 16/, bad);
});

/** A pool over a recording berth-net and resolver; `idle` is released by the test. */
function fakePool(size: number) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pool-'));
  const runs: Step[][] = [];
  const endpoints = new Set<string>();
  let release: () => void = () => {};
  let idle = Promise.resolve();
  const pool = new SandboxPool({
    size, netnsDir: join(dir, 'netns'), markerDir: join(dir, 'pool'),
    net: async (steps) => { runs.push([...steps]); },
    idle: () => idle,
    netd: { write: (id) => { endpoints.add(id); }, remove: (id) => { endpoints.delete(id); }, ensureRunning: () => {}, settled: async () => {} },
  });
  return {
    pool, runs, endpoints, dir,
    markers: () => { try { return readdirSync(join(dir, 'pool')).sort(); } catch { return []; } },
    busy: () => { idle = new Promise((r) => { release = r; }); },
    free: () => release(),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await turn();
  assert.ok(check(), what);
}

test('the pool fills in one berth-net run once warmed, hands each member out once, and refills after a take', async () => {
  const f = fakePool(2);
  assert.equal(f.pool.take(), undefined, 'nothing before warm()');
  f.pool.warm();
  await until('full', () => f.pool.stats().idle === 2);
  assert.equal(f.runs.length, 1);
  assert.deepEqual(f.runs[0]!.map((s) => s[0]), ['netns_create', 'netns_create']);
  assert.equal(f.markers().length, 2, 'a marker per member, written before its namespace');
  assert.equal(f.endpoints.size, 2, 'the resolver serves each member');
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const m = f.pool.take();
    if (m) { assert.ok(!seen.has(m.path), 'never the same member twice'); seen.add(m.path); assert.ok(!f.pool.holds(m.path)); f.pool.unmark(m.id); f.endpoints.delete(`pool-${m.id}`); }
    await until('refilled', () => f.pool.stats().idle === 2);
  }
  assert.equal(seen.size, 6);
  assert.equal(f.pool.stats().claimed, 6);
  await f.pool.stop();
  assert.equal(f.pool.stats().idle, 0);
  assert.deepEqual(f.markers(), [], 'stop deletes the idle members and their markers');
  assert.equal(f.endpoints.size, 0);
  assert.deepEqual(f.runs.at(-1)!.map((s) => s[0]), ['netns_delete', 'netns_delete']);
  f.done();
});

test('a refill waits until no container\'s network work is in flight, and none starts after stop()', async () => {
  const f = fakePool(1);
  f.busy();
  f.pool.warm();
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(f.runs.length, 0, 'no namespace is made while a container\'s network work runs');
  f.free();
  await until('full', () => f.pool.stats().idle === 1);
  f.busy();
  f.pool.take();
  const stopping = f.pool.stop();
  f.free();
  await stopping;
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(f.pool.stats().idle, 0);
  assert.deepEqual(f.runs.filter((r) => r[0]![0] === 'netns_create').length, 1, 'no fill after stop');
  f.done();
});

test('a size of 0 never makes anything', async () => {
  const f = fakePool(0);
  f.pool.warm();
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(f.pool.take(), undefined);
  assert.equal(f.runs.length, 0);
  f.done();
});
