// The v1 driver against temp-dir hierarchies that imitate cgroupfs (fake-cgroupfs.ts). The real
// kernel behaviour is checked as root in test/integration/cgroups.test.ts; these cover shapes
// this host does not have (co-mounted controllers, no swap accounting).
import { test, beforeEach, afterEach } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Conflict, Unsupported } from '../../lib/errors.js';
import { CgroupV1Driver, type V1Options } from './v1.js';
import { fakeV1Tree, type FakeV1Options } from './fake-cgroupfs.js';
import { NO_SWAP_LIMIT_WARNING } from './convert.js';

const MiB = 1024 * 1024;
let base: string;

beforeEach(() => { base = mkdtempSync(join(tmpdir(), 'berth-cgv1-')); });
afterEach(() => { rmSync(base, { recursive: true, force: true }); });

const SEPARATE: FakeV1Options['hierarchies'] = { cpu: ['cpu'], cpuacct: ['cpuacct'], cpuset: ['cpuset'], memory: ['memory'], pids: ['pids'], freezer: ['freezer'], devices: ['devices'] };
const COMOUNTED: FakeV1Options['hierarchies'] = { 'cpu,cpuacct': ['cpu', 'cpuacct'], cpuset: ['cpuset'], memory: ['memory'], pids: ['pids'], freezer: ['freezer'], devices: ['devices'] };

function setup(opts: FakeV1Options) {
  const tree = fakeV1Tree(base, opts);
  const driver = new CgroupV1Driver({ mounts: tree.mounts as V1Options['mounts'], fs: tree.fs, waitBudgetMs: 100 });
  return { driver, tree };
}

const file = (...p: string[]): string => readFileSync(join(base, ...p), 'utf8').trim();

test('v1 create writes each controller\'s files in its own hierarchy', () => {
  const { driver } = setup({ hierarchies: SEPARATE });
  const { placement, warnings } = driver.create('berth/c1', { cpuShares: 512, cpuQuota: 50_000, memory: 64 * MiB, pidsLimit: 50, cpusetCpus: '1' });
  assert.deepEqual(warnings, []);
  assert.deepEqual(placement.procsDirs, ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'devices'].map((h) => join(base, h, 'berth/c1')));
  assert.deepEqual(placement.oom, { file: join(base, 'memory/berth/c1/memory.oom_control'), key: 'oom_kill' });
  assert.equal(file('cpu/berth/c1/cpu.shares'), '512');
  assert.equal(file('cpu/berth/c1/cpu.cfs_period_us'), '100000');
  assert.equal(file('cpu/berth/c1/cpu.cfs_quota_us'), '50000');
  assert.equal(file('cpuset/berth/c1/cpuset.cpus'), '1');
  assert.equal(file('memory/berth/c1/memory.limit_in_bytes'), String(64 * MiB));
  assert.equal(file('memory/berth/c1/memory.memsw.limit_in_bytes'), String(128 * MiB));
  assert.equal(file('pids/berth/c1/pids.max'), '50');
  assert.deepEqual(driver.read('berth/c1'), {
    cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: '1', cpusetMems: '0',
    memory: 64 * MiB, memorySwap: 128 * MiB, pidsLimit: 50,
  });
});

test('v1 copies cpuset.cpus and cpuset.mems from the parent into new dirs, the intermediate one too', () => {
  const { driver } = setup({ hierarchies: SEPARATE, cpus: '0-3', mems: '0' });
  driver.create('berth/c1', {});
  assert.equal(file('cpuset/berth/cpuset.cpus'), '0-3');
  assert.equal(file('cpuset/berth/cpuset.mems'), '0');
  assert.equal(file('cpuset/berth/c1/cpuset.cpus'), '0-3');
  assert.equal(file('cpuset/berth/c1/cpuset.mems'), '0');
});

test('v1 repairs an intermediate cpuset dir a crash left without cpus/mems (else the kernel answers ENOSPC)', () => {
  const { driver, tree } = setup({ hierarchies: SEPARATE, cpus: '0-3', mems: '0' });
  // a crash between mkdir of the intermediate dir and its cpuset writes: the dir exists, empty
  tree.fs.mkdir(join(base, 'cpuset', 'berth'));
  assert.equal(file('cpuset/berth/cpuset.cpus'), '');
  driver.create('berth/c1', {});
  assert.equal(file('cpuset/berth/cpuset.cpus'), '0-3');
  assert.equal(file('cpuset/berth/cpuset.mems'), '0');
  assert.equal(file('cpuset/berth/c1/cpuset.cpus'), '0-3');
});

test('v1 co-mounted cpu,cpuacct: one dir, both controllers\' files written there', async () => {
  const { driver } = setup({ hierarchies: COMOUNTED });
  const { placement } = driver.create('berth/c1', { cpuShares: 256 });
  assert.deepEqual(placement.procsDirs, ['cpu,cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'devices'].map((h) => join(base, h, 'berth/c1')));
  assert.equal(file('cpu,cpuacct/berth/c1/cpu.shares'), '256');
  writeFileSync(join(base, 'cpu,cpuacct/berth/c1/cpuacct.usage'), '987654\n');
  assert.equal(driver.stats('berth/c1').cpuUsageNs, 987_654);
  await driver.remove('berth/c1');
  assert.equal(existsSync(join(base, 'cpu,cpuacct/berth/c1')), false);
});

test('v1 without swap accounting warns like Docker and skips memsw', () => {
  const { driver, tree } = setup({ hierarchies: SEPARATE, swapAccounting: false });
  const { warnings } = driver.create('berth/c1', { memory: 64 * MiB, memorySwap: -1 });
  assert.deepEqual(warnings, [NO_SWAP_LIMIT_WARNING]);
  assert.equal(tree.writes.some((w) => w.path.includes('memsw')), false);
  assert.equal(file('memory/berth/c1/memory.limit_in_bytes'), String(64 * MiB));
});

test('v1 memory-swap -1 writes -1 (unlimited) to memsw', () => {
  const { driver, tree } = setup({ hierarchies: SEPARATE });
  driver.create('berth/c1', { memory: 64 * MiB, memorySwap: -1 });
  assert.deepEqual(tree.writes.filter((w) => w.path.includes('memsw')).map((w) => w.data), ['-1']);
});

test('v1 limits on an unmounted controller are Unsupported; nothing is left behind', async () => {
  const { driver } = setup({ hierarchies: { memory: ['memory'], cpu: ['cpu'] } });
  assert.throws(() => driver.create('berth/c1', { pidsLimit: 10 }), Unsupported);
  await assert.rejects(driver.freeze('berth/c1'), Unsupported);
  assert.equal(existsSync(join(base, 'memory/berth/c1')), false);
  assert.equal(existsSync(join(base, 'cpu/berth/c1')), false);
});

test('v1 create of an existing cgroup is a Conflict', () => {
  const { driver } = setup({ hierarchies: SEPARATE });
  driver.create('berth/c1', {});
  assert.throws(() => driver.create('berth/c1', {}), Conflict);
  assert.equal(existsSync(join(base, 'memory/berth/c1')), true);
});

test('v1 freeze/thaw write freezer.state; pids union all hierarchies; oom from memory.oom_control', async () => {
  const { driver } = setup({ hierarchies: SEPARATE });
  driver.create('berth/c1', {});
  await driver.freeze('berth/c1');
  assert.equal(file('freezer/berth/c1/freezer.state'), 'FROZEN');
  await driver.thaw('berth/c1');
  assert.equal(file('freezer/berth/c1/freezer.state'), 'THAWED');
  writeFileSync(join(base, 'memory/berth/c1/cgroup.procs'), '10\n11\n');
  writeFileSync(join(base, 'pids/berth/c1/cgroup.procs'), '11\n12\n');
  assert.deepEqual(driver.pids('berth/c1'), [10, 11, 12]);
  assert.equal(driver.oomKilled('berth/c1'), false);
  writeFileSync(join(base, 'memory/berth/c1/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
  assert.equal(driver.oomKilled('berth/c1'), true);
  assert.equal(driver.stats('berth/c1').memoryLimit, -1);
  for (const h of ['memory', 'pids']) writeFileSync(join(base, h, 'berth/c1/cgroup.procs'), '');
  await driver.remove('berth/c1');
  assert.equal(driver.exists('berth/c1'), false);
  assert.equal(existsSync(join(base, 'memory/berth')), true, 'the shared parent stays');
});

test('v1 update rewrites each controller\'s files of an existing cgroup; a missing one is NotFound', () => {
  const { driver } = setup({ hierarchies: SEPARATE });
  driver.create('berth/c1', { cpuShares: 512, cpuQuota: 50_000, memory: 64 * MiB, pidsLimit: 50 });
  driver.update('berth/c1', { memory: 32 * MiB, pidsLimit: 10 });
  assert.equal(file('memory/berth/c1/memory.limit_in_bytes'), String(32 * MiB));
  assert.equal(file('pids/berth/c1/pids.max'), '10');
  assert.equal(file('cpu/berth/c1/cpu.shares'), '1024', 'shares left out: the default again');
  assert.equal(file('cpu/berth/c1/cpu.cfs_quota_us'), '-1');
  assert.throws(() => driver.update('berth/nope', { memory: 32 * MiB }), (e: unknown) => (e as { code?: string }).code === 'NOT_FOUND');
});
