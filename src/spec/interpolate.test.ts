import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { substitute, TemplateError, interpolateTree } from './interpolate.js';
import { parseYaml } from './parse.js';

const env: Record<string, string> = { VAR: 'value', EMPTY: '', FOO: 'foo' };
const look = (n: string): string | undefined => env[n];
const sub = (s: string): string => substitute(s, look);

test('direct substitution: $VAR and ${VAR}', () => {
  assert.equal(sub('$VAR'), 'value');
  assert.equal(sub('${VAR}'), 'value');
  assert.equal(sub('a-${VAR}-b'), 'a-value-b');
  assert.equal(sub('$VAR.x'), 'value.x');
});

test('unset variable without default: empty string and a warning', () => {
  const unset: string[] = [];
  assert.equal(substitute('x${NOPE}y', look, (n) => unset.push(n)), 'xy');
  assert.deepEqual(unset, ['NOPE']);
});

test('${VAR:-default}: default when unset or empty', () => {
  assert.equal(sub('${VAR:-d}'), 'value');
  assert.equal(sub('${EMPTY:-d}'), 'd');
  assert.equal(sub('${NOPE:-d}'), 'd');
});

test('${VAR-default}: default only when unset', () => {
  assert.equal(sub('${VAR-d}'), 'value');
  assert.equal(sub('${EMPTY-d}'), '');
  assert.equal(sub('${NOPE-d}'), 'd');
});

test('${VAR:?err} and ${VAR?err}: required values', () => {
  assert.equal(sub('${VAR:?err}'), 'value');
  assert.throws(() => sub('${EMPTY:?must be set}'), (e: unknown) => e instanceof TemplateError && /must be set/.test(e.message));
  assert.throws(() => sub('${NOPE:?err}'), TemplateError);
  assert.equal(sub('${EMPTY?err}'), '');
  assert.throws(() => sub('${NOPE?err}'), TemplateError);
});

test('${VAR:+alt} and ${VAR+alt}: alternative values', () => {
  assert.equal(sub('${VAR:+alt}'), 'alt');
  assert.equal(sub('${EMPTY:+alt}'), '');
  assert.equal(sub('${NOPE:+alt}'), '');
  assert.equal(sub('${EMPTY+alt}'), 'alt');
  assert.equal(sub('${NOPE+alt}'), '');
});

test('nested interpolation (the spec examples)', () => {
  assert.equal(sub('${VARIABLE:-${FOO}}'), 'foo');
  assert.throws(() => sub('${VARIABLE?$FOO}'), (e: unknown) => e instanceof TemplateError && /foo/.test(e.message));
  assert.equal(sub('${VARIABLE:-${FOO:-default}}'), 'foo');
  assert.equal(sub('${VARIABLE:-${NOPE:-default}}'), 'default');
  assert.equal(sub('${VAR:-${NOPE}}'), 'value');
});

test('$$ escapes a literal dollar (the spec example)', () => {
  assert.equal(sub('$$VAR_NOT_INTERPOLATED_BY_COMPOSE'), '$VAR_NOT_INTERPOLATED_BY_COMPOSE');
  assert.equal(sub('a$$b'), 'a$b');
  assert.equal(sub('$${VAR}'), '${VAR}');
});

test('a $ not followed by a name or brace is kept', () => {
  assert.equal(sub('cost $5'), 'cost $5');
  assert.equal(sub('end$'), 'end$');
  assert.equal(sub('$ x'), '$ x');
});

test('unsupported shell forms and unterminated braces are errors', () => {
  assert.throws(() => sub('${VAR/foo/bar}'), TemplateError);
  assert.throws(() => sub('${VAR'), TemplateError);
  assert.throws(() => sub('${}'), TemplateError);
  assert.throws(() => sub('${1}'), TemplateError);
});

test('interpolation applies to values, not keys, and casts typed fields', () => {
  const src = 'services:\n  ${VAR}:\n    image: "img:${FOO}"\n    tty: "${T}"\n    deploy:\n      replicas: "${N}"\n    cpus: "${C}"\n';
  const [tree] = parseYaml(src, '/c.yaml', new Map([['/c.yaml', src]]));
  const r = interpolateTree(tree!, (n) => ({ FOO: '1', T: 'true', N: '3', C: '0.5' } as Record<string, string>)[n], new Map());
  assert.deepEqual(r.issues, []);
  assert.deepEqual(JSON.parse(JSON.stringify(r.tree)), { services: { '${VAR}': { image: 'img:1', tty: true, deploy: { replicas: 3 }, cpus: 0.5 } } });
});

test('a failed cast is a located error', () => {
  const src = 'services:\n  a:\n    tty: "${T}"\n';
  const [tree] = parseYaml(src, '/c.yaml', new Map([['/c.yaml', src]]));
  const r = interpolateTree(tree!, () => 'perhaps', new Map([['/c.yaml', src]]));
  assert.equal(r.issues.length, 1);
  assert.equal(r.issues[0]!.keyPath, 'services.a.tty');
  assert.equal(r.issues[0]!.line, 3);
  assert.equal(r.issues[0]!.col, 10);
});
