// Whole stacks under the engine: `up -d` and `down` of 1, 10 and 30 services, a no-op `up`, the
// first restart after a crash, and the engine's and the supervisors' memory; beside docker-compose
// (v1) and `docker compose` (v2) on a dockerd of its own when BENCH_DOCKER=1. Runs the subjects
// interleaved (A B A B …) so that drift on a shared machine hits all of them alike, and prints
// medians and paired ratios. Not a test: it asserts nothing.
//   npm run bench:stack            (as root; BENCH_RUNS=N rounds, default 10; BENCH_DOCKER=1 for peers)
//   BERTH_BASELINE=/path/to/other/berth/bin/berth npm run bench:stack
//                                  adds that build as a subject (roots of its own), e.g. the parent
//                                  commit, so that up -d and no-op up are compared paired.
//   BENCH_NETWORKS=0               leaves out "berth, networks" (the same stacks on a bridge network)
// The engine's event-loop delay (p99 and max, perf_hooks) during `up -d` and `down` of 30
// services is read from `berth engine status` (its window reset just before each).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, cpus, release, loadavg } from 'node:os';
import * as tar from 'tar';
import { makeRoots, makeBusyboxRootfs, berthBin, cleanupRoots, stopEngine, type TestRoots } from '../test/helpers/env.js';
import { berthCommand } from './measure.js';
import { startDockerd, stopDockerd, which, type Dockerd } from './dockerd.js';

const SIZES = [1, 10, 30] as const;
const BB_DOCKER = 'berth-bench-bb:latest';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const median = (xs: readonly number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Runs argv to completion and returns its wall time in ms; throws unless it exits 0. */
function timeOnce(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr?.toString()}`);
  return ms;
}

function run(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

/**
 * A compose file of n identical sleeping services: without a network (`network_mode: none`, every
 * subject alike), or `networked` on the project's default network (berth's "berth, networks").
 */
function composeFile(image: string, n: number, restart?: string, networked = false): string {
  let y = 'services:\n';
  for (let i = 1; i <= n; i++) {
    y += `  s${i}:\n    image: ${image}\n    command: ["sleep", "1000"]\n    init: true\n${networked ? '' : '    network_mode: none\n'}`;
    if (restart) y += `    restart: ${restart}\n`;
  }
  return y;
}

/** Writes DIR/PROJECT/compose.yaml (the project is named after its directory) and returns its path. */
function writeProject(dir: string, project: string, body: string): string {
  mkdirSync(join(dir, project), { recursive: true });
  const file = join(dir, project, 'compose.yaml');
  writeFileSync(file, body);
  return file;
}

/** One compose implementation: how it brings a file up and down. */
interface Subject {
  readonly name: string;
  readonly up: (file: string) => readonly string[];
  readonly down: (file: string) => readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly files: ReadonlyMap<number, string>;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 10);
  const roots: TestRoots = makeRoots();
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const berthEnv = roots.env;
  const berth = (...args: string[]): string[] => [berthBin, ...args];
  const work = join(roots.dir, 'stacks');
  const berthFiles = new Map<number, string>(SIZES.map((n) => [n, writeProject(join(work, 'berth'), `bench-n${n}`, composeFile('bb', n))]));
  const crashFile = writeProject(join(work, 'berth'), 'bench-crash', composeFile('bb', 1, 'always'));
  const subjects: Subject[] = [
    { name: 'berth', up: (f) => berth('up', '-d', '-f', f), down: (f) => berth('down', '-f', f, '-t', '1'), env: berthEnv, files: berthFiles },
  ];
  // the same stacks on the project's default network (a bridge, a veth and a DNS record per
  // container): what networking adds to up -d and down (BENCH_NETWORKS=0 leaves it out)
  const netFiles = new Map<number, string>(SIZES.map((n) => [n, writeProject(join(work, 'berth-net'), `bench-net-n${n}`, composeFile('bb', n, undefined, true))]));
  if (process.env.BENCH_NETWORKS !== '0') {
    subjects.push({ name: 'berth, networks', up: (f) => berth('up', '-d', '-f', f), down: (f) => berth('down', '-f', f, '-t', '1'), env: berthEnv, files: netFiles });
  }
  const baselineBin = process.env.BERTH_BASELINE;
  const baselineRoots: TestRoots | undefined = baselineBin ? makeRoots() : undefined;
  if (baselineBin && baselineRoots) {
    const files = new Map<number, string>(SIZES.map((n) => [n, writeProject(join(work, 'baseline'), `bench-n${n}`, composeFile('bb', n))]));
    const b = (...args: string[]): string[] => [...berthCommand(baselineBin), ...args];
    subjects.push({ name: 'baseline', up: (f) => b('up', '-d', '-f', f), down: (f) => b('down', '-f', f, '-t', '1'), env: baselineRoots.env, files });
  }
  /** The event-loop delay of berth's (or the baseline's) engine since its last reset (and a new window from now). */
  const loopDelay = (baseline = false): { p99: number; max: number } => {
    const argv = baseline && baselineBin ? [...berthCommand(baselineBin), 'engine', 'status', '--format', 'json', '--reset'] : berth('engine', 'status', '--format', 'json', '--reset');
    const st = JSON.parse(run(argv, baseline && baselineRoots ? baselineRoots.env : berthEnv)) as { EventLoopDelay: { P99Ms: number; MaxMs: number } };
    return { p99: st.EventLoopDelay.P99Ms, max: st.EventLoopDelay.MaxMs };
  };
  const facts = [`nproc ${cpus().length}`, `kernel ${release()}`, `node ${process.version}`];
  let dockerd: Dockerd | undefined;
  let imported = false;
  try {
    makeBusyboxRootfs(rootfs);
    const image = join(roots.dir, 'busybox.tar');
    await tar.c({ file: image, cwd: rootfs }, ['.']);
    run(berth('import', image, 'bb'), berthEnv);
    if (baselineBin && baselineRoots) run([...berthCommand(baselineBin), 'import', image, 'bb'], baselineRoots.env);

    if (process.env.BENCH_DOCKER === '1') {
      const dockerdPath = which('dockerd');
      if (!dockerdPath) throw new Error('BENCH_DOCKER=1 but dockerd is not installed (apt-get install docker.io)');
      dockerd = await startDockerd(dockerdPath);
      run([dockerd.cli, 'import', image, BB_DOCKER], dockerd.env);
      imported = true;
      facts.push(`dockerd ${spawnSync(dockerdPath, ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^Docker version /, '')}`);
      const files = new Map<number, string>(SIZES.map((n) => [n, writeProject(join(work, 'docker'), `bench-n${n}`, composeFile(BB_DOCKER, n))]));
      const v1 = which('docker-compose');
      if (v1) {
        subjects.push({ name: 'docker-compose', up: (f) => [v1, '-f', f, 'up', '-d'], down: (f) => [v1, '-f', f, 'down', '-t', '1'], env: dockerd.env, files });
        // the same stacks on the project's default network (a bridge of dockerd's own, no NAT rules:
        // --iptables=false), set against "berth, networks"
        if (process.env.BENCH_NETWORKS !== '0') {
          const netFilesDocker = new Map<number, string>(SIZES.map((n) => [n, writeProject(join(work, 'docker-net'), `bench-net-n${n}`, composeFile(BB_DOCKER, n, undefined, true))]));
          subjects.push({ name: 'docker-compose, networks', up: (f) => [v1, '-f', f, 'up', '-d'], down: (f) => [v1, '-f', f, 'down', '-t', '1'], env: dockerd.env, files: netFilesDocker });
        }
        facts.push(`docker-compose ${run([v1, 'version', '--short'], dockerd.env).trim()}`);
      } else facts.push('docker-compose: not installed');
      const cli = dockerd.cli;
      if (spawnSync(cli, ['compose', 'version'], { env: dockerd.env, stdio: 'ignore' }).status === 0) {
        subjects.push({ name: 'docker compose', up: (f) => [cli, 'compose', '-f', f, 'up', '-d'], down: (f) => [cli, 'compose', '-f', f, 'down', '-t', '1'], env: dockerd.env, files });
        facts.push(`docker compose ${run([cli, 'compose', 'version', '--short'], dockerd.env).trim()}`);
      } else facts.push('docker compose (v2 plugin): not installed');
    } else facts.push('peers: not run (BENCH_DOCKER=1 runs them)');

    // Warm up once (this also starts the engine), untimed.
    for (const s of subjects) { timeOnce(s.up(s.files.get(1)!), s.env); timeOnce(s.up(s.files.get(1)!), s.env); timeOnce(s.down(s.files.get(1)!), s.env); }

    const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
    // samples[row][subject] — one sample per round, in round order, for paired ratios.
    const samples = new Map<string, Map<string, number[]>>();
    const add = (row: string, subject: string, x: number): void => {
      if (!samples.has(row)) samples.set(row, new Map());
      const m = samples.get(row)!;
      if (!m.has(subject)) m.set(subject, []);
      m.get(subject)!.push(x);
    };
    const engineRss: number[] = [];
    const shimRss: number[] = [];

    const inspect = (...names: string[]): any[] => JSON.parse(run(berth('inspect', ...names), berthEnv));

    for (let round = 0; round < runs; round++) {
      for (const n of SIZES) {
        for (const s of subjects) {
          const file = s.files.get(n)!;
          // the engine's event loop during up -d and down of 30: berth's, and the baseline's
          const watchLoop = (s.name === 'berth' || s.name === 'baseline') && n === 30;
          const ofBaseline = s.name === 'baseline';
          if (watchLoop) loopDelay(ofBaseline);
          add(`up -d, ${n} service${n > 1 ? 's' : ''}`, s.name, timeOnce(s.up(file), s.env));
          if (watchLoop) {
            const d = loopDelay(ofBaseline);
            add('engine event-loop delay p99 during up -d, 30 services', s.name, d.p99);
            add('engine event-loop delay max during up -d, 30 services', s.name, d.max);
          }
          add(`no-op up -d, ${n} service${n > 1 ? 's' : ''}`, s.name, timeOnce(s.up(file), s.env));
          if (s.name === 'berth' && n === 30) {
            engineRss.push(rssKiB(Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim())));
            const names = Array.from({ length: n }, (_, i) => `bench-n${n}-s${i + 1}-1`);
            const shims = inspect(...names).map((c) => JSON.parse(readFileSync(join(roots.root, 'containers', c.Id, 'started'), 'utf8')).shimPid as number);
            shimRss.push(median(shims.map(rssKiB)));
          }
          if (watchLoop) loopDelay(ofBaseline);
          add(`down -t 1, ${n} service${n > 1 ? 's' : ''}`, s.name, timeOnce(s.down(file), s.env));
          if (watchLoop) {
            const d = loopDelay(ofBaseline);
            add('engine event-loop delay p99 during down, 30 services', s.name, d.p99);
            add('engine event-loop delay max during down, 30 services', s.name, d.max);
          }
        }
      }
      // First restart after a crash: a fresh `restart: always` container, its process SIGKILLed from
      // the host; the time until `inspect` shows a new running pid (one inspect every 5 ms at most).
      timeOnce(berth('up', '-d', '-f', crashFile), berthEnv);
      const pid0 = inspect('bench-crash-s1-1')[0].State.Pid as number;
      const t0 = process.hrtime.bigint();
      process.kill(pid0, 'SIGKILL');
      let restarted = NaN;
      let polls = 0;
      while (Number(process.hrtime.bigint() - t0) / 1e6 < 30_000) {
        const st = inspect('bench-crash-s1-1')[0].State;
        polls++;
        if (st.Running && st.Pid > 0 && st.Pid !== pid0) { restarted = Number(process.hrtime.bigint() - t0) / 1e6; break; }
        await sleep(5);
      }
      if (Number.isNaN(restarted)) throw new Error('the restart: always container did not come back within 30 s');
      add('first restart after SIGKILL (restart: always)', 'berth', restarted);
      const ti = process.hrtime.bigint();
      inspect('bench-crash-s1-1');
      add(`  one berth inspect (the poll's resolution)`, 'berth', Number(process.hrtime.bigint() - ti) / 1e6);
      add(`  inspects until seen`, 'berth', polls);
      timeOnce(berth('down', '-f', crashFile, '-t', '1'), berthEnv);
    }

    // The table: medians per subject, then paired ratios peer ÷ berth (the median of per-round ratios).
    // a peer on networks is set against "berth, networks", every other against "berth"
    const peers = subjects.slice(1);
    const baseOf = (p: Subject): string => (p.name.endsWith(', networks') && p.name !== 'berth, networks' && subjects.some((x) => x.name === 'berth, networks') ? 'berth, networks' : 'berth');
    const cols = [...subjects.map((s) => s.name), ...peers.map((p) => `${p.name} ÷ ${baseOf(p)}`)];
    const w0 = Math.max(...[...samples.keys(), 'engine RSS, 30 services up (KiB)'].map((k) => k.length)) + 2;
    const cell = (s: string, i: number): string => s.padStart(Math.max(cols[i]!.length, 8) + 2);
    let out = `berth stack benchmark: ${runs} interleaved rounds; medians in ms; ratios are medians of per-round ratios\n`;
    out += `machine: ${facts.join('; ')}; load average before ${loadBefore}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`;
    out += `${''.padEnd(w0)}${cols.map((c, i) => cell(c, i)).join('')}\n`;
    for (const [row, bySubject] of samples) {
      const isCount = row.includes('inspects until seen');
      const vals = subjects.map((s, i) => {
        const xs = bySubject.get(s.name);
        return cell(xs ? median(xs).toFixed(isCount ? 0 : 1) : '-', i);
      });
      const ratios = peers.map((p, j) => {
        const xs = bySubject.get(p.name);
        const b = bySubject.get(baseOf(p)) ?? [];
        return cell(xs ? median(xs.map((x, i) => x / b[i]!)).toFixed(2) : '-', subjects.length + j);
      });
      out += `${row.padEnd(w0)}${vals.join('')}${ratios.join('')}\n`;
    }
    const memRow = (label: string, v: number): string => `${label.padEnd(w0)}${cell(String(v), 0)}\n`;
    out += memRow('engine RSS, 30 services up (KiB)', median(engineRss));
    out += memRow('supervisor RSS, median of 30 (KiB)', median(shimRss));
    out += 'targets: up -d of 10 services ≥ 10× faster than docker-compose (issues 5, 13); no-op up < 30 ms (issue 13); supervisor < 1024 KiB (issue 5)\n';
    process.stdout.write(out);
  } finally {
    // Whatever is still up (after a failure midway) goes down; then the engine, the image, dockerd.
    for (const f of [...berthFiles.values(), ...netFiles.values(), crashFile]) spawnSync(berthBin, ['down', '-f', f, '-t', '1'], { env: berthEnv, stdio: 'ignore' });
    await stopEngine(roots);
    spawnSync(berthBin, ['rmi', 'bb'], { env: berthEnv, stdio: 'ignore' });
    if (baselineBin && baselineRoots) {
      for (const f of subjects.find((x) => x.name === 'baseline')?.files.values() ?? []) spawnSync(berthCommand(baselineBin)[0]!, [...berthCommand(baselineBin).slice(1), 'down', '-f', f, '-t', '1'], { env: baselineRoots.env, stdio: 'ignore' });
      await stopEngine(baselineRoots);
      spawnSync(berthCommand(baselineBin)[0]!, [...berthCommand(baselineBin).slice(1), 'rmi', 'bb'], { env: baselineRoots.env, stdio: 'ignore' });
      await cleanupRoots(baselineRoots);
    }
    if (dockerd) {
      for (const s of subjects.slice(1)) for (const f of s.files.values()) spawnSync(s.down(f)[0]!, s.down(f).slice(1), { env: s.env, stdio: 'ignore' });
      if (imported) spawnSync(dockerd.cli, ['rmi', BB_DOCKER], { env: dockerd.env, stdio: 'ignore' });
      await stopDockerd(dockerd);
    }
    rmSync(rootfs, { recursive: true, force: true });
    await cleanupRoots(roots);
  }
}

await main();
