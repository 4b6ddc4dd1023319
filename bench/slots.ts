// Warm container slots (docs/slots.md): what a slot takes off a container's start, measured where
// it happens. Two engines on roots of their own — the default pool, and BERTH_SLOTS=0 — run the
// same commands, interleaved (A B A B …). For each container the engine-side start is read from
// the host's clock in its own records: `created` (config.v2.json, the create began) → `startedAt`
// (the shim's `started`: the container's execve succeeded). That stretch holds the create, the
// launch file, the shim's spawn and start-up and the clone; it leaves out Node's start-up of the
// CLI and the removal, which on a loaded machine swamp the difference in `run --rm` (see
// bench/start-latency.ts for the whole command). Not a test: it asserts nothing.
//   node dist/bench/slots.js        (as root; BENCH_RUNS=N rounds, default 30)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { median } from './measure.js';
import { berthBin, cleanupRoots, importBusybox, makeRoots, type TestRoots } from '../test/helpers/env.js';

interface Variant { readonly name: string; readonly roots: TestRoots; readonly env: NodeJS.ProcessEnv }

function berth(v: Variant, args: readonly string[]): { ms: number; stdout: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(berthBin, [...args], { env: v.env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${v.name}: berth ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** created → started of a container, ms, from its records (the host's realtime clock). */
function createdToStarted(v: Variant, id: string): number {
  const dir = join(v.roots.root, 'containers', id);
  const created = Date.parse((JSON.parse(readFileSync(join(dir, 'config.v2.json'), 'utf8')) as { created: string }).created);
  const startedAt = (JSON.parse(readFileSync(join(dir, 'started'), 'utf8')) as { startedAt: string }).startedAt;
  // RFC 3339 with nanoseconds: Date.parse keeps milliseconds; the rest is added back
  const frac = /\.(\d+)Z$/.exec(startedAt)?.[1] ?? '0';
  const started = Date.parse(startedAt.replace(/\.\d+Z$/, 'Z')) + Number(`0.${frac}`) * 1000;
  return started - created;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 30);
  const warm: Variant = { name: 'slots (default pool)', roots: makeRoots(), env: {} };
  const cold: Variant = { name: 'BERTH_SLOTS=0', roots: makeRoots(), env: {} };
  (warm as { env: NodeJS.ProcessEnv }).env = { ...warm.roots.env, BERTH_SLOTS: '' };
  (cold as { env: NodeJS.ProcessEnv }).env = { ...cold.roots.env, BERTH_SLOTS: '0' };
  const variants = [warm, cold];
  const rows = ['run (attached), created → started', 'run -d, created → started', 'run (attached), whole command', 'run -d, whole command'];
  const samples = new Map<string, number[]>(variants.flatMap((v) => rows.map((r) => [`${v.name}|${r}`, []] as [string, number[]])));
  try {
    for (const v of variants) {
      await importBusybox({ ...v.roots, env: v.env }, 'bb');
      berth(v, ['run', '--rm', '--network', 'none', 'bb', 'true']); // the engine up, caches warm
    }
    const loadBefore = loadavg()[0]!;
    for (let i = 0; i < runs; i++) {
      for (const v of i % 2 === 0 ? variants : [...variants].reverse()) {
        // attached: returns after the exit; the container stays for its records, then goes
        const name = `b${i}`;
        const a = berth(v, ['run', '--name', name, '--network', 'none', 'bb', 'true']);
        const id = berth(v, ['inspect', '--format', '{{.Id}}', name]).stdout.trim();
        samples.get(`${v.name}|run (attached), whole command`)!.push(a.ms);
        samples.get(`${v.name}|run (attached), created → started`)!.push(createdToStarted(v, id));
        berth(v, ['rm', '-f', name]);
        const d = berth(v, ['run', '-d', '--network', 'none', 'bb', 'true']);
        const did = d.stdout.trim();
        samples.get(`${v.name}|run -d, whole command`)!.push(d.ms);
        samples.get(`${v.name}|run -d, created → started`)!.push(createdToStarted(v, did));
        berth(v, ['rm', '-f', did]);
      }
    }
    process.stdout.write(`warm slots, ${runs} interleaved rounds, medians in ms (p10–p90)\n`);
    process.stdout.write(`  ${'measure'.padEnd(36)} ${'slots'.padStart(22)} ${'BERTH_SLOTS=0'.padStart(22)}   paired (cold − slots)\n`);
    const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
    const cell = (xs: number[]): string => `${median(xs).toFixed(1)} (${pct(xs, 0.1).toFixed(0)}–${pct(xs, 0.9).toFixed(0)})`;
    for (const r of rows) {
      const w = samples.get(`${warm.name}|${r}`)!;
      const c = samples.get(`${cold.name}|${r}`)!;
      process.stdout.write(`  ${r.padEnd(36)} ${cell(w).padStart(22)} ${cell(c).padStart(22)}   ${median(c.map((x, k) => x - w[k]!)).toFixed(1)}\n`);
    }
    process.stdout.write(`load average (1 min) before the timed rounds ${loadBefore.toFixed(2)}, after ${loadavg()[0]!.toFixed(2)}\n`);
    for (const v of variants) berth(v, ['rmi', 'bb']);
  } catch (err) {
    process.stderr.write(`slots bench: ${(err as Error).message}\n`);
    throw err;
  } finally {
    for (const v of variants) await cleanupRoots(v.roots);
  }
}

await main();
