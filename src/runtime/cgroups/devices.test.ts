// The device policy: Docker's default allow-list, its v1 lines, and the v2 BPF program checked
// against the reference semantics (policyAllows) over a grid of requests; then both drivers on
// fake trees, asserting through driver.deviceAllows so the same assertions hold on either host.
import { test, beforeEach, afterEach } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE_POLICY, ALLOW_ALL_DEVICES, deviceProgram, runDeviceProgram, policyAllows, v1DeviceWrites, parseDevicesList, type DevicePolicy, type DeviceRequest } from './devices.js';
import { CgroupV1Driver, type V1Options } from './v1.js';
import { CgroupV2Driver, type DeviceFilter } from './v2.js';
import { fakeV1Tree, fakeV2Tree } from './fake-cgroupfs.js';

const grid: DeviceRequest[] = [];
for (const type of ['c', 'b'] as const) {
  for (const [major, minor] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [1, 11], [5, 0], [5, 1], [5, 2], [4, 0], [7, 0], [10, 229], [10, 232], [136, 0], [136, 7], [8, 0], [0, 0]]) {
    for (const access of ['r', 'w', 'm', 'rw', 'rwm']) grid.push({ type, major: major!, minor: minor!, access });
  }
}

const withFuse: DevicePolicy = { allowAll: false, allow: [...DEFAULT_DEVICE_POLICY.allow, { type: 'c', major: 10, minor: 229, access: 'rw' }] };

test("Docker's default: null/zero/full/random/urandom/tty/console/ptmx/pts open; kmsg, tty0, loop, kvm do not; mknod of anything", () => {
  const p = DEFAULT_DEVICE_POLICY;
  for (const [major, minor] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [136, 4]]) {
    assert.equal(policyAllows(p, { type: 'c', major: major!, minor: minor!, access: 'rw' }), true, `c ${major}:${minor}`);
  }
  for (const [major, minor] of [[1, 11], [4, 0], [7, 0], [10, 232], [10, 229], [1, 1], [1, 2], [7, 128]]) {
    assert.equal(policyAllows(p, { type: 'c', major: major!, minor: minor!, access: 'r' }), false, `c ${major}:${minor} r`);
    assert.equal(policyAllows(p, { type: 'c', major: major!, minor: minor!, access: 'm' }), true, `c ${major}:${minor} m`);
  }
  assert.equal(policyAllows(p, { type: 'b', major: 8, minor: 0, access: 'w' }), false);
  assert.equal(policyAllows(p, { type: 'b', major: 8, minor: 0, access: 'm' }), true);
});

test('v1 lines: deny everything, then one allow per rule; privileged allows "a"', () => {
  assert.deepEqual(v1DeviceWrites(DEFAULT_DEVICE_POLICY).slice(0, 4), [['devices.deny', 'a'], ['devices.allow', 'c *:* m'], ['devices.allow', 'b *:* m'], ['devices.allow', 'c 1:3 rwm']]);
  assert.deepEqual(v1DeviceWrites(ALLOW_ALL_DEVICES), [['devices.allow', 'a']]);
  assert.deepEqual(parseDevicesList('c 1:3 rwm\nc 136:* rwm\n'), { allowAll: false, allow: [{ type: 'c', major: 1, minor: 3, access: 'rwm' }, { type: 'c', major: 136, minor: '*', access: 'rwm' }] });
});

test('the v2 BPF program decides every request of the grid exactly as the policy does', () => {
  for (const policy of [DEFAULT_DEVICE_POLICY, ALLOW_ALL_DEVICES, withFuse, { allowAll: false, allow: [] }]) {
    const program = deviceProgram(policy);
    assert.equal(program.length % 8, 0);
    for (const req of grid) assert.equal(runDeviceProgram(program, req), policyAllows(policy, req), `${JSON.stringify(req)} under ${JSON.stringify(policy).slice(0, 60)}`);
  }
});

let base: string;
beforeEach(() => { base = mkdtempSync(join(tmpdir(), 'berth-cgdev-')); });
afterEach(() => { rmSync(base, { recursive: true, force: true }); });

test('v1: a container cgroup gets the default list; --device adds to it; privileged allows everything', () => {
  const tree = fakeV1Tree(base, { hierarchies: { memory: ['memory'], devices: ['devices'] } });
  const driver = new CgroupV1Driver({ mounts: tree.mounts as V1Options['mounts'], fs: tree.fs, waitBudgetMs: 100 });
  assert.deepEqual(driver.create('berth/a', {}).warnings, []);
  driver.create('berth/b', { devices: withFuse });
  driver.create('berth/c', { devices: ALLOW_ALL_DEVICES });
  assert.equal(driver.deviceAllows('berth/a', { type: 'c', major: 1, minor: 11, access: 'w' }), false);
  assert.equal(driver.deviceAllows('berth/a', { type: 'c', major: 1, minor: 3, access: 'rw' }), true);
  assert.equal(driver.deviceAllows('berth/a', { type: 'c', major: 10, minor: 229, access: 'r' }), false);
  assert.equal(driver.deviceAllows('berth/b', { type: 'c', major: 10, minor: 229, access: 'rw' }), true);
  assert.equal(driver.deviceAllows('berth/c', { type: 'b', major: 8, minor: 0, access: 'rwm' }), true);
  assert.ok(driver.placement('berth/a').procsDirs.includes(join(base, 'devices', 'berth/a')), 'the container joins the devices hierarchy');
});

test('v1 without a devices hierarchy: created, with a warning that the allow-list is not enforced', () => {
  const tree = fakeV1Tree(base, { hierarchies: { memory: ['memory'] } });
  const driver = new CgroupV1Driver({ mounts: tree.mounts as V1Options['mounts'], fs: tree.fs, waitBudgetMs: 100 });
  assert.match(driver.create('berth/a', {}).warnings.join('\n'), /device allow-list is not enforced/);
});

test('v2: the program attached to the container cgroup is the policy (read back through the driver)', () => {
  const tree = fakeV2Tree(base);
  const attached = new Map<string, Uint8Array>();
  const recordingFilter: DeviceFilter = { attach: (dir, program) => { attached.set(dir, program); }, attached: (dir) => attached.get(dir) };
  const driver = new CgroupV2Driver({ root: base, fs: tree.fs, waitBudgetMs: 100, deviceFilter: recordingFilter });
  driver.create('berth/a', {});
  driver.create('berth/b', { devices: withFuse });
  assert.deepEqual([...attached.keys()], [join(base, 'berth/a'), join(base, 'berth/b')]);
  assert.equal(driver.deviceAllows('berth/a', { type: 'c', major: 1, minor: 11, access: 'w' }), false);
  assert.equal(driver.deviceAllows('berth/a', { type: 'c', major: 136, minor: 3, access: 'rw' }), true);
  assert.equal(driver.deviceAllows('berth/b', { type: 'c', major: 10, minor: 229, access: 'rw' }), true);
  assert.equal(driver.deviceAllows('berth/b', { type: 'c', major: 10, minor: 229, access: 'm' }), true);
});
