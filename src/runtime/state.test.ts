import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { checkTransition, observe } from './state.js';

test('lifecycle: legal moves pass, illegal ones are a Conflict naming both states', () => {
  checkTransition('a'.repeat(64), 'created', 'running');
  checkTransition('a'.repeat(64), 'exited', 'running');
  checkTransition('a'.repeat(64), 'running', 'paused');
  assert.throws(() => checkTransition('a'.repeat(64), 'running', 'running'), /is running: cannot move to running/);
  assert.throws(() => checkTransition('a'.repeat(64), 'removing', 'running'), /is removing: cannot move to running/);
});

function bundle(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-state-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

test('status is derived from the shim files: nothing yet → created', () => {
  const dir = bundle({});
  try { assert.equal(observe(dir).status, 'created'); } finally { rmSync(dir, { recursive: true }); }
});

test('a start that failed before exec leaves the container created, with the error', () => {
  const dir = bundle({ error: 'berth-shim: exec "nope": executable file not found in $PATH\n' });
  try {
    const o = observe(dir);
    assert.equal(o.status, 'created');
    assert.match(o.error!, /executable file not found/);
  } finally { rmSync(dir, { recursive: true }); }
});

test('started and exited → exited with the recorded code', () => {
  const dir = bundle({
    started: JSON.stringify({ pid: 1, shimPid: 1, startedAt: '2026-11-24T00:00:00Z' }),
    exited: JSON.stringify({ exitCode: 3, signal: 0, oomKilled: false, finishedAt: '2026-11-24T00:00:01Z' }),
  });
  try {
    const o = observe(dir);
    assert.equal(o.status, 'exited');
    assert.equal(o.exited!.exitCode, 3);
  } finally { rmSync(dir, { recursive: true }); }
});

test('started but the supervisor is gone without an exit record → exited, supervisor lost', () => {
  // pid 2^22+1 is above pid_max on default kernels: certainly not a live berth-shim.
  const dir = bundle({ started: JSON.stringify({ pid: 4194305, shimPid: 4194305, startedAt: '2026-11-24T00:00:00Z' }) });
  try {
    const o = observe(dir);
    assert.equal(o.status, 'exited');
    assert.equal(o.error, 'supervisor lost');
    assert.equal(o.exited!.exitCode, 255);
  } finally { rmSync(dir, { recursive: true }); }
});

test('started with a live pid that is not a berth-shim (pid reuse) is not running', () => {
  const dir = bundle({ started: JSON.stringify({ pid: process.pid, shimPid: process.pid, startedAt: '2026-11-24T00:00:00Z' }) });
  try { assert.equal(observe(dir).status, 'exited'); } finally { rmSync(dir, { recursive: true }); }
});
