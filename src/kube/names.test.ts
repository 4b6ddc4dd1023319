// Name mapping: every name becomes a valid DNS label, valid names are kept, different names never
// collide, the result does not depend on order, and the annotation gives the compose name back.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { LABEL, NAME_ANNOTATION, NameTable, dataKey, labelValue, originalName, readableLabel } from './names.js';

test('valid names are kept; others become readable labels', () => {
  const t = new NameTable().assignAll(['web', 'My_DB', 'redis.cache', '1st', 'a'.repeat(70), '_x_']);
  assert.equal(t.assign('web'), 'web');
  assert.equal(t.assign('My_DB'), 'my-db');
  assert.equal(t.assign('redis.cache'), 'redis-cache');
  assert.equal(t.assign('1st'), 'x-1st');
  assert.equal(t.assign('_x_'), 'x--x');
  assert.match(t.assign('a'.repeat(70)), LABEL);
  assert.equal(readableLabel('---'), 'x');
});

test('collisions get a stable hash, and valid names win whatever the order', () => {
  const names = ['my-db', 'my_db', 'My_DB', 'my.db', 'MY-DB'];
  const a = new NameTable().assignAll(names);
  const b = new NameTable().assignAll([...names].reverse());
  const mapped = names.map((n) => a.assign(n));
  assert.equal(a.assign('my-db'), 'my-db');
  assert.equal(new Set(mapped).size, names.length);
  for (const n of names) assert.equal(a.assign(n), b.assign(n), n);
  for (const m of mapped) assert.match(m, LABEL);
});

test('round trip: random names map to distinct valid labels, and back through the annotation', () => {
  let seed = 3;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = 'abcXYZ019_.-';
  for (let round = 0; round < 200; round++) {
    const names = [...new Set(Array.from({ length: 1 + rnd(30) }, () => Array.from({ length: 1 + rnd(rnd(5) === 0 ? 80 : 8) }, () => alphabet[rnd(alphabet.length)]).join('')))];
    const t = new NameTable().assignAll(names);
    const seen = new Map<string, string>();
    for (const n of names) {
      const k = t.assign(n);
      assert.match(k, LABEL, `${n} → ${k}`);
      assert.ok(!seen.has(k), `${n} and ${seen.get(k)} both → ${k}`);
      seen.set(k, n);
      const object = { metadata: { name: k, ...(k !== n ? { annotations: { [NAME_ANNOTATION]: n } } : {}) } };
      assert.equal(originalName(object), n);
      if (LABEL.test(n) && n.length <= 63) assert.equal(k, n, 'a valid name is kept');
    }
  }
});

test('label values and data keys', () => {
  assert.equal(labelValue('my_project'), 'my_project');
  assert.equal(labelValue(''), '');
  for (const v of ['x'.repeat(64), 'ends_', '-starts', 'a b']) {
    const l = labelValue(v);
    assert.match(l, /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/, v);
    assert.notEqual(l, labelValue(v + 'x'));
  }
  assert.equal(dataKey('nginx.conf'), 'nginx.conf');
  assert.match(dataKey('my file!'), /^[-._a-zA-Z0-9]+$/);
  assert.notEqual(dataKey('a b'), dataKey('a_b'));
  assert.notEqual(dataKey('..'), '..');
});
