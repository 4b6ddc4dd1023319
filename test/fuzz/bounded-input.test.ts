// Bounded input (issue 15, the loader's part): every file the loader reads for a project — the
// compose files, include, extends, env_file, .env and --env-file — must be a regular file of at
// most 4 MiB. A FIFO, /dev/zero or a 5 MiB file is a clear, located error (file:line:col where
// there is one), found at once: no hang, no endless read, no out-of-memory abort. Real files in a
// temporary directory, through the same door the CLI uses (loadProject), and the CLI itself.
import { test, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject, SpecError, type SpecIssue } from '../../src/spec/index.js';
import { MAX_INPUT_FILE_BYTES } from '../../src/spec/limits.js';
import { berth, makeRoots, cleanupRoots, type TestRoots } from '../helpers/env.js';

let dir: string;
let roots: TestRoots;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-bounded-'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  roots = makeRoots();
});
after(() => { rmSync(dir, { recursive: true, force: true }); cleanupRoots(roots); });

/** Loads `files` (written into a fresh project directory) and returns the issues; fails if it loads. */
async function refused(files: Record<string, string>, opts: { files?: string[]; envFiles?: string[] } = {}): Promise<readonly SpecIssue[]> {
  const p = mkdtempSync(join(dir, 'p-'));
  for (const [name, text] of Object.entries(files)) { mkdirSync(join(p, name, '..'), { recursive: true }); writeFileSync(join(p, name), text); }
  const t0 = performance.now();
  try {
    await loadProject({ env: {}, cwd: p, ...opts });
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${(e as Error).stack}`);
    assert.doesNotMatch(e.message, /bug in berth|\n\s+at .+:\d+:\d+/);
    // found at once: the file is never read past its first stat (a generous bound, not a timing test)
    assert.ok(performance.now() - t0 < 20_000);
    return e.issues;
  }
  assert.fail('expected the project to be refused');
}

test('-f naming a FIFO or /dev/zero is refused without reading it', async () => {
  const fifo = await refused({}, { files: [join(dir, 'fifo')] });
  assert.deepEqual([fifo[0]!.file, fifo[0]!.found], [join(dir, 'fifo'), 'a FIFO (named pipe)']);
  assert.match(fifo[0]!.expected, /regular file of at most 4 MiB/);
  const zero = await refused({}, { files: ['/dev/zero'] });
  assert.equal(zero[0]!.found, 'a character device');
});

test('include, extends and env_file naming a FIFO or /dev/zero are located errors', async () => {
  const inc = await refused({ 'compose.yaml': `include:\n  - ${join(dir, 'fifo')}\nservices:\n  a: {image: x}\n` });
  assert.deepEqual([inc[0]!.keyPath, inc[0]!.line], ['include[0]', 2]);
  assert.match(inc[0]!.found, /a FIFO/);
  const ext = await refused({ 'compose.yaml': 'services:\n  a:\n    extends: {file: /dev/zero, service: b}\n' });
  assert.deepEqual([ext[0]!.keyPath, ext[0]!.line], ['services.a.extends.file', 3]);
  assert.match(ext[0]!.found, /character device/);
  const env = await refused({ 'compose.yaml': `services:\n  a:\n    image: x\n    env_file: [ok.env, ${join(dir, 'fifo')}]\n`, 'ok.env': 'A=1\n' });
  assert.deepEqual([env[0]!.keyPath, env[0]!.line], ['services.a.env_file[1]', 4]);
  const incEnv = await refused({ 'compose.yaml': 'include:\n  - path: sub.yaml\n    env_file: /dev/zero\n', 'sub.yaml': 'services: {a: {image: x}}\n' });
  assert.equal(incEnv[0]!.keyPath, 'include[0].env_file');
});

test('.env and --env-file that are not regular files are refused; a .env directory is skipped', async () => {
  const p = mkdtempSync(join(dir, 'dotenv-'));
  writeFileSync(join(p, 'compose.yaml'), 'services: {a: {image: x}}\n');
  execFileSync('mkfifo', [join(p, '.env')]);
  await assert.rejects(loadProject({ env: {}, cwd: p }), (e: unknown) => e instanceof SpecError && e.issues[0]!.file === join(p, '.env') && /FIFO/.test(e.issues[0]!.found));
  const flag = await refused({ 'compose.yaml': 'services: {a: {image: x}}\n' }, { envFiles: ['/dev/zero'] });
  assert.deepEqual([flag[0]!.keyPath, flag[0]!.found], ['--env-file', 'a character device']);
  const q = mkdtempSync(join(dir, 'dotenvdir-'));
  writeFileSync(join(q, 'compose.yaml'), 'services: {a: {image: x}}\n');
  mkdirSync(join(q, '.env'));
  assert.equal((await loadProject({ env: {}, cwd: q })).project.services['a']!.image, 'x');
});

test('a compose file above 4 MiB is refused before parsing; one just below loads', async () => {
  const big = `services:\n  a:\n    image: x\n    labels: {big: "${'x'.repeat(MAX_INPUT_FILE_BYTES)}"}\n`;
  const i = await refused({ 'compose.yaml': big });
  assert.match(i[0]!.found, /a file of 4\.0 MiB/);
  const fits = `services:\n  a:\n    image: x\n    labels: {big: "${'x'.repeat(MAX_INPUT_FILE_BYTES - 100)}"}\n`;
  const p = mkdtempSync(join(dir, 'fits-'));
  writeFileSync(join(p, 'compose.yaml'), fits);
  assert.equal((await loadProject({ env: {}, cwd: p })).project.services['a']!.labels['big']!.length, MAX_INPUT_FILE_BYTES - 100);
});

test('berth config, convert and up -f - with more than 4 MiB on stdin exit 15 with a clear error', async () => {
  const input = `services:\n  a:\n    image: x\n    x-pad: "${'y'.repeat(MAX_INPUT_FILE_BYTES)}"\n`;
  for (const verb of [['config'], ['convert'], ['up', '-d']]) {
    const r = await berth(roots, ['compose', '-f', '-', ...verb], { input });
    assert.equal(r.code, 15, `${verb.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /<stdin>: expected a compose file on stdin: a regular file of at most 4 MiB/);
    assert.doesNotMatch(r.stderr, /bug in berth/);
  }
});

test('berth config -f FIFO exits 15 at once instead of waiting for a writer', async () => {
  const r = await berth(roots, ['config', '-f', join(dir, 'fifo')], { timeoutMs: 20_000 });
  assert.equal(r.code, 15, r.stderr);
  assert.match(r.stderr, /fifo: expected a compose file: a regular file of at most 4 MiB, found a FIFO \(named pipe\)/);
});
