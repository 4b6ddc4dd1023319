// Scenario: a developer presses Ctrl-C while `berth up -d` is bringing up a stack (or the client
// is killed). Intent: the engine starts nothing more, lets what is in progress finish, the CLI
// returns only once the engine has answered (so nothing changes after it), and the next `up`
// converges to exactly the declared containers. docs/architecture.md, "Cancelling a verb".
// The stack: `gate` never becomes healthy until the test says so; 12 services beside it and 6
// that wait for it, so an `up` is always mid-way when it is cancelled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { berth, berthOk, backgroundBerth, engineStatus, eventually, twoMoreLooks, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;
const SERVICES = 19;

before(async () => {
  scenario = await setUpScenario('cancel');
  ({ roots, dir } = scenario);
});

after(() => tearDownScenario(scenario));

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];

/** Every container (these roots hold this project only): "name status" lines, sorted (ids change on a recreate; names and states are what we compare). */
async function containers(): Promise<string[]> {
  const out = await berthOk(roots, ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}']);
  return out.split('\n').filter((l) => l !== '').sort();
}

/** The services that wait for gate, among `lines`, that run (none may: gate is never healthy until the last test). */
function dependentsRunning(lines: readonly string[]): string[] {
  return lines.filter((l) => / e2e-cancel-b\d+-1 running$/.test(l));
}

async function operationsInProgress(): Promise<number> {
  return ((await engineStatus(roots)) as unknown as { OperationsInProgress: number }).OperationsInProgress;
}

test('Ctrl-C of up -d must stop launching, return only when the engine has finished, and change nothing after', async () => {
  const up = backgroundBerth(roots, compose('up', '-d'));
  // mid-way: the first containers exist (the rest are being made, or wait for gate)
  await eventually(async () => (await containers()).length >= 1, 120_000, 'the first container of the up');
  const code = await up.interrupt(120_000);
  assert.equal(code, 130, `stdout: ${up.out()}\nstderr: ${up.err()}`);
  assert.match(up.err(), /Cancelling: nothing more is started/);
  assert.match(up.err(), /cancelled by the client: \d+ operation\(s\) not started; the \d+ in progress finished first/);
  // the engine answered only once its walk was over: nothing is in progress now, without waiting
  assert.equal(await operationsInProgress(), 0);
  const after = await containers();
  assert.deepEqual(dependentsRunning(after), [], 'the dependents of gate (created up front, maybe) were never started');
  // and nothing more comes: two more full looks of the supervisor later, the same containers, in the same states
  await twoMoreLooks(roots);
  assert.deepEqual(await containers(), after);
});

test('a client killed mid-up must leave the engine to stop launching on its own', async () => {
  await berthOk(roots, compose('down', '-t', '0'), { timeoutMs: 120_000 });
  const up = backgroundBerth(roots, compose('up', '-d'));
  await eventually(async () => (await containers()).length >= 1, 120_000, 'the first container of the up');
  up.child.kill('SIGKILL');
  await up.closed;
  // no answer to wait for: the engine's own count of operations in progress is the proof
  await eventually(async () => (await operationsInProgress()) === 0, 120_000, 'the engine to finish what was in progress');
  const after = await containers();
  assert.deepEqual(dependentsRunning(after), []);
  await twoMoreLooks(roots);
  assert.deepEqual(await containers(), after);
});

test('the next up must converge: every service once, running', async () => {
  // gate becomes healthy when told (its container exists: the cancelled up created it, or this up does)
  const up = backgroundBerth(roots, compose('up', '-d'));
  await eventually(async () => (await containers()).some((l) => / e2e-cancel-gate-1 running$/.test(l)), 120_000, 'gate running');
  await berthOk(roots, ['exec', 'e2e-cancel-gate-1', 'touch', '/tmp/ok']);
  assert.equal(await up.closed, 0, `stdout: ${up.out()}\nstderr: ${up.err()}`);
  const all = await containers();
  assert.equal(all.length, SERVICES, all.join('\n'));
  for (const line of all) assert.match(line, / running$/);
  const names = all.map((l) => l.split(' ')[1]);
  assert.equal(new Set(names).size, SERVICES, 'no service twice');
  // and a second up has nothing to do
  const again = await berth(roots, compose('up', '-d'), { timeoutMs: 120_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await containers(), all);
});
