// Scenario: a container's supervisor (its `berth-shim`) is SIGKILLed while the container runs.
// Intent: the engine judges the container from the kernel (its cgroup still has processes), never
// from the shim's liveness alone: it kills those processes and records the end before anything
// else; with a restart policy exactly one new instance runs (one rootfs mount, one `sleep` in the
// cgroup), never a second on the same upper dir; the status says what happened; and `rm -f` /
// `down` leave nothing on the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, importBusybox, cleanupRoots, removeAllContainers, berth, berthOk, leftovers, eventually, cgroupDirs, processGone, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'bb');
});

after(async () => {
  await removeAllContainers(roots);
  await berth(roots, ['rmi', 'bb']);
  await cleanupRoots(roots);
});

interface Started { pid: number; shimPid: number; startedAt: string }

function started(id: string): Started | undefined {
  try { return JSON.parse(readFileSync(join(roots.root, 'containers', id, 'started'), 'utf8')) as Started; } catch { return undefined; }
}

async function inspect(ref: string): Promise<any> {
  return JSON.parse(await berthOk(roots, ['inspect', ref]))[0];
}

/** The pids in the container's cgroup (the first hierarchy that has it). */
function cgroupPids(id: string): number[] {
  for (const d of cgroupDirs()) {
    try {
      return readFileSync(join(d, roots.cgroupParent, id, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number);
    } catch { /* not in this hierarchy */ }
  }
  return [];
}

const commOf = (pid: number): string => {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; }
};

function rootfsMounts(id: string): number {
  const merged = join(roots.root, 'overlay2', id, 'merged');
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === merged).length;
}

async function assertRemovedCleanly(ref: string, id: string): Promise<void> {
  const r = await berth(roots, ['rm', '-f', ref], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(leftovers(roots).filter((l) => l.includes(id)), [], 'rm -f leaves nothing of it');
}

test('a supervisor killed without a restart policy: its processes are killed, the container reads exited with the reason, rm -f is clean', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--init', '--name', 'plain', 'bb', 'sleep', '1000'])).trim();
  const s = started(id)!;
  assert.ok(cgroupPids(id).length > 0);
  process.kill(s.shimPid, 'SIGKILL');
  const ins = await eventually(async () => {
    const i = await inspect(id);
    // the exit is recorded before the rootfs is unmounted: both are the state to wait for
    return i.State.Status === 'exited' && cgroupPids(id).length === 0 && rootfsMounts(id) === 0 && i;
  }, 30_000, 'the engine to end the processes of the lost supervisor and unmount its rootfs');
  assert.match(ins.State.Error, /supervisor lost/);
  assert.equal(ins.State.Running, false);
  assert.ok(processGone(s.pid), 'the container process is gone');
  // no restart: it stays exited
  const row = (await berthOk(roots, ['ps', '-a', '--format', '{{.Names}} {{.State}} {{.Status}}'])).split('\n').find((l) => l.startsWith('plain '));
  assert.match(row ?? '', /^plain exited Exited \(\d+\)/);
  await assertRemovedCleanly('plain', id);
});

test('a supervisor killed with restart: always: exactly one new instance, on an unmounted upper dir; rm -f is clean', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--init', '--restart', 'always', '--name', 'always', 'bb', 'sleep', '1000'])).trim();
  const first = started(id)!;
  process.kill(first.shimPid, 'SIGKILL');
  const second = await eventually(() => {
    const s = started(id);
    return s !== undefined && s.shimPid !== first.shimPid && s;
  }, 30_000, 'a new instance');
  assert.ok(processGone(first.pid), 'the first instance was killed before the second started');
  const ins = await eventually(async () => {
    const i = await inspect(id);
    return i.State.Status === 'running' && i;
  }, 30_000, 'the new instance to run');
  assert.equal(ins.State.Pid, second.pid);
  assert.equal(rootfsMounts(id), 1, 'one rootfs mount');
  const sleeps = cgroupPids(id).filter((p) => commOf(p) === 'sleep');
  assert.equal(sleeps.length, 1, `one instance in the cgroup: ${cgroupPids(id).map((p) => `${p}:${commOf(p)}`).join(' ')}`);
  await assertRemovedCleanly('always', id);
});

test('a supervisor killed in a compose project with restart: always: one instance, and down leaves nothing', async () => {
  const dir = join(roots.dir, 'proj');
  mkdirSync(dir);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, 'name: skill\nservices:\n  s:\n    image: bb\n    init: true\n    restart: always\n    command: ["sleep", "1000"]\n');
  await berthOk(roots, ['compose', '-f', file, 'up', '-d'], { timeoutMs: 60_000 });
  const id = readFileSync(join(roots.root, 'names', 'skill-s-1'), 'utf8');
  const first = started(id)!;
  process.kill(first.shimPid, 'SIGKILL');
  await eventually(() => { const s = started(id); return s !== undefined && s.shimPid !== first.shimPid; }, 30_000, 'a new instance');
  assert.ok(processGone(first.pid));
  await eventually(() => cgroupPids(id).filter((p) => commOf(p) === 'sleep').length === 1, 10_000, 'one instance running');
  const r = await berth(roots, ['compose', '-f', file, 'down', '-t', '0'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(leftovers(roots), [], `down leaves nothing; the engine's log:\n${readFileSync(join(roots.run, 'engine.log'), 'utf8').split('\n').slice(-60).join('\n')}`);
});
