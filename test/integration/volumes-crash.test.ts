// A SIGKILL at a seeded random point of volume creation, removal or copy-up never leaves a volume
// that poses as complete: after the kill, the store (and repair at the next engine start) shows
// each volume whole — created and empty, or filled with all of the image's content — and nothing
// half-made, mounted or staged is left. The seed of a failing round is in its message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRoots, berthOk, cleanupRoots, leftovers, stopEngine, type TestRoots } from '../helpers/env.js';
import { Harness, importSeedImage } from './volumes-harness.js';
import { VolumeStore, mountsUnder } from '../../src/volumes/store.js';
import { lazySys } from '../../src/sys/index.js';
import { seededRandom } from '../helpers/seeded.js';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'volumes-worker.js');
const FILES = 1500;
let roots: TestRoots;
let h: Harness;

before(async () => {
  roots = makeRoots();
  await importSeedImage(roots, 'big', FILES);
  await stopEngine(roots);
  h = new Harness(roots);
});

after(async () => {
  assert.deepEqual(await h.cleanup(), []);
  await berthOk(roots, ['rmi', 'big']);
  await cleanupRoots(roots);
});

/** Starts the worker; resolves once it printed "go"; `exited` resolves when it is gone. */
async function startWorker(args: string[]): Promise<{ kill(): void; exited: Promise<string> }> {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<string>((resolve) => child.on('close', () => resolve(out + err)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; if (out.includes('go\n')) resolve(); });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    child.on('close', () => reject(new Error(`worker ended before starting: ${out}${err}`)));
  });
  return { kill: () => child.kill('SIGKILL'), exited };
}

async function until(what: string, ms: number, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const staged = (store: VolumeStore): string[] => (existsSync(store.dir) ? readdirSync(store.dir).filter((n) => n.startsWith('.')) : []);

test('a SIGKILL while volumes are being created and removed leaves only whole volumes', async () => {
  const seed = Date.now() % 100000;
  const rand = seededRandom(seed);
  for (let round = 0; round < 6; round++) {
    const w = await startWorker(['churn', roots.root]);
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 40)));
    w.kill();
    await w.exited;
    const store = new VolumeStore({ root: roots.root, sys: lazySys });
    for (const v of store.list()) {
      const dir = store.volumeDir(v.name);
      assert.ok(statSync(join(dir, '_data')).isDirectory(), `seed ${seed} round ${round}: ${v.name} has its data directory`);
      assert.ok(statSync(join(dir, 'refs')).isDirectory(), `seed ${seed} round ${round}: ${v.name} has its refs directory`);
      assert.equal(v.labels['round'] !== undefined, true, `seed ${seed} round ${round}: ${v.name}'s record is whole`);
    }
    const report = await store.repair(new Set());
    assert.deepEqual(staged(store), [], `seed ${seed} round ${round}: repair left no .creating/.removing (${JSON.stringify(report)})`);
  }
  for (const v of new VolumeStore({ root: roots.root, sys: lazySys }).list()) await h.store.remove(v.name);
});

test('a SIGKILL during copy-up never leaves a partly filled volume that poses as complete', async () => {
  const layers = await h.layers('big');
  const seed = Date.now() % 100000;
  const rand = seededRandom(seed);
  const outcomes: string[] = [];
  for (let round = 0; round < 6; round++) {
    const name = `cu-${round}`;
    const w = await startWorker(['copyup', roots.root, name, layers.overlayRoot, layers.lowerLinks.join(','), '/seed']);
    const marker = join(roots.root, 'volumes', name, 'copyup.json');
    // the kill lands while the copy runs: after its intent exists, at a random point of the copy
    let finished = false;
    void w.exited.then(() => { finished = true; });
    await until(`seed ${seed} round ${round}: the copy-up starts`, 20_000, () => existsSync(marker) || finished);
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 150)));
    w.kill();
    const out = await w.exited;
    const store = new VolumeStore({ root: roots.root, sys: lazySys });
    assert.ok(mountsUnder(store.dir).length <= 1, 'at most the dead copier\'s image view is still mounted');
    const v = store.find(name); // a use settles an interrupted copy-up first
    assert.ok(v, `seed ${seed} round ${round}: the volume was created before the copy began`);
    const data = store.dataDir(name);
    const sub = join(data, 'sub');
    const state = !existsSync(sub) ? (readdirSync(data).length === 0 ? 'empty' : 'partial') : readdirSync(sub).length === FILES + 1 ? 'complete' : 'partial';
    assert.notEqual(state, 'partial', `seed ${seed} round ${round}: the volume is empty or complete, never partial (worker said: ${out.trim()})`);
    if (state === 'complete') assert.equal(readFileSync(join(sub, `f${FILES - 1}`), 'utf8'), `file ${FILES - 1}\n`.repeat(8));
    assert.equal(store.copyUpPending(name), false, `seed ${seed} round ${round}: the intent is settled`);
    outcomes.push(state);
    const report = await store.repair(new Set());
    assert.deepEqual(staged(store), [], `seed ${seed} round ${round}: no staging or view left (${JSON.stringify(report)})`);
    assert.deepEqual(mountsUnder(store.dir), [], `seed ${seed} round ${round}: the dead copier's image view is unmounted`);
    // an empty (rolled-back) volume is filled by the next copy-up, whole
    if (state === 'empty') {
      const { copyUp } = await import('../../src/volumes/copy-up.js');
      assert.equal(copyUp(store, name, layers, '/seed').outcome, 'copied');
      assert.equal(readdirSync(sub).length, FILES + 1);
    }
    await store.remove(name);
  }
  assert.ok(outcomes.includes('empty'), `seed ${seed}: at least one kill landed mid-copy (${outcomes.join(', ')})`);
  assert.deepEqual(leftovers(roots), []);
});
