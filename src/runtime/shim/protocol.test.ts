// The launch file format is shared with native/: this test reads the same sample file that
// native/test/test_protocol.c reads, and checks that both directions agree on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeDirectives, encodeDirectives, launchDirectives, mountDirective, escapeField, unescapeField } from './protocol.js';

const sample = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'native', 'test', 'sample.launch');

test('the shared sample launch file decodes and re-encodes byte for byte', () => {
  const text = readFileSync(sample, 'utf8');
  const directives = decodeDirectives(text);
  assert.equal(encodeDirectives(directives), text);
  const args = directives.filter((d) => d[0] === 'arg').map((d) => d[1]);
  assert.deepEqual(args, ['sh', '-c', 'printf \'a\\tb\\n\'\techo "tab\\\\tafter"\nexit 3']);
  assert.deepEqual(directives.find((d) => d[0] === 'env' && d[1]!.startsWith('GREETING')), ['env', 'GREETING=hello\tworld']);
  assert.deepEqual(directives.find((d) => d[0] === 'rlimit' && d[1] === 'CORE'), ['rlimit', 'CORE', '0', 'unlimited']);
  assert.deepEqual(directives.find((d) => d[0] === 'userns'), ['userns', '2000000000', '2000000001', '65536']);
  // the user mounts of the sample are what mountDirective writes for these specs
  const mounts = directives.filter((d) => d[0] === 'tmpfs' || (d[0] === 'bind' && d[1]!.includes('volumes')));
  assert.deepEqual(mounts, [
    mountDirective({ type: 'bind', source: '/var/lib/berth/volumes/db/_data', target: '/var/lib/db', readonly: false, nosuid: true, nodev: true, propagation: 'rslave', subpath: 'sub/dir' }),
    mountDirective({ type: 'tmpfs', target: '/run', size: 67108864, mode: 0o1777, readonly: false, nosuid: true, nodev: true, noexec: true }),
    mountDirective({ type: 'tmpfs', target: '/scratch', size: 0, mode: 0o755, readonly: false }),
  ]);
});

test('user mounts come after the runtime binds, as bind and tmpfs directives', () => {
  const d = launchDirectives({
    id: 'x'.repeat(64), bundle: '/b', rootfs: '/r', hostname: 'h', args: ['sh'], env: [], cwd: '/', user: '',
    cgroups: [], caps: [], noNewPrivs: true, rlimits: [], shmSize: 5, masked: [], readonly: [],
    binds: [{ source: '/bundle/hosts', target: '/etc/hosts', readonly: false }], tty: false, stdin: false, onExit: [],
    mounts: [
      { type: 'tmpfs', target: '/run', size: 1024, mode: 0o700, readonly: true, noexec: true },
      { type: 'bind', source: '/s', target: '/run/secrets/db', readonly: true, nosuid: true, nodev: true, noexec: true, nonRecursive: true },
      { type: 'bind', source: '/src', target: '/src', readonly: true, readonlyTopOnly: true },
    ],
  });
  assert.deepEqual(d.filter((x) => x[0] === 'bind' || x[0] === 'tmpfs'), [
    ['bind', '/bundle/hosts', '/etc/hosts', 'rw'],
    ['tmpfs', '/run', '1024', '700', 'ro,noexec'],
    ['bind', '/s', '/run/secrets/db', 'ro,nosuid,nodev,noexec,norecursive'],
    ['bind', '/src', '/src', 'ro,toponly'],
  ]);
});

test('escaping round-trips backslashes, tabs and newlines', () => {
  for (const s of ['plain', 'a\tb', 'a\nb', 'back\\slash', '\\t literally', '\\\\\t\n']) {
    assert.equal(unescapeField(escapeField(s)), s);
    assert.doesNotMatch(escapeField(s), /[\t\n]/);
  }
});

test('a launch spec becomes directives in the documented order and shapes', () => {
  const d = launchDirectives({
    id: 'x'.repeat(64), bundle: '/b', rootfs: '/r', hostname: 'h', args: ['sh'], env: ['A=1'], cwd: '/', user: '',
    cgroups: ['/cg'], caps: [0, 1], noNewPrivs: true, rlimits: [{ name: 'NOFILE', soft: 1, hard: 'unlimited' }],
    shmSize: 5, masked: ['/m'], readonly: ['/ro'], binds: [{ source: '/s', target: '/t', readonly: true }], tty: false, stdin: true, onExit: [],
    overlay: { mountpoint: '/r', options: 'lowerdir=l/A', chdir: '/o' }, netns: '/n', oom: { file: '/cg/memory.oom_control', key: 'oom_kill' }, init: '/i', log: '/l',
  });
  assert.deepEqual(d.map((x) => x[0]), ['id', 'bundle', 'overlay', 'rootfs', 'hostname', 'netns', 'arg', 'env', 'cwd', 'user', 'cgroup', 'oom', 'cap', 'cap',
    'no_new_privs', 'rlimit', 'shm_size', 'mask', 'readonly', 'bind', 'init', 'tty', 'stdin', 'log']);
  assert.deepEqual(d.find((x) => x[0] === 'bind'), ['bind', '/s', '/t', 'ro']);
  assert.deepEqual(d.find((x) => x[0] === 'rlimit'), ['rlimit', 'NOFILE', '1', 'unlimited']);
});

test('the hardening directives follow on_exit in the order native/src/protocol.c serializes them', () => {
  const d = launchDirectives({
    id: 'x'.repeat(64), bundle: '/b', rootfs: '/r', hostname: 'h', args: ['sh'], env: [], cwd: '/', user: '',
    cgroups: [], caps: [], noNewPrivs: false, rlimits: [], shmSize: 5, masked: [], readonly: [], binds: [], tty: false, stdin: false, onExit: ['x'],
    groupAdd: ['audio'], readonlyRootfs: true, sysfsRw: false, sysctls: [['net.ipv4.ip_forward', '1']],
    devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o666, uid: 0, gid: 0 }],
    cgroupfs: [{ fstype: 'cgroup2', options: '', subdir: '' }], logMaxSize: 100, logMaxFiles: 2,
    userns: { uid: 2000000000, gid: 2000000001, count: 65536 },
    seccomp: { defaultAction: { action: 'errno', errno: 1 }, cache: { dir: '/c', key: 'k' }, arches: ['x86'], rules: [{ action: 'allow', errno: 0, syscall: 'read', args: '' }] },
  });
  assert.deepEqual(d.slice(d.findIndex((x) => x[0] === 'on_exit')).map((x) => x.join(' ')), [
    'on_exit x', 'group_add audio', 'readonly_rootfs 1', 'sysctl net.ipv4.ip_forward 1', 'device /dev/fuse c 10 229 0666 0 0',
    'cgroupfs cgroup2  ', 'log_max_size 100', 'log_max_files 2', 'userns 2000000000 2000000001 65536', 'seccomp errno 1', 'seccomp_cache /c k', 'seccomp_arch x86', 'seccomp_rule allow 0 read ',
  ]);
});
