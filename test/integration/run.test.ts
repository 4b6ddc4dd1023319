// `berth run` and friends on real containers (root, real kernel): namespaces, overlay rootfs,
// cgroups, supervision, logs, stop/kill/rm, exec, init. Each test leaves nothing behind.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { importBusybox, makeRoots, berth, berthOk, leftovers, cleanupRoots, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'bb:latest');
});

afterEach(async () => {
  const ids = (await berthOk(roots, ['ps', '-aq', '--no-trunc'])).split('\n').filter((l) => l !== '');
  if (ids.length > 0) await berthOk(roots, ['rm', '-f', ...ids]);
  assert.deepEqual(leftovers(roots), [], 'rm leaves no mount, cgroup or process behind');
});

after(async () => {
  await berthOk(roots, ['rmi', 'bb:latest']);
  cleanupRoots(roots);
});

function inspect(out: string): any {
  const arr = JSON.parse(out);
  assert.equal(arr.length, 1);
  return arr[0];
}

function cgroupFile(controller: string, id: string, file: string): string {
  return readFileSync(join('/sys/fs/cgroup', controller, roots.cgroupParent, id, file), 'utf8').trim();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('PID 1 in the container is the command, in a pid namespace of its own', async () => {
  const out = await berthOk(roots, ['run', '--rm', 'bb', 'sh', '-c', 'echo $$; readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr "\\0" " "']);
  const [pid, ns, cmdline] = out.split('\n');
  assert.equal(pid, '1');
  assert.notEqual(ns, readlinkSync('/proc/self/ns/pid'));
  assert.equal(cmdline, 'sh -c echo $$; readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr "\\0" " " ');
});

test('the exit code of the command is the exit code of run; a missing command gives 127', async () => {
  assert.equal((await berth(roots, ['run', '--rm', 'bb', 'sh', '-c', 'exit 3'])).code, 3);
  const missing = await berth(roots, ['run', '--rm', 'bb', 'no-such-command']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /no-such-command/);
});

test('hostname: --hostname sets it, else the first 12 characters of the id', async () => {
  assert.equal((await berthOk(roots, ['run', '--rm', '--hostname', 'harbor', 'bb', 'hostname'])).trim(), 'harbor');
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sh', '-c', 'hostname; cat /etc/hostname'])).trim();
  await waitExited(id);
  assert.equal((await berthOk(roots, ['logs', id])), `${id.slice(0, 12)}\n${id.slice(0, 12)}\n`);
});

test('env, workdir and user are applied as Docker applies them', async () => {
  const out = await berthOk(roots, ['run', '--rm', '-e', 'GREETING=ahoy', '-w', '/tmp/work', '-u', 'app', 'bb', 'sh', '-c', 'echo $GREETING; pwd; id -u; id -g; echo $HOME']);
  assert.equal(out, 'ahoy\n/tmp/work\n1000\n1000\n/home/app\n');
  const byId = await berthOk(roots, ['run', '--rm', '-u', '4242:4243', 'bb', 'sh', '-c', 'id -u; id -g']);
  assert.equal(byId, '4242\n4243\n');
  const bad = await berth(roots, ['run', '--rm', '-u', 'nobody-here', 'bb', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /nobody-here/);
});

test('the root is an overlay: writes land in the upper dir only, deletes leave a whiteout', async () => {
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sh', '-c', 'grep " / " /proc/mounts; echo hi > /newfile; rm /etc/group']).then((s) => s.trim()));
  await waitExited(id);
  assert.match(await berthOk(roots, ['logs', id]), /^overlay \/ overlay /);
  const info = inspect(await berthOk(roots, ['inspect', id]));
  const upper = info.GraphDriver.Data.UpperDir as string;
  assert.equal(readFileSync(join(upper, 'newfile'), 'utf8'), 'hi\n');
  for (const lower of (info.GraphDriver.Data.LowerDir as string).split(':')) {
    assert.equal(existsSync(join(lower, 'newfile')), false, 'the image layer is untouched');
    assert.equal(existsSync(join(lower, 'etc', 'group')), true, 'the image still has /etc/group');
  }
  const wh = statSync(join(upper, 'etc', 'group'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a deleted image file leaves a 0/0 whiteout');
});

test('memory limit and cpu shares are in the container cgroup', async () => {
  const id = (await berthOk(roots, ['run', '-d', '-m', '64m', '--cpu-shares', '512', '--cpus', '0.5', '--pids-limit', '50', 'bb', 'sleep', '100'])).trim();
  assert.equal(cgroupFile('memory', id, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
  assert.equal(cgroupFile('cpu', id, 'cpu.shares'), '512');
  assert.equal(cgroupFile('cpu', id, 'cpu.cfs_quota_us'), '50000');
  assert.equal(cgroupFile('pids', id, 'pids.max'), '50');
  const pid = inspect(await berthOk(roots, ['inspect', id])).State.Pid as number;
  assert.ok(cgroupFile('memory', id, 'cgroup.procs').split('\n').includes(String(pid)), 'the container process is in its cgroup');
  const info = inspect(await berthOk(roots, ['inspect', id]));
  assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(info.HostConfig.CpuShares, 512);
});

test('a process exceeding the memory limit is OOM-killed and inspect says so', async () => {
  const id = (await berthOk(roots, ['run', '-d', '-m', '16m', '--memory-swap', '16m', 'bb', 'sh', '-c', 'tail /dev/zero'])).trim();
  const info = await waitExited(id, 20_000);
  assert.equal(info.State.OOMKilled, true);
  assert.equal(info.State.ExitCode, 137);
});

test('stop: a process that ignores SIGTERM gets the grace period, then SIGKILL (137)', async () => {
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done'])).trim();
  const t0 = Date.now();
  await berthOk(roots, ['stop', '-t', '2', id]);
  const took = Date.now() - t0;
  assert.ok(took >= 2000 && took < 6000, `stop took ${took} ms`);
  assert.equal(inspect(await berthOk(roots, ['inspect', id])).State.ExitCode, 137);
});

test('--init: signals reach the command and zombies are reaped; stop is quick', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--init', 'bb', 'sh', '-c', '(sleep 0.2 &); (sleep 0.2 &); exec sleep 100'])).trim();
  await sleep(800);
  const procs = await berthOk(roots, ['exec', id, 'ps', '-o', 'pid,stat,comm']);
  assert.doesNotMatch(procs, /\bZ\b/, `no zombies:\n${procs}`);
  assert.match(procs, /^\s*1 .*init/m, 'PID 1 is the init');
  const t0 = Date.now();
  await berthOk(roots, ['stop', '-t', '10', id]);
  const took = Date.now() - t0;
  assert.ok(took < 2000, `stop with --init took ${took} ms`);
  assert.equal(inspect(await berthOk(roots, ['inspect', id])).State.ExitCode, 143);
});

test('without --init, orphans stay zombies under a PID 1 that does not reap', async () => {
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sh', '-c', '(sleep 0.2 &); exec sleep 100'])).trim();
  await sleep(800);
  const procs = await berthOk(roots, ['exec', id, 'ps', '-o', 'pid,stat,comm']);
  assert.match(procs, /\bZ\b/, `the zombie is visible:\n${procs}`);
});

test('logs survive the CLI: a detached container keeps writing json-file logs', async () => {
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sh', '-c', 'echo out; echo err >&2; sleep 0.3; echo later'])).trim();
  const info = await waitExited(id);
  const records = readFileSync(info.LogPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r: any) => [r.stream, r.log]), [['stdout', 'out\n'], ['stderr', 'err\n'], ['stdout', 'later\n']]);
  // RFC3339Nano as Go (and so Docker) writes it: nanoseconds with trailing zeros trimmed.
  for (const r of records) assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/);
  const r = await berth(roots, ['logs', id]);
  assert.equal(r.stdout, 'out\nlater\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(await berthOk(roots, ['logs', '--tail', '1', id]), 'later\n');
});

test('logs -f follows until the container exits', async () => {
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sh', '-c', 'for i in 1 2 3; do echo $i; sleep 0.2; done'])).trim();
  assert.equal(await berthOk(roots, ['logs', '-f', id]), '1\n2\n3\n');
});

test('exec runs in the container namespaces and cgroup', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--name', 'target', 'bb', 'sleep', '100'])).trim();
  const pid = inspect(await berthOk(roots, ['inspect', 'target'])).State.Pid as number;
  const out = await berthOk(roots, ['exec', 'target', 'sh', '-c', 'for n in pid mnt net uts ipc; do readlink /proc/self/ns/$n; done; grep memory /proc/self/cgroup']);
  const lines = out.trim().split('\n');
  const expected = ['pid', 'mnt', 'net', 'uts', 'ipc'].map((n) => readlinkSync(`/proc/${pid}/ns/${n}`));
  assert.deepEqual(lines.slice(0, 5), expected);
  assert.match(lines[5]!, /memory:\/$/, 'the cgroup namespace root is the container cgroup');
  const execd = berth(roots, ['exec', 'target', 'sleep', '2']);
  // wait for the exec'd process to appear (a fixed sleep flaked on a loaded machine)
  let procs: string[] = [];
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
    procs = cgroupFile('memory', id, 'cgroup.procs').split('\n');
    if (procs.length >= 2) break;
  }
  assert.equal(procs.length, 2, 'the exec process joined the container cgroup');
  assert.equal((await execd).code, 0);
  assert.equal((await berth(roots, ['exec', 'target', 'sh', '-c', 'exit 7'])).code, 7);
});

test('ps lists running containers, -a all, in Docker table and JSON', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--name', 'alive', 'bb', 'sleep', '100'])).trim();
  const done = (await berthOk(roots, ['run', '-d', '--name', 'done', 'bb', 'true'])).trim();
  await waitExited(done);
  const ps = await berthOk(roots, ['ps']);
  assert.match(ps.split('\n')[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  assert.match(ps, new RegExp(`^${id.slice(0, 12)}\\s+bb\\s+"sleep 100"\\s+.*Up .*alive$`, 'm'));
  assert.doesNotMatch(ps, /done/);
  const all = (await berthOk(roots, ['ps', '-a', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(all.map((r: any) => [r.Names, r.State]).sort(), [['alive', 'running'], ['done', 'exited']]);
  assert.match(all.find((r: any) => r.Names === 'done').Status, /^Exited \(0\) /);
});

test('rm refuses a running container without -f; names are unique', async () => {
  await berthOk(roots, ['run', '-d', '--name', 'busy', 'bb', 'sleep', '100']);
  const r = await berth(roots, ['rm', 'busy']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /container is running/);
  const clash = await berth(roots, ['run', '-d', '--name', 'busy', 'bb', 'true']);
  assert.equal(clash.code, 125);
  assert.match(clash.stderr, /already in use/);
  await berthOk(roots, ['rm', '-f', 'busy']);
  assert.equal((await berth(roots, ['inspect', 'busy'])).code, 1);
});

test('kill sends the signal; the exit code is 128+n', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--init', 'bb', 'sleep', '100'])).trim();
  await berthOk(roots, ['kill', '-s', 'USR1', id]);
  const info = await waitExited(id);
  assert.equal(info.State.ExitCode, 128 + 10);
});

test('run -d --rm removes the container after it exits', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--rm', 'bb', 'true'])).trim();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await berth(roots, ['inspect', id])).code === 0) await sleep(50);
  assert.equal((await berth(roots, ['inspect', id])).code, 1, 'the container is gone');
});

test('the container sees Docker masked and read-only paths, /dev nodes and shm', async () => {
  const out = await berthOk(roots, ['run', '--rm', 'bb', 'sh', '-c',
    'cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; echo x > /proc/sysrq-trigger 2>/dev/null && echo writable || echo readonly; ls /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/ptmx; grep /dev/shm /proc/mounts']);
  const lines = out.trim().split('\n');
  assert.equal(lines[0], '0', '/proc/kcore is masked');
  assert.equal(lines[1], '0', '/sys/firmware is masked');
  assert.equal(lines[2], 'readonly');
  assert.match(out, /\/dev\/shm .*size=65536k/);
});

async function waitExited(id: string, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = inspect(await berthOk(roots, ['inspect', id]));
    if (info.State.Status === 'exited') return info;
    if (Date.now() > deadline) throw new Error(`container ${id} still ${info.State.Status}`);
    await sleep(50);
  }
}
