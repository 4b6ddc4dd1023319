// Bad input thrown at the loader: malformed YAML, wrong types, deep nesting, huge documents,
// alias bombs, duplicate and null keys, deep interpolation, random bytes. Never a crash or a
// stack trace: always a SpecError whose every problem has a file and a line. And the loader
// stays linear. Whatever loads prints a fixpoint (its printed form loads to the same text).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { load } from '../../src/spec/load.js';
import { SpecError } from '../../src/spec/errors.js';
import { memoryFiles } from '../../src/spec/testing.js';
import { renderProject } from '../../src/spec/render.js';

const FILE = '/f/compose.yaml';
function run(text: string) { return load({ files: [FILE], env: {}, cwd: '/f' }, memoryFiles({ [FILE]: text })); }

/** Must fail with a located SpecError and nothing else. */
function rejects(label: string, text: string, want?: RegExp): void {
  let err: unknown;
  try { run(text); } catch (e) { err = e; }
  assert.ok(err instanceof SpecError, `${label}: expected a SpecError, got ${err === undefined ? 'success' : String((err as Error)?.stack ?? err)}`);
  const e = err as SpecError;
  assert.ok(e.issues.length > 0, label);
  for (const i of e.issues) {
    assert.equal(i.file, FILE, `${label}: issue without file: ${JSON.stringify(i)}`);
    assert.ok(i.line > 0 && i.col > 0, `${label}: issue without line/col: ${JSON.stringify(i)}`);
  }
  assert.doesNotMatch(e.message, /\n\s+at .+:\d+:\d+\)?\n/, `${label}: stack trace in message`);
  if (want) assert.match(e.message, want, label);
}

test('malformed YAML', () => {
  const cases = ['services: [', 'services:\n  a: {image: x', 'services:\n\ta: 1', 'services:\n  a:\n    image: "x\n', ': x', 'a: b: c',
    'services:\n  a:\n  image: x\n   b: 1', '---\n- a\n--- b\n: :', 'key: @bad', '%YAML 9.9\n---\nx: 1', 'a: !unknown 1', "'unterminated", 'x: *nope'];
  for (const c of cases) rejects(JSON.stringify(c), c);
});

test('wrong types everywhere', () => {
  const cases: [string, string][] = [
    ['root list', '- a\n- b\n'], ['root scalar', 'hello\n'], ['services list', 'services: [a, b]\n'],
    ['service scalar', 'services:\n  a: 5\n'], ['image map', 'services:\n  a:\n    image: {x: 1}\n'],
    ['ports map', 'services:\n  a:\n    image: x\n    ports: {a: 1}\n'], ['environment scalar', 'services:\n  a:\n    image: x\n    environment: 5\n'],
    ['healthcheck list', 'services:\n  a:\n    image: x\n    healthcheck: [a]\n'], ['deploy replicas list', 'services:\n  a:\n    image: x\n    deploy: {replicas: [1]}\n'],
    ['bad port string', 'services:\n  a:\n    image: x\n    ports: ["80:80:80:80:80"]\n'], ['bad volume', 'services:\n  a:\n    image: x\n    volumes: ["a:b:c:d"]\n'],
    ['bad duration', 'services:\n  a:\n    image: x\n    stop_grace_period: soon\n'], ['bad size', 'services:\n  a:\n    image: x\n    mem_limit: lots\n'],
    ['bad restart', 'services:\n  a:\n    image: x\n    restart: sometimes\n'], ['bad command quoting', 'services:\n  a:\n    image: x\n    command: "echo \\"open"\n'],
    ['neither image nor build', 'services:\n  a:\n    command: x\n'], ['networks number', 'networks: 5\n'],
  ];
  for (const [label, text] of cases) rejects(label, text);
});

test('duplicate keys, null keys and collection keys are refused', () => {
  rejects('duplicate service', 'services:\n  a:\n    image: x\n  a:\n    image: y\n', /duplicate/);
  rejects('duplicate key', 'services:\n  a:\n    image: x\n    image: y\n', /duplicate/);
  rejects('null key', 'services:\n  ~: {image: x}\n', /string key/);
  rejects('empty key', 'services:\n  a:\n    image: x\n    labels:\n      : x\n', /key/);
  rejects('map key', '? {a: 1}\n: x\n', /mapping used as a key/);
  rejects('seq key', '? [a]\n: x\n', /sequence used as a key/);
});

test('number and boolean mapping keys are read as the text written', () => {
  const r = run('services:\n  a:\n    image: x\n    labels:\n      80: http\n      true: "yes"\n      1.50: v\n    sysctls:\n      0x10: "1"\n    extra_hosts:\n      8080: 10.0.0.1\n');
  const a = r.project.services['a']!;
  assert.deepEqual(a.labels, { '80': 'http', true: 'yes', '1.50': 'v' });
  assert.deepEqual(a.sysctls, { '0x10': '1' });
  assert.deepEqual(a.extra_hosts, ['8080=10.0.0.1']);
  rejects('a number key and the same text quoted', 'services:\n  a:\n    image: x\n    labels:\n      80: a\n      "80": b\n', /duplicate/);
  rejects('a boolean key at the top level is an unknown key', 'true: 1\nservices: {a: {image: x}}\n', /unknown key "true"/);
});

/** The fastest of `n` runs of fn, in ms (the least disturbed by other work on the machine). */
function fastest(n: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) { const t0 = performance.now(); fn(); best = Math.min(best, performance.now() - t0); }
  return best;
}

function servicesFile(n: number): string {
  const parts = ['services:'];
  for (let i = 0; i < n; i++) {
    parts.push(`  svc${i}:`, `    image: "nginx:1.${i % 30}"`, `    ports: ["${10000 + i}:80"]`, `    environment: [A=${i}, B=x]`, '    restart: unless-stopped');
    if (i > 0) parts.push(`    depends_on: [svc${i - 1}]`);
  }
  return parts.join('\n') + '\n';
}

test('alias bombs and recursive aliases are refused, before expanding', () => {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]`);
  lines.push('services:\n  s:\n    image: x\n    x-bomb: *a11');
  const bomb = lines.join('\n') + '\n';
  rejects('billion laughs', bomb, /alias/);
  // bounded work, measured against the machine's own speed rather than a wall-clock budget (the
  // suite runs on a loaded machine): refusing the 9^12-node bomb (at most 100,000 nodes are
  // expanded) costs less than loading a 2,500-service file (about 250,000 nodes)
  const bombMs = fastest(3, () => { try { run(bomb); } catch { /* refused */ } });
  const fileMs = fastest(2, () => run(servicesFile(2500)));
  process.stdout.write(`# alias bomb refused in ${bombMs.toFixed(0)} ms; a 2,500-service file loads in ${fileMs.toFixed(0)} ms\n`);
  assert.ok(bombMs < fileMs, `alias bomb took ${bombMs} ms, a 2,500-service file ${fileMs} ms`);
  rejects('recursive alias', 'x-a: &a\n  - *a\nservices: {}\n', /alias/);
  rejects('unknown alias', 'services:\n  a: *nope\n');
});

test('interpolation nested 5,000 deep is refused with a located error, not a stack overflow', () => {
  const deep = `${'${A:-'.repeat(5000)}x${'}'.repeat(5000)}`;
  rejects('deep default', `services:\n  a:\n    image: x\n    environment:\n      V: "${deep}"\n`, /nested more than 64 levels/);
  // set or unset, the same answer: the bound is on the text, not on which operand is evaluated
  let err: unknown;
  try { load({ files: [FILE], env: { A: 'set' }, cwd: '/f' }, memoryFiles({ [FILE]: `services:\n  a:\n    image: "${deep}"\n` })); } catch (e) { err = e; }
  assert.ok(err instanceof SpecError && /nested more than 64 levels/.test(err.message));
  // the depth compose files use still works
  const r = run('services:\n  a:\n    image: "${A:-${B:-${C:-nginx}}}"\n');
  assert.equal(r.project.services['a']!.image, 'nginx');
});

test('anchors, aliases and << merge keys work', () => {
  const r = run('x-base: &base\n  image: nginx\n  environment: {A: "1"}\nx-more: &more\n  tty: true\nservices:\n  a:\n    <<: [*base, *more]\n    environment: {B: "2"}\n  b: *base\n');
  assert.equal(r.project.services['a']!.image, 'nginx');
  assert.equal(r.project.services['a']!.tty, true);
  assert.deepEqual(r.project.services['a']!.environment, { B: '2' });
  assert.deepEqual(r.project.services['b']!.environment, { A: '1' });
});

test('deep nesting', () => {
  rejects('deep flow sequences', `services: {}\nx-deep: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
  rejects('deep flow maps', `services: {}\nx-deep: ${'{a: '.repeat(2000)}1${'}'.repeat(2000)}\n`);
  let block = 'services: {}\nx-deep:\n';
  for (let i = 1; i < 400; i++) block += `${' '.repeat(i)}k:\n`;
  rejects('deep block maps', block + ' '.repeat(400) + 'v\n');
});

test('huge documents: the loader is linear in the number of services', (t) => {
  const big = servicesFile(5000), small = servicesFile(1250);
  assert.equal(Object.keys(run(big).project.services).length, 5000);
  // four times the services must cost about four times as much; a quadratic phase (a list
  // search per service, a merge per dependency) makes it sixteen. Timed as a ratio of two runs
  // on the same machine, so that load from other work on it cancels out.
  const smallMs = fastest(2, () => run(small));
  const bigMs = fastest(2, () => run(big));
  const ratio = bigMs / smallMs;
  t.diagnostic(`5,000 services: ${bigMs.toFixed(0)} ms; 1,250: ${smallMs.toFixed(0)} ms (ratio ${ratio.toFixed(1)})`);
  process.stdout.write(`# 5,000-service file (${(big.length / 1e6).toFixed(2)} MB) loaded in ${bigMs.toFixed(0)} ms, 1,250 in ${smallMs.toFixed(0)} ms: ratio ${ratio.toFixed(1)}\n`);
  assert.ok(ratio < 9, `5,000 services cost ${ratio.toFixed(1)} times 1,250 (linear: 4, quadratic: 16)`);
});

test('a huge string value and a huge list are fine', () => {
  const r = run(`services:\n  a:\n    image: x\n    labels: {big: "${'x'.repeat(2_000_000)}"}\n    dns: [${Array(50_000).fill('1.1.1.1').join(',')}]\n`);
  assert.equal(r.project.services['a']!.labels['big']!.length, 2_000_000);
});

test('random mutations of a valid file never crash the loader', () => {
  const base = 'services:\n  web:\n    image: "nginx:${TAG:-1}"\n    ports: ["8080:80", {target: 443}]\n    volumes: ["./a:/a:ro", "data:/d"]\n    depends_on: {db: {condition: service_healthy}}\n    healthcheck: {test: ["CMD", "true"], interval: 5s}\n  db:\n    image: pg\n    environment: [A=1]\nvolumes:\n  data: {}\n';
  const alphabet = ['', ' ', '\n', ':', '-', '[', ']', '{', '}', '"', "'", '&a', '*a', '!!int ', '$', '${', '#', '\t', '|', '>', '<<', '?', ',', '0', '\u0000', '\uFFFD'];
  let seed = 12345;
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff; return (seed >>> 8) % n; };
  let ok = 0, located = 0;
  for (let i = 0; i < 3000; i++) {
    let s = base;
    for (let k = 0, n = 1 + rnd(3); k < n; k++) {
      const at = rnd(s.length);
      const del = rnd(3);
      s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at + del);
    }
    let printed: string;
    try { printed = renderProject(run(s).project, 'yaml'); ok++; } catch (e) {
      assert.ok(e instanceof SpecError, `mutation ${i} crashed: ${(e as Error)?.stack}\n---\n${s}`);
      for (const is of e.issues) assert.ok(is.file === FILE && is.line > 0, `mutation ${i}: unlocated issue ${JSON.stringify(is)}\n---\n${s}`);
      located++;
      continue;
    }
    // what loads prints a fixpoint
    const again = renderProject(load({ files: ['/g/compose.yaml'], env: {}, cwd: '/g' }, memoryFiles({ '/g/compose.yaml': printed })).project, 'yaml');
    assert.equal(again, printed, `mutation ${i}: printed form is not a fixpoint\n---\n${s}`);
  }
  process.stdout.write(`# random mutations: ${ok} loaded (each a fixpoint), ${located} rejected with located errors, 0 crashes\n`);
});
