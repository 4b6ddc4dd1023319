// The host's berth-init reached from inside a container (CVE-2019-5736 class, as for the shim):
// with `--init`, PID 1 of the container is berth-init. Were it the host's native/build/berth-init
// (exec'd from a bind mount, as before), the container could open it through /proc/1/exe, or
// remount the bind writable with CAP_SYS_ADMIN, and the next container's PID 1 would run the
// attacker's code. PID 1 must run from a sealed in-memory copy, and no mount of the host file may
// be left in the container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { attackRoots, berthOk } from './harness.js';
import { repoRoot } from '../helpers/env.js';

const roots = attackRoots();
const hostInit = join(repoRoot, 'native', 'build', 'berth-init');
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

for (const caps of [[], ['--cap-add', 'SYS_ADMIN']]) {
  test(`the init a container runs as PID 1 is a sealed copy, not writable${caps.length ? ' (even with CAP_SYS_ADMIN)' : ''}`, async () => {
    const before = sha(hostInit);
    const host = statSync(hostInit);
    await berthOk(roots(), ['run', '-d', '--init', ...caps, '--name', 'victim', 'bb', 'sleep', '1000']);
    const attack = [
      'readlink /proc/1/exe',
      'stat -L -c "%d:%i" /proc/1/exe',
      'cat /proc/1/comm',
      // every way a writer would try: through the magic link, appending and truncating
      'printf x >>/proc/1/exe 2>/dev/null && echo wrote-through-exe',
      'printf x >/proc/1/exe 2>/dev/null && echo truncated-through-exe',
      'exec 3</proc/1/exe; printf x >>/proc/self/fd/3 2>/dev/null && echo wrote-through-fd',
      // no mount of the host file to remount writable (it used to be bound at /dev/init)
      'grep -c berth-init /proc/self/mountinfo',
      '[ -e /dev/init ] && echo dev-init-exists',
      'echo done',
    ].join('; ');
    const out = (await berthOk(roots(), ['exec', 'victim', 'sh', '-c', attack])).split('\n');
    assert.match(out[0]!, /^\/memfd:berth-init/, 'PID 1 runs from an in-memory copy');
    assert.notEqual(out[1], `${host.dev}:${host.ino}`, 'not the host binary');
    assert.equal(out[2], 'init', 'PID 1 still calls itself init');
    assert.deepEqual(out.slice(3), ['0', 'done', ''], 'no write went through, and no mount of the host file');
    // the init still does its job: it forwards SIGTERM and exits with the command's status
    await berthOk(roots(), ['stop', '-t', '30', 'victim']);
    const state = JSON.parse(await berthOk(roots(), ['inspect', 'victim']))[0].State;
    assert.equal(state.ExitCode, 143);
    assert.equal(sha(hostInit), before, 'the host binary is unchanged');
  });
}
