// The host's runtime binary reached from inside a container (CVE-2019-5736, runc's /proc/self/exe
// overwrite). `berth exec` of `/proc/self/exe` makes the kernel run the shim's own image inside the
// container; a process there opens it through /proc/<pid>/exe, waits until no shim runs it (no
// more "text file busy") and writes. The image it reaches must be a sealed copy, never the host's
// native/build/berth-shim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { attackRoots, berth, berthOk, eventually } from './harness.js';
import { berthBin, repoRoot } from '../helpers/env.js';

const roots = attackRoots();
const hostShim = join(repoRoot, 'native', 'build', 'berth-shim');
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

test('the shim image a container can reach is a sealed copy: not the host file, and not writable', async () => {
  const before = sha(hostShim);
  const host = statSync(hostShim);
  await berthOk(roots(), ['run', '-d', '--name', 'victim', 'bb', 'sleep', '1000']);
  // the shim's image, running inside the container, blocked on a stdin that stays open
  const held = spawn(berthBin, ['exec', '-i', 'victim', '/proc/self/exe', 'exec', '/dev/stdin'], { env: roots().env, stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    const found = await eventually('the shim image running in the container', async () => {
      const r = await berth(roots(), ['exec', 'victim', 'sh', '-c', 'for p in /proc/[0-9]*; do case "$(readlink $p/exe)" in *berth-shim*) echo "${p#/proc/} $(readlink $p/exe)"; exit;; esac; done']);
      return r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
    });
    const [pid, target] = found.split(' ', 2) as [string, string];
    assert.match(target, /^\/memfd:berth-shim/, 'the image is an in-memory copy');
    const attack = [
      `stat -L -c "%d:%i" /proc/${pid}/exe`,
      `exec 3</proc/${pid}/exe`,
      `kill -9 ${pid}`,
      `while [ -e /proc/${pid} ]; do sleep 0.02; done`,
      // append only: if this ever succeeded against the host file the binary would still run
      'printf x >>/proc/self/fd/3 2>/dev/null && echo wrote-through-fd',
      'printf x >/proc/self/fd/3 2>/dev/null && echo truncated-through-fd',
      'echo done',
    ].join('; ');
    const out = (await berthOk(roots(), ['exec', 'victim', 'sh', '-c', attack])).split('\n');
    assert.notEqual(out[0], `${host.dev}:${host.ino}`, 'not the host binary');
    assert.deepEqual(out.slice(1), ['done', '']);
  } finally {
    held.stdin?.end();
    held.kill('SIGKILL');
  }
  assert.equal(sha(hostShim), before, 'the host binary is unchanged');
});
