// Scenario: BERTH_ROOT is a small tmpfs (300 MB: image import keeps 256 MB free) and a container fills it by writing into its own rootfs.
// Intent: verbs that need space fail with a clear error (no "bug in berth", no stack trace);
// stop, kill and rm still work; a container that exits on the full disk does not take the engine
// down; no truncated JSON and no empty name claim is left behind; and once space is freed berth
// works again without any repair by hand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeRoots, importBusybox, cleanupRoots, removeAllContainers, stopEngine, berth, berthOk, eventually, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;

before(async () => {
  roots = makeRoots();
  mkdirSync(roots.root);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=300m,mode=0711', 'berth-test-full', roots.root], { encoding: 'utf8' });
  assert.equal(m.status, 0, m.stderr);
  await importBusybox(roots, 'bb');
});

after(async () => {
  await removeAllContainers(roots);
  await berth(roots, ['rmi', 'bb']);
  await stopEngine(roots);
  spawnSync('umount', [roots.root]);
  await cleanupRoots(roots);
});

const full = (): boolean => statfsSync(roots.root).bavail === 0;

/** Every state file under the root parses; no name claim is empty. */
function assertNoTornState(): void {
  const containers = join(roots.root, 'containers');
  for (const id of readdirSync(containers)) {
    for (const f of readdirSync(join(containers, id))) {
      if (!['config.v2.json', 'state.json', 'started', 'exited'].includes(f)) continue;
      const path = join(containers, id, f);
      assert.doesNotThrow(() => JSON.parse(readFileSync(path, 'utf8')), `${path} is whole JSON`);
    }
  }
  for (const n of readdirSync(join(roots.root, 'names'))) {
    assert.ok(!n.startsWith('.'), `no temporary file left in names/: ${n}`);
    assert.ok(statSync(join(roots.root, 'names', n)).size > 0, `the claim ${n} is not empty`);
  }
  for (const p of readdirSync(join(roots.root, 'projects'))) JSON.parse(readFileSync(join(roots.root, 'projects', p), 'utf8'));
}

function assertClearError(r: { code: number | null; stderr: string }, what: string): void {
  assert.notEqual(r.code, 0, `${what} fails on a full disk`);
  assert.match(r.stderr, /no space left|ENOSPC/i, `${what}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /bug in berth|internal error|\n\s+at /, `${what}: ${r.stderr}`);
}

test('a full BERTH_ROOT: clear errors, stop/kill/rm work, the engine survives exits, nothing torn; freed, berth works again', { timeout: 5 * 60_000 }, async () => {
  const enginePidBefore = (): number => Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8'));
  await berthOk(roots, ['run', '-d', '--init', '--name', 'steady', 'bb', 'sleep', '1000']);
  await berthOk(roots, ['run', '-d', '--init', '--name', 'victim', 'bb', 'sleep', '1000']);
  const engine = enginePidBefore();
  // a container fills the disk through its own rootfs, then waits
  await berthOk(roots, ['run', '-d', '--init', '--name', 'filler', 'bb', 'sh', '-c', 'dd if=/dev/zero of=/fill bs=1M 2>/dev/null; sleep 1000']);
  await eventually(full, 30_000, 'the disk to be full');

  // verbs that need space: a clear error, and no empty or partial claim
  assertClearError(await berth(roots, ['run', '-d', '--name', 'newcomer', 'bb', 'true']), 'run');
  assertClearError(await berth(roots, ['create', '--name', 'another', 'bb', 'true']), 'create');
  assertNoTornState();

  // a container exiting on the full disk: the engine lives on and reports it as ended
  const k = await berth(roots, ['kill', 'victim']);
  assert.equal(k.code, 0, `kill on a full disk: ${k.stderr}`);
  await eventually(async () => JSON.parse(await berthOk(roots, ['inspect', 'victim']))[0].State.Status === 'exited', 20_000, 'victim to read exited');
  const s = await berth(roots, ['stop', '-t', '0', 'steady']);
  assert.equal(s.code, 0, `stop on a full disk: ${s.stderr}`);
  assert.equal(JSON.parse(await berthOk(roots, ['inspect', 'steady']))[0].State.Status, 'exited');
  assert.equal(enginePidBefore(), engine, 'the same engine still serves');
  const ps = await berth(roots, ['ps', '-a']);
  assert.equal(ps.code, 0, ps.stderr);
  assertNoTornState();

  // rm works on a full disk, and removing the filler frees the space
  for (const n of ['victim', 'filler']) {
    const r = await berth(roots, ['rm', '-f', n], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `rm -f ${n} on a full disk: ${r.stderr}`);
  }
  assert.equal(full(), false, 'space is free again');

  // berth works again without any repair by hand
  await berthOk(roots, ['start', 'steady']);
  const out = (await berthOk(roots, ['run', '--rm', '--name', 'after', 'bb', 'echo', 'ok'])).trim();
  assert.equal(out, 'ok');
  assert.equal(enginePidBefore(), engine, 'the same engine still serves');
  await berthOk(roots, ['rm', '-f', 'steady']);
  assertNoTornState();
  assert.deepEqual(readdirSync(join(roots.root, 'names')), []);
});
