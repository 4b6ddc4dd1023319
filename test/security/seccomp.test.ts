// The default seccomp filter (Docker's default profile in effect) against the syscalls container
// breakouts use: new user namespaces (the first step of most kernel exploits from a container,
// and of the cap_last_cap attack), keyring access (keyctl/add_key: not namespaced), bpf,
// open_by_handle_at ("shocker", CVE-2014-3519 class), kexec, io_uring (CVE-2022-29582 class),
// module loading, mount. Each is tried from inside a container with the probe; where the
// kernel itself would allow it to an unprivileged process, the same call with
// `--security-opt seccomp=unconfined` shows that the filter, not something else, refused it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attackRoots, berth, berthOk, importProbeImage } from './harness.js';

const roots = attackRoots();
before(async () => { await importProbeImage(roots(), 'probe'); });

async function probe(opts: readonly string[], ...names: string[]): Promise<Record<string, string>> {
  const script = names.map((n) => `probe ${n}`).join('; ');
  const out = await berthOk(roots(), ['run', '--rm', ...opts, 'probe', 'sh', '-c', script]);
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

test('the filter is on by default, no_new_privs is off (setuid programs work, as in Docker)', async () => {
  const out = await berthOk(roots(), ['run', '--rm', 'probe', 'grep', '-E', '^(Seccomp|NoNewPrivs):', '/proc/self/status']);
  assert.match(out, /^NoNewPrivs:\s+0$/m);
  assert.match(out, /^Seccomp:\s+2$/m);
});

test("breakout syscalls get EPERM from Docker's default filter", async () => {
  const blocked = ['keyctl', 'add_key', 'bpf', 'open_by_handle_at', 'kexec_load', 'io_uring_setup', 'unshare_user', 'clone_newuser', 'mount_tmpfs', 'init_module', 'userfaultfd', 'perf_event_open', 'setns'];
  const got = await probe([], ...blocked, 'vsock', 'personality');
  for (const n of blocked) assert.equal(got[n], 'EPERM', `${n}: ${got[n]}`);
  assert.equal(got.vsock, 'EPERM', 'socket(AF_VSOCK) is refused (arg filter)');
  assert.equal(got.personality, 'EPERM', 'personality(ADDR_NO_RANDOMIZE) is refused (arg filter)');
});

test('it is the filter that refuses them: unconfined, the kernel lets an unprivileged caller do these', async () => {
  const got = await probe(['--security-opt', 'seccomp=unconfined'], 'keyctl', 'io_uring_setup', 'personality');
  assert.equal(got.keyctl, 'ok');
  assert.notEqual(got.io_uring_setup, 'EPERM');
  assert.equal(got.personality, 'ok');
});

test('cap_add SYS_ADMIN brings mount back as in Docker (the profile follows the capabilities)', async () => {
  const got = await probe(['--cap-add', 'SYS_ADMIN'], 'mount_tmpfs', 'keyctl');
  assert.equal(got.mount_tmpfs, 'ok');
  assert.equal(got.keyctl, 'EPERM', 'keyctl stays refused');
});

test('a profile in Docker\'s JSON format: defaultAction ALLOW with one errno rule', async () => {
  const file = join(roots().dir, 'profile.json');
  writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] }));
  const got = await probe(['--security-opt', `seccomp=${file}`], 'keyctl', 'io_uring_setup');
  assert.equal(got.keyctl, 'ENOSYS');
  assert.notEqual(got.io_uring_setup, 'EPERM');
  const bad = await berth(roots(), ['run', '--rm', '--security-opt', `seccomp=${join(roots().dir, 'missing.json')}`, 'probe', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /seccomp profile .*missing\.json.*ENOENT/);
  writeFileSync(file, '{"defaultAction": "SCMP_ACT_NOPE"}');
  const invalid = await berth(roots(), ['run', '--rm', '--security-opt', `seccomp=${file}`, 'probe', 'true']);
  assert.equal(invalid.code, 125);
  assert.match(invalid.stderr, /defaultAction: unknown action "SCMP_ACT_NOPE"/);
});

test('the compiled filter is cached in BERTH_ROOT/seccomp, and a symlink planted there is not followed', async () => {
  const { readdirSync, statSync, rmSync, symlinkSync, writeFileSync: write } = await import('node:fs');
  const dir = join(roots().root, 'seccomp');
  rmSync(dir, { recursive: true, force: true });
  await probe([], 'keyctl');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bpf'));
  assert.equal(files.length, 1, 'one program for the default filter');
  const st = statSync(join(dir, files[0]!));
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.size % 8, 0);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  await probe([], 'keyctl');
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.bpf')).length, 1, 'the second start reuses it');
  // an "allow everything" program (ret SECCOMP_RET_ALLOW) behind a symlink at the cached name
  const allowAll = join(roots().dir, 'allow-all.bpf');
  const insn = Buffer.alloc(8);
  insn.writeUInt16LE(0x06, 0); // BPF_RET | BPF_K
  insn.writeUInt32LE(0x7fff0000, 4);
  write(allowAll, insn);
  rmSync(join(dir, files[0]!));
  symlinkSync(allowAll, join(dir, files[0]!));
  assert.equal((await probe([], 'keyctl')).keyctl, 'EPERM', 'the planted program was not used');
});
