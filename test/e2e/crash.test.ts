// Scenario: the engine is SIGKILLed in the middle of `up`. Intent: the next command converges to
// the declared state (every service once, nothing duplicated), what an interrupted create left is
// removed, and `down` leaves nothing on the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { berthOk, leftovers, stopEngine, berthBin, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('crash');
  ({ roots, dir } = scenario);
});

after(() => tearDownScenario(scenario));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const file = (): string => join(dir, 'compose.yaml');

test('an engine SIGKILLed mid-up must leave a state the next up converges from', async (t) => {
  await berthOk(roots, ['ls']); // start the engine first, so the kill lands inside up
  const up = spawn(process.execPath, [berthBin, 'up', '-d', '-f', file()], { env: roots.env, stdio: 'ignore' });
  const enginePid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8'));
  // kill as soon as the first container exists, while the others are being made
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !existsSync(join(roots.root, 'containers')) ) await sleep(2);
  // somewhere in the creates and starts: a different point on every run
  const delay = Math.floor(Math.random() * 80);
  await sleep(delay);
  process.kill(enginePid, 'SIGKILL');
  t.diagnostic(`engine killed ${delay} ms after the first container directory appeared`);
  await new Promise((r) => up.on('exit', r));

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
  mkdirSync(join('/sys/fs/cgroup/memory', roots.cgroupParent, id), { recursive: true });
  await stopEngine(roots);
  await berthOk(roots, ['compose', '-f', file(), 'ps']); // a new engine starts and repairs
  assert.equal(existsSync(bundle), false);
  assert.equal(existsSync(join(roots.root, 'overlay2', id)), false);
  assert.equal(existsSync(join('/sys/fs/cgroup/memory', roots.cgroupParent, id)), false);
});

test('down must leave nothing behind', async () => {
  await berthOk(roots, ['down', '-f', file(), '-t', '1'], { timeoutMs: 60_000 });
  await stopEngine(roots);
  assert.deepEqual(leftovers(roots), []);
});
