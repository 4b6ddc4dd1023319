// detectCgroups on mountinfo texts of the host shapes berth meets.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { Unsupported } from '../../lib/errors.js';
import { detectCgroups, parseMountinfo } from './detect.js';

/** this VM: every controller on v1, and a cgroup2 at /sys/fs/cgroup/unified with none of berth's */
const HYBRID_LIKE_THIS_HOST = `22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw
23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** a systemd v1 host: co-mounted cpu,cpuacct and net_cls,net_prio, optional fields present, no cgroup2 */
const V1_COMOUNTED = `25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
26 25 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
27 26 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
28 26 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
29 26 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory
30 26 0:27 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpuset
31 26 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids
32 26 0:29 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,freezer
33 26 0:30 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,net_cls,net_prio
`;

/** a modern unified-only host */
const V2_ONLY = `24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
25 24 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
26 25 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

test('mountinfo: fields, optional fields up to " - ", super options, octal escapes', () => {
  const [m] = parseMountinfo('36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
  assert.deepEqual(m, {
    mountId: 36, parentId: 35, root: '/mnt1', mountPoint: '/mnt two', mountOptions: ['rw', 'noatime'],
    optionalFields: ['master:1', 'shared:2'], fsType: 'ext3', source: '/dev/root', superOptions: ['rw', 'errors=continue'],
  });
  assert.deepEqual(parseMountinfo('garbage\n\n1 2 3\n'), []);
});

test('a host like this one (v1 controllers + an empty cgroup2 beside them) is hybrid and gets the v1 driver', () => {
  const d = detectCgroups(HYBRID_LIKE_THIS_HOST);
  assert.equal(d.mode, 'hybrid');
  assert.equal(d.driver.version, 1);
  assert.equal(d.v2Mount, '/sys/fs/cgroup/unified');
  assert.deepEqual(d.v1Mounts, {
    cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', cpuset: '/sys/fs/cgroup/cpuset',
    memory: '/sys/fs/cgroup/memory', freezer: '/sys/fs/cgroup/freezer', pids: '/sys/fs/cgroup/pids', devices: '/sys/fs/cgroup/devices',
  });
  assert.deepEqual(d.driver.placement('berth/abc'), {
    procsDirs: ['/sys/fs/cgroup/cpu/berth/abc', '/sys/fs/cgroup/cpuacct/berth/abc', '/sys/fs/cgroup/cpuset/berth/abc',
      '/sys/fs/cgroup/memory/berth/abc', '/sys/fs/cgroup/pids/berth/abc', '/sys/fs/cgroup/freezer/berth/abc', '/sys/fs/cgroup/devices/berth/abc'],
    oom: { file: '/sys/fs/cgroup/memory/berth/abc/memory.oom_control', key: 'oom_kill' },
  });
});

test('preferring v2 on such a hybrid host still chooses v1, with a warning', () => {
  const d = detectCgroups(HYBRID_LIKE_THIS_HOST, { prefer: 2 });
  assert.equal(d.driver.version, 1);
  assert.equal(d.warnings.length, 1);
  assert.match(d.warnings[0]!, /memory controller is bound to a v1 hierarchy/);
});

test('co-mounted cpu,cpuacct share one dir, joined once', () => {
  const d = detectCgroups(V1_COMOUNTED);
  assert.equal(d.mode, 'v1');
  assert.equal(d.driver.version, 1);
  assert.equal(d.v2Mount, undefined);
  assert.equal(d.v1Mounts.cpu, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(d.v1Mounts.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
  assert.deepEqual(d.driver.placement('berth/x').procsDirs, [
    '/sys/fs/cgroup/cpu,cpuacct/berth/x', '/sys/fs/cgroup/cpuset/berth/x', '/sys/fs/cgroup/memory/berth/x',
    '/sys/fs/cgroup/pids/berth/x', '/sys/fs/cgroup/freezer/berth/x',
  ]);
});

test('a unified-only host gets the v2 driver rooted at the cgroup2 mount', () => {
  const d = detectCgroups(V2_ONLY);
  assert.equal(d.mode, 'v2');
  assert.equal(d.driver.version, 2);
  assert.equal(d.v2Mount, '/sys/fs/cgroup');
  assert.deepEqual(d.driver.placement('berth/abc'), {
    procsDirs: ['/sys/fs/cgroup/berth/abc'],
    oom: { file: '/sys/fs/cgroup/berth/abc/memory.events', key: 'oom_kill' },
  });
  assert.deepEqual(detectCgroups(V2_ONLY, { prefer: 1 }).warnings, ['cgroup v1 was preferred but no v1 hierarchy carries the memory controller; using cgroup v2']);
});

test('a cgroup2 beside only a named v1 hierarchy (name=systemd) is v2', () => {
  const text = `${V2_ONLY}40 26 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n`;
  const d = detectCgroups(text);
  assert.equal(d.mode, 'v2');
  assert.equal(d.driver.version, 2);
});

test('a host without any cgroup mount is unsupported', () => {
  assert.throws(() => detectCgroups('22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n'), Unsupported);
});

test('cgroup names cannot escape the hierarchy', () => {
  const d = detectCgroups(V2_ONLY);
  for (const bad of ['', '/abs', 'a/../b', 'a//b', '..']) assert.throws(() => d.driver.placement(bad), /invalid cgroup name/);
});
