// Scenario: the engine is SIGKILLed in the middle of `up`. Intent: the next command converges to
// the declared state (every service once, nothing duplicated), what an interrupted create left is
// removed, and `down` leaves nothing on the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { berthOk, leftovers, stopEngine, berthBin, eventually, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';
import { hostCgroupDriver } from '../../src/runtime/cgroups/detect.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('crash');
  ({ roots, dir } = scenario);
});

after(() => tearDownScenario(scenario));

const file = (): string => join(dir, 'compose.yaml');

test('an engine SIGKILLed mid-up must leave a state the next up converges from', async (t) => {
  await berthOk(roots, ['ls']); // start the engine first, so the kill lands inside up
  const enginePid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8'));
  const up = spawn(berthBin, ['up', '-d', '-f', file()], { env: roots.env, stdio: 'ignore' });
  // captured at spawn: on a fast run up may be done before the kill point, and its exit must not be missed
  let upDone = false;
  const upExited = new Promise<void>((resolve) => up.on('exit', () => { upDone = true; resolve(); }));
  // kill as soon as the first container exists, while the others are being made
  await Promise.race([eventually(() => existsSync(join(roots.root, 'containers')), 30_000, 'the first container directory'), upExited]);
  // somewhere in the creates and starts: a different point on every run (the variable of the
  // experiment, not a wait for anything)
  const delay = Math.floor(Math.random() * 80);
  await Promise.race([new Promise((r) => setTimeout(r, delay)), upExited]);
  if (upDone) t.diagnostic('up finished before the kill point: the kill lands on an idle engine, and the next up must still converge');
  process.kill(enginePid, 'SIGKILL');
  t.diagnostic(`engine killed ${delay} ms after the first container directory appeared`);
  await upExited;

  await berthOk(roots, ['up', '-d', '-f', file()], { timeoutMs: 60_000 });
  const all = (await berthOk(roots, ['compose', '-f', file(), 'ps', '-a', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(all.map((c: any) => c.Name).sort(), ['s1', 's2', 's3', 's4', 's5', 's6'].map((s) => `e2e-crash-${s}-1`));
  assert.ok(all.every((c: any) => c.State === 'running'), 'every service runs, once');
  const containers = spawnSync('ls', [join(roots.root, 'containers')], { encoding: 'utf8' }).stdout.trim().split('\n');
  assert.equal(containers.length, 6, 'no container directory beyond the six');
});

test('what an interrupted create left behind must be removed by the next engine', async () => {
  // a container directory with no record, whose creator (a process that has exited) is gone
  const dead = spawnSync('true').pid!;
  const id = 'f'.repeat(64);
  const bundle = join(roots.root, 'containers', id);
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, 'creating'), String(dead));
  mkdirSync(join(roots.root, 'overlay2', id, 'diff'), { recursive: true });
  const cgroups = hostCgroupDriver();
  cgroups.create(`${roots.cgroupParent}/${id}`, {});
  await stopEngine(roots);
  await berthOk(roots, ['compose', '-f', file(), 'ps']); // a new engine starts and repairs
  assert.equal(existsSync(bundle), false);
  assert.equal(existsSync(join(roots.root, 'overlay2', id)), false);
  assert.equal(cgroups.exists(`${roots.cgroupParent}/${id}`), false);
});

test('down must leave nothing behind', async () => {
  await berthOk(roots, ['down', '-f', file(), '-t', '1'], { timeoutMs: 60_000 });
  await stopEngine(roots);
  assert.deepEqual(leftovers(roots), []);
});
