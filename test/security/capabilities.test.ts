// Capability escalation through a faked /proc/sys/kernel/cap_last_cap (class: runtime trusts a
// file the container controls; the escalation then reached the host with open_by_handle_at, the
// "shocker" breakout). The container makes its own user and mount namespace and binds a fake
// kernel/cap_last_cap ("0") over /proc/sys; every `berth exec` (and every health probe, which runs
// the same way) must still get exactly the container's capability set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attackRoots, berth, berthOk, eventually, DEFAULT_CAP_MASK } from './harness.js';

const roots = attackRoots();

test('a fake cap_last_cap bound over /proc/sys does not give exec every capability', async () => {
  await berthOk(roots(), ['run', '-d', '--name', 'capx', ...ATTACK_OPTS, 'bb', 'unshare', '-Urm', 'sh', '-c',
    'mkdir -p /f/kernel; echo 0 >/f/kernel/cap_last_cap; mount --bind /f /proc/sys; exec sleep 1000']);
  // the attack is in place once exec (which joins PID 1's mount namespace) sees the fake file
  await eventually('the fake cap_last_cap', async () => {
    const r = await berth(roots(), ['exec', 'capx', 'cat', '/proc/sys/kernel/cap_last_cap']);
    return r.stdout.trim() === '0' ? true : undefined;
  });
  const status = await berthOk(roots(), ['exec', 'capx', 'cat', '/proc/self/status']);
  assert.equal(/^CapEff:\s+(\w+)$/m.exec(status)?.[1], DEFAULT_CAP_MASK);
  assert.equal(/^CapBnd:\s+(\w+)$/m.exec(status)?.[1], DEFAULT_CAP_MASK);
  assert.equal(/^CapPrm:\s+(\w+)$/m.exec(status)?.[1], DEFAULT_CAP_MASK);
});

/** Options that let the attack's first step (a user namespace) happen at all. */
// the default seccomp filter refuses new user namespaces (test/security/seccomp): without it, the
// capability drop itself must hold
const ATTACK_OPTS: string[] = ['--security-opt', 'seccomp=unconfined'];
