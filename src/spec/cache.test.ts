import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheKey, entryText, lookup, recording } from './cache.js';
import { load, type FileSource } from './load.js';
import { memoryFiles } from './testing.js';

/** Loads through the recorder, as index.ts does, and returns the cache entry text. */
function loadAndRecord(fs: FileSource, env: Record<string, string | undefined>): string {
  const rec = recording(fs, env);
  const result = load({ files: ['/p/compose.yaml'], env: rec.env, cwd: '/p' }, rec.fs);
  assert.equal(rec.enumerated(), false);
  return entryText(rec.reads, rec.envReads, result);
}

const yaml = 'services:\n  web:\n    image: "bb:${TAG:-latest}"\n';

test('a cached project is reused while its files and variables are unchanged', () => {
  const files = { '/p/compose.yaml': yaml };
  const entry = loadAndRecord(memoryFiles(files), { TAG: '1', UNRELATED: 'a' });
  const hit = lookup(entry, memoryFiles(files), { TAG: '1', UNRELATED: 'b' });
  assert.equal(hit?.project.services.web?.image, 'bb:1', 'a variable the file does not use may change');
});

test('a changed file, a read variable, or a file that appeared invalidates the entry', () => {
  const files = { '/p/compose.yaml': yaml };
  const entry = loadAndRecord(memoryFiles(files), { TAG: '1' });
  assert.equal(lookup(entry, memoryFiles({ '/p/compose.yaml': yaml + '    tty: true\n' }), { TAG: '1' }), undefined, 'file content');
  assert.equal(lookup(entry, memoryFiles(files), { TAG: '2' }), undefined, 'a variable the file reads');
  assert.equal(lookup(entry, memoryFiles(files), {}), undefined, 'a variable that was set and is now unset');
  assert.equal(lookup(entry, memoryFiles({ ...files, '/p/.env': 'TAG=3\n' }), { TAG: '1' }), undefined, 'a .env file that appeared');
});

test('the key names what was asked, so different -f or profiles never share an entry', () => {
  assert.notEqual(cacheKey({ files: ['a.yaml'], env: {}, cwd: '/p' }), cacheKey({ files: ['b.yaml'], env: {}, cwd: '/p' }));
  assert.notEqual(cacheKey({ profiles: ['x'], env: {}, cwd: '/p' }), cacheKey({ env: {}, cwd: '/p' }));
  assert.notEqual(cacheKey({ env: {}, cwd: '/p' }), cacheKey({ env: {}, cwd: '/q' }));
});

test('a corrupt or foreign entry is a miss, not an error', () => {
  assert.equal(lookup('not json', memoryFiles({}), {}), undefined);
  assert.equal(lookup(JSON.stringify({ version: 999 }), memoryFiles({}), {}), undefined);
  assert.equal(lookup(undefined, memoryFiles({}), {}), undefined);
});
