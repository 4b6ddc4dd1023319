// coalesced(): calls before a run begins share it; calls during a run get exactly one more; a
// failed run rejects its own callers only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coalesced, nextTurn } from './coalesce.js';

test('calls in one turn share one run, which begins on the next turn', async () => {
  let runs = 0;
  const run = coalesced(() => { runs++; });
  const calls = Array.from({ length: 30 }, () => run());
  assert.equal(runs, 0, 'nothing runs in the caller\'s turn');
  await Promise.all(calls);
  assert.equal(runs, 1);
});

test('calls made while a run goes get one more run after it, not one each', async () => {
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const run = coalesced(async () => {
    runs++;
    if (runs === 1) await gate;
  });
  const first = run();
  for (let i = 0; i < 5; i++) await nextTurn();
  assert.equal(runs, 1, 'the first run has begun and waits');
  const during = Array.from({ length: 30 }, () => run());
  release();
  await first;
  await Promise.all(during);
  assert.equal(runs, 2);
});

test('a failed run rejects its callers; the next run still happens', async () => {
  let runs = 0;
  const run = coalesced(() => {
    runs++;
    if (runs === 1) throw new Error('first fails');
  });
  await assert.rejects(run(), /first fails/);
  await run();
  assert.equal(runs, 2);
});
