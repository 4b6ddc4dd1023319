// Records read through the parse cache: the same file gives the same record without a parse, and
// no change of the file — a replacement of the same size, or a write within the timestamp
// granularity — is ever answered with the old record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyBundle } from './records.js';

const ID = 'a'.repeat(64);

function record(name: string): string {
  return JSON.stringify({ id: ID, name, created: '2026-01-01T00:00:00Z', image: 'sha256:x', imageRef: 'bb', path: 'sleep', args: [], cgroupName: `p/${ID}`, config: { Labels: {}, Env: [], Cmd: [], Entrypoint: [] }, hostConfig: { limits: {} }, layer: { id: ID, lower: [] } });
}

function withBundle(f: (bundle: string, file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-records-'));
  const bundle = join(dir, ID);
  mkdirSync(bundle);
  try {
    f(bundle, join(bundle, 'config.v2.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** As the runtime writes a record: a temporary file renamed over it. */
function replace(file: string, text: string, mtime?: Date): void {
  writeFileSync(`${file}.tmp`, text);
  if (mtime) utimesSync(`${file}.tmp`, mtime, mtime);
  renameSync(`${file}.tmp`, file);
}

test('an old record is parsed once; a replacement, even of the same size and mtime, is read again', () => withBundle((bundle, file) => {
  const old = new Date(Date.now() - 60_000);
  replace(file, record('one'), old);
  const first = classifyBundle(bundle).record;
  assert.equal(first?.name, 'one');
  assert.equal(classifyBundle(bundle).record, first, 'the same file: the same parsed record');
  replace(file, record('two'), old);
  assert.equal(statSync(file).size, record('one').length);
  assert.equal(classifyBundle(bundle).record?.name, 'two', 'a new file of the same size and mtime');
  // torn in place (not how berth writes, but a disk may): corrupt, not the last good record
  writeFileSync(file, '{ torn');
  utimesSync(file, old, old);
  assert.equal(classifyBundle(bundle).kind, 'corrupt');
}));

test('a record written just now is not kept: a rewrite in place within the same timestamp is seen', () => withBundle((bundle, file) => {
  replace(file, record('one'));
  const { mtime } = statSync(file);
  assert.equal(classifyBundle(bundle).record?.name, 'one');
  // same inode, same size, the mtime put back: only a re-read can tell
  writeFileSync(file, record('two'));
  utimesSync(file, mtime, mtime);
  assert.equal(classifyBundle(bundle).record?.name, 'two');
  assert.equal(readFileSync(file, 'utf8'), record('two'));
}));
