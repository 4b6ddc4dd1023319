// Pure resolution of a container's privileges: Docker's capability arithmetic, --security-opt
// parsing, the seccomp profile's conditions (caps, arch, kernel), sysctl and device checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCaps, parseSecurityOpt, seccompFor, validateSysctls, parseDeviceSpec, devicePolicyFor, NO_SECURITY } from './security.js';
import { resolveProfile, parseProfile } from './seccomp/profile.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp/default-profile.js';
import { resolveLogOptions, DEFAULT_LOG_ROTATION } from './log-options.js';

test('capabilities: defaults, drop, add, ALL, privileged, unknown names', () => {
  assert.equal(resolveCaps(NO_SECURITY).length, 14);
  assert.deepEqual(resolveCaps({ CapAdd: ['KILL'], CapDrop: ['ALL'], Privileged: false }), ['KILL']);
  assert.ok(!resolveCaps({ CapAdd: [], CapDrop: ['cap_chown'], Privileged: false }).includes('CHOWN'));
  assert.ok(resolveCaps({ CapAdd: ['sys_admin'], CapDrop: [], Privileged: false }).includes('SYS_ADMIN'));
  assert.equal(resolveCaps({ CapAdd: ['ALL'], CapDrop: ['MKNOD'], Privileged: false }).length, 40);
  assert.equal(resolveCaps({ CapAdd: [], CapDrop: [], Privileged: true }).length, 41);
  assert.throws(() => resolveCaps({ CapAdd: ['nope'], CapDrop: [], Privileged: false }), /unknown capability: "CAP_NOPE"/);
});

test('--security-opt: no-new-privileges forms, seccomp choices, errors', () => {
  assert.equal(parseSecurityOpt([]).noNewPrivileges, false);
  assert.equal(parseSecurityOpt(['no-new-privileges']).noNewPrivileges, true);
  assert.equal(parseSecurityOpt(['no-new-privileges=false']).noNewPrivileges, false);
  assert.deepEqual(parseSecurityOpt(['seccomp=unconfined']).seccomp, { kind: 'unconfined' });
  assert.throws(() => parseSecurityOpt(['apparmor=myprofile']), /invalid --security-opt: "apparmor=myprofile"/);
});

test('the default profile resolves per caps and arch: clone masked without SYS_ADMIN, clone3 ENOSYS, arch_prctl on amd64', () => {
  const base = resolveProfile(DEFAULT_SECCOMP_PROFILE, { caps: new Set(), nodeArch: 'x64', kernel: '6.1.0' });
  assert.deepEqual(base.defaultAction, { action: 'errno', errno: 1 });
  assert.deepEqual(base.arches, ['x86'], 'x32 is left out (cost; killed instead of filtered)');
  const find = (r: typeof base, name: string) => r.rules.filter((x) => x.syscall === name);
  assert.deepEqual(find(base, 'clone').map((r) => r.args), ['0:masked_eq:2114060288:0']);
  assert.deepEqual(find(base, 'clone3').map((r) => [r.action, r.errno]), [['errno', 38]]);
  assert.equal(find(base, 'arch_prctl').length, 1);
  assert.equal(find(base, 'mount').length, 0);
  assert.equal(find(base, 'io_uring_setup').length, 0);
  assert.equal(find(base, 'ptrace').length, 1, 'ptrace on kernels ≥ 4.8, as Docker');
  assert.equal(find(resolveProfile(DEFAULT_SECCOMP_PROFILE, { caps: new Set(), nodeArch: 'x64', kernel: '4.4.0' }), 'ptrace').length, 0);
  const admin = resolveProfile(DEFAULT_SECCOMP_PROFILE, { caps: new Set(['CAP_SYS_ADMIN']), nodeArch: 'x64', kernel: '6.1.0' });
  assert.equal(find(admin, 'mount').length, 1);
  assert.deepEqual(find(admin, 'clone').map((r) => r.args), ['']);
  const arm = resolveProfile(DEFAULT_SECCOMP_PROFILE, { caps: new Set(), nodeArch: 'arm64', kernel: '6.1.0' });
  assert.deepEqual(arm.arches, ['arm']);
  assert.equal(find(arm, 'arch_prctl').length, 0);
  assert.equal(find(arm, 'set_tls').length, 1);
});

test('seccomp: unconfined and privileged mean no filter; a bad profile is refused with its field', () => {
  assert.equal(seccompFor({ ...NO_SECURITY, SecurityOpt: ['seccomp=unconfined'] }, []), undefined);
  assert.equal(seccompFor({ ...NO_SECURITY, Privileged: true }, []), undefined);
  assert.throws(() => parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":9,"value":1,"op":"SCMP_CMP_EQ"}]}]}', 'x'), /syscalls\[0\].args\[0\].index: expected 0..5/);
  assert.throws(() => parseProfile('not json', 'x'), /not JSON/);
});

test('sysctls: only namespaced ones; devices: spec forms; policy adds them', () => {
  validateSysctls({ 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10' });
  assert.throws(() => validateSysctls({ 'vm.swappiness': '1' }), /not allowed/);
  assert.throws(() => validateSysctls({ 'net.../x': '1' }), /not allowed/);
  assert.deepEqual(parseDeviceSpec('/dev/fuse'), { host: '/dev/fuse', container: '/dev/fuse', permissions: 'rwm' });
  assert.deepEqual(parseDeviceSpec('/dev/sda:/dev/xvda:r'), { host: '/dev/sda', container: '/dev/xvda', permissions: 'r' });
  assert.throws(() => parseDeviceSpec('/dev/sda:/etc/passwd'), /under \/dev/);
  const p = devicePolicyFor({ ...NO_SECURITY, Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rw', type: 'c', major: 10, minor: 229, mode: 0o666, uid: 0, gid: 0 }] });
  assert.deepEqual(p.allow.at(-1), { type: 'c', major: 10, minor: 229, access: 'rw' });
});

test('log options: berth rotates by default; Docker\'s rules for max-size and max-file', () => {
  assert.deepEqual(resolveLogOptions(undefined, {}), DEFAULT_LOG_ROTATION);
  assert.deepEqual(resolveLogOptions('json-file', { 'max-size': '10m' }), { maxSize: 10 * 1024 * 1024, maxFiles: 1 });
  assert.deepEqual(resolveLogOptions(undefined, { 'max-size': '1k', 'max-file': '3' }), { maxSize: 1024, maxFiles: 3 });
  assert.throws(() => resolveLogOptions(undefined, { 'max-file': '3' }), /max-file cannot be greater than 1 when max-size is not set/);
  assert.throws(() => resolveLogOptions(undefined, { 'max-sise': '1' }), /unknown log opt 'max-sise'/);
  assert.throws(() => resolveLogOptions('syslog', {}), /logging driver "syslog" is not supported/);
});
