// The CLI's public surface and its answers to bad input: clear one-line errors, Docker's exit
// codes, never a stack trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, berth, cleanupRoots, repoRoot, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;
before(() => { roots = makeRoots(); });
after(() => cleanupRoots(roots));

const VERBS = ['run', 'exec', 'ps', 'logs', 'stop', 'kill', 'rm', 'inspect', 'images', 'load', 'import', 'rmi', 'config', 'convert', 'up', 'down', 'ls', 'compose', 'pause', 'unpause', 'engine'];

test('--version prints the package version', async () => {
  const r = await berth(roots, ['--version']);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  assert.equal(r.stdout, `berth version ${pkg.version}\n`);
  assert.equal(r.code, 0);
});

test('--help lists exactly the verbs berth has today', async () => {
  const r = await berth(roots, ['--help']);
  assert.equal(r.code, 0);
  const listed = [...r.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((v) => v !== 'help');
  assert.deepEqual(listed.sort(), [...VERBS].sort());
});

test('run --help pins the run flags', async () => {
  const r = await berth(roots, ['run', '--help']);
  for (const flag of ['--rm', '--detach', '--name', '--env', '--workdir', '--user', '--hostname', '--init', '--memory', '--memory-swap',
    '--cpu-shares', '--cpus', '--cpuset-cpus', '--pids-limit', '--stop-signal', '--entrypoint', '--interactive', '--tty']) {
    assert.match(r.stdout, new RegExp(`${flag}\\b`), `run has ${flag}`);
  }
});

function assertCleanError(r: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('bad input gets a clear error and a non-zero exit, never a stack trace', async () => {
  assertCleanError(await berth(roots, ['run', 'no-such-image', 'true']), 125, /no such image: no-such-image/);
  assertCleanError(await berth(roots, ['run', '-m', 'lots', 'x', 'true']), 125, /invalid memory limit: "lots"/);
  assertCleanError(await berth(roots, ['run', '--cpus', '-1', 'x', 'true']), 125, /cpus/);
  assertCleanError(await berth(roots, ['run', '--bogus', 'x']), 125, /unknown option '--bogus'/);
  assertCleanError(await berth(roots, ['rm', 'nope']), 1, /no such container: nope/);
  assertCleanError(await berth(roots, ['logs', 'nope']), 125, /no such container: nope/);
  assertCleanError(await berth(roots, ['load', '-i', '/nonexistent.tar']), 125, /nonexistent\.tar/);
  assertCleanError(await berth(roots, ['stop', '-t', 'soon', 'x']), 125, /invalid argument "soon"/);
});
