// RUN --mount=type=cache against the same step without one. Not a test: it asserts nothing.
//   node dist/bench/build-mounts.js     (as root; BENCH_RUNS=N rounds, default 5; BENCH_DEPS_MB=N, default 256)
//
// The step stands for a package install: it "fetches" BENCH_DEPS_MB of dependencies (dd from
// /dev/urandom, then sha256sum: the CPU and disk work a download and unpack would cost, with no
// network) unless they are already there, then builds the app from the one source file. Each
// round changes the source file, so the RUN re-runs (a cache miss of the step itself):
//   with a cache mount     the dependencies are in /cache from the round before: only the app step's own work
//   without                the dependencies are made again in the step
// Both Dockerfiles are built once first (warm-up) so every timed round is a rebuild.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBuilder } from '../test/helpers/builder.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e6;

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const mb = Number(process.env['BENCH_DEPS_MB'] ?? 256);
const h = await openBuilder();
try {
  const fetch = (dir: string) => `[ -f ${dir}/deps ] || dd if=/dev/urandom of=${dir}/deps bs=1M count=${mb} 2>/dev/null; sha256sum ${dir}/deps | cut -c1-16 > /deps.sum`;
  const dockerfiles = {
    'with a cache mount': `FROM bb\nCOPY app.txt /app.txt\nRUN --mount=type=cache,target=/cache ${fetch('/cache')} && cat /app.txt > /built\n`,
    'without': `FROM bb\nCOPY app.txt /app.txt\nRUN mkdir -p /deps && ${fetch('/deps')} && rm -rf /deps && cat /app.txt > /built\n`,
  };
  const dirs: Record<string, string> = {};
  for (const [name, text] of Object.entries(dockerfiles)) {
    const dir = h.context({ 'Dockerfile': text, 'app.txt': 'v0\n' });
    await h.build(dir);
    dirs[name] = dir;
  }
  const times: Record<string, number[]> = { 'with a cache mount': [], 'without': [] };
  for (let i = 1; i <= runs; i++) {
    // interleaved, so that load on the machine falls on both alike
    for (const name of Object.keys(dockerfiles)) {
      writeFileSync(join(dirs[name]!, 'app.txt'), `${name} v${i}\n`);
      const t0 = now();
      const r = await h.build(dirs[name]!);
      times[name]!.push(now() - t0);
      if (r.ran !== 2) throw new Error(`${name} round ${i}: expected the COPY and the RUN to re-run, ran ${r.ran}, cached ${r.cached}`);
    }
  }
  const w = median(times['with a cache mount']!);
  const wo = median(times['without']!);
  console.log(`rebuild after a source change, ${mb} MiB of dependencies, median of ${runs} (ms):`);
  console.log(`  with a cache mount  ${w.toFixed(0)}   [${times['with a cache mount']!.map((t) => t.toFixed(0)).join(' ')}]`);
  console.log(`  without             ${wo.toFixed(0)}   [${times['without']!.map((t) => t.toFixed(0)).join(' ')}]`);
  console.log(`  ratio without/with  ${(wo / w).toFixed(2)}`);
} finally {
  await h.close();
}
