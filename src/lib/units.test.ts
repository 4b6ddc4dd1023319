import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBytes, formatSize, humanDuration, dockerStatus } from './units.js';

test('parseBytes reads Docker units as binary multiples', () => {
  assert.equal(parseBytes('64m'), 64 * 1024 * 1024);
  assert.equal(parseBytes('1g'), 1024 ** 3);
  assert.equal(parseBytes('512K'), 512 * 1024);
  assert.equal(parseBytes('100'), 100);
  assert.equal(parseBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseBytes('64mb'), 64 * 1024 * 1024);
  assert.throws(() => parseBytes('lots'), /invalid size/);
  assert.throws(() => parseBytes('-5m'), /invalid size/);
});

test('formatSize prints 3 significant digits in decimal units', () => {
  assert.equal(formatSize(0), '0B');
  assert.equal(formatSize(999), '999B');
  assert.equal(formatSize(4_264_000), '4.26MB');
  assert.equal(formatSize(1_200), '1.2kB');
});

test('humanDuration matches Docker wording', () => {
  assert.equal(humanDuration(300), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(42_000), '42 seconds');
  assert.equal(humanDuration(61_000), 'About a minute');
  assert.equal(humanDuration(5 * 60_000), '5 minutes');
  assert.equal(humanDuration(3600_000), 'About an hour');
  assert.equal(humanDuration(5 * 3600_000), '5 hours');
  assert.equal(humanDuration(3 * 24 * 3600_000), '3 days');
});

test('dockerStatus writes the STATUS column as Docker does', () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  assert.equal(dockerStatus('running', 0, '2026-01-01T00:00:55Z', undefined, now), 'Up 5 seconds');
  assert.equal(dockerStatus('running', 0, '2026-01-01T00:00:55Z', undefined, now, 'healthy'), 'Up 5 seconds (healthy)');
  assert.equal(dockerStatus('exited', 3, undefined, '2026-01-01T00:00:30Z', now), 'Exited (3) 30 seconds ago');
  assert.equal(dockerStatus('exited', 3, undefined, undefined, now), 'Exited (3)');
  assert.equal(dockerStatus('created', 0, undefined, undefined, now), 'Created');
});
