// Planted files in BERTH_RUN (class: symlink attacks on a root daemon's predictable paths). The
// client and the engine must not write through a symlink planted at engine.log or at the pid
// file's temporary name, and must refuse a BERTH_RUN that someone else owns or can write to --
// before writing anything in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { attackRoots, berth } from './harness.js';
import { stopEngine } from '../helpers/env.js';

const roots = attackRoots();

test('a symlink planted at engine.log is not written through', async () => {
  const run = roots().run;
  mkdirSync(run, { recursive: true, mode: 0o711 });
  // the set-up's verbs started an engine (every verb goes through one): its log is in the way
  await stopEngine(roots());
  rmSync(join(run, 'engine.log'), { force: true });
  const victim = join(roots().dir, 'victim.txt');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(run, 'engine.log'));
  try {
    const r = await berth(roots(), ['ls']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /engine\.log/);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  } finally {
    rmSync(join(run, 'engine.log'), { force: true });
  }
});

test('a BERTH_RUN owned by someone else, or writable by others, is refused before anything is written', async () => {
  const foreign = join(roots().dir, 'foreign-run');
  mkdirSync(foreign, { mode: 0o755 });
  chownSync(foreign, 65534, 65534);
  const victim = join(roots().dir, 'victim2.txt');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(foreign, 'engine.log'));
  const r = await berth(roots(), ['ls'], { env: { BERTH_RUN: foreign } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /foreign-run" is owned by uid 65534/);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');

  const open = join(roots().dir, 'open-run');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const r2 = await berth(roots(), ['ls'], { env: { BERTH_RUN: open } });
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /open-run" is writable by others/);
  assert.equal(existsSync(join(open, 'engine.log')), false, 'nothing was written');
});
