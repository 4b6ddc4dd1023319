import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ManualClock } from '../lib/clock.js';
import { Batcher, type Batch } from './batch.js';

function recording(clock: ManualClock, opts: ConstructorParameters<typeof Batcher>[2] = {}): { batcher: Batcher; batches: (Batch & { at: number })[] } {
  const batches: (Batch & { at: number })[] = [];
  const batcher = new Batcher(clock, (b) => { batches.push({ ...b, at: clock.now() }); }, opts);
  return { batcher, batches };
}

test('a single event is flushed once the quiet window has passed, not before', async () => {
  const clock = new ManualClock(1000);
  const { batcher, batches } = recording(clock, { quietMs: 20 });
  batcher.add('a.js');
  await clock.advance(19);
  assert.equal(batches.length, 0);
  await clock.advance(1);
  assert.equal(batches.length, 1);
  assert.deepEqual([...batches[0]!.paths], ['a.js']);
  assert.equal(batches[0]!.at, 1020);
  assert.ok(batcher.idle);
});

test('a burst of 3,000 events 0.1 ms apart is one batch of distinct paths', async () => {
  const clock = new ManualClock();
  const { batcher, batches } = recording(clock, { quietMs: 20, maxWaitMs: 1000 });
  for (let i = 0; i < 3000; i++) {
    batcher.add(`src/f${i % 1500}.js`); // every file twice (create, then close-write)
    await clock.advance(0.1);
  }
  await clock.advance(25);
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.paths.size, 1500);
  assert.equal(batches[0]!.events, 3000);
  assert.equal(batches[0]!.rescan, false);
});

test('a writer that never pauses is cut at maxWait, and nothing is lost between batches', async () => {
  const clock = new ManualClock();
  const { batcher, batches } = recording(clock, { quietMs: 20, maxWaitMs: 100 });
  for (let i = 0; i < 50; i++) { batcher.add(`log${i}`); await clock.advance(10); }
  await clock.advance(30);
  assert.ok(batches.length >= 4 && batches.length <= 6, `${batches.length} batches`);
  for (const b of batches.slice(0, -1)) assert.ok(b.at - b.firstAt <= 100, 'flushed by maxWait');
  const all = batches.flatMap((b) => [...b.paths]);
  assert.equal(new Set(all).size, 50);
  assert.equal(all.length, 50);
});

test('batches are applied one at a time: events during a flush gather in the next batch', async () => {
  const clock = new ManualClock();
  const applied: string[][] = [];
  let release!: () => void;
  let active = 0;
  let maxActive = 0;
  const batcher = new Batcher(clock, async (b) => {
    active++;
    maxActive = Math.max(maxActive, active);
    applied.push([...b.paths]);
    if (applied.length === 1) await new Promise<void>((r) => { release = r; });
    active--;
  }, { quietMs: 20 });
  batcher.add('one');
  await clock.advance(20);
  assert.equal(applied.length, 1);
  batcher.add('two');
  batcher.add('three');
  await clock.advance(100);
  assert.equal(applied.length, 1, 'the second batch waits for the first');
  release();
  await batcher.settle();
  assert.deepEqual(applied, [['one'], ['two', 'three']]);
  assert.equal(maxActive, 1);
});

test('past maxPaths the batch becomes a rescan and holds no paths (bounded memory)', async () => {
  const clock = new ManualClock();
  const { batcher, batches } = recording(clock, { maxPaths: 1000 });
  for (let i = 0; i < 100_000; i++) {
    batcher.add(`f${i}`);
    assert.ok(batcher.size <= 1000);
  }
  await clock.advance(20);
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.rescan, true);
  assert.equal(batches[0]!.paths.size, 0);
  assert.equal(batches[0]!.events, 100_000);
  // the next batch is a normal one again
  batcher.add('after');
  await clock.advance(20);
  assert.deepEqual([...batches[1]!.paths], ['after']);
  assert.equal(batches[1]!.rescan, false);
});

test('lost events (overflow) make the batch a rescan', async () => {
  const clock = new ManualClock();
  const { batcher, batches } = recording(clock);
  batcher.add('a');
  batcher.addRescan();
  batcher.add('b');
  await clock.advance(20);
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.rescan, true);
  assert.equal(batches[0]!.paths.size, 0);
});

test('settle flushes at once without waiting for quiet; close drops what is gathered', async () => {
  const clock = new ManualClock();
  const { batcher, batches } = recording(clock, { quietMs: 1000 });
  batcher.add('now');
  await batcher.settle();
  assert.equal(batches.length, 1);
  assert.equal(clock.now(), 0, 'no time passed');
  batcher.add('dropped');
  await batcher.close();
  await clock.advance(5000);
  assert.equal(batches.length, 1);
  batcher.add('after close');
  await clock.advance(5000);
  assert.equal(batches.length, 1);
  assert.equal(clock.pending(), 0, 'no sleeper left');
});

test('a flush that throws is reported and the next batch still runs', async () => {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const seen: string[] = [];
  const batcher = new Batcher(clock, (b) => {
    seen.push(...b.paths);
    if (seen.length === 1) throw new Error('container gone');
  }, {}, (e) => errors.push(e));
  batcher.add('x');
  await clock.advance(20);
  batcher.add('y');
  await clock.advance(20);
  assert.deepEqual(seen, ['x', 'y']);
  assert.equal(errors.length, 1);
});
