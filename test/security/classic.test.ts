// The classic list of container breakouts, each tried from inside a default container: kernel
// memory (/proc/kcore), the magic SysRq key, kernel parameters (/proc/sys), mounting anything,
// cgroup v1 release_agent (CVE-2022-0492), the supervising shim (ptrace), the engine's socket.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attackRoots, berthOk, eventually, importProbeImage } from './harness.js';

const roots = attackRoots();
before(async () => { await importProbeImage(roots(), 'probe'); });

const run = (script: string, ...opts: string[]): Promise<string> => berthOk(roots(), ['run', '--rm', ...opts, 'probe', 'sh', '-c', script]);

test('/proc/kcore and /proc/keys are masked; /proc/sysrq-trigger and /proc/sys are read-only', async () => {
  const out = await run([
    'head -c 16 /proc/kcore 2>/dev/null | wc -c',
    'cat /proc/keys | wc -c',
    'echo h > /proc/sysrq-trigger 2>/dev/null && echo sysrq-written',
    'echo 1 > /proc/sys/kernel/panic 2>/dev/null && echo sysctl-written',
    'echo 1 > /proc/sys/vm/drop_caches 2>/dev/null && echo drop-caches-written',
    'echo done',
  ].join('; '));
  assert.equal(out, '0\n0\ndone\n');
});

test('mounting any filesystem is refused: proc, tmpfs, cgroup, a bind', async () => {
  const out = await run([
    'mkdir -p /m',
    'for t in proc tmpfs sysfs; do mount -t $t none /m 2>/dev/null && echo "mounted $t"; done',
    'mount -t cgroup -o memory none /m 2>/dev/null && echo mounted-cgroup',
    'mount --bind /bin /m 2>/dev/null && echo bound',
    'probe mount_tmpfs',
  ].join('; '));
  assert.equal(out, 'mount_tmpfs EPERM\n');
});

test('cgroup release_agent (CVE-2022-0492): /sys/fs/cgroup is read-only and no cgroup can be mounted', async () => {
  const out = await run([
    'ls /sys/fs/cgroup/memory/memory.limit_in_bytes >/dev/null && echo has-own-cgroup',
    'for f in /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/*/notify_on_release; do [ -e "$f" ] && { echo x > "$f" 2>/dev/null && echo "wrote $f"; }; done',
    'mkdir /sys/fs/cgroup/memory/x 2>/dev/null && echo made-cgroup',
    'echo done',
  ].join('; '));
  assert.equal(out, 'has-own-cgroup\ndone\n');
});

test('modules, kexec and keyrings are out of reach', async () => {
  const out = await run('probe init_module; probe kexec_load; probe keyctl; probe add_key');
  assert.equal(out, 'init_module EPERM\nkexec_load EPERM\nkeyctl EPERM\nadd_key EPERM\n');
});

test('the supervising shim is not visible, so it cannot be ptraced; the container\'s own processes are all it sees', async () => {
  await berthOk(roots(), ['run', '-d', '--name', 'pt', 'probe', 'sleep', '1000']);
  const started = JSON.parse(readFileSync(join(roots().root, 'containers', (await berthOk(roots(), ['inspect', 'pt'])).match(/"Id": "([0-9a-f]{64})"/)![1]!, 'started'), 'utf8')) as { shimPid: number };
  const out = await berthOk(roots(), ['exec', 'pt', 'sh', '-c', `n=0; for p in /proc/[0-9]*; do case "$(readlink $p/exe)" in *berth*) n=$((n+1));; esac; done; echo $n; probe ptrace ${started.shimPid}`]);
  assert.equal(out, `0\nptrace ESRCH\n`);
});

test("the engine's socket is not reachable from a container", async () => {
  await berthOk(roots(), ['ls']); // starts the engine
  const socket = join(roots().run, 'berth.sock');
  await eventually('the engine socket', async () => { try { readFileSync(join(roots().run, 'engine.pid')); return true; } catch { return undefined; } });
  const out = await run(`ls ${socket} 2>/dev/null && echo visible; find / -xdev -type s 2>/dev/null | wc -l; echo done`);
  assert.equal(out, '0\ndone\n');
});
