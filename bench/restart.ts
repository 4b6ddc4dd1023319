// Restart reaction (issue 13): the first restart after a SIGKILL of a container's PID 1, measured
// from the host, with the time split into stages. Not a test: it asserts nothing.
//   npm run bench:restart          (as root; BENCH_RUNS=N rounds, default 20)
//   BENCH_NETWORK=bridge           the containers on the default bridge (default: --network none)
//   BERTH_BASELINE=/other/checkout/bin/berth
//                                  adds that build as a second subject (roots of its own), its
//                                  rounds interleaved with this build's: kill → new PID 1 paired
//   BENCH_LOG=FILE                 keeps a copy of this build's engine log
//
// Each round runs a fresh `restart: always` container (a fresh one makes every measurement a
// *first* restart: Docker's back-off starts at 100 ms and doubles for later ones), SIGKILLs its
// PID 1 from here, and waits — by inotify on the container's directory, never by polling the CLI —
// for the shim's new `started` record (written once the new PID 1 has exec'd). The stages come
// from three clocks that are all the host's realtime clock:
//   - the kill: taken here, just before kill(2);
//   - the shim's records: `exited`.finishedAt (its waitpid saw the death) and the new
//     `started`.startedAt (the new PID 1's execve succeeded);
//   - the engine log's `restart of …` line (src/engine/supervisor.ts): when the supervisor's look
//     acted on the exit, when the back-off began, when the start began and how long it took, the
//     deadline it gave the held start (go) and when the held process woke and went (went: the
//     shim's clock).
// The figures depend on the machine's load: the first line says the load average (1, 5, 15 min)
// at the start and at the end.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cpus, release, loadavg } from 'node:os';
import { median } from './measure.js';
import { berthBin, busyboxTarball, cleanupRoots, importBusybox, makeRoots } from '../test/helpers/env.js';

/** Epoch ms with a fraction (Date.now() has whole ms only). */
const nowMs = (): number => performance.timeOrigin + performance.now();

/** RFC3339Nano → epoch ms with the fraction kept. */
function parseTime(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + frac;
}

function must(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

interface Round {
  /** kill → the shim's waitpid saw it (exited.finishedAt) */
  readonly shimSaw: number;
  /** exit record → the supervisor's look acted on it */
  readonly engineSaw: number;
  /** exit record → the start began (held: made during the back-off) */
  readonly startBegan: number;
  /** start began → made and waiting at the execve (held), or the whole start (unheld) */
  readonly making: number;
  /** exit record → told to go (held: the back-off's end; unheld: the start's beginning) */
  readonly go: number;
  /** exit record → the held start was made: its process began to wait at the execve (the shim's clock) */
  readonly ready: number;
  /** exit record → the held process woke at its deadline and went (the shim's clock) */
  readonly went: number;
  /** the deadline → the held process went, in rounds whose start was ready before its deadline */
  readonly wakeLate: number;
  /** went → new PID 1 exec'd (started.startedAt: the shim saw the execve) */
  readonly wentToExec: number;
  /** go → new PID 1 exec'd (started.startedAt) */
  readonly goToExec: number;
  /** kill → new PID 1 exec'd: the figure the target is about */
  readonly total: number;
  /** kill → this process saw the new `started` through inotify */
  readonly seen: number;
  /** kill → the engine's start call returned (the `started` record durable, the restart event) */
  readonly done: number;
}

interface Subject {
  readonly name: string;
  readonly bin: string;
  readonly roots: ReturnType<typeof makeRoots>;
  readonly env: NodeJS.ProcessEnv;
  /** this build: its engine log has the `restart of …` lines */
  readonly traced: boolean;
}

async function oneRound(subject: Subject, name: string, network: string): Promise<Round> {
  const { bin, env } = subject;
  const root = subject.roots.root;
  const run = subject.roots.run;
  const id = must([bin, 'run', '-d', '--restart', 'always', '--network', network, '--name', name, 'bb', 'sleep', '100000'], env).trim();
  const bundle = join(root, 'containers', id);
  const first = JSON.parse(readFileSync(join(bundle, 'started'), 'utf8')) as { pid: number };
  let watcher: FSWatcher | undefined;
  let exitedRecord: { finishedAt: string } | undefined;
  const restarted = new Promise<{ pid: number; startedAt: string; seenAt: number }>((resolve, reject) => {
    const timer = setTimeout(() => { watcher?.close(); reject(new Error(`${name} was not restarted within 10 s`)); }, 10_000);
    const check = (): void => {
      try {
        if (!exitedRecord) exitedRecord = JSON.parse(readFileSync(join(bundle, 'exited'), 'utf8'));
      } catch { /* not yet, or already removed by the restart */ }
      try {
        const s = JSON.parse(readFileSync(join(bundle, 'started'), 'utf8')) as { pid: number; startedAt: string };
        if (s.pid !== first.pid) {
          clearTimeout(timer);
          watcher?.close();
          resolve({ ...s, seenAt: nowMs() });
        }
      } catch { /* between the removal of the old record and the new one */ }
    };
    watcher = watch(bundle, (_e, file) => { if (file === 'started' || file === 'exited') check(); });
  });
  const killedAt = nowMs();
  process.kill(first.pid, 'SIGKILL');
  const next = await restarted;
  const finishedAt = parseTime(exitedRecord?.finishedAt ?? '');
  const killToExec = parseTime(next.startedAt) - killedAt;
  const seen = next.seenAt - killedAt;
  if (!subject.traced) {
    must([bin, 'rm', '-f', name], env);
    return { shimSaw: finishedAt - killedAt, engineSaw: NaN, startBegan: NaN, making: NaN, go: NaN, ready: NaN, went: NaN, wakeLate: NaN, wentToExec: NaN, goToExec: NaN, total: killToExec, seen, done: NaN };
  }
  // the engine's line for this restart
  const short = id.slice(0, 12);
  let line: string | undefined;
  for (let i = 0; i < 200 && !line; i++) {
    line = readFileSync(join(run, 'engine.log'), 'utf8').split('\n').reverse().find((l) => l.includes(`restart of ${name} (${short})`));
    if (!line) await new Promise((r) => setTimeout(r, 10));
  }
  const m = /exit (\S+), seen \+(-?\d+) ms, scheduled \+(-?\d+) ms, back-off (\d+) ms, start \+(-?\d+) ms, go \+(-?\d+) ms, done \+(-?\d+) ms/.exec(line ?? '');
  if (!m) throw new Error(`no restart line for ${name} in the engine log`);
  const wentMatch = /, ready \+(-?[\d.]+) ms, went \+(-?[\d.]+) ms/.exec(line ?? '');
  const exitMs = Date.parse(m[1]!); // the engine's reading of finishedAt: whole ms
  const rel = (i: number): number => exitMs + Number(m[i]);
  const readyAt = wentMatch ? exitMs + Number(wentMatch[1]) : NaN;
  const wentAt = wentMatch ? exitMs + Number(wentMatch[2]) : NaN;
  const startedAt = parseTime(next.startedAt);
  must([bin, 'rm', '-f', name], env);
  return {
    shimSaw: finishedAt - killedAt,
    engineSaw: rel(2) - finishedAt,
    startBegan: rel(5) - finishedAt,
    making: rel(6) - rel(5),
    go: rel(6) - finishedAt,
    ready: readyAt - finishedAt,
    went: wentAt - finishedAt,
    wakeLate: readyAt < rel(6) ? wentAt - rel(6) : NaN,
    wentToExec: startedAt - wentAt,
    goToExec: startedAt - rel(6),
    total: killToExec,
    seen,
    done: rel(7) - killedAt,
  };
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  const network = process.env.BENCH_NETWORK ?? 'none';
  const subjects: Subject[] = [];
  const mine = makeRoots();
  subjects.push({ name: 'berth', bin: berthBin, roots: mine, env: { ...mine.env, BERTH_NO_WARM: '' }, traced: true });
  if (process.env.BERTH_BASELINE) {
    const base = makeRoots();
    subjects.push({ name: 'baseline', bin: process.env.BERTH_BASELINE, roots: base, env: { ...base.env, BERTH_NO_WARM: '' }, traced: false });
  }
  const loadAtStart = loadavg().map((x) => x.toFixed(1)).join(' ');
  try {
    for (const s of subjects) {
      if (s.traced) await importBusybox(s.roots, 'bb');
      else must([s.bin, 'import', await busyboxTarball(s.roots.dir), 'bb'], s.env);
      await oneRound(s, 'warmup', network); // starts the engine, warms caches
    }
    const rounds = new Map<string, Round[]>(subjects.map((s) => [s.name, []]));
    for (let i = 0; i < runs; i++) for (const s of subjects) rounds.get(s.name)!.push(await oneRound(s, `r${i}`, network));
    const rows: [string, keyof Round][] = [
      ['kill → the shim saw the death (exited.finishedAt)', 'shimSaw'],
      ['exit → the supervisor acted on it', 'engineSaw'],
      ['exit → the start began', 'startBegan'],
      ['  start began → go (held: made and waiting meanwhile)', 'making'],
      ['exit → go (held: the back-off\'s end, the deadline)', 'go'],
      ['exit → the held start made (its process ready)', 'ready'],
      ['exit → the held process woke and went', 'went'],
      ['  deadline → went (rounds made in time only)', 'wakeLate'],
      ['  went → new PID 1 exec\'d (started.startedAt)', 'wentToExec'],
      ['go → new PID 1 exec\'d (started.startedAt)', 'goToExec'],
      ['kill → new PID 1 exec\'d (the target: ≤ 115)', 'total'],
      ['kill → the new `started` seen here (inotify)', 'seen'],
      ['kill → the engine\'s start call returned', 'done'],
    ];
    const fmt = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(1)).padStart(8);
    const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
    process.stdout.write(`first restart after SIGKILL, --network ${network}, ${runs} rounds; nproc ${cpus().length}, kernel ${release()}, load average ${loadAtStart} at the start, ${load()} at the end\n`);
    process.stdout.write(`${'stage (ms)'.padEnd(56)} ${subjects.map((s) => `${s.name} median`.padStart(16) + `${'p10'.padStart(8)}${'p90'.padStart(8)}`).join('')}\n`);
    for (const [label, key] of rows) {
      let line = label.padEnd(56);
      for (const s of subjects) {
        const xs = rounds.get(s.name)!.map((r) => r[key]).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
        const q = (p: number): number => (xs.length === 0 ? NaN : xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!);
        line += `${fmt(xs.length === 0 ? NaN : median(xs)).padStart(16)}${fmt(q(0.1))}${fmt(q(0.9))}`;
      }
      process.stdout.write(`${line}\n`);
    }
    if (subjects.length > 1) {
      const a = rounds.get('berth')!;
      const b = rounds.get('baseline')!;
      process.stdout.write(`kill → new PID 1, paired baseline − berth: median ${median(a.map((r, i) => b[i]!.total - r.total)).toFixed(1)} ms; paired baseline ÷ berth: median ${median(a.map((r, i) => b[i]!.total / r.total)).toFixed(2)}×\n`);
      process.stdout.write(`rounds within the target (kill → new PID 1 ≤ 115 ms): berth ${a.filter((r) => r.total <= 115).length}/${a.length}, baseline ${b.filter((r) => r.total <= 115).length}/${b.length}\n`);
    }
  } finally {
    // BENCH_LOG=FILE keeps a copy of the engine log (its `restart of …` lines)
    if (process.env.BENCH_LOG) spawnSync('cp', [join(mine.run, 'engine.log'), process.env.BENCH_LOG]);
    for (const s of subjects) {
      const ids = spawnSync(s.bin, ['ps', '-aq', '--no-trunc'], { env: s.env, encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '');
      if (ids.length > 0) spawnSync(s.bin, ['rm', '-f', ...ids], { env: s.env, stdio: 'ignore' });
      spawnSync(s.bin, ['rmi', 'bb'], { env: s.env, stdio: 'ignore' });
      await cleanupRoots(s.roots);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
