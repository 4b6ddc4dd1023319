// Scenario: an operator's bad day. The engine is SIGKILLed at a seeded random point 0–400 ms into
// `up -d`, `down`, `up --scale`, `up --force-recreate` or `restart` — 50 times (BERTH_CRASH_KILLS)
// — and each time the next command must converge: exactly the declared containers, each once and
// running, one name claim, one rootfs mount, one supervisor and one cgroup per container, nothing
// else; web started only once db was healthy; and `down` leaves nothing on the host.
// A failure names its seed: BERTH_CRASH_SEED=<seed> node test/run.mjs crash-seeded replays the
// same operations and kill points (the machine's timing still varies, the plan does not).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { seededRandom } from '../helpers/seeded.js';
import { berth, berthOk, leftovers, berthBin, cgroupDirs, eventually, poolNamespaces, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

const SEED = process.env.BERTH_CRASH_SEED !== undefined ? Number(process.env.BERTH_CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
const KILLS = Number(process.env.BERTH_CRASH_KILLS ?? 50);
const PROJECT = 'e2e-crashs';

let scenario: Scenario;
let roots: TestRoots;

before(async () => {
  scenario = await setUpScenario('crash-seeded');
  ({ roots } = scenario);
});

after(() => tearDownScenario(scenario));

type Op = 'up' | 'down' | 'scale' | 'recreate' | 'restart';
const OPS: readonly Op[] = ['up', 'down', 'scale', 'recreate', 'restart'];

const compose = (...args: string[]): string[] => ['compose', '-f', scenario.file, ...args];

function enginePid(): number {
  return Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim());
}

/** Runs `berth args` and SIGKILLs the engine `delayMs` after spawning it; resolves once the CLI has exited. Whether the command had finished first is returned. */
async function killDuring(args: string[], delayMs: number): Promise<{ finishedFirst: boolean }> {
  const pid = enginePid();
  const child = spawn(process.execPath, [berthBin, ...args], { env: roots.env, stdio: 'ignore' });
  let done = false;
  const exited = new Promise<void>((resolve) => child.on('exit', () => { done = true; resolve(); }));
  // the kill point is the variable of the experiment (seeded), not a wait for anything
  await Promise.race([new Promise((r) => setTimeout(r, delayMs)), exited]);
  const finishedFirst = done;
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
  // the client goes with it (its reaction to a dead engine is not what is tested here, and it
  // must not start an engine of its own that carries on with the command)
  if (!done) child.kill('SIGKILL');
  await exited;
  return { finishedFirst };
}

async function inspect(ref: string): Promise<any> {
  return JSON.parse(await berthOk(roots, ['inspect', ref]))[0];
}

const listDir = (d: string): string[] => {
  try { return readdirSync(d).filter((n) => !n.startsWith('.')); } catch { return []; }
};

/** Every check of a converged, running project of `workers` workers; throws on the first difference. */
const checkTimes: Record<string, number[]> = {};
function lap(name: string, t0: number): number {
  (checkTimes[name] ??= []).push(Date.now() - t0);
  return Date.now();
}

async function assertConverged(workers: number, gatedSince: number | undefined): Promise<void> {
  let t0 = Date.now();
  const want = ['db-1', 'web-1', 'job-1', ...Array.from({ length: workers }, (_, i) => `worker-${i + 1}`)].map((s) => `${PROJECT}-${s}`).sort();
  const ps = (await berthOk(roots, compose('ps', '-a', '--format', 'json'))).trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  assert.deepEqual(ps.map((c: any) => c.Name).sort(), want, 'exactly the declared containers');
  for (const c of ps) assert.equal(c.State, 'running', `${c.Name} runs`);
  t0 = lap('compose ps', t0);
  const ids = (await berthOk(roots, ['ps', '-aq', '--no-trunc'])).trim().split('\n').filter((l) => l !== '').sort();
  assert.equal(ids.length, want.length, `berth ps -a shows no container beyond the declared ones: ${ids.join(' ')}`);
  assert.deepEqual(listDir(join(roots.root, 'containers')).sort(), ids, 'one container directory per container');
  t0 = lap('ps', t0);
  // one name claim per container, naming it
  const claims = listDir(join(roots.root, 'names')).sort();
  assert.deepEqual(claims, want, 'one name claim per container');
  for (const n of claims) assert.ok(ids.includes(readFileSync(join(roots.root, 'names', n), 'utf8')), `the claim of ${n} names a live container`);
  // one cgroup per container in every hierarchy, with processes in it
  for (const d of cgroupDirs()) {
    const parent = join(d, roots.cgroupParent);
    if (!existsSync(parent)) continue;
    const children = readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    assert.deepEqual(children, ids, `one cgroup per container under ${parent}`);
  }
  // one rootfs mount and one pinned network namespace (on the project network) per container,
  // and no other mount of ours
  // (the namespace a container's sandbox record names: its own, or a pre-made one it took; the
  // engine's idle pre-made sandboxes are its own, not a container's)
  const pool = new Set(poolNamespaces(roots));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((mp) => mp.startsWith(roots.dir) && !pool.has(mp)).sort();
  const netnsOf = (id: string): string => JSON.parse(readFileSync(join(roots.run, 'network', 'sandboxes', `${id}.json`), 'utf8')).netns;
  assert.deepEqual(mounts, ids.flatMap((id) => [join(roots.root, 'overlay2', id, 'merged'), netnsOf(id)]).sort(), 'one rootfs mount and one network namespace per container');
  t0 = lap('files, cgroups, mounts', t0);
  // one supervisor per container, berth-netd, and no other process of ours (a health probe's `berth-shim
  // exec` comes and goes, and a process caught exiting has no command line yet: checked until the
  // picture holds, with a deadline)
  await eventually(() => {
    const all = leftovers(roots).filter((l) => l.startsWith('process ') && !/berth-shim exec /.test(l));
    // the project network's berth-netd (DNS, published ports) serves all of them; after a kill
    // during its start a second one may wait on its lock to take over (native/cmd/netd.c), and
    // both go once the last endpoint does (down is checked to leave nothing)
    if (!all.some((p) => /berth-netd /.test(p))) return false;
    const procs = all.filter((p) => !/berth-netd /.test(p));
    for (const id of ids) if (procs.filter((p) => p.includes(id)).length !== 1) return false;
    return procs.length === ids.length;
  }, 10_000, `one supervisor per container and no other process of ours: ${leftovers(roots).join('; ')}`);
  t0 = lap('processes', t0);
  // health gating held: a web that an up of this round started after this db started did so only
  // once db was healthy (`restart`, like Docker Compose's, restarts in order without waiting)
  const [db, web] = JSON.parse(await berthOk(roots, ['inspect', `${PROJECT}-db-1`, `${PROJECT}-web-1`]));
  const dbStart = Date.parse(db.State.StartedAt);
  const webStart = Date.parse(web.State.StartedAt);
  if (gatedSince !== undefined && webStart >= gatedSince && webStart >= dbStart) {
    assert.ok(webStart >= dbStart + 300, `web started ${webStart - dbStart} ms after db, before db could be healthy`);
  }
  if (db.State.Health?.Status !== 'healthy') await eventually(async () => (await inspect(`${PROJECT}-db-1`)).State.Health?.Status === 'healthy', 20_000, 'db to be healthy');
  lap('inspect, health', t0);
}

async function assertNothingLeft(): Promise<void> {
  const ids = (await berthOk(roots, ['ps', '-aq', '--no-trunc'])).trim();
  assert.equal(ids, '', 'no container after down');
  assert.deepEqual(listDir(join(roots.root, 'containers')), [], 'no container directory after down');
  assert.deepEqual(listDir(join(roots.root, 'names')), [], 'no name claim after down');
  assert.deepEqual(leftovers(roots), [], 'nothing on the host after down');
}

test(`${KILLS} engine SIGKILLs at seeded points of up, down, --scale, --force-recreate and restart: the next command converges (seed ${SEED})`, { timeout: 30 * 60_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (replay: BERTH_CRASH_SEED=${SEED} node test/run.mjs crash-seeded)`);
  const rand = seededRandom(SEED);
  // each operation equally often, in a seeded order
  const plan: Op[] = Array.from({ length: KILLS }, (_, i) => OPS[i % OPS.length]!);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  let workers = 1;
  let down = true;
  await berthOk(roots, ['ls']); // an engine to kill
  let midCommand = 0;
  const phases = { killed: [] as number[], next: [] as number[], checks: [] as number[] };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  for (let i = 0; i < plan.length; i++) {
    const op = plan[i]!;
    const delay = Math.floor(rand() * 400);
    const nextWorkers = 1 + Math.floor(rand() * 3);
    const where = `seed ${SEED}, kill ${i + 1}/${plan.length}: ${op} killed at ${delay} ms`;
    try {
      const scale = (n: number): string[] => ['--scale', `worker=${n}`];
      let killed: string[];
      switch (op) {
        case 'up': killed = compose('up', '-d', ...scale(workers)); break;
        case 'scale': workers = nextWorkers; killed = compose('up', '-d', ...scale(workers)); break;
        case 'recreate': killed = compose('up', '-d', '--force-recreate', ...scale(workers)); break;
        case 'restart': killed = compose('restart', '-t', '0'); break;
        case 'down': killed = compose('down', '-t', '0'); break;
      }
      const roundStart = Date.now();
      const { finishedFirst } = await killDuring(killed, delay);
      if (!finishedFirst) midCommand++;
      const nextStart = Date.now();
      phases.killed.push(nextStart - roundStart);
      let checksStart = 0;
      if (op === 'down' || (op === 'restart' && down)) {
        // the next command: down again (or nothing to restart)
        const r = await berth(roots, compose('down', '-t', '0'), { timeoutMs: 120_000 });
        assert.equal(r.code, 0, `down after the crash: ${r.stderr}`);
        checksStart = Date.now();
        down = true;
        await assertNothingLeft();
      } else {
        const r = await berth(roots, compose('up', '-d', ...scale(workers)), { timeoutMs: 120_000 });
        assert.equal(r.code, 0, `up after the crash: ${r.stderr}`);
        checksStart = Date.now();
        down = false;
        await assertConverged(workers, op === 'restart' ? undefined : roundStart);
      }
      phases.next.push(checksStart - nextStart);
      phases.checks.push(Date.now() - checksStart);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
  }
  t.diagnostic(`${midCommand} of ${plan.length} kills landed before the command had finished`);
  t.diagnostic(`median ms per round: killed command ${median(phases.killed)}, next command ${median(phases.next)}, checks ${median(phases.checks)} (${Object.entries(checkTimes).map(([k, v]) => `${k} ${median(v)}`).join(', ')})`);
  await berthOk(roots, compose('down', '-t', '0'), { timeoutMs: 120_000 });
  await assertNothingLeft();
});
