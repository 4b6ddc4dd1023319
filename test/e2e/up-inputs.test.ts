// Scenario: a developer runs `berth up -d` again and again while changing what the project is made
// of: the compose file, .env, a variable of the shell, --profile, --scale, an override file.
// Intent: every change is seen by the next `up` (the loaded-model cache, the stored project and
// the observed state never answer with a stale model), and an `up` right after, with nothing
// changed, touches nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { berthOk, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('up-inputs');
  ({ roots, dir } = scenario);
});

after(() => tearDownScenario(scenario));

interface Row { readonly Name: string; readonly ID: string; readonly State: string }

/** `up -d` in the project directory (compose.yaml and compose.override.yaml found as docker compose finds them). */
const up = (args: readonly string[] = [], env: Record<string, string> = {}): Promise<string> =>
  berthOk(roots, ['up', '-d', ...args], { cwd: dir, env, timeoutMs: 60_000 });

/** The project's containers: name → id, running ones only. */
async function running(): Promise<Map<string, string>> {
  const out = (await berthOk(roots, ['compose', '-p', 'e2e-inputs', 'ps', '--format', 'json'])).trim();
  const rows = out === '' ? [] : out.split('\n').map((l) => JSON.parse(l) as Row);
  return new Map(rows.filter((r) => r.State === 'running').map((r) => [r.Name, r.ID]));
}

async function greeting(name: string): Promise<string | undefined> {
  const env = JSON.parse(await berthOk(roots, ['inspect', name]))[0].Config.Env as string[];
  return env.find((e) => e.startsWith('GREETING='))?.slice('GREETING='.length);
}

/** An up with nothing changed since the last one must leave every container as it is. */
async function noChange(args: readonly string[] = [], env: Record<string, string> = {}): Promise<void> {
  const before = await running();
  const out = await up(args, env);
  assert.doesNotMatch(out, /Recreate|Created|Started|Removed/, `a no-op up did something:\n${out}`);
  assert.deepEqual(await running(), before, 'the same containers, running');
}

/** What changed between two looks: names whose id changed (recreated), appeared, or went. */
function diff(a: Map<string, string>, b: Map<string, string>): { recreated: string[]; added: string[]; gone: string[] } {
  return {
    recreated: [...b].filter(([n, id]) => a.has(n) && a.get(n) !== id).map(([n]) => n).sort(),
    added: [...b.keys()].filter((n) => !a.has(n)).sort(),
    gone: [...a.keys()].filter((n) => !b.has(n)).sort(),
  };
}

async function step(what: string, change: () => void | Promise<void>, args: readonly string[], env: Record<string, string>, expected: ReturnType<typeof diff>): Promise<void> {
  const before = await running();
  await change();
  await up(args, env);
  assert.deepEqual(diff(before, await running()), expected, what);
  await noChange(args, env);
}

test('up -d must bring the project up, and a second up must touch nothing', async () => {
  await up();
  assert.deepEqual([...(await running()).keys()].sort(), ['e2e-inputs-a-1', 'e2e-inputs-b-1']);
  assert.equal(await greeting('e2e-inputs-a-1'), 'hello');
  await noChange();
});

test('an edited compose file must recreate the service it changed, and only that one', async () => {
  const file = join(dir, 'compose.yaml');
  await step('b edited', () => writeFileSync(file, readFileSync(file, 'utf8').replace('  b:\n    image: bb\n', '  b:\n    image: bb\n    labels: { edited: "1" }\n')), [], {},
    { recreated: ['e2e-inputs-b-1'], added: [], gone: [] });
  // an edit that keeps the file's size and its mtime's second: only its content tells
  const text = readFileSync(file, 'utf8');
  await step('same size', () => writeFileSync(file, text.replace('edited: "1"', 'edited: "2"')), [], {},
    { recreated: ['e2e-inputs-b-1'], added: [], gone: [] });
});

test('a .env that appears or changes must reach the services that read its variables', async () => {
  await step('.env appeared', () => writeFileSync(join(dir, '.env'), 'GREETING=from-dotenv\n'), [], {},
    { recreated: ['e2e-inputs-a-1'], added: [], gone: [] });
  assert.equal(await greeting('e2e-inputs-a-1'), 'from-dotenv');
  await step('.env changed', () => writeFileSync(join(dir, '.env'), 'GREETING=changed\n'), [], {},
    { recreated: ['e2e-inputs-a-1'], added: [], gone: [] });
  assert.equal(await greeting('e2e-inputs-a-1'), 'changed');
});

test('a variable of the caller\'s environment must win over .env, and its removal be seen', async () => {
  await step('GREETING set', () => undefined, [], { GREETING: 'from-shell' },
    { recreated: ['e2e-inputs-a-1'], added: [], gone: [] });
  assert.equal(await greeting('e2e-inputs-a-1'), 'from-shell');
  await step('GREETING unset', () => undefined, [], {},
    { recreated: ['e2e-inputs-a-1'], added: [], gone: [] });
  assert.equal(await greeting('e2e-inputs-a-1'), 'changed');
  rmSync(join(dir, '.env'));
  await step('.env removed', () => undefined, [], {}, { recreated: ['e2e-inputs-a-1'], added: [], gone: [] });
  assert.equal(await greeting('e2e-inputs-a-1'), 'hello');
});

test('--profile and --scale must each give their own plan', async () => {
  await step('--profile extra', () => undefined, ['--profile', 'extra'], {}, { recreated: [], added: ['e2e-inputs-c-1'], gone: [] });
  await step('--scale a=2', () => undefined, ['--profile', 'extra', '--scale', 'a=2'], {}, { recreated: [], added: ['e2e-inputs-a-2'], gone: [] });
  await step('no --scale: the file\'s scale again', () => undefined, ['--profile', 'extra'], {}, { recreated: [], added: [], gone: ['e2e-inputs-a-2'] });
});

test('an override file that appears or goes must be merged in, or out', async () => {
  const override = join(dir, 'compose.override.yaml');
  await step('override appeared', () => writeFileSync(override, 'services:\n  b:\n    command: ["sleep", "2000"]\n'), [], {},
    { recreated: ['e2e-inputs-b-1'], added: [], gone: [] });
  assert.deepEqual(JSON.parse(await berthOk(roots, ['inspect', 'e2e-inputs-b-1']))[0].Config.Cmd, ['sleep', '2000']);
  await step('override gone', () => rmSync(override), [], {}, { recreated: ['e2e-inputs-b-1'], added: [], gone: [] });
  assert.deepEqual(JSON.parse(await berthOk(roots, ['inspect', 'e2e-inputs-b-1']))[0].Config.Cmd, ['sleep', '1000']);
});
