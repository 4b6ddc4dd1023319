// The YAML writer: its output parses back (with the `yaml` library, YAML 1.2 and 1.1) to the same
// value, for manifests and for random strings; and it reads the way kubectl prints.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { toYaml } from './yaml.js';

function roundTrip(v: unknown, label = JSON.stringify(v)): void {
  const text = toYaml(v);
  assert.deepEqual(parse(text), v, `${label}\n--- written:\n${text}`);
  assert.deepEqual(parse(text, { version: '1.1' }), v, `YAML 1.1: ${label}\n--- written:\n${text}`);
}

test('golden: a small manifest', () => {
  const text = toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web' } }, data: { 'nginx.conf': 'server {\n  listen 80;\n}\n', empty: '' }, list: [{ a: 1, b: [true, null] }, 'x'], none: [] }, ['a note', 'two\nlines']);
  assert.equal(text, [
    '# a note',
    '# two',
    '# lines',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: web',
    '  labels:',
    '    app.kubernetes.io/name: web',
    'data:',
    '  nginx.conf: |',
    '    server {',
    '      listen 80;',
    '    }',
    '  empty: ""',
    'list:',
    '- a: 1',
    '  b:',
    '  - true',
    '  - null',
    '- x',
    'none: []',
    '',
  ].join('\n'));
});

test('strings YAML would read as something else are quoted', () => {
  for (const s of ['true', 'no', 'Yes', 'ON', 'off', 'null', '~', '1', '0x10', '1e3', '1:30', '.inf', '-1', '', ' x', 'x ', 'a: b', 'a #b', '#x', '- x', '[x]', '{x}', '*x', '&x', '!x', '|', '>', '%x', '@x', '`x', "'x", '"x', 'y', 'n', '2024-01-01', '0o17', '+1', '.5', 'x:', 'x: ', 'tab\there']) {
    roundTrip({ k: s, [s]: 'v' });
    roundTrip([s]);
  }
});

test('multi-line strings: literal blocks where they are exact, JSON strings otherwise', () => {
  const cases = ['a\nb', 'a\nb\n', 'a\nb\n\n', 'a\nb\n\n\n', '\na', '\n\na\n', '  indented\nnext', '\n  indented first\n', 'a\n\n\nb', 'trailing  \nspaces  ', 'tab\tin\nblock', '\n', '\n\n', 'a\r\nb', 'x\n# not a comment\n---\n...\n', 'unicode é ✓ 😀\nline'];
  for (const s of cases) { roundTrip({ key: s }); roundTrip([s]); roundTrip({ deep: { deeper: [{ k: s }] } }); }
  assert.match(toYaml({ k: 'a\nb\n' }), /k: \|\n {2}a\n {2}b\n$/);
});

test('random strings and shapes round-trip', () => {
  let seed = 42;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = 'aZ09 -_:#&*!|>\'"%@`{}[],?\n\t\\$.~=/\u00e9\u2028\u0085\u0000\ud83d\ude00';
  const str = (): string => Array.from({ length: rnd(12) }, () => alphabet[rnd(alphabet.length)]).join('');
  const value = (depth: number): unknown => {
    switch (depth > 3 ? rnd(4) : rnd(7)) {
      case 0: return str();
      case 1: return rnd(1000) - 500;
      case 2: return rnd(2) === 0;
      case 3: return null;
      case 4: return Array.from({ length: rnd(4) }, () => value(depth + 1));
      default: return Object.fromEntries(Array.from({ length: rnd(4) }, () => [str(), value(depth + 1)]));
    }
  };
  for (let i = 0; i < 2000; i++) {
    const v = { root: value(0) };
    roundTrip(v, `case ${i}: ${JSON.stringify(v)}`);
  }
});
