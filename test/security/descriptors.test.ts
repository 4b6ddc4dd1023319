// Inherited file descriptors (class: a descriptor leaked into the container, the way out of
// runc's CVE-2024-21626 "Leaky Vessels"). Whatever the caller's shell left open must not be open
// in the container's PID 1, in an exec'd process, nor usable as an exec working directory, and an
// engine the CLI starts in the background must not inherit it either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { attackRoots, berthOk, eventually, type TestRoots } from './harness.js';
import { berthBin } from '../helpers/env.js';

const roots = attackRoots();

/** `berth args…` started by a shell that first opened the host's "/" as descriptor 200. */
function berthWithLeak(r: TestRoots, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `exec 200</; exec "${berthBin}" ${quoted}`], { env: r.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('run: a descriptor the caller left open is not open in the container', async () => {
  const r = await berthWithLeak(roots(), ['run', '--rm', 'bb', 'sh', '-c', 'ls /proc/self/fd/ | tr "\\n" " "; echo; ls /proc/self/fd/200/../../../ 2>&1 | head -3']);
  const [fds, listing] = r.stdout.split('\n');
  // 0-2, and 3: the directory ls itself opened to list /proc/self/fd
  assert.equal(fds, '0 1 2 3 ');
  assert.match(listing!, /No such file or directory/);
});

test('exec: no leaked descriptor in the process, and -w /proc/self/fd/N cannot leave the root', async () => {
  await berthOk(roots(), ['run', '-d', '--name', 'fdx', 'bb', 'sleep', '1000']);
  const list = await berthWithLeak(roots(), ['exec', 'fdx', 'sh', '-c', 'ls /proc/self/fd/ | tr "\\n" " "']);
  assert.equal(list.stdout, '0 1 2 3 ');
  for (const fd of [200, 3, 4, 5, 6, 7, 8, 9, 10]) {
    const r = await berthWithLeak(roots(), ['exec', '-w', `/proc/self/fd/${fd}`, 'fdx', 'pwd']);
    assert.notEqual(r.code, 0, `exec -w /proc/self/fd/${fd} must fail, got: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /^\//, 'no working directory was entered');
  }
});

test('an engine started by the CLI does not inherit the caller\'s descriptors', async () => {
  await berthWithLeak(roots(), ['ls']);
  const pid = await eventually('the engine pid file', async () => {
    try { return Number(readFileSync(join(roots().run, 'engine.pid'), 'utf8').trim()) || undefined; } catch { return undefined; }
  });
  const targets = readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } });
  assert.ok(!targets.includes('/'), `the engine holds no descriptor of "/": ${targets.join(', ')}`);
  assert.ok(!readdirSync(`/proc/${pid}/fd`).includes('200'));
});
