// The engine's idle hook on a manual clock: it runs once a quiet spell, only after quietMs with
// nothing in flight, never while work is in flight, and never after close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../lib/clock.js';
import { idleWatch } from './idle.js';

const QUIET = 2_000;

function setUp(onIdle: () => void = () => {}): { clock: ManualClock; watch: ReturnType<typeof idleWatch>; logged: string[] } {
  const clock = new ManualClock(1_000_000);
  const logged: string[] = [];
  const watch = idleWatch({ clock, quietMs: QUIET, onIdle, log: (l) => logged.push(l) });
  return { clock, watch, logged };
}

test('runs once quietMs after the last piece of work ended, and not before', async () => {
  const at: number[] = [];
  const { clock, watch } = setUp(() => at.push(clock.now()));
  watch.busy()();
  const ended = clock.now();
  await clock.advance(QUIET - 1);
  assert.equal(watch.runs, 0, 'not yet');
  await clock.advance(1);
  assert.deepEqual(at, [ended + QUIET]);
  await clock.advance(10 * QUIET);
  assert.equal(watch.runs, 1, 'once per quiet spell, not on a period');
});

test('work that starts within quietMs pushes it back: a burst of requests gets one run, after the last', async () => {
  const { clock, watch } = setUp();
  for (let i = 0; i < 5; i++) {
    watch.busy()();
    await clock.advance(QUIET - 100);
  }
  assert.equal(watch.runs, 0, 'never between two requests of the burst');
  await clock.advance(100);
  assert.equal(watch.runs, 1);
  assert.equal(clock.pending(), 0, 'no timer left waiting');
});

test('never while work is in flight, however long it takes; the last of overlapping pieces arms it', async () => {
  const { clock, watch } = setUp();
  const long = watch.busy();
  const short = watch.busy();
  short();
  await clock.advance(10 * QUIET);
  assert.equal(watch.runs, 0, 'a long request (an attached stream, a long up) is not idle time');
  long();
  long(); // a second call of the same release counts once
  await clock.advance(QUIET);
  assert.equal(watch.runs, 1);
  const again = watch.busy();
  short(); // an old release does not end the new piece of work
  await clock.advance(10 * QUIET);
  assert.equal(watch.runs, 1, 'the new piece is still in flight');
  again();
  await clock.advance(QUIET);
  assert.equal(watch.runs, 2, 'a new quiet spell, a new run');
});

test('an onIdle that throws is logged and the next spell runs again', async () => {
  let calls = 0;
  const { clock, watch, logged } = setUp(() => { calls++; throw new Error('no libc'); });
  watch.busy()();
  await clock.advance(QUIET);
  assert.deepEqual(logged, ['idle: no libc']);
  watch.busy()();
  await clock.advance(QUIET);
  assert.equal(calls, 2);
});

test('close() cancels a pending run, and nothing runs after it', async () => {
  const { clock, watch } = setUp();
  watch.busy()();
  await clock.advance(QUIET / 2);
  watch.close();
  assert.equal(clock.pending(), 0);
  watch.busy()();
  await clock.advance(10 * QUIET);
  assert.equal(watch.runs, 0);
});
