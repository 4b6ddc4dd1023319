import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SLOTS, MAX_SLOTS, slotsFromEnv } from './slots.js';

test('BERTH_SLOTS: absent or empty is the default, 0 disables, a number up to the maximum is taken, anything else is refused', () => {
  assert.equal(slotsFromEnv(undefined), DEFAULT_SLOTS);
  assert.equal(slotsFromEnv(''), DEFAULT_SLOTS);
  assert.equal(slotsFromEnv('0'), 0);
  assert.equal(slotsFromEnv('5'), 5);
  assert.equal(slotsFromEnv(String(MAX_SLOTS)), MAX_SLOTS);
  for (const bad of ['-1', '1.5', 'two', ' 2', String(MAX_SLOTS + 1), '1e3']) assert.throws(() => slotsFromEnv(bad), /BERTH_SLOTS must be a number from 0 to 16/, bad);
});
