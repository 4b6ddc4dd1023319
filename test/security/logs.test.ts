// A log flood (class: unbounded input from a container filling the host's disk and memory). A
// container printing tens of MB must leave at most max-size × max-file bytes of json log, and
// `logs --tail N` must read from the end in bounded memory (it read the whole file before, and an
// 850 MiB log made it fail while the engine peaked at 2.3 GB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { attackRoots, berth, berthOk, eventually } from './harness.js';

const roots = attackRoots();

async function waitExited(name: string): Promise<any> {
  return eventually(`${name} to exit`, async () => {
    const info = JSON.parse(await berthOk(roots(), ['inspect', name]))[0];
    return info.State.Status === 'exited' ? info : undefined;
  }, 60_000);
}

test('rotation holds the log at max-size × max-file whatever the container prints', async () => {
  // 40 MB: 5000 lines of 8000 characters, then a last line
  await berthOk(roots(), ['run', '-d', '--name', 'flood', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=3', 'bb', 'sh', '-c',
    'yes $(printf %08000d 0) | head -n 5000; echo the-end']);
  const info = await waitExited('flood');
  const dir = join(info.LogPath, '..');
  const files = readdirSync(dir).filter((f) => f.startsWith(`${info.Id}-json.log`)).sort();
  assert.deepEqual(files, [`${info.Id}-json.log`, `${info.Id}-json.log.1`, `${info.Id}-json.log.2`]);
  const total = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  assert.ok(total <= 3 * 1024 * 1024, `${total} bytes kept`);
  assert.ok(total > 2 * 1024 * 1024, 'the files are used up to their size');
  // the tail spans the rotated files when the current one is short
  const tail = await berthOk(roots(), ['logs', '--tail', '2', 'flood']);
  const lines = tail.split('\n');
  assert.deepEqual([lines.length, lines[0] === '0'.repeat(8000), lines.slice(1)], [3, true, ['the-end', '']]);
});

test('logs --tail reads from the end: a 60 MB log in a 40 MB heap', async () => {
  await berthOk(roots(), ['run', '-d', '--name', 'big', '--log-opt', 'max-size=200m', 'bb', 'sh', '-c',
    'yes $(printf %08000d 7) | head -n 7500; echo last-1; echo last-2']);
  const info = await waitExited('big');
  assert.ok(statSync(info.LogPath).size > 60 * 1000 * 1000);
  const r = await berth(roots(), ['logs', '--tail', '3', 'big'], { env: { NODE_OPTIONS: '--max-old-space-size=40' }, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual([lines.length, lines[0] === `${'0'.repeat(7999)}7`, lines.slice(1)], [4, true, ['last-1', 'last-2', '']]);
});
