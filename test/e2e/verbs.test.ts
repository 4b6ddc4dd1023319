// Scenario: a developer watches a running project with `berth compose events`, `top`, `stats` and
// `wait`. Intent: each verb reports what the kernel and the engine see for the project's own
// containers (host pids, the cgroup's memory limit, real exit codes), and the stack still comes
// down leaving nothing behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { berthOk, berthBin, backgroundBerth, leftovers, stopEngine, eventually, engineStatus, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('verbs');
  ({ roots, dir } = scenario);
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
});

after(() => tearDownScenario(scenario));

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];
async function inspect(name: string): Promise<any> {
  return JSON.parse(await berthOk(roots, ['inspect', name]))[0];
}

/** A long-running `berth …` whose output the test reads while it runs; stopped with Ctrl-C, which must exit 0. */
function background(args: readonly string[]): { child: ChildProcess; out: () => string; interrupt: () => Promise<number | null> } {
  const b = backgroundBerth(roots, args);
  return {
    child: b.child,
    out: b.out,
    async interrupt() {
      const code = await b.interrupt();
      if (code !== 0) throw new Error(`berth ${args.join(' ')} exited ${code} after Ctrl-C\nstdout: ${b.out()}\nstderr: ${b.err()}`);
      return code;
    },
  };
}

test('events must stream the die and start of a restarted service, for this project only', async () => {
  const web = await inspect('e2e-verbs-web-1');
  const plain = background(compose('events'));
  const json = background(compose('events', '--json', 'web'));
  try {
    // both clients connected and subscribed: the engine counts its event subscribers
    await eventually(async () => (await engineStatus(roots)).EventSubscribers >= 2, 15_000, 'both event clients to subscribe');
    await berthOk(roots, compose('restart', '-t', '1', 'web'), { timeoutMs: 30_000 });
    const line = (action: string): RegExp => new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} container ${action} ${web.Id} \\(.*name=e2e-verbs-web-1.*\\)$`, 'm');
    await eventually(() => line('die').test(plain.out()) && line('start').test(plain.out()), 10_000, 'die and start events');
    assert.match(plain.out(), new RegExp(`container die ${web.Id} \\(exitCode=\\d+, image=bb, name=e2e-verbs-web-1\\)`));
    assert.ok(plain.out().indexOf(' container die ') < plain.out().lastIndexOf(' container start '), 'die comes before the new start');
    await eventually(() => json.out().split('\n').filter((l) => l !== '').some((l) => JSON.parse(l).action === 'start'), 10_000, 'a JSON start event');
    const records = json.out().trim().split('\n').map((l) => JSON.parse(l));
    const start = records.find((r) => r.action === 'start');
    assert.deepEqual(Object.keys(start), ['time', 'type', 'action', 'id', 'service', 'attributes']);
    assert.equal(start.type, 'container');
    assert.equal(start.id, web.Id);
    assert.equal(start.service, 'web');
    assert.equal(start.attributes.name, 'e2e-verbs-web-1');
    assert.ok(records.some((r) => r.action === 'die'));
    assert.ok(records.every((r) => r.service === 'web'), 'only the service asked for');
  } finally {
    await plain.interrupt();
    await json.interrupt();
  }
});

test("top must list the container's processes with host pids, its PID 1 included", async () => {
  const web = await inspect('e2e-verbs-web-1');
  const out = await berthOk(roots, compose('top', 'web'));
  const lines = out.split('\n');
  assert.equal(lines[0], 'e2e-verbs-web-1');
  assert.deepEqual(lines[1]!.split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  const pid1 = lines.slice(2).map((l) => l.split(/\s+/)).find((cells) => cells[1] === String(web.State.Pid));
  assert.ok(pid1, `a row for host pid ${web.State.Pid}:\n${out}`);
  assert.equal(pid1[0], 'root');
  assert.match(pid1[4]!, /^\d\d:\d\d$/);
  assert.equal(pid1[5], '?');
  assert.match(pid1[6]!, /^\d\d:\d\d:\d\d$/);
  assert.equal(pid1.slice(7).join(' '), 'sleep 1000');
});

test('stats --no-stream must report the cgroup memory limit and the pids of a service', async () => {
  const web = await inspect('e2e-verbs-web-1');
  const started = Date.now();
  const out = await berthOk(roots, compose('stats', '--no-stream', '--format', 'json', 'web'));
  assert.ok(Date.now() - started >= 1_000, 'CPU % comes from two samples a second apart');
  const rows = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.equal(row.ID, web.Id.slice(0, 12));
  assert.equal(row.Name, 'e2e-verbs-web-1');
  assert.match(row.MemUsage, /^\d+(\.\d+)?(B|KiB|MiB) \/ 64MiB$/);
  assert.match(row.MemPerc, /^\d+\.\d\d%$/);
  assert.match(row.CPUPerc, /^\d+\.\d\d%$/);
  assert.equal(row.NetIO, '0B / 0B');
  assert.ok(Number(row.PIDs) >= 1, `pids: ${row.PIDs}`);
  const table = (await berthOk(roots, compose('stats', '--no-stream', 'web'))).split('\n');
  assert.deepEqual(table[0]!.split(/ {2,}/), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
  assert.match(table[1]!, new RegExp(`^${web.Id.slice(0, 12)} +e2e-verbs-web-1 +\\d+\\.\\d\\d% +\\S+ / 64MiB +`));
});

/**
 * Starts `berth compose wait …` and releases the job only once wait is subscribed to the engine's
 * events (it asks ps first, then subscribes): the job cannot end before wait has seen it running,
 * however loaded the machine is.
 */
async function waitForJob(args: readonly string[], argv: readonly string[] = compose('wait', ...args)): Promise<{ code: number | null; stdout: string; stderr: string }> {
  await berthOk(roots, compose('start', 'job'));
  assert.equal((await inspect('e2e-verbs-job-1')).State.Status, 'running');
  const subscribers = (await engineStatus(roots)).EventSubscribers;
  const child = spawn(berthBin, [...argv], { env: roots.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  let exited = false;
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => { exited = true; resolve(code); }));
  try {
    await eventually(async () => exited || (await engineStatus(roots)).EventSubscribers > subscribers, 30_000, 'wait to subscribe to events');
    assert.equal(exited, false, `wait returned before the job was released: ${stdout}${stderr}`);
    await berthOk(roots, compose('exec', 'job', 'touch', '/tmp/go'));
    const code = await closed;
    return { code, stdout, stderr };
  } finally {
    if (!exited) child.kill('SIGKILL');
  }
}

test('wait must block until the service stops and exit with its exit code', async () => {
  const job = await inspect('e2e-verbs-job-1');
  const r = await waitForJob(['job']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, `container "${job.Id}" exited with status code 3\n`);
  assert.equal((await inspect('e2e-verbs-web-1')).State.Status, 'running', 'the other service is untouched');
});

test('docker-style wait CONTAINER… must print each exit code; a name that matches nothing is an error line and exit 1', async () => {
  const r = await waitForJob([], ['wait', 'e2e-verbs-job-1', 'no-such-container']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '3\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: no-such-container\n');
  // a container that has stopped already: its code at once
  assert.equal(await berthOk(roots, ['wait', 'e2e-verbs-job-1']), '3\n');
});

test('wait --down-project must take the project down once the service stopped', async () => {
  const r = await waitForJob(['--down-project', 'job']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal((await berthOk(roots, compose('ps', '-a', '-q'))).trim(), '');
});

test('down must leave nothing behind', async () => {
  await berthOk(roots, compose('down', '-t', '1'), { timeoutMs: 60_000 });
  assert.equal((await berthOk(roots, ['ps', '-a', '-q'])).trim(), '');
  await stopEngine(roots);
  assert.deepEqual(leftovers(roots), []);
});
