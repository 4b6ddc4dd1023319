// Pre-made network sandboxes (src/network/pool.ts, docs/networking.md "The sandbox pool"): what
// they save, paired. Three engines on roots of their own — this build with its default pool, this
// build with BERTH_NETNS_POOL=0 (a namespace made per container, as before the pool; warm slots
// on in both), and optionally another build (BERTH_BASELINE=/path/to/berth/bin/berth, e.g. main)
// — run the same commands interleaved (A B C A B C …), so drift on a shared machine hits all
// alike: `run --rm bb true` on the default network, the same with `--network none`, and `up -d`
// of a 10-service project on its default network (each followed by `down -t 0`, not timed).
// Prints medians, p10–p90, the paired differences against this build, and the load average.
// Not a test: it asserts nothing.
//   npm run build && nice -n 10 node dist/bench/sandbox-pool.js      (as root; BENCH_RUNS=N, default 20)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { makeRoots, berthBin, busyboxTarball, cleanupRoots, removeAllContainers, type TestRoots } from '../test/helpers/env.js';
import { berthCommand, median } from './measure.js';

interface Engine { readonly name: string; readonly cmd: readonly string[]; readonly roots: TestRoots; readonly project: string }

const quantile = (xs: readonly number[], q: number): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

function must(e: Engine, args: readonly string[], cwd?: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(e.cmd[0]!, [...e.cmd.slice(1), ...args], { env: e.roots.env, cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${e.name}: berth ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  const engines: Engine[] = [];
  const add = async (name: string, bin: string, extraEnv: Record<string, string>): Promise<void> => {
    const roots = makeRoots();
    Object.assign(roots.env, extraEnv);
    const project = join(roots.dir, 'ten');
    mkdirSync(project);
    let y = 'name: ten\nservices:\n';
    for (let i = 1; i <= 10; i++) y += `  w${i}:\n    image: bb\n    command: ["sleep", "100000"]\n    init: true\n    stop_grace_period: 1s\n`;
    writeFileSync(join(project, 'compose.yaml'), y);
    const e: Engine = { name, cmd: berthCommand(bin), roots, project };
    engines.push(e);
    must(e, ['import', await busyboxTarball(roots.dir), 'bb']);
  };
  try {
    await add('pool', berthBin, {});
    await add('BERTH_NETNS_POOL=0', berthBin, { BERTH_NETNS_POOL: '0' });
    if (process.env.BERTH_BASELINE) await add('baseline', process.env.BERTH_BASELINE, {});
    const verbs: { name: string; args: string[]; inProject?: boolean; after?: string[] }[] = [
      { name: 'run --rm bb true', args: ['run', '--rm', 'bb', 'true'] },
      { name: 'run --rm --network none bb true', args: ['run', '--rm', '--network', 'none', 'bb', 'true'] },
      { name: 'up -d, 10 services', args: ['up', '-d'], inProject: true, after: ['down', '-t', '0'] },
    ];
    // a failed run (on this shared machine, a container now and then ends 137 under heavy load,
    // whichever build) is counted and left out of the medians, not fatal to the whole bench
    const failures: string[] = [];
    const once = (e: Engine, v: (typeof verbs)[number]): number => {
      let ms = NaN;
      try { ms = must(e, v.args, v.inProject ? e.project : undefined); } catch (err) { failures.push((err as Error).message.split('\n')[0]!); }
      if (v.after) must(e, v.after, e.project);
      return ms;
    };
    const med = (xs: readonly number[]): number => median(xs.filter((x) => !Number.isNaN(x)));
    for (const e of engines) for (const v of verbs) { once(e, v); once(e, v); } // engines started, pools warm, caches
    const samples = new Map<string, number[]>();
    const key = (e: Engine, v: (typeof verbs)[number]): string => `${v.name} | ${e.name}`;
    const loadBefore = loadavg();
    // the engines' order rotates each round: a namespace's teardown finishes in the kernel after
    // the command returned (cleanup_net), so whoever runs right after a `down` of ten (or a run on
    // a network) pays some of it; a fixed order put that on one engine every round
    for (let i = 0; i < runs; i++) {
      for (const v of verbs) {
        for (let j = 0; j < engines.length; j++) {
          const e = engines[(i + j) % engines.length]!;
          (samples.get(key(e, v)) ?? samples.set(key(e, v), []).get(key(e, v))!).push(once(e, v));
        }
      }
    }
    const loadAfter = loadavg();
    process.stdout.write(`pre-made network sandboxes, ${runs} interleaved rounds: median (p10–p90) ms; paired: median of (other − pool) per round\n`);
    for (const v of verbs) {
      const base = samples.get(key(engines[0]!, v))!;
      for (const e of engines) {
        const xs = samples.get(key(e, v))!;
        const d = med(xs.map((x, i) => x - base[i]!));
        const paired = e === engines[0] ? '' : `   paired ${d >= 0 ? '+' : ''}${d.toFixed(1)} ms (×${med(xs.map((x, i) => x / base[i]!)).toFixed(2)})`;
        process.stdout.write(`  ${key(e, v).padEnd(56)} ${med(xs).toFixed(1).padStart(7)} (${quantile(xs, 0.1).toFixed(0)}–${quantile(xs, 0.9).toFixed(0)})${paired}\n`);
      }
    }
    if (failures.length > 0) process.stdout.write(`${failures.length} failed run(s), left out: ${[...new Set(failures)].join('; ')}\n`);
    process.stdout.write(`load average (1, 5, 15 min) before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`);
  } finally {
    for (const e of engines) {
      spawnSync(e.cmd[0]!, [...e.cmd.slice(1), 'down', '-t', '0'], { env: e.roots.env, cwd: e.project, stdio: 'ignore' });
      await removeAllContainers(e.roots).catch(() => undefined);
      spawnSync(e.cmd[0]!, [...e.cmd.slice(1), 'rmi', 'bb'], { env: e.roots.env, stdio: 'ignore' });
      await cleanupRoots(e.roots);
    }
  }
}

await main();
