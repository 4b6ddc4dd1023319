// Which file watcher watch uses: chokidar 5 (on Node's fs.watch) against inotify read by the
// native helper berth-notify (src/watch/notify.ts). Not a test: it asserts nothing; the choice and
// these numbers are in docs/decisions/2026-11-30-watch-inotify-helper.md.
//   npm run bench:watch-notify      (BENCH_RUNS=N rounds, default 5)
// Per round, each backend in turn, on a tree of 3,000 files in 30 directories:
//   ready    start until the first event could be reported (every directory watched)
//   edit     100 single-file writes, each until the write's path is reported (median, p95)
//   burst    a separate process (as git is) writes 3,000 new files in 30 new directories; time from
//            its start until every one of the 3,000 paths has been reported, and the CPU the
//            watcher side used for it (Node process + helper)
//   delete   the same process removes the 30 directories; until all 30 are reported gone
import { mkdirSync, writeFileSync, rmSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { median } from './measure.js';
import { Notifier } from '../src/watch/notify.js';
import { lazySys } from '../src/sys/index.js';
import { repoRoot } from '../test/helpers/env.js';

interface Backend {
  readonly name: string;
  start(root: string, onPath: (path: string) => void): Promise<void>;
  stop(): Promise<void>;
  /** CPU ms used outside this process (a helper), cumulative */
  helperCpuMs(): number;
}

function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime + stime in 10 ms ticks
  } catch { return 0; }
}

function chokidarBackend(): Backend {
  let w: import('chokidar').FSWatcher | undefined;
  return {
    name: 'chokidar 5',
    async start(root, onPath) {
      const { watch } = await import('chokidar');
      w = watch(root, { ignoreInitial: true, followSymlinks: false, persistent: true });
      for (const ev of ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const) w.on(ev, (p: string) => onPath(p.slice(root.length + 1)));
      await new Promise<void>((r) => w!.once('ready', () => r()));
    },
    async stop() { await w?.close(); },
    helperCpuMs: () => 0,
  };
}

function helperBackend(): Backend {
  let n: Notifier | undefined;
  return {
    name: 'berth-notify',
    async start(root, onPath) {
      n = new Notifier({
        sys: lazySys, helperPath: join(repoRoot, 'native', 'build', 'berth-notify'), roots: [{ path: root, recursive: true }],
        shouldWatch: () => true,
        onEvent: (e) => { if ('path' in e) onPath(e.path); },
      });
      await n.start();
    },
    async stop() { await n?.stop(); },
    helperCpuMs: () => procCpuMs(n?.helperPid),
  };
}

const FILES = 3000;
const DIRS = 30;

function makeTree(root: string, prefix: string): void {
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(root, `${prefix}${d}`), { recursive: true });
    for (let f = 0; f < FILES / DIRS; f++) writeFileSync(join(root, `${prefix}${d}`, `f${f}.js`), `export const v = ${f};\n`);
  }
}

/** Runs a shell-free writer in its own process, as git would be. */
function runWriter(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
  });
}

const p95 = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

async function round(backend: Backend, round: number): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), 'berth-bench-notify-'));
  try {
    makeTree(root, 'src');
    let waiting: { path: string; resolve: () => void } | undefined;
    let seen = new Set<string>();
    let want = 0;
    let allSeen: (() => void) | undefined;
    const onPath = (p: string): void => {
      if (waiting && p === waiting.path) { const w = waiting; waiting = undefined; w.resolve(); }
      if (allSeen) { seen.add(p); if (seen.size >= want) { const a = allSeen; allSeen = undefined; a(); } }
    };
    const t0 = performance.now();
    await backend.start(root, onPath);
    const ready = performance.now() - t0;
    process.stderr.write(`  ready ${ready.toFixed(0)} ms\n`);

    const edits: number[] = [];
    for (let i = 0; i < 100; i++) {
      const path = `src${i % DIRS}/f${(i * 7) % (FILES / DIRS)}.js`;
      const got = new Promise<void>((resolve) => { waiting = { path, resolve }; });
      const t = performance.now();
      writeFileSync(join(root, path), `export const v = ${round}-${i};\n`);
      await got;
      edits.push(performance.now() - t);
    }

    // the burst: every new file path (directories are reported too; count files only)
    seen = new Set();
    want = FILES;
    const filesOnly = new Set<string>();
    for (let d = 0; d < DIRS; d++) for (let f = 0; f < FILES / DIRS; f++) filesOnly.add(`new${d}/f${f}.js`);
    const burstDone = new Promise<void>((resolve) => {
      allSeen = resolve;
      seen = { add(p: string) { if (filesOnly.has(p)) filesOnly.delete(p); }, get size() { return FILES - filesOnly.size; } } as unknown as Set<string>;
    });
    const cpu0 = process.cpuUsage();
    const h0 = backend.helperCpuMs();
    const tb = performance.now();
    await runWriter(`const fs=require('fs');for(let d=0;d<${DIRS};d++){fs.mkdirSync(${JSON.stringify(root)}+'/new'+d);for(let f=0;f<${FILES / DIRS};f++)fs.writeFileSync(${JSON.stringify(root)}+'/new'+d+'/f'+f+'.js','export const v = '+f+';\\n')}`);
    const written = performance.now() - tb;
    process.stderr.write(`  edits done, burst written\n`);
    const missed = await Promise.race([burstDone.then(() => 0), new Promise<number>((r) => setTimeout(() => r(filesOnly.size), 20_000))]);
    if (missed > 0) process.stderr.write(`  ${backend.name}: ${missed} of ${FILES} new files never reported (waited 20 s)\n`);
    const burst = missed > 0 ? NaN : performance.now() - tb;
    const cpu = process.cpuUsage(cpu0);
    const burstCpu = (cpu.user + cpu.system) / 1000 + (backend.helperCpuMs() - h0);

    const gone = new Set<string>();
    for (let d = 0; d < DIRS; d++) gone.add(`new${d}`);
    const deleteDone = new Promise<void>((resolve) => {
      allSeen = resolve;
      want = 1;
      seen = { add(p: string) { gone.delete(p); }, get size() { return gone.size === 0 ? 1 : 0; } } as unknown as Set<string>;
    });
    const td = performance.now();
    await runWriter(`const fs=require('fs');for(let d=0;d<${DIRS};d++)fs.rmSync(${JSON.stringify(root)}+'/new'+d,{recursive:true})`);
    const notGone = await Promise.race([deleteDone.then(() => 0), new Promise<number>((r) => setTimeout(() => r(gone.size), 20_000))]);
    if (notGone > 0) process.stderr.write(`  ${backend.name}: ${notGone} of ${DIRS} removed directories never reported (waited 20 s)\n`);
    const del = notGone > 0 ? NaN : performance.now() - td;
    await backend.stop();
    return { ready, editMedian: median(edits), editP95: p95(edits), burst, burstWriter: written, burstCpu, delete: del };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const backends = [helperBackend(), chokidarBackend()];
  const results = new Map<string, Record<string, number>[]>();
  for (let r = 0; r < runs; r++) {
    for (const b of r % 2 === 0 ? backends : [...backends].reverse()) {
      process.stderr.write(`round ${r + 1}: ${b.name}\n`);
      const res = await round(b, r);
      results.set(b.name, [...(results.get(b.name) ?? []), res]);
    }
  }
  const keys: [string, string][] = [
    ['ready', 'ready (3,000 files, ms)'], ['editMedian', 'single edit → event, median (ms)'], ['editP95', 'single edit → event, p95 (ms)'],
    ['burstWriter', '3,000-file burst: writer alone (ms)'], ['burst', '3,000-file burst: until all reported (ms)'],
    ['burstCpu', '3,000-file burst: watcher CPU (ms)'], ['delete', '30 directories removed: until reported (ms)'],
  ];
  const [a, b] = backends.map((x) => results.get(x.name)!);
  process.stdout.write(`watch notify backends, ${runs} rounds (medians; ratio = median of per-round ${backends[0]!.name} / ${backends[1]!.name})\n`);
  process.stdout.write(`${'measure'.padEnd(46)} ${backends[0]!.name.padStart(14)} ${backends[1]!.name.padStart(14)} ${'ratio'.padStart(8)}\n`);
  for (const [k, label] of keys) {
    const ma = median(a!.map((x) => x[k]!));
    const mb = median(b!.map((x) => x[k]!));
    const ratio = median(a!.map((x, i) => x[k]! / Math.max(b![i]![k]!, 1e-6)));
    process.stdout.write(`${label.padEnd(46)} ${ma.toFixed(1).padStart(14)} ${mb.toFixed(1).padStart(14)} ${('×' + ratio.toFixed(2)).padStart(8)}\n`);
  }
}

await main();
