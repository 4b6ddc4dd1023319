import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContainerId, randomName, validateName } from './names.js';
import { parseSignal, signalName } from './signals.js';

test('container ids are 64 lower-case hex characters and differ', () => {
  const a = newContainerId();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, newContainerId());
});

test('generated names follow adjective_noun and avoid taken ones', () => {
  const taken = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const n = randomName((x) => taken.has(x));
    assert.match(n, /^[a-z]+_[a-z]+\d*$/);
    assert.ok(!taken.has(n));
    taken.add(n);
  }
});

test("names follow Docker's pattern; a leading slash is dropped", () => {
  assert.equal(validateName('web-1'), 'web-1');
  assert.equal(validateName('/web_1.a'), 'web_1.a');
  assert.throws(() => validateName('-bad'), /invalid container name/);
  assert.throws(() => validateName('a'), /invalid container name/);
  assert.throws(() => validateName('sp ace'), /invalid container name/);
});

test('signals by name, SIG-prefixed name, number and real-time offset', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX'), 64);
  assert.throws(() => parseSignal('SIGNOPE'), /invalid signal/);
  assert.throws(() => parseSignal('65'), /invalid signal/);
  assert.equal(signalName(15), 'SIGTERM');
});
