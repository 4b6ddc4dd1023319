// The cgroup v1 driver on this host's real kernel, as root. Every test works under its own
// "berth-test-<random>" parent in each hierarchy, kills what it spawned and removes what it
// created; after() checks that no berth-test dir of this suite is left in any hierarchy.
import { test, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/env.js';
import { InvalidArgument, Conflict, SysError } from '../../src/lib/errors.js';
import { detectCgroups, hostCgroupDriver, parseMountinfo } from '../../src/runtime/cgroups/detect.js';
import { nodeCgroupFs, type CgroupFs } from '../../src/runtime/cgroups/fs.js';
import { CgroupV1Driver } from '../../src/runtime/cgroups/v1.js';
import type { CgroupDriver } from '../../src/runtime/cgroups/driver.js';

const MiB = 1024 * 1024;
const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
const detection = detectCgroups(mountinfo);
const driver: CgroupDriver = detection.driver;
const parent = `berth-test-${randomBytes(4).toString('hex')}`;
const skip = process.getuid?.() !== 0 ? 'needs root' : driver.version !== 1 ? 'this suite covers cgroup v1; the host is v2' : false;

/** every cgroup hierarchy mounted on the host (v1 dirs and cgroup2), for the leak check */
const allHierarchies = parseMountinfo(mountinfo).filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2').map((m) => m.mountPoint);

function kernelFile(controller: 'cpu' | 'cpuset' | 'memory' | 'pids' | 'freezer', name: string, file: string): string {
  return readFileSync(join(detection.v1Mounts[controller]!, name, file), 'utf8').trim();
}

/** Spawns `argv` and resolves once it is running; the caller must kill it. */
function start(argv: readonly string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    child.once('spawn', () => resolve(child));
    child.once('error', reject);
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function killAll(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map(exited));
}

/**
 * A cgroup under this suite's parent, removed (with whatever it spawned killed) after `body`. A
 * frozen cgroup is thawed first: a SIGKILLed task of a frozen cgroup cannot die until it thaws,
 * and waiting for its exit would wait forever.
 */
async function withCgroup(leaf: string, body: (name: string, children: ChildProcess[]) => Promise<void>): Promise<void> {
  const name = `${parent}/${leaf}`;
  const children: ChildProcess[] = [];
  try {
    await body(name, children);
  } finally {
    if (driver.exists(name)) await driver.thaw(name).catch(() => undefined);
    await killAll(children);
    // and whatever they forked into the cgroup (the remove below would otherwise wait on it)
    for (const pid of driver.exists(name) ? driver.pids(name) : []) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await driver.remove(name);
  }
  assert.equal(driver.exists(name), false, `${name} removed`);
  for (const dir of driver.placement(name).procsDirs) assert.equal(existsSync(dir), false, `${dir} removed`);
}

after(() => {
  if (skip) return;
  // the suite's parent dir is shared by its tests; remove it, then prove nothing is left
  for (const h of allHierarchies) {
    const dir = join(h, parent);
    if (existsSync(dir)) nodeCgroupFs.rmdir(dir);
  }
  const left = allHierarchies.flatMap((h) => readdirSync(h).filter((n) => n === parent).map((n) => join(h, n)));
  assert.deepEqual(left, [], 'no cgroup of this suite is left on the host');
});

test('a v1 host with a cgroup2 beside its controllers is hybrid; hostCgroupDriver() agrees with detectCgroups()', { skip }, () => {
  assert.equal(detection.mode, detection.v2Mount === undefined ? 'v1' : 'hybrid');
  assert.equal(driver.version, 1);
  assert.deepEqual(detection.warnings, []);
  const host = hostCgroupDriver();
  assert.equal(host.version, 1);
  assert.deepEqual(host.placement('berth/x'), driver.placement('berth/x'));
});

test('create applies the limits; the kernel files read them back', { skip }, async () => {
  await withCgroup('limits', async (name) => {
    const { warnings, placement } = driver.create(name, { memory: 64 * MiB, cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: '0', pidsLimit: 100 });
    assert.deepEqual(warnings, []);
    assert.equal(placement.procsDirs.length, 7);
    assert.equal(kernelFile('memory', name, 'memory.limit_in_bytes'), String(64 * MiB));
    assert.equal(kernelFile('memory', name, 'memory.memsw.limit_in_bytes'), String(128 * MiB));
    assert.equal(kernelFile('cpu', name, 'cpu.shares'), '512');
    assert.equal(kernelFile('cpu', name, 'cpu.cfs_quota_us'), '50000');
    assert.equal(kernelFile('cpu', name, 'cpu.cfs_period_us'), '100000');
    assert.equal(kernelFile('cpuset', name, 'cpuset.cpus'), '0');
    assert.equal(kernelFile('pids', name, 'pids.max'), '100');
    assert.deepEqual(driver.read(name), {
      cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: '0',
      cpusetMems: kernelFile('cpuset', parent, 'cpuset.mems'), memory: 64 * MiB, memorySwap: 128 * MiB, pidsLimit: 100,
    });
    assert.equal(driver.stats(name).memoryLimit, 64 * MiB);
  });
});

test('defaults: no limits leaves the kernel defaults; pids -1 is "max"; memory-swap -1 is unlimited', { skip }, async () => {
  await withCgroup('defaults', async (name) => {
    driver.create(name, { memory: 32 * MiB, memorySwap: -1, pidsLimit: -1 });
    const limits = driver.read(name);
    assert.equal(limits.cpuShares, 1024);
    assert.equal(limits.cpuQuota, undefined);
    assert.equal(limits.memory, 32 * MiB);
    assert.equal(limits.memorySwap, -1);
    assert.equal(kernelFile('pids', name, 'pids.max'), 'max');
    // the cpuset was inherited, so a task can join (an empty cpuset refuses tasks with ENOSPC)
    assert.equal(kernelFile('cpuset', name, 'cpuset.cpus'), kernelFile('cpuset', parent, 'cpuset.cpus'));
    assert.notEqual(kernelFile('cpuset', name, 'cpuset.cpus'), '');
  });
});

test('limits Docker rejects are rejected before anything is created; a second create is a Conflict', { skip }, async () => {
  const cpus = readFileSync(join(detection.v1Mounts.cpuset!, 'cpuset.effective_cpus'), 'utf8').trim();
  assert.throws(() => driver.create(`${parent}/bad`, { cpusetCpus: '63' }), (e: unknown) => e instanceof InvalidArgument && e.message === `requested cpus are not available - requested 63, available: ${cpus}`);
  assert.throws(() => driver.create(`${parent}/bad`, { memory: 4 * MiB }), /minimum memory limit allowed is 6MB/);
  assert.equal(driver.exists(`${parent}/bad`), false);
  await withCgroup('twice', async (name) => {
    driver.create(name, {});
    assert.throws(() => driver.create(name, {}), Conflict);
  });
});

test('a process moved into every procsDir shows in pids(); stats count it', { skip }, async () => {
  await withCgroup('procs', async (name, children) => {
    const { placement } = driver.create(name, { pidsLimit: 10 });
    const sleeper = await start(['sleep', '30']);
    children.push(sleeper);
    for (const dir of placement.procsDirs) nodeCgroupFs.write(join(dir, 'cgroup.procs'), String(sleeper.pid));
    assert.deepEqual(driver.pids(name), [sleeper.pid]);
    for (const dir of placement.procsDirs) assert.equal(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim(), String(sleeper.pid));
    const self = readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8');
    assert.match(self, new RegExp(`:memory:/${parent}/procs\\n`));
    assert.equal(driver.stats(name).pids, 1);
    assert.equal(driver.oomKilled(name), false);
  });
});

test('remove right after SIGKILL succeeds: EBUSY is retried while the task exits', { skip }, async (t) => {
  const name = `${parent}/busy`;
  let busy = 0;
  const countingFs: CgroupFs = {
    ...nodeCgroupFs,
    rmdir(path) {
      try { nodeCgroupFs.rmdir(path); } catch (err) { if (err instanceof SysError && err.errno === 'EBUSY') busy++; throw err; }
    },
  };
  const counting = new CgroupV1Driver({ mounts: { ...detection.v1Mounts, memory: detection.v1Mounts.memory! }, fs: countingFs });
  const { placement } = counting.create(name, {});
  const sleeper = await start(['sleep', '30']);
  try {
    for (const dir of placement.procsDirs) nodeCgroupFs.write(join(dir, 'cgroup.procs'), String(sleeper.pid));
    sleeper.kill('SIGKILL'); // no wait: the cgroup may still hold the dying task
    await counting.remove(name);
    assert.equal(counting.exists(name), false);
    t.diagnostic(`rmdir answered EBUSY ${busy} time(s) before succeeding`);
  } finally {
    await killAll([sleeper]);
    await driver.remove(name);
  }
});

test('oomKilled() turns true after the kernel OOM-kills a task over the memory limit', { skip }, async () => {
  await withCgroup('oom', async (name, children) => {
    const { placement } = driver.create(name, { memory: 32 * MiB, memorySwap: 32 * MiB });
    // the shell joins the cgroup itself, then becomes dd, whose 256 MiB buffer is filled from /dev/zero
    const join$ = placement.procsDirs.map((d) => `echo $$ > ${join(d, 'cgroup.procs')}`).join(' && ');
    const hog = await start(['sh', '-c', `${join$} && exec dd if=/dev/zero of=/dev/null bs=256M count=1`]);
    children.push(hog);
    const { signal } = await exited(hog);
    assert.equal(signal, 'SIGKILL');
    assert.equal(driver.oomKilled(name), true);
    assert.match(readFileSync(placement.oom.file, 'utf8'), /oom_kill [1-9]/);
  });
});

test('freeze stops the tasks (FROZEN) and thaw resumes them (THAWED)', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-freeze-'));
  // removed once withCgroup has killed the loopers that write into it
  try { await freezeTest(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
});

async function freezeTest(dir: string): Promise<void> {
  await withCgroup('freeze', async (name, children) => {
    const { placement } = driver.create(name, {});
    // Two loopers count in files, one in the cgroup and a control outside it. While frozen, the
    // frozen one's count must not move: the control's count moving on by several steps is the
    // event that proves enough time passed for it to have moved (no fixed sleep). Pids are not
    // compared: a child that exits right at the freeze can still leave cgroup.procs meanwhile.
    const counter = (file: string): string => `n=0; while :; do n=$((n+1)); echo $n > ${file}.tmp; mv ${file}.tmp ${file}; sleep 0.02; done`;
    const frozenFile = join(dir, 'frozen');
    const controlFile = join(dir, 'control');
    const count = (file: string): number => { try { return Number(readFileSync(file, 'utf8').trim() || 0); } catch { return 0; } };
    {
      const looper = await start(['sh', '-c', `${placement.procsDirs.map((d) => `echo $$ > ${join(d, 'cgroup.procs')}`).join(' && ')} && ${counter(frozenFile)}`]);
      children.push(looper);
      const control = await start(['sh', '-c', counter(controlFile)]);
      children.push(control);
      await eventually(() => count(frozenFile) >= 3, 10_000, 'the looper to run in the cgroup');
      await driver.freeze(name);
      assert.equal(kernelFile('freezer', name, 'freezer.state'), 'FROZEN');
      const atFreeze = count(frozenFile);
      const controlAtFreeze = count(controlFile);
      await eventually(() => count(controlFile) >= controlAtFreeze + 10, 20_000, 'the control looper to count on');
      assert.equal(count(frozenFile), atFreeze, 'the frozen looper did not count while frozen');
      await driver.thaw(name);
      assert.equal(kernelFile('freezer', name, 'freezer.state'), 'THAWED');
      await eventually(() => count(frozenFile) > atFreeze, 10_000, 'the looper to count again after thaw');
    }
  });
}
