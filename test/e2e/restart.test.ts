// Scenario: services with restart policies under the engine. Intent: a failing container is
// restarted with Docker's back-off (100 ms doubling) and on-failure:3 gives up after 3 restarts;
// a container the user stopped stays stopped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { berthOk, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('restart');
  ({ roots, dir } = scenario);
});

after(() => tearDownScenario(scenario));

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const inspect = async (name: string): Promise<any> => JSON.parse(await berthOk(roots, ['inspect', name]))[0];

test('on-failure:3 must restart a failing container 3 times with a doubling back-off, then give up', async () => {
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  const deadline = Date.now() + 20_000;
  let info = await inspect('e2e-restart-flaky-1');
  while (Date.now() < deadline && !(info.RestartCount === 3 && info.State.Status === 'exited')) {
    await sleep(100);
    info = await inspect('e2e-restart-flaky-1');
  }
  assert.equal(info.RestartCount, 3);
  assert.equal(info.State.ExitCode, 3);
  await sleep(1500);
  assert.equal((await inspect('e2e-restart-flaky-1')).RestartCount, 3, 'no fourth restart');
  // the log has one line per run; the gaps between runs grow with the back-off (100, 200, 400 ms)
  const times = readFileSync(info.LogPath, 'utf8').trim().split('\n').map((l) => Date.parse(JSON.parse(l).time));
  assert.equal(times.length, 4);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps[0]! >= 100 && gaps[1]! >= 200 && gaps[2]! >= 400, `gaps ${gaps.join(', ')} ms follow the back-off`);
  assert.ok(gaps[2]! > gaps[0]!, `gaps ${gaps.join(', ')} ms grow`);
});

test('a container stopped by the user must not be restarted, even with restart: always', async () => {
  await berthOk(roots, compose('stop', '-t', '1', 'steady'), { timeoutMs: 30_000 });
  await sleep(1500);
  const info = await inspect('e2e-restart-steady-1');
  assert.equal(info.State.Status, 'exited');
  assert.equal(info.RestartCount, 0);
  await berthOk(roots, compose('start', 'steady'));
  assert.equal((await inspect('e2e-restart-steady-1')).State.Status, 'running');
});

test('restart: always must bring back a container whose process died', async () => {
  const before = await inspect('e2e-restart-steady-1');
  process.kill(before.State.Pid, 'SIGKILL'); // the process dies on its own, not by the user's berth stop
  const deadline = Date.now() + 10_000;
  let info = before;
  while (Date.now() < deadline && !(info.State.Status === 'running' && info.State.Pid !== before.State.Pid)) {
    await sleep(100);
    info = await inspect('e2e-restart-steady-1');
  }
  assert.equal(info.State.Status, 'running');
  assert.equal(info.RestartCount, before.RestartCount + 1);
});

test('live restore: an exit while the engine was down is seen and acted on by the next engine', async () => {
  const before = await inspect('e2e-restart-steady-1');
  assert.equal(before.State.Status, 'running');
  const enginePid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8'));
  process.kill(enginePid, 'SIGKILL');
  await sleep(200);
  process.kill(before.State.Pid, 'SIGKILL');
  await sleep(500);
  const meanwhile = await inspect('e2e-restart-steady-1'); // read from disk: no engine needed
  assert.equal(meanwhile.State.Status, 'exited');
  assert.equal(meanwhile.State.ExitCode, 137, 'the exit code is kept while no engine runs');
  await berthOk(roots, compose('ps')); // any compose verb starts a new engine
  const deadline = Date.now() + 10_000;
  let info = meanwhile;
  while (Date.now() < deadline && info.State.Status !== 'running') {
    await sleep(100);
    info = await inspect('e2e-restart-steady-1');
  }
  assert.equal(info.State.Status, 'running', 'restart: always resumed under the new engine');
  assert.equal(info.RestartCount, before.RestartCount + 1);
});
