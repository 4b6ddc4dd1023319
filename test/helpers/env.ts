// Test roots and the `berth` binary under test. Every integration test runs berth against its
// own temporary BERTH_ROOT/BERTH_RUN and its own cgroup parent, and checks that nothing leaked.
import { mkdtempSync, rmSync, readFileSync, readdirSync, existsSync, rmdirSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/**
 * `berth` as a user types it: the native launcher (native/cmd/launch.c), which hands the command to
 * a running engine or runs the Node CLI (bin/berth.mjs). The suite runs the warm path by default;
 * BERTH_NO_WARM=1 in the environment of `npm test` makes every launcher fall back to the Node CLI
 * (test/run.mjs runs the CLI's files both ways).
 */
export const berthBin = join(repoRoot, 'bin', 'berth');
/** The Node CLI and engine entry. */
export const berthMjs = join(repoRoot, 'bin', 'berth.mjs');

export interface TestRoots {
  readonly dir: string;
  readonly root: string;
  readonly run: string;
  readonly cgroupParent: string;
  /** BERTH_NET_TAG: the 4 hex digits in the names of this run's bridges, veths and nftables table */
  readonly netTag: string;
  readonly env: NodeJS.ProcessEnv;
}

export function makeRoots(): TestRoots {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-'));
  const root = join(dir, 'root');
  const run = join(dir, 'run');
  const cgroupParent = `berth-test-${randomBytes(4).toString('hex')}`;
  // network objects of this run's engine: bt<tag> bridges, vt<tag> veths, table berth_test_<tag>
  const netTag = randomBytes(2).toString('hex');
  return { dir, root, run, cgroupParent, netTag, env: { ...process.env, BERTH_ROOT: root, BERTH_RUN: run, BERTH_CGROUP_PARENT: cgroupParent, BERTH_NET_TAG: netTag, NO_COLOR: '1' } };
}

export interface Result { code: number | null; stdout: string; stderr: string }

/** Runs `berth args…` to completion (stdin closed unless `input` is given). */
export function berth(roots: TestRoots, args: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(berthBin, [...args], { env: { ...roots.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'], ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`berth ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`)); }, opts.timeoutMs ?? 30_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    if (opts.input !== undefined) child.stdin.end(opts.input); else child.stdin.end();
  });
}

/** Like berth() but fails the test unless the exit code is 0; returns stdout. */
export async function berthOk(roots: TestRoots, args: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const r = await berth(roots, args, opts);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** The cgroup hierarchies of this host (v1 controller dirs, or the v2 root). */
export function cgroupDirs(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    if (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2') out.push(f[4]!);
  }
  return out;
}

/**
 * Resolves with check()'s first value that is neither undefined nor false, checking again (10 ms,
 * doubling to 100 ms) until `timeoutMs`; then fails naming `what` and the last value seen. The
 * one way a test waits: for the state that proves an event happened, with a deadline, never for
 * a fixed time.
 */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** `berth engine status --format json` of these roots (the engine must be running). */
export async function engineStatus(roots: TestRoots): Promise<{ Pid: number; Looks: number; PendingRestarts: number; EventSubscribers: number; Supervised: number }> {
  return JSON.parse(await berthOk(roots, ['engine', 'status', '--format', 'json']));
}

/**
 * Resolves once the supervisor has finished two more looks at every container than it had when
 * called: whatever exit happened before the call has then been acted on (a restart scheduled, a
 * --rm container removed). The event that makes an absence check sound, instead of a sleep.
 */
export async function twoMoreLooks(roots: TestRoots): Promise<void> {
  const from = (await engineStatus(roots)).Looks;
  await eventually(async () => (await engineStatus(roots)).Looks >= from + 2, 10_000, 'two more looks of the supervisor');
}

/** A long-running `berth …` whose output a test reads while it runs. */
export interface Background {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  /** resolves with the exit code once the process is gone and its output read */
  readonly closed: Promise<number | null>;
  /** Ctrl-C (SIGKILL when it is still there after `graceMs`); resolves with the exit code */
  interrupt(graceMs?: number): Promise<number | null>;
}

export function backgroundBerth(roots: TestRoots, args: readonly string[]): Background {
  const child = spawn(berthBin, [...args], { env: roots.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    out: () => stdout,
    err: () => stderr,
    closed,
    async interrupt(graceMs = 5_000) {
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await closed;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Whether a process is gone (a zombie counts as gone). */
export function processGone(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return true; }
  return isZombie(String(pid));
}

/** The engine process serving these roots (the verbs start it; it is not a leftover until the roots go). */
function isEngine(cmdline: string): boolean {
  const argv = cmdline.split('\0');
  return argv.some((a) => a.endsWith('bin/berth.mjs')) && argv.includes('engine') && argv.indexOf('engine') === argv.length - 2;
}

/** `berth-shim slot <root>`: an idle warm slot of the engine of these roots. */
export function isSlotOf(cmdline: string, roots: TestRoots): boolean {
  const argv = cmdline.split('\0');
  return (argv[0] ?? '').endsWith('berth-shim') && argv[1] === 'slot' && argv[2] === roots.root;
}

/** The pids of the idle warm slots of the engine of these roots. */
export function slotPids(roots: TestRoots): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    if (isSlotOf(cmd, roots) && !isZombie(pid)) out.push(Number(pid));
  }
  return out;
}

/**
 * The namespace files of the engine's idle pre-made network sandboxes (src/network/pool.ts): each
 * has a marker in <run>/network/pool, written before the namespace and removed once a container's
 * sandbox names it.
 */
export function poolNamespaces(roots: TestRoots): string[] {
  try { return readdirSync(join(roots.run, 'network', 'pool')).map((id) => join(roots.run, 'network', 'netns', id)); } catch { return []; }
}

/** berth-netd serves nothing but the idle pre-made sandboxes (it is the engine's then, as they are). */
function netdServesOnlyPool(roots: TestRoots): boolean {
  try { return readdirSync(join(roots.run, 'network', 'netd', 'endpoints')).every((n) => n.startsWith('.') || n.startsWith('pool-')); } catch { return true; }
}

/**
 * What berth may have left on the host for these roots: mounts, cgroups, processes. The engine
 * itself is not counted unless `withEngine` (cleanupRoots stops it first, and then counts it), nor
 * what it keeps while it runs: idle warm slots, idle pre-made network sandboxes and a berth-netd
 * that serves only those.
 */
export function leftovers(roots: TestRoots, opts: { readonly withEngine?: boolean } = {}): string[] {
  const found: string[] = [];
  const pool = new Set(opts.withEngine ? [] : poolNamespaces(roots));
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && mp.startsWith(roots.dir) && !pool.has(mp)) found.push(`mount ${mp}`);
  }
  for (const d of cgroupDirs()) {
    const p = join(d, roots.cgroupParent);
    if (existsSync(p)) for (const child of readdirSync(p, { withFileTypes: true })) if (child.isDirectory()) found.push(`cgroup ${join(p, child.name)}`);
  }
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    let environ = '';
    try { environ = readFileSync(`/proc/${pid}/environ`, 'utf8'); } catch { /* gone or a kernel thread */ }
    const ours = cmd.includes(roots.dir) || environ.split('\0').includes(`BERTH_ROOT=${roots.root}`);
    // an idle warm slot (docs/slots.md) is the engine's while it runs, and must be gone with it
    if (!opts.withEngine && (isEngine(cmd) || isSlotOf(cmd, roots))) continue;
    if (!opts.withEngine && cmd.split('\0')[0]!.endsWith('berth-netd') && netdServesOnlyPool(roots)) continue;
    if (ours && Number(pid) !== process.pid && !isZombie(pid)) found.push(`process ${pid} ${cmd.replace(/\0/g, ' ')}`);
  }
  // the default bridge (and so berth's table) lives as long as the engine: counted once it stopped
  if (opts.withEngine) found.push(...networkLeftovers(roots));
  return found;
}

/**
 * The host network objects of these roots' engine (BERTH_NET_TAG names them): bridges and veths
 * named bt<tag>/vt<tag>, the nftables table berth_test_<tag>. User networks (`network create`)
 * outlive the engine as Docker's do, so a test that made one removes it.
 */
export function networkLeftovers(roots: TestRoots): string[] {
  const found: string[] = [];
  for (const link of readdirSync('/sys/class/net')) if (link.startsWith(`bt${roots.netTag}`) || link.startsWith(`vt${roots.netTag}`)) found.push(`link ${link}`);
  const table = spawnSync('nft', ['list', 'table', 'inet', `berth_test_${roots.netTag}`], { encoding: 'utf8' });
  if (table.status === 0) found.push(`nftables table inet berth_test_${roots.netTag}`);
  return found;
}

function isZombie(pid: string): boolean {
  try { return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, '')); } catch { return true; }
}

/** An e2e scenario: its own roots, the busybox image as `bb`, and test/e2e/<name>/compose.yaml copied into a project directory. */
export interface Scenario {
  readonly roots: TestRoots;
  readonly dir: string;
  readonly file: string;
}

export async function setUpScenario(name: string): Promise<Scenario> {
  const roots = makeRoots();
  await importBusybox(roots, 'bb');
  const dir = join(roots.dir, 'project');
  mkdirSync(dir);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, readFileSync(join(repoRoot, 'test', 'e2e', name, 'compose.yaml')));
  return { roots, dir, file };
}

/** down, stop the engine, remove whatever a failed test left, the image, then the leftovers check. */
export async function tearDownScenario(s: Scenario): Promise<void> {
  await berth(s.roots, ['down', '-f', s.file, '-t', '1']);
  await stopEngine(s.roots);
  await removeAllContainers(s.roots);
  await berthOk(s.roots, ['rmi', 'bb']);
  await cleanupRoots(s.roots);
}

/** Removes every container of these roots, whatever project a failed test left it in. */
export async function removeAllContainers(roots: TestRoots): Promise<void> {
  const ids = (await berth(roots, ['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter((l) => l !== '');
  if (ids.length > 0) await berth(roots, ['rm', '-f', ...ids]);
}

/** Stops the engine started for these roots (if any) and waits for it to exit. */
export async function stopEngine(roots: TestRoots): Promise<void> {
  let pid: number;
  try { pid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim()); } catch { return; }
  if (!(pid > 0)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const gone = (): boolean => {
    try { process.kill(pid, 0); } catch { return true; }
    return isZombie(String(pid));
  };
  try {
    await eventually(gone, 10_000, `engine ${pid} to exit after SIGTERM`);
  } catch {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/**
 * A warm pool's test pair: two roots with busybox imported as `bb`, the second with `offVariable`
 * set to 0 in its environment (BERTH_SLOTS, BERTH_NETNS_POOL), so a run through the pool can be set
 * against the same run without it.
 */
export async function warmAndColdRoots(offVariable: string): Promise<{ roots: TestRoots; cold: TestRoots }> {
  const roots = makeRoots();
  const cold = makeRoots();
  (cold.env as Record<string, string>)[offVariable] = '0';
  await importBusybox(roots, 'bb');
  await importBusybox(cold, 'bb');
  return { roots, cold };
}

/** The end of warmAndColdRoots' pair: their containers removed, then each checked and cleaned. */
export async function tearDownRoots(...all: TestRoots[]): Promise<void> {
  for (const r of all) await removeAllContainers(r).catch(() => undefined);
  for (const r of all) await cleanupRoots(r);
}

/** Stops the engine, removes the roots and the (empty) cgroup parent dirs; throws if berth left anything behind. */
export async function cleanupRoots(roots: TestRoots): Promise<void> {
  await stopEngine(roots);
  const left = leftovers(roots, { withEngine: true });
  for (const d of cgroupDirs()) {
    const p = join(d, roots.cgroupParent);
    try { rmdirSync(p); } catch { /* absent or still busy: reported below */ }
  }
  if (left.length === 0) rmSync(roots.dir, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`berth left state behind:\n${left.join('\n')}`);
}

/** Builds the busybox rootfs, tars it and imports it into these roots as `ref` (e.g. "bb"). */
export async function importBusybox(roots: TestRoots, ref: string): Promise<void> {
  const file = await busyboxTarball(roots.dir);
  await berthOk(roots, ['import', file, ref]);
}

/**
 * Writes the busybox rootfs as `<dir>/busybox.tar` and returns its path; `extraBins` are host
 * files copied in as /bin/<name> (mode 0755), e.g. a static probe built in native/build/test.
 */
export async function busyboxTarball(dir: string, extraBins: Readonly<Record<string, string>> = {}): Promise<string> {
  const { c: createTar } = await import('tar');
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-bb-'));
  try {
    makeBusyboxRootfs(rootfs);
    for (const [name, from] of Object.entries(extraBins)) writeFileSync(join(rootfs, 'bin', name), readFileSync(from), { mode: 0o755 });
    const file = join(dir, 'busybox.tar');
    await createTar({ file, cwd: rootfs, portable: false }, ['.']);
    return file;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/**
 * A minimal busybox root filesystem from Debian's busybox-static: /bin/busybox, one symlink per
 * applet, /etc/passwd and /etc/group with root, nobody and an unprivileged "app" user (1000).
 */
export function makeBusyboxRootfs(dir: string): void {
  const busybox = '/bin/busybox';
  if (!existsSync(busybox)) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'root', 'home/app', 'var', 'proc', 'sys', 'dev']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'bin', 'busybox'), readFileSync(busybox), { mode: 0o755 });
  const list = spawnSync(busybox, ['--list-full'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '');
  for (const applet of list) {
    const target = join(dir, applet);
    if (applet === 'bin/busybox' || existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    const depth = applet.split('/').length - 1;
    symlinkSync(`${'../'.repeat(depth)}bin/busybox`, target);
  }
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nwheel:x:10:app\napp:x:1000:\nnogroup:x:65534:\n');
}
