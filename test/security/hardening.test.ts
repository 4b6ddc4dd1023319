// The hardening flags of `berth run` and the compose keys behind them (cap_add, cap_drop,
// privileged, security_opt, read_only, devices, sysctls, group_add), and the parts of the
// container's environment that programs depend on (Docker's): the container's own cgroup limits
// under a read-only /sys/fs/cgroup, unprivileged ports and ping, no_new_privs only when asked,
// no dangling /dev/core. Before this, the keys produced one warning and a default container.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attackRoots, berth, berthOk, importProbeImage, DEFAULT_CAP_MASK } from './harness.js';

const roots = attackRoots();
before(async () => { await importProbeImage(roots(), 'probe'); });

const run = (opts: readonly string[], script: string): Promise<string> => berthOk(roots(), ['run', '--rm', ...opts, 'probe', 'sh', '-c', script]);
const capEff = 'grep CapEff /proc/self/status | cut -f2';

test('cap_drop ALL, cap_drop one, cap_add one, cap_add ALL: the effective set follows Docker', async () => {
  assert.equal(await run(['--cap-drop', 'ALL'], capEff), '0000000000000000\n');
  assert.equal(await run(['--cap-drop', 'chown'], capEff), '00000000a80425fa\n');
  assert.equal(await run(['--cap-add', 'NET_ADMIN'], capEff), '00000000a80435fb\n');
  assert.equal(await run(['--cap-drop', 'ALL', '--cap-add', 'CAP_KILL'], capEff), '0000000000000020\n');
  assert.equal(await run([], capEff), `${DEFAULT_CAP_MASK}\n`);
  const bad = await berth(roots(), ['run', '--rm', '--cap-add', 'FLY', 'probe', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid --cap-add value "FLY": unknown capability: "CAP_FLY"/);
});

test('exec gets the container\'s capability set, not the default', async () => {
  await berthOk(roots(), ['run', '-d', '--name', 'nocaps', '--cap-drop', 'ALL', 'probe', 'sleep', '1000']);
  assert.equal(await berthOk(roots(), ['exec', 'nocaps', 'sh', '-c', capEff]), '0000000000000000\n');
});

test('exec --privileged: every capability for that one process, the seccomp filter resolved for them; PID 1 keeps none', async () => {
  await berthOk(roots(), ['run', '-d', '--name', 'privexec', '--cap-drop', 'ALL', 'probe', 'sleep', '1000']);
  const hostBnd = /^CapBnd:\s+(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
  const mount = 'mkdir -p /mnt/t && mount -t tmpfs none /mnt/t 2>/dev/null && echo mounted || echo refused';
  assert.equal(await berthOk(roots(), ['exec', '--privileged', 'privexec', 'sh', '-c', `${capEff}; grep -c "^Seccomp:.2" /proc/self/status; ${mount}`]), `${hostBnd}\n1\n${'mounted'}\n`);
  assert.equal(await berthOk(roots(), ['exec', 'privexec', 'sh', '-c', `${capEff}; umount /mnt/t 2>/dev/null || echo refused`]), '0000000000000000\nrefused\n');
  assert.equal(await berthOk(roots(), ['exec', 'privexec', 'sh', '-c', 'grep CapEff /proc/1/status | cut -f2']), '0000000000000000\n');
});

test('--read-only: the root filesystem refuses writes; /dev/shm and the bound /etc files do not', async () => {
  const out = await run(['--read-only'], 'touch /x 2>/dev/null && echo wrote-root; touch /tmp/x 2>/dev/null && echo wrote-tmp; touch /dev/shm/x && echo shm-ok; echo done');
  assert.equal(out, 'shm-ok\ndone\n');
});

test('no-new-privileges: off by default (setuid works), on when asked', async () => {
  assert.equal(await run([], 'grep NoNewPrivs /proc/self/status | cut -f2'), '0\n');
  assert.equal(await run(['--security-opt', 'no-new-privileges'], 'grep NoNewPrivs /proc/self/status | cut -f2'), '1\n');
  assert.equal(await run(['--security-opt', 'no-new-privileges:true'], 'grep NoNewPrivs /proc/self/status | cut -f2'), '1\n');
  // a setuid-root program run by an unprivileged user gets euid 0 without no_new_privs
  const script = 'cp /bin/probe /tmp/suid && chmod 4755 /tmp/suid && su app -s /bin/sh -c "/tmp/suid euid"';
  assert.equal(await run([], script), 'euid 0\n');
  assert.equal(await run(['--security-opt', 'no-new-privileges'], script), 'euid 1000\n');
});

test('--privileged: every capability, every device, no seccomp, nothing masked', async () => {
  const out = await run(['--privileged'], [
    'grep -E "^(CapEff|Seccomp):" /proc/self/status | tr "\\t" " "',
    'mknod /tmp/null2 c 1 3 && echo x > /tmp/null2 && echo null-ok',
    'mknod /tmp/kmsg c 1 11 && head -c0 /tmp/kmsg && echo kmsg-open',
    'grep -c " /proc/keys " /proc/mounts || true',
  ].join('; '));
  // every capability this host has (a sandboxed host may lack some)
  const hostBnd = /^CapBnd:\s+(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
  assert.match(out, new RegExp(`^CapEff: ${hostBnd}$`, 'm'));
  assert.match(out, /^Seccomp: 0$/m);
  assert.match(out, /^null-ok$/m);
  assert.match(out, /^kmsg-open$/m);
  assert.match(out, /^0$/m, '/proc/keys is not masked');
});

test('--device grants exactly the device it names', async () => {
  const out = await run(['--device', '/dev/full:/dev/myfull:rw', '--device', '/dev/zero'], 'ls -l /dev/myfull | cut -c1; head -c1 /dev/myfull | wc -c; echo x > /dev/myfull 2>/dev/null || echo full-enospc; mknod /tmp/k c 1 11; echo x > /tmp/k 2>/dev/null || echo kmsg-denied');
  assert.equal(out, 'c\n1\nfull-enospc\nkmsg-denied\n');
  const missing = await berth(roots(), ['run', '--rm', '--device', '/dev/no-such-device', 'probe', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/no-such-device"/);
});

test('--sysctl sets namespaced parameters; host-wide ones are refused', async () => {
  assert.equal(await run(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmni=1000'], 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni'), '1\n1000\n');
  const bad = await berth(roots(), ['run', '--rm', '--sysctl', 'kernel.panic=1', 'probe', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /sysctl "kernel.panic" is not allowed/);
});

test('--group-add adds supplementary groups by name and id', async () => {
  assert.equal(await run(['--group-add', 'wheel', '--group-add', '4242', '-u', 'app'], 'id -G'), '1000 10 4242\n');
  const bad = await berth(roots(), ['run', '--rm', '--group-add', 'nosuchgroup', 'probe', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /unable to find group nosuchgroup/);
});

test("the container's environment: its own limits under /sys/fs/cgroup, port 80 and ping for anyone, no /dev/core", async () => {
  const out = await run(['-m', '64m', '--cpus', '0.5', '-u', 'app'], [
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us',
    'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range | tr "\\t" " "',
    '(nc -l -p 80 -s 127.0.0.1 & p=$!; sleep 0.2; kill $p) 2>&1 | grep -c "denied\\|not permitted"',
    '[ -e /dev/core ] || [ -L /dev/core ] && echo has-core || echo no-core',
  ].join('; '));
  assert.equal(out, `${64 * 1024 * 1024}\n50000\n0\n0 2147483647\n0\n${existsSync('/proc/kcore') ? 'has-core' : 'no-core'}\n`);
});

test('compose: the keys are applied, not warned about', async () => {
  const dir = join(roots().dir, 'hardened');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'compose.yaml'), [
    'services:',
    '  app:',
    '    image: probe',
    '    command: ["sh", "-c", "grep -E \'^(CapEff|NoNewPrivs):\' /proc/self/status | tr \'\\\\t\' \' \'; touch /x 2>/dev/null || echo ro; cat /proc/sys/net/core/somaxconn; id -G; sleep 1000"]',
    '    cap_drop: [ALL]',
    '    cap_add: [NET_BIND_SERVICE]',
    '    read_only: true',
    '    security_opt: [no-new-privileges:true]',
    '    sysctls: {net.core.somaxconn: 1024}',
    '    group_add: ["4242"]',
    '    logging: {driver: json-file, options: {max-size: 1m, max-file: "2"}}',
    '',
  ].join('\n'));
  const file = join(dir, 'compose.yaml');
  const up = await berth(roots(), ['compose', '-f', file, 'up', '-d'], { timeoutMs: 60_000 });
  assert.equal(up.code, 0, up.stderr);
  assert.doesNotMatch(up.stderr, /cap_add|cap_drop|read_only|security_opt|sysctls|group_add/, 'no "not applied yet" warning for these keys');
  try {
    let logs = '';
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && !/4242/.test(logs); await new Promise((r) => setTimeout(r, 100))) {
      logs = await berthOk(roots(), ['compose', '-f', file, 'logs', '--no-log-prefix']);
    }
    assert.equal(logs, 'CapEff: 0000000000000400\nNoNewPrivs: 1\nro\n1024\n0 4242\n');
    const info = JSON.parse(await berthOk(roots(), ['inspect', 'hardened-app-1']))[0];
    assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(info.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } });
  } finally {
    await berth(roots(), ['compose', '-f', file, 'down', '-t', '1'], { timeoutMs: 60_000 });
  }
});
