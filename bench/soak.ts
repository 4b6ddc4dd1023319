// Soaks against one engine (not tests: they assert nothing, they print). Three of them, chosen by
// BENCH_SOAK:
//
//   cycles (default)  many `up -d` / `down` cycles of a small stack (a healthy-gated pair, a plain
//                     service and a crash-looping one, on the project's default network), reporting
//                     the engine's RSS, its open fds and the host snapshot (berth's mounts, cgroups,
//                     processes left after each `down`) every BENCH_SAMPLE cycles. What issue 17
//                     asks of memory: the RSS after 1,000 cycles within a few MB of the RSS after
//                     100. BENCH_CYCLES=N (default 1000), BENCH_SAMPLE=N (default 100). Each sample
//                     waits for the engine's next `idle:` log line (its idle hook: malloc_trim after
//                     2 s without a request; none within 20 s, as with an engine without the hook,
//                     and it samples anyway) and splits the RSS by kind of mapping (bench/smaps.ts);
//                     the RSS right after every cycle gives each window's low/median/high.
//                     BENCH_HEAP=DIR starts the engine with --heapsnapshot-signal=SIGUSR2 and
//                     --diagnostic-dir=DIR and signals it at each sample: a heap snapshot per
//                     sample in DIR, to diff in DevTools (Comparison view).
//   crashloop         a 30-service stack whose services exit and are restarted (`restart: always`)
//                     for BENCH_MINUTES (default 30): 20 run 10–14 s and exit 1 (a restart right
//                     away: the back-off resets after a 10 s run), 10 exit at once (their back-off
//                     grows to Docker's 1 min cap). Every BENCH_SAMPLE_S seconds (default 60):
//                     engine RSS, fds, restarts so far, containers running; at the end `down` and
//                     the leftovers. BENCH_SERVICES=N changes the 30.
//   many              BENCH_SERVICES services (default 200; BENCH_COUNTS=50,100,200 for a series)
//                     `up -d`, `ps`, `logs` and `down -t 0` timed (ms), to show how each grows with
//                     the count.
//   loop              the engine's event-loop delay (p99, max: `berth engine status`, window reset
//                     before each) during `up -d` and `down -t 0` of BENCH_SERVICES (default 30)
//                     services, BENCH_RUNS rounds (default 5), medians printed; what bench/stack.ts
//                     reports, alone, so it can be profiled (BENCH_ENGINE_FLAGS below). Also how
//                     long `berth ps -a` takes while the `up -d` runs (back to back, median and
//                     max) and on an idle engine after it.
//
// BENCH_ENGINE_FLAGS='--cpu-prof --cpu-prof-dir=DIR' (any node flags) starts the engine with them.
//
//   npm run build && nice -n 19 node dist/bench/soak.js                 (as root)
//   BENCH_SOAK=crashloop BENCH_MINUTES=10 nice -n 19 node dist/bench/soak.js
//   BENCH_SOAK=many BENCH_COUNTS=50,100,200 nice -n 19 node dist/bench/soak.js
import { readFileSync, readdirSync, writeFileSync, mkdirSync, openSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { makeRoots, importBusybox, cleanupRoots, berthBin, berthMjs, leftovers, stopEngine, eventually, type TestRoots } from '../test/helpers/env.js';
import { berthCommand } from './measure.js';
import { ENGINE_ENV, ENGINE_NODE_FLAGS } from '../src/api/codec.js';
import { kinds, type Kinds } from './smaps.js';

const BERTH = berthCommand(berthBin);

const MODE = process.env.BENCH_SOAK ?? 'cycles';

const STACK = `name: soak
services:
  db:
    image: bb
    command: ["sh", "-c", "touch /tmp/ready; exec sleep 1000"]
    init: true
    stop_grace_period: 0s
    healthcheck: { test: ["CMD-SHELL", "test -f /tmp/ready"], interval: 200ms, timeout: 1s, retries: 3 }
  web:
    image: bb
    command: ["sleep", "1000"]
    init: true
    stop_grace_period: 0s
    depends_on: { db: { condition: service_healthy } }
  worker:
    image: bb
    command: ["sleep", "1000"]
    init: true
    stop_grace_period: 0s
  flaky:
    image: bb
    command: ["sh", "-c", "exit 3"]
    restart: on-failure
`;

interface Ran { out: string; ms: number }

function berth(roots: TestRoots, args: readonly string[], timeoutMs = 300_000): Ran {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(BERTH[0]!, [...BERTH.slice(1), ...args], { env: roots.env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`berth ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return { out: r.stdout, ms };
}

function enginePid(roots: TestRoots): number {
  return Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim());
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

interface Mem { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }

/** The engine's own process.memoryUsage() parts (`berth engine status`), KiB. */
function engineMemory(roots: TestRoots): Mem {
  const st = JSON.parse(berth(roots, ['engine', 'status', '--format', 'json']).out) as { HeapUsedBytes?: number; HeapTotalBytes?: number; ExternalBytes?: number; ArrayBuffersBytes?: number };
  const k = (b: number | undefined): number => (b === undefined ? NaN : b / 1024);
  return { heapUsed: k(st.HeapUsedBytes), heapTotal: k(st.HeapTotalBytes), external: k(st.ExternalBytes), arrayBuffers: k(st.ArrayBuffersBytes) };
}
/** The engine's `idle:` log lines (engine/main.ts: one per quiet spell, with its RSS and trim). */
function idleLines(roots: TestRoots, pid: number): string[] {
  let text = '';
  try { text = readFileSync(join(roots.run, 'engine.log'), 'utf8'); } catch { return []; }
  return text.split('\n').filter((l) => l.includes(`engine[${pid}] idle:`));
}

/** Waits for the engine's next idle line after `seen` of them (≤ 20 s; an engine without the idle hook has none). */
async function nextIdle(roots: TestRoots, pid: number, seen: number): Promise<string | undefined> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const lines = idleLines(roots, pid);
    if (lines.length > seen) return lines[lines.length - 1];
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const mib = (kib: number): string => (kib / 1024).toFixed(1).padStart(6);
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');

async function cycles(roots: TestRoots): Promise<void> {
  const CYCLES = Number(process.env.BENCH_CYCLES ?? 1000);
  const SAMPLE = Number(process.env.BENCH_SAMPLE ?? 100);
  const heap = process.env.BENCH_HEAP !== undefined;
  const dir = join(roots.dir, 'soak');
  mkdirSync(dir);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, STACK);
  berth(roots, ['ls']);
  const pid = enginePid(roots);
  const start = Date.now();
  const rows: { cycle: number; rss: number; fds: number; left: number; s: number; mem: Mem; parts: Kinds; low: number; mid: number; high: number }[] = [];
  // The RSS after every cycle: where a sample falls in the GC's saw-tooth moves it by tens of MiB
  // (the old generation fills with garbage until a full GC), so each sample also gives the lowest,
  // median and highest RSS of the cycles since the one before. A leak lifts the lowest.
  let window: number[] = [];
  const sample = async (cycle: number): Promise<void> => {
    // the RSS of the engine once idle (its idle hook ran: malloc_trim) — before anything is asked of it
    const idle = await nextIdle(roots, pid, idleLines(roots, pid).length);
    const parts = kinds(pid);
    const rss = rssKiB(pid);
    const left = leftovers(roots).length;
    const mem = engineMemory(roots);
    const w = window.length > 0 ? window : [rss];
    const row = { cycle, rss, fds: fds(pid), left, s: (Date.now() - start) / 1000, mem, parts, low: Math.min(...w), mid: median(w), high: Math.max(...w) };
    window = [];
    rows.push(row);
    if (idle !== undefined) idleSeen = true;
    console.log(`cycle ${String(cycle).padStart(5)}  engine RSS ${mib(row.rss)} MiB (V8 pages ${mib(parts.v8)}, code ${mib(parts.code)}, brk ${mib(parts.brk)}, arenas ${mib(parts.arenas)}, stacks ${mib(parts.stacks)}, other anon ${mib(parts.anon)}, file ${mib(parts.file)}, ${parts.threads} threads; JS heap ${mib(mem.heapUsed)} of ${mib(mem.heapTotal)}, external ${mib(mem.external)}; since the last sample low ${mib(row.low)}, median ${mib(row.mid)}, high ${mib(row.high)})  fds ${String(row.fds).padStart(4)}  left on the host after down ${left}  (${row.s.toFixed(0)} s, load ${load()})${idle !== undefined ? `  [${idle.replace(/^.*idle: /, 'idle: ')}]` : ''}`);
    if (heap) process.kill(pid, 'SIGUSR2');
  };
  let idleSeen = false;
  // SIGINT or SIGTERM ends the soak after the cycle under way: the last sample, the summary and
  // the clean-up still run.
  let stopping = false;
  const stop = (): void => { stopping = true; };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  await sample(0);
  for (let i = 1; i <= CYCLES; i++) {
    berth(roots, ['compose', '-f', file, 'up', '-d']);
    berth(roots, ['compose', '-f', file, 'down', '-t', '0']);
    window.push(rssKiB(pid));
    await new Promise((r) => setImmediate(r)); // lets a SIGINT/SIGTERM handler run
    if (stopping) console.log(`stopped by a signal after cycle ${i}`);
    if (i % SAMPLE === 0 || i === CYCLES || stopping) await sample(i);
    if (stopping) break;
  }
  process.removeListener('SIGINT', stop).removeListener('SIGTERM', stop);
  if (enginePid(roots) !== pid) console.log(`the engine changed during the soak (${pid} → ${enginePid(roots)})`);
  const at = (c: number): (typeof rows)[number] | undefined => rows.find((r) => r.cycle === c);
  const first = at(SAMPLE) ?? rows[1];
  const last = rows[rows.length - 1]!;
  if (first && last !== first) {
    // the first window holds the warm-up (JIT, heap growth): windows compare from the second on
    const settled = at(2 * SAMPLE) ?? first;
    const d = (k: 'low' | 'mid' | 'high'): string => `${((last[k] - settled[k]) / 1024).toFixed(1)}`;
    console.log(`over the window before each: low ${d('low')}, median ${d('mid')}, high ${d('high')} MiB (cycle ${last.cycle} − cycle ${settled.cycle})`);
    const by = (['v8', 'code', 'brk', 'arenas', 'stacks', 'anon', 'file'] as const).map((k) => `${k} ${((last.parts[k] - first.parts[k]) / 1024).toFixed(1)}`).join(', ');
    console.log(idleSeen ? 'the samples are of the idle engine (after its idle line)' : 'the engine logged no idle line: the samples are right after the cycle');
    console.log(`by kind, cycle ${last.cycle} − cycle ${first.cycle} (MiB): ${by}`);
    console.log(`RSS after ${last.cycle} cycles − RSS after ${first.cycle}: ${((last.rss - first.rss) / 1024).toFixed(1)} MiB (JS heap used ${((last.mem.heapUsed - first.mem.heapUsed) / 1024).toFixed(1)} MiB, external ${((last.mem.external - first.mem.external) / 1024).toFixed(1)} MiB); fds ${last.fds - first.fds >= 0 ? '+' : ''}${last.fds - first.fds}; ${(last.s / last.cycle).toFixed(2)} s per cycle`);
  }
}

function crashLoopStack(n: number): string {
  let s = 'name: crashloop\nservices:\n';
  for (let i = 1; i <= n; i++) {
    // two in three run 10–14 s (the back-off resets), one in three exits at once (its back-off grows)
    const cmd = i % 3 === 0 ? 'exit 1' : `sleep ${10 + (i % 5)}; exit 1`;
    s += `  s${i}:\n    image: bb\n    command: ["sh", "-c", "${cmd}"]\n    restart: always\n    stop_grace_period: 0s\n    network_mode: none\n`;
  }
  return s;
}

interface PsRow { ID: string; Names: string; State: string; Status: string }

function psRows(roots: TestRoots, args: readonly string[]): PsRow[] {
  return berth(roots, [...args, '--format', 'json']).out.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as PsRow);
}

function restartsOf(roots: TestRoots, ids: readonly string[]): number {
  if (ids.length === 0) return 0;
  const all = JSON.parse(berth(roots, ['inspect', ...ids]).out) as { RestartCount?: number }[];
  return all.reduce((a, c) => a + (c.RestartCount ?? 0), 0);
}

async function crashloop(roots: TestRoots): Promise<void> {
  const n = Number(process.env.BENCH_SERVICES ?? 30);
  const minutes = Number(process.env.BENCH_MINUTES ?? 30);
  const every = Number(process.env.BENCH_SAMPLE_S ?? 60) * 1000;
  const dir = join(roots.dir, 'crashloop');
  mkdirSync(dir);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, crashLoopStack(n));
  berth(roots, ['ls']);
  const pid = enginePid(roots);
  console.log(`engine before up: RSS ${mib(rssKiB(pid))} MiB, fds ${fds(pid)}, load ${load()}`);
  const up = berth(roots, ['compose', '-f', file, 'up', '-d']);
  console.log(`up -d of ${n} crash-looping services: ${up.ms.toFixed(0)} ms`);
  const start = Date.now();
  const end = start + minutes * 60_000;
  const sample = (): void => {
    const rows = psRows(roots, ['compose', '-f', file, 'ps', '-a']);
    const running = rows.filter((r) => r.State === 'running').length;
    const restarts = restartsOf(roots, rows.map((r) => r.ID));
    const lost = rows.filter((r) => r.State === 'dead').length;
    console.log(`${((Date.now() - start) / 60_000).toFixed(1).padStart(5)} min  engine RSS ${mib(rssKiB(pid))} MiB  fds ${String(fds(pid)).padStart(4)}  containers ${rows.length}  running ${String(running).padStart(2)}  dead ${lost}  restarts so far ${restarts}  (load ${load()})`);
  };
  try {
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(every, Math.max(0, end - Date.now()))));
      sample();
    }
  } catch (err) {
    berth(roots, ['compose', '-f', file, 'down', '-t', '0']);
    throw err;
  }
  if (enginePid(roots) !== pid) console.log(`the engine changed during the soak (${pid} → ${enginePid(roots)})`);
  const down = berth(roots, ['compose', '-f', file, 'down', '-t', '0']);
  console.log(`down -t 0: ${down.ms.toFixed(0)} ms; engine after down: RSS ${mib(rssKiB(pid))} MiB, fds ${fds(pid)}`);
  const left = leftovers(roots);
  const records = readdirSync(join(roots.root, 'containers')).filter((x) => !x.startsWith('.'));
  const names = readdirSync(join(roots.root, 'names')).filter((x) => !x.startsWith('.'));
  console.log(`left after down: ${left.length} host objects${left.length ? ` (${left.slice(0, 5).join('; ')})` : ''}, ${records.length} container dirs, ${names.length} name claims`);
}

function manyStack(n: number): string {
  let s = `name: many${n}\nservices:\n`;
  for (let i = 1; i <= n; i++) {
    s += `  s${i}:\n    image: bb\n    command: ["sh", "-c", "echo hello from s${i}; exec sleep 1000"]\n    init: true\n    stop_grace_period: 0s\n    network_mode: none\n`;
  }
  return s;
}

async function many(roots: TestRoots): Promise<void> {
  const counts = (process.env.BENCH_COUNTS ?? process.env.BENCH_SERVICES ?? '200').split(',').map(Number);
  berth(roots, ['ls']);
  console.log('| services | up -d (ms) | no-op up -d (ms) | ps (ms) | ps -a --format json (ms) | logs (ms) | down -t 0 (ms) | engine RSS up (MiB) | load |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const n of counts) {
    const dir = join(roots.dir, `many${n}`);
    mkdirSync(dir);
    const file = join(dir, 'compose.yaml');
    writeFileSync(file, manyStack(n));
    const up = berth(roots, ['compose', '-f', file, 'up', '-d'], 900_000);
    const noop = berth(roots, ['compose', '-f', file, 'up', '-d'], 900_000);
    const ps = berth(roots, ['compose', '-f', file, 'ps']);
    const psj = berth(roots, ['ps', '-a', '--format', 'json']);
    const lines = ps.out.trim().split('\n').length - 1;
    const logs = berth(roots, ['compose', '-f', file, 'logs', '--no-color']);
    const hellos = (logs.out.match(/hello from/g) ?? []).length;
    const rss = rssKiB(enginePid(roots));
    const down = berth(roots, ['compose', '-f', file, 'down', '-t', '0'], 900_000);
    console.log(`| ${n} | ${up.ms.toFixed(0)} | ${noop.ms.toFixed(0)} | ${ps.ms.toFixed(0)} | ${psj.ms.toFixed(0)} | ${logs.ms.toFixed(0)} | ${down.ms.toFixed(0)} | ${mib(rss).trim()} | ${load()} |`);
    if (lines !== n || hellos !== n) console.log(`  (ps listed ${lines} of ${n}; logs had ${hellos} of ${n} hellos)`);
  }
  const left = leftovers(roots);
  console.log(`left after down: ${left.length} host objects`);
}

/** The engine started here with node flags (the client would start it with none). */
async function startEngine(roots: TestRoots, flags: readonly string[]): Promise<void> {
  mkdirSync(roots.run, { recursive: true, mode: 0o700 });
  const log = openSync(join(roots.run, 'engine.log'), 'a', 0o640);
  const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, ...flags, berthMjs, 'engine'], { env: { ...ENGINE_ENV, ...roots.env }, detached: true, stdio: ['ignore', log, log] });
  child.unref();
  closeSync(log);
  await eventually(() => existsSync(join(roots.run, 'engine.pid')), 60_000, 'the engine to start');
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function loopDelay(roots: TestRoots): Promise<void> {
  const n = Number(process.env.BENCH_SERVICES ?? 30);
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const dir = join(roots.dir, 'loop');
  mkdirSync(dir);
  const file = join(dir, 'compose.yaml');
  let yaml = `name: loop\nservices:\n`;
  for (let i = 1; i <= n; i++) yaml += `  s${i}:\n    image: bb\n    command: ["sleep", "1000"]\n    init: true\n    network_mode: none\n`;
  writeFileSync(file, yaml);
  const delay = (): { p99: number; max: number } => {
    const st = JSON.parse(berth(roots, ['engine', 'status', '--format', 'json', '--reset']).out) as { EventLoopDelay: { P99Ms: number; MaxMs: number } };
    return { p99: st.EventLoopDelay.P99Ms, max: st.EventLoopDelay.MaxMs };
  };
  berth(roots, ['compose', '-f', file, 'up', '-d']);
  berth(roots, ['compose', '-f', file, 'down', '-t', '0']);
  const rows: { up: number; upP99: number; upMax: number; psMed: number; psMax: number; psIdle: number; down: number; downP99: number; downMax: number }[] = [];
  for (let r = 0; r < runs; r++) {
    delay();
    const { ms: up, ps } = await whileRunning(roots, ['compose', '-f', file, 'up', '-d'], ['ps', '-a']);
    const u = delay();
    const psIdle = median([0, 1, 2].map(() => berth(roots, ['ps', '-a']).ms));
    const down = berth(roots, ['compose', '-f', file, 'down', '-t', '0']).ms;
    const d = delay();
    const psMed = ps.length > 0 ? median(ps) : NaN;
    const psMax = Math.max(...ps);
    rows.push({ up, upP99: u.p99, upMax: u.max, psMed, psMax, psIdle, down, downP99: d.p99, downMax: d.max });
    console.log(`round ${r + 1}: up -d ${up.toFixed(0)} ms (loop p99 ${u.p99} ms, max ${u.max} ms; ps -a during it: ${ps.length} runs, median ${psMed.toFixed(0)} ms, max ${psMax.toFixed(0)} ms; idle ps -a ${psIdle.toFixed(0)} ms); down ${down.toFixed(0)} ms (loop p99 ${d.p99} ms, max ${d.max} ms); load ${load()}`);
  }
  const med = (k: keyof (typeof rows)[number]): string => median(rows.map((x) => x[k])).toFixed(1);
  console.log(`median of ${runs}, ${n} services: up -d ${med('up')} ms, loop p99 ${med('upP99')} ms, max ${med('upMax')} ms; ps -a during up median ${med('psMed')} ms, max ${med('psMax')} ms, idle ${med('psIdle')} ms; down ${med('down')} ms, loop p99 ${med('downP99')} ms, max ${med('downMax')} ms`);
}

/** Runs `args` and, until it ends, `probe` back to back: the command's time and each probe's. */
async function whileRunning(roots: TestRoots, args: readonly string[], probe: readonly string[]): Promise<{ ms: number; ps: number[] }> {
  const run = (a: readonly string[]): Promise<{ ms: number; code: number | null; err: string }> => new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(BERTH[0]!, [...BERTH.slice(1), ...a], { env: roots.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, err }));
  });
  let done = false;
  const main = run(args).finally(() => { done = true; });
  const ps: number[] = [];
  while (!done) {
    const p = await run(probe);
    if (p.code !== 0) throw new Error(`berth ${probe.join(' ')} failed (${p.code}): ${p.err}`);
    if (!done) ps.push(p.ms); // one that ended after the command did is not "during"
  }
  const m = await main;
  if (m.code !== 0) throw new Error(`berth ${args.join(' ')} failed (${m.code}): ${m.err}`);
  return { ms: m.ms, ps };
}

async function main(): Promise<void> {
  const roots = makeRoots();
  try {
    const flags = (process.env.BENCH_ENGINE_FLAGS ?? '').split(' ').filter((f) => f !== '');
    if (process.env.BENCH_HEAP) flags.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${process.env.BENCH_HEAP}`);
    if (flags.length > 0) await startEngine(roots, flags);
    await importBusybox(roots, 'bb');
    if (MODE === 'cycles') await cycles(roots);
    else if (MODE === 'crashloop') await crashloop(roots);
    else if (MODE === 'many') await many(roots);
    else if (MODE === 'loop') await loopDelay(roots);
    else throw new Error(`BENCH_SOAK=${MODE}: expected cycles, crashloop, many or loop`);
  } finally {
    await stopEngine(roots).catch(() => {});
    await cleanupRoots(roots).catch((err: unknown) => console.error(String(err)));
  }
}

await main();
