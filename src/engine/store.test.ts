// The desired-state store: what a save writes, and that a save of the same project writes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProjectStore, type StoredProject } from './store.js';
import type { Project } from '../spec/model.js';

const project = (image: string): Project => ({
  name: 'p', working_dir: '/p', compose_files: ['/p/compose.yaml'], services: { web: { name: 'web', image } as unknown as Project['services'][string] },
  disabled_services: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, all_profiles: [], enabled_profiles: [], extensions: {}, unsupported: {},
});

function withStore(f: (store: ProjectStore, root: string, file: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'berth-store-'));
  try {
    f(new ProjectStore(root), root, join(root, 'projects', 'p.json'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a save of the project as it is stored writes nothing; any difference is written', () => withStore((store, _root, file) => {
  const a: StoredProject = { project: project('bb:1'), scale: {} };
  store.save(a);
  const first = statSync(file).ino;
  store.save({ project: project('bb:1'), scale: {} });
  assert.equal(statSync(file).ino, first, 'the same text: the file is not replaced');
  store.save({ project: project('bb:2'), scale: {} });
  assert.notEqual(statSync(file).ino, first, 'a changed model is written (atomically: a new file)');
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as StoredProject).project.services.web!.image, 'bb:2');
  const second = statSync(file).ino;
  store.save({ project: project('bb:2'), scale: { web: 2 } });
  assert.notEqual(statSync(file).ino, second, 'a changed scale is written');
  assert.deepEqual(store.load('p')?.scale, { web: 2 });
}));

test('after remove, and in a new store over a file written before, a save writes what it must', () => withStore((store, root, file) => {
  store.save({ project: project('bb:1'), scale: {} });
  store.remove('p');
  store.save({ project: project('bb:1'), scale: {} });
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as StoredProject).project.services.web!.image, 'bb:1', 'written again after remove');
  // an engine started again reads the file: the same model is not rewritten, a corrupt file is
  const again = new ProjectStore(root);
  assert.equal(again.load('p')?.project.services.web!.image, 'bb:1');
  const ino = statSync(file).ino;
  again.save({ project: project('bb:1'), scale: {} });
  assert.equal(statSync(file).ino, ino);
  writeFileSync(file, '{ torn');
  const third = new ProjectStore(root);
  assert.equal(third.load('p'), undefined, 'a corrupt file reads as absent');
  third.save({ project: project('bb:1'), scale: {} });
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as StoredProject).project.services.web!.image, 'bb:1', 'and the next save rewrites it');
}));
