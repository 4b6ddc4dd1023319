// `berth run` and friends on real containers (root, real kernel), every verb through the engine:
// namespaces, overlay rootfs, cgroups, supervision, logs, stop/kill/rm, exec, init, restart
// policies and health checks of single containers. Cgroup facts are read through the cgroup
// driver (v1 or v2, whichever the host has). Each test leaves nothing behind.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { importBusybox, makeRoots, berth, berthOk, berthBin, leftovers, cleanupRoots, eventually, type TestRoots } from '../helpers/env.js';
import { hostCgroupDriver } from '../../src/runtime/cgroups/detect.js';
import { sharesToWeight } from '../../src/runtime/cgroups/convert.js';

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
  await cleanupRoots(roots);
});

function inspect(out: string): any {
  const arr = JSON.parse(out);
  assert.equal(arr.length, 1);
  return arr[0];
}

const cgroups = hostCgroupDriver();
const cgroupOf = (id: string): string => `${roots.cgroupParent}/${id}`;

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

test('memory limit and cpu shares are in the container cgroup; inspect shows what was applied', async () => {
  const id = (await berthOk(roots, ['run', '-d', '-m', '64m', '--cpu-shares', '512', '--cpus', '0.5', '--pids-limit', '50', 'bb', 'sleep', '100'])).trim();
  const limits = cgroups.read(cgroupOf(id));
  assert.equal(limits.memory, 64 * 1024 * 1024);
  if (cgroups.version === 1) assert.equal(limits.cpuShares, 512);
  else assert.equal(limits.cpuWeight, sharesToWeight(512));
  assert.equal(limits.cpuQuota, 50000);
  assert.equal(limits.pidsLimit, 50);
  const info = inspect(await berthOk(roots, ['inspect', id]));
  assert.ok(cgroups.pids(cgroupOf(id)).includes(info.State.Pid), 'the container process is in its cgroup');
  assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(info.HostConfig.MemorySwap, 128 * 1024 * 1024, 'memory-swap defaults to twice the memory, as Docker applies it');
  assert.equal(info.HostConfig.CpuShares, 512);
});

test('a process exceeding the memory limit is OOM-killed and inspect says so', async () => {
  const id = (await berthOk(roots, ['run', '-d', '-m', '16m', '--memory-swap', '16m', 'bb', 'sh', '-c', 'tail /dev/zero'])).trim();
  const info = await waitExited(id, 20_000);
  assert.equal(info.State.OOMKilled, true);
  assert.equal(info.State.ExitCode, 137);
});

test('stop: a process that ignores SIGTERM gets the grace period, then SIGKILL (137)', async () => {
  // the trap is set before the script says so: a SIGTERM can only arrive after it is in place
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sh', '-c', 'trap "" TERM; echo trapped; while true; do sleep 0.1; done'])).trim();
  await eventually(async () => (await berthOk(roots, ['logs', id])) === 'trapped\n', 10_000, 'the trap to be set');
  const t0 = Date.now();
  await berthOk(roots, ['stop', '-t', '2', id]);
  const took = Date.now() - t0;
  // no upper bound: the grace period is a minimum, and a loaded machine only adds to it
  assert.ok(took >= 2000, `stop took ${took} ms: the grace period was not given`);
  assert.equal(inspect(await berthOk(roots, ['inspect', id])).State.ExitCode, 137);
});

test('--init: signals reach the command and zombies are reaped', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--init', 'bb', 'sh', '-c', '(sleep 0.2 &); (sleep 0.2 &); exec sleep 100'])).trim();
  // the orphans exit after 0.2 s; reaped, they leave no process at all (a zombie would stay, Z)
  const procs = await eventually(async () => {
    const out = await berthOk(roots, ['exec', id, 'ps', '-o', 'pid,stat,args']);
    return /^\s*\d+\s+\S+\s+sleep 0\.2\s*$/m.test(out) ? undefined : out;
  }, 10_000, 'the orphaned sleeps to be gone');
  assert.doesNotMatch(procs, /\bZ\b/, `no zombies:\n${procs}`);
  assert.match(procs, /^\s*1 .*init/m, 'PID 1 is the init');
  await berthOk(roots, ['stop', '-t', '30', id]);
  // 143: the init passed SIGTERM on and the command died of it, with no need for SIGKILL (137)
  assert.equal(inspect(await berthOk(roots, ['inspect', id])).State.ExitCode, 143);
});

test('without --init, orphans stay zombies under a PID 1 that does not reap', async () => {
  const id = (await berthOk(roots, ['run', '-d', 'bb', 'sh', '-c', '(sleep 0.2 &); exec sleep 100'])).trim();
  const procs = await eventually(async () => {
    const out = await berthOk(roots, ['exec', id, 'ps', '-o', 'pid,stat,comm']);
    return /\bZ\b/.test(out) ? out : undefined;
  }, 10_000, 'the exited orphan to show as a zombie');
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
  await eventually(() => cgroups.pids(cgroupOf(id)).length === 2, 10_000, 'the exec process to join the container cgroup');
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

test('run -d --rm removes the container after it exits; attached run --rm answers once it is gone', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--rm', 'bb', 'true'])).trim();
  await eventually(async () => (await berth(roots, ['inspect', id])).code === 1, 10_000, 'the --rm container to be removed');
  assert.equal(await berthOk(roots, ['run', '--rm', '--name', 'brief', 'bb', 'echo', 'hi']), 'hi\n');
  assert.equal((await berth(roots, ['inspect', 'brief'])).code, 1, 'removed before run returned');
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

test('run --pull never nosuchimage gives the same hint as up: how to get an image into berth', async () => {
  const r = await berth(roots, ['run', '--pull', 'never', 'nosuchimage', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /no such image: nosuchimage; pull it with `berth pull IMAGE`, build it with `berth build -t IMAGE DIR`, or load one with `berth load -i FILE`/);
  assert.doesNotMatch(r.stderr, /Unable to find image/, 'never: no pull is tried');
});

test('stdin flows with -i and its end closes the container\'s stdin; stdout and stderr stay apart', async () => {
  const r = await berth(roots, ['run', '--rm', '-i', 'bb', 'sh', '-c', 'cat; echo done >&2'], { input: 'line one\nline two\n' });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'line one\nline two\n');
  assert.equal(r.stderr, 'done\n');
  // without -i the container's stdin is empty
  assert.equal(await berthOk(roots, ['run', '--rm', 'bb', 'cat'], { input: 'ignored\n' }), '');
});

test('a signal the client receives reaches the container (sig-proxy), and run exits with its code', async () => {
  const child = spawnBerth(['run', '--rm', 'bb', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done']);
  await eventually(() => child.stdout().includes('ready'), 10_000, 'the container to be ready');
  child.kill('SIGTERM');
  const code = await child.exited;
  assert.equal(code, 7);
  assert.match(child.stdout(), /got-term/);
});

test('restart policies: --restart always brings a single container back; update --restart no stops that', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--restart', 'always', '--init', 'bb', 'sleep', '100'])).trim();
  const first = inspect(await berthOk(roots, ['inspect', id]));
  assert.deepEqual(first.HostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  process.kill(first.State.Pid, 'SIGKILL');
  const back = await eventually(async () => {
    const info = inspect(await berthOk(roots, ['inspect', id]));
    return info.State.Status === 'running' && info.State.Pid !== first.State.Pid ? info : undefined;
  }, 20_000, 'the container to be restarted');
  assert.equal(back.RestartCount, 1);
  await berthOk(roots, ['update', '--restart', 'no', id]);
  assert.deepEqual(inspect(await berthOk(roots, ['inspect', id])).HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal((await berth(roots, ['run', '--rm', '--restart', 'always', 'bb', 'true'])).code, 125, '--rm and --restart conflict, as in Docker');
  assert.equal((await berth(roots, ['run', '-d', '--restart', 'sometimes', 'bb', 'true'])).code, 125);
});

test('single containers get health checks: --health-cmd, and ps shows the health', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--health-cmd', 'test -e /tmp/ok', '--health-interval', '100ms', '--health-retries', '1', 'bb', 'sh', '-c', 'touch /tmp/ok; exec sleep 100'])).trim();
  const healthy = await eventually(async () => {
    const info = inspect(await berthOk(roots, ['inspect', id]));
    return info.State.Health?.Status === 'healthy' ? info : undefined;
  }, 20_000, 'the container to be healthy');
  assert.deepEqual(healthy.Config.Healthcheck.Test, ['CMD-SHELL', 'test -e /tmp/ok']);
  assert.match(await berthOk(roots, ['ps', '--format', '{{.Status}}']), /^Up .* \(healthy\)$/m);
  await berthOk(roots, ['exec', id, 'rm', '/tmp/ok']);
  await eventually(async () => inspect(await berthOk(roots, ['inspect', id])).State.Health?.Status === 'unhealthy', 20_000, 'the container to turn unhealthy');
  const disabled = (await berthOk(roots, ['run', '-d', '--no-healthcheck', 'bb', 'sleep', '100'])).trim();
  assert.deepEqual(inspect(await berthOk(roots, ['inspect', disabled])).Config.Healthcheck.Test, ['NONE']);
});

test('what scripts use: inspect -f and ps --format take Go templates; exec -d runs in the background', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--name', 'tmpl', '-l', 'tier=web', 'bb', 'sleep', '100'])).trim();
  const pid = (await berthOk(roots, ['inspect', '-f', '{{.State.Pid}}', 'tmpl'])).trim();
  assert.match(pid, /^\d+$/);
  assert.equal(await berthOk(roots, ['inspect', '-f', '{{index .Config.Labels "tier"}} {{.Name}} {{json .Config.Cmd}}', 'tmpl']), 'web /tmpl ["sleep","100"]\n');
  assert.equal(await berthOk(roots, ['inspect', '-f', '{{range .Args}}[{{.}}]{{end}}{{if .State.Running}} up{{else}} down{{end}}', 'tmpl']), '[100] up\n');
  assert.equal(await berthOk(roots, ['ps', '--format', '{{.Names}}\t{{.Label "tier"}}']), 'tmpl\tweb\n');
  const table = await berthOk(roots, ['ps', '--format', 'table {{.ID}}\t{{.Names}}']);
  assert.match(table, new RegExp(`^CONTAINER ID\\s+NAMES\\n${id.slice(0, 12)}\\s+tmpl\\n$`));
  assert.equal((await berth(roots, ['inspect', '-f', '{{.State.Pid', 'tmpl'])).code, 125, 'a bad template is a usage error');
  await berthOk(roots, ['exec', '-d', 'tmpl', 'sh', '-c', 'sleep 0.2; touch /tmp/from-exec-d']);
  await eventually(async () => (await berth(roots, ['exec', 'tmpl', 'test', '-e', '/tmp/from-exec-d'])).code === 0, 10_000, 'the detached exec to run');
});

async function waitExited(id: string, timeoutMs = 10_000): Promise<any> {
  return eventually(async () => {
    const info = inspect(await berthOk(roots, ['inspect', id]));
    return info.State.Status === 'exited' ? info : undefined;
  }, timeoutMs, `container ${id} to exit`);
}

/** berth running in the background: its output so far, its exit code, and a way to signal it. */
function spawnBerth(args: readonly string[]): { stdout(): string; kill(signal: NodeJS.Signals): void; exited: Promise<number | null> } {
  const child = spawn(berthBin, [...args], { env: roots.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
  child.stderr.resume();
  // captured at spawn: an exit before anyone waits is not missed
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { stdout: () => out, kill: (signal) => child.kill(signal), exited };
}
