// A dockerd of a benchmark's own, for side-by-side figures (bench/stack.ts, bench/warm-cli.ts):
// started on temporary dirs with its own socket, `--bridge=none --iptables=false`, so it never
// touches a dockerd of the machine, the host's firewall or a default bridge; stopped after, with
// every process, mount and cgroup it made removed. Not a test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, rmdirSync, readFileSync, readdirSync, existsSync, openSync, closeSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** A dockerd of the benchmark's own, on temp dirs, reached through its own socket. */
export interface Dockerd {
  readonly dir: string;
  readonly child: ChildProcess;
  readonly env: NodeJS.ProcessEnv;
  readonly cli: string;
  readonly cgroupsBefore: ReadonlySet<string>;
}

/** Mount points of the cgroup hierarchies of this host. */
function cgroupMounts(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep >= 0 && (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2')) out.push(f[4]!);
  }
  return out;
}

const dockerCgroups = (): Set<string> => new Set(cgroupMounts().map((m) => join(m, 'docker')).filter((p) => existsSync(p)));

export async function startDockerd(dockerdPath: string): Promise<Dockerd> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-docker-'));
  const sock = join(dir, 'docker.sock');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const cgroupsBefore = dockerCgroups();
  const child = spawn(dockerdPath, [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'),
    '--host', `unix://${sock}`, '--bridge=none', '--iptables=false', '--ip6tables=false',
  ], { stdio: ['ignore', log, log] });
  closeSync(log);
  // The docker CLI next to dockerd (the same release), its state kept in the temp dir too.
  const cli = existsSync(join(dirname(dockerdPath), 'docker')) ? join(dirname(dockerdPath), 'docker') : 'docker';
  // docker-compose v1 gives up on a request after 60 s; on a loaded machine dockerd takes longer
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'config'), COMPOSE_HTTP_TIMEOUT: '600' };
  const d: Dockerd = { dir, child, env, cli, cgroupsBefore };
  const deadline = Date.now() + 60_000;
  while (spawnSync(cli, ['info'], { env, stdio: 'ignore' }).status !== 0) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const why = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
      await stopDockerd(d);
      throw new Error(`dockerd did not come up:\n${why}`);
    }
    await sleep(100);
  }
  return d;
}

/** Stops dockerd (and the containerd it started), then removes every trace it left on the host. */
export async function stopDockerd(d: Dockerd): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) {
    const exited = new Promise<void>((r) => d.child.once('exit', () => r()));
    d.child.kill('SIGTERM');
    const timer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  // Processes still running from its dirs (containerd, shims): only ever ones this run started.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(d.dir); } catch { return false; }
    });
    if (left.length === 0) break;
    if (Date.now() > deadline) for (const p of left) try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
    await sleep(100);
  }
  // Mounts under its dirs, deepest first.
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(d.dir)).sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  rmSync(d.dir, { recursive: true, force: true });
  // The cgroup dirs it made (cgroupfs driver), depth first; none that were there before it.
  const rmTree = (p: string): void => {
    for (const e of readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(p, e.name));
    try { rmdirSync(p); } catch { /* still busy: left for the report below */ }
  };
  for (const p of dockerCgroups()) if (!d.cgroupsBefore.has(p)) rmTree(p);
  const stay = [...dockerCgroups()].filter((p) => !d.cgroupsBefore.has(p));
  if (stay.length > 0) throw new Error(`dockerd left cgroups behind: ${stay.join(', ')}`);
}
