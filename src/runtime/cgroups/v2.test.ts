// The v2 driver against a temp-dir tree that imitates cgroupfs (fake-cgroupfs.ts): interface
// files appear only for delegated controllers, so a missing "+memory" would make memory.max
// writes fail here just as on a real kernel.
import { test, beforeEach, afterEach } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Conflict, InvalidArgument, Unsupported, SysError } from '../../lib/errors.js';
import { CgroupV2Driver, type DeviceFilter } from './v2.js';
import { nodeCgroupFs } from './fs.js';
import { fakeV2Tree, type FakeV2Options, type FakeTree } from './fake-cgroupfs.js';
import { NO_SWAP_LIMIT_WARNING } from './convert.js';
import { ManualClock } from '../../lib/clock.js';

const MiB = 1024 * 1024;
let root: string;

beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'berth-cgv2-')); });
afterEach(() => { rmSync(root, { recursive: true, force: true }); });

/** records the device programs instead of loading them (a temp dir is no cgroup2 for bpf(2)) */
function recordingFilter(): DeviceFilter {
  const attached = new Map<string, Uint8Array>();
  return { attach: (dir, program) => { attached.set(dir, program); }, attached: (dir) => attached.get(dir) };
}

function setup(opts: FakeV2Options = {}): { driver: CgroupV2Driver; tree: FakeTree } {
  const tree = fakeV2Tree(root, opts);
  return { driver: new CgroupV2Driver({ root, fs: tree.fs, waitBudgetMs: 100, deviceFilter: recordingFilter() }), tree };
}

const file = (...p: string[]): string => readFileSync(join(root, ...p), 'utf8').trim();

test('v2 create writes cpu.weight, cpu.max, cpuset, memory.max, memory.swap.max and pids.max', () => {
  const { driver } = setup();
  const { placement, warnings } = driver.create('berth/c1', {
    cpuShares: 1024, cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: '0-1', cpusetMems: '0',
    memory: 64 * MiB, memorySwap: 96 * MiB, pidsLimit: 100,
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(placement, { procsDirs: [join(root, 'berth/c1')], oom: { file: join(root, 'berth/c1/memory.events'), key: 'oom_kill' } });
  assert.equal(file('berth/c1/cpu.weight'), '39');
  assert.equal(file('berth/c1/cpu.max'), '50000 100000');
  assert.equal(file('berth/c1/cpuset.cpus'), '0-1');
  assert.equal(file('berth/c1/cpuset.mems'), '0');
  assert.equal(file('berth/c1/memory.max'), String(64 * MiB));
  assert.equal(file('berth/c1/memory.swap.max'), String(32 * MiB));
  assert.equal(file('berth/c1/pids.max'), '100');
  assert.deepEqual(driver.read('berth/c1'), {
    cpuWeight: 39, cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: '0-1', cpusetMems: '0',
    memory: 64 * MiB, memorySwap: 96 * MiB, pidsLimit: 100,
  });
});

test('v2 create delegates +cpu +cpuset +memory +pids down every ancestor, and not in the leaf', () => {
  const { driver, tree } = setup();
  driver.create('berth/c1', {});
  const subtreeWrites = tree.writes.filter((w) => w.path.endsWith('cgroup.subtree_control'));
  assert.deepEqual(subtreeWrites, [
    { path: join(root, 'cgroup.subtree_control'), data: '+cpu +cpuset +memory +pids' },
    { path: join(root, 'berth/cgroup.subtree_control'), data: '+cpu +cpuset +memory +pids' },
  ]);
  assert.equal(file('berth/c1/cgroup.controllers'), 'cpu cpuset memory pids');
  assert.equal(file('berth/c1/cgroup.subtree_control'), '');
  // a second container finds the ancestors delegated already and writes nothing to them
  tree.writes.length = 0;
  driver.create('berth/c2', {});
  assert.deepEqual(tree.writes, []);
});

test('v2 only enables controllers the parent offers', () => {
  const { driver, tree } = setup({ controllers: ['memory', 'pids', 'io'] });
  driver.create('berth/c1', { memory: 64 * MiB });
  assert.equal(tree.writes[0]!.data, '+memory +pids');
  assert.throws(() => driver.create('berth/c2', { cpuShares: 512 }), (e: unknown) => e instanceof Unsupported && /"cpu" controller/.test(e.message));
  assert.equal(existsSync(join(root, 'berth/c2')), false);
});

test('v2 --cpus 0.5 as quota 50000 gives cpu.max "50000 100000"; period alone gives "max <period>"', () => {
  const { driver } = setup();
  driver.create('berth/a', { cpuQuota: 50_000 });
  assert.equal(file('berth/a/cpu.max'), '50000 100000');
  driver.create('berth/b', { cpuPeriod: 200_000 });
  assert.equal(file('berth/b/cpu.max'), 'max 200000');
});

test('v2 memory without memory-swap gets swap = memory (Docker\'s 2 × memory total); -1 is max', () => {
  const { driver } = setup();
  driver.create('berth/a', { memory: 64 * MiB });
  assert.equal(file('berth/a/memory.swap.max'), String(64 * MiB));
  driver.create('berth/b', { memory: 64 * MiB, memorySwap: -1 });
  assert.equal(file('berth/b/memory.swap.max'), 'max');
  assert.deepEqual(driver.read('berth/b'), { cpuWeight: 100, cpuPeriod: 100_000, cpusetCpus: '', cpusetMems: '', memory: 64 * MiB, memorySwap: -1, pidsLimit: -1 });
});

test('v2 without swap accounting warns like Docker and leaves swap alone', () => {
  const { driver, tree } = setup({ swapAccounting: false });
  const { warnings } = driver.create('berth/a', { memory: 64 * MiB, memorySwap: 128 * MiB });
  assert.deepEqual(warnings, [NO_SWAP_LIMIT_WARNING]);
  assert.equal(tree.writes.some((w) => w.path.endsWith('memory.swap.max')), false);
});

test('v2 pids limit 0 and -1 write "max"', () => {
  const { driver } = setup();
  driver.create('berth/a', { pidsLimit: 0 });
  driver.create('berth/b', { pidsLimit: -1 });
  assert.equal(file('berth/a/pids.max'), 'max');
  assert.equal(file('berth/b/pids.max'), 'max');
});

test('v2 rejects what Docker rejects, before creating anything', () => {
  const { driver } = setup({ cpus: '0-1' });
  assert.throws(() => driver.create('berth/a', { cpusetCpus: '2' }), (e: unknown) => e instanceof InvalidArgument && e.message === 'requested cpus are not available - requested 2, available: 0-1');
  assert.throws(() => driver.create('berth/a', { memory: 1 * MiB }), /minimum memory limit allowed is 6MB/);
  assert.throws(() => driver.create('berth/a', { memory: 64 * MiB, memorySwap: 32 * MiB }), /minimum memoryswap limit should be larger than memory limit/);
  assert.equal(existsSync(join(root, 'berth')), false);
});

test('v2 create of an existing cgroup is a Conflict and leaves it alone', () => {
  const { driver } = setup();
  driver.create('berth/a', { pidsLimit: 5 });
  assert.throws(() => driver.create('berth/a', {}), Conflict);
  assert.equal(file('berth/a/pids.max'), '5');
});

test('v2 writing an interface file the kernel does not offer fails, and the half-made cgroup is removed', () => {
  const { tree } = setup();
  // imitate a kernel whose pids controller has no pids.max in this child (write must not create it)
  const fs = { ...tree.fs, mkdir(p: string): boolean { const made = tree.fs.mkdir(p); if (p.endsWith('/c1')) rmSync(join(p, 'pids.max')); return made; } };
  const d = new CgroupV2Driver({ root, fs, waitBudgetMs: 100, deviceFilter: recordingFilter() });
  assert.throws(() => d.create('berth/c1', { pidsLimit: 10 }), (e: unknown) => e instanceof SysError && e.errno === 'ENOENT' && e.path.endsWith('c1/pids.max'));
  assert.equal(existsSync(join(root, 'berth/c1')), false);
  assert.equal(existsSync(join(root, 'berth/c1/pids.max')), false);
  // and the production file ops never create files either
  assert.throws(() => nodeCgroupFs.write(join(root, 'nope'), '1'), (e: unknown) => e instanceof SysError && e.errno === 'ENOENT');
});

test('v2 freeze writes cgroup.freeze 1 and waits for cgroup.events; thaw writes 0', async () => {
  const { driver, tree } = setup();
  driver.create('berth/a', {});
  await driver.freeze('berth/a');
  assert.equal(file('berth/a/cgroup.freeze'), '1');
  assert.match(file('berth/a/cgroup.events'), /frozen 1/);
  await driver.thaw('berth/a');
  assert.equal(file('berth/a/cgroup.freeze'), '0');
  assert.deepEqual(tree.writes.filter((w) => w.path.endsWith('cgroup.freeze')).map((w) => w.data), ['1', '0']);
});

test('v2 freeze times out with a SysError when the kernel never reports frozen', async () => {
  const { driver, tree } = setup();
  driver.create('berth/a', {});
  const stuck = { ...tree.fs, write(p: string, d: string): void { nodeCgroupFs.write(p, d); } }; // no cgroup.events update
  const d = new CgroupV2Driver({ root, fs: stuck, waitBudgetMs: 30, deviceFilter: recordingFilter() });
  await assert.rejects(d.freeze('berth/a'), (e: unknown) => e instanceof SysError && e.errno === 'ETIMEDOUT');
});

test('v2 pids, oomKilled and stats read the interface files', () => {
  const { driver } = setup();
  driver.create('berth/a', { memory: 64 * MiB, pidsLimit: 10 });
  const dir = join(root, 'berth/a');
  writeFileSync(join(dir, 'cgroup.procs'), '42\n7\n');
  writeFileSync(join(dir, 'memory.current'), '1234\n');
  writeFileSync(join(dir, 'pids.current'), '2\n');
  writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n');
  assert.deepEqual(driver.pids('berth/a'), [7, 42]);
  assert.equal(driver.oomKilled('berth/a'), false);
  writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
  assert.equal(driver.oomKilled('berth/a'), true);
  assert.deepEqual(driver.stats('berth/a'), { cpuUsageNs: 1_500_000, memoryUsage: 1234, memoryLimit: 64 * MiB, pids: 2 });
  writeFileSync(join(dir, 'cgroup.procs'), '');
});

test('v2 remove deletes the cgroup and its sub-cgroups, keeps the parent; a missing one is fine', async () => {
  const { driver, tree } = setup();
  driver.create('berth/a', {});
  driver.create('berth/b', {});
  tree.fs.mkdir(join(root, 'berth/a/inner'));
  assert.equal(driver.exists('berth/a'), true);
  await driver.remove('berth/a');
  assert.equal(existsSync(join(root, 'berth/a')), false);
  assert.equal(driver.exists('berth/a'), false);
  assert.equal(existsSync(join(root, 'berth/b')), true);
  await driver.remove('berth/a');
  await driver.remove('never/was');
});

test('v2 remove retries EBUSY on its clock (never blocking the thread) and gives up after its budget', async () => {
  const tree = fakeV2Tree(root, {});
  const clock = new ManualClock(1_000);
  const driver = new CgroupV2Driver({ root, fs: tree.fs, waitBudgetMs: 100, clock, deviceFilter: recordingFilter() });
  driver.create('berth/a', {});
  writeFileSync(join(root, 'berth/a/cgroup.procs'), '99\n');
  let settled: unknown;
  const removal = driver.remove('berth/a').then(() => { settled = 'removed'; }, (e: unknown) => { settled = e; });
  await clock.advance(50);
  assert.equal(settled, undefined, 'still retrying within its budget: the event loop was free meanwhile');
  assert.ok(clock.pending() > 0, 'waiting on the clock, not on the thread');
  await clock.advance(200);
  await removal;
  const outcome = settled as unknown;
  assert.ok(outcome instanceof SysError && outcome.errno === 'EBUSY', `gave up with EBUSY: ${String(outcome)}`);
  assert.equal(nodeCgroupFs.exists(join(root, 'berth/a')), true);
});

test('v2 update sets the whole set of limits in place: a limit left out goes back to no limit; a missing cgroup is NotFound', () => {
  const { driver } = setup();
  driver.create('berth/c1', { cpuQuota: 50_000, cpuPeriod: 100_000, memory: 64 * MiB, pidsLimit: 100 });
  const { warnings } = driver.update('berth/c1', { memory: 128 * MiB, memorySwap: 256 * MiB, pidsLimit: 20 });
  assert.deepEqual(warnings, []);
  assert.equal(file('berth/c1/memory.max'), String(128 * MiB));
  assert.equal(file('berth/c1/memory.swap.max'), String(128 * MiB));
  assert.equal(file('berth/c1/pids.max'), '20');
  assert.equal(file('berth/c1/cpu.max'), 'max 100000', 'the cpu quota was not in the new set');
  assert.throws(() => driver.update('berth/nope', { memory: 64 * MiB }), (e: unknown) => (e as { code?: string }).code === 'NOT_FOUND');
  assert.throws(() => driver.update('berth/c1', { memory: 1 * MiB }), /minimum memory limit allowed is 6MB/);
  assert.equal(file('berth/c1/memory.max'), String(128 * MiB), 'a rejected update changes nothing');
});
