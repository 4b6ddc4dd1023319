// A build on a fresh root with `cache_from: type=local,src=DIR` (the cache exported by a build on
// another root) against the same build without it. Not a test: it asserts nothing.
//   node dist/bench/build-cache-dir.js     (as root; BENCH_RUNS=N rounds, default 3; BENCH_DEPS_MB=N, default 64)
//
// The Dockerfile stands for an app with dependencies: a RUN "fetches" BENCH_DEPS_MB (dd from
// /dev/urandom, then sha256sum: the work a download and unpack would cost, with no network),
// then the app's source is copied and built. Root A builds it once and exports its cache. Each
// round makes two fresh roots holding only A's base image (saved and loaded: a registry would
// give both the same bytes), interleaved:
//   cold      the build runs every step
//   imported  the build reads A's cache directory: every step is a hit, its layers imported (verified)
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { lazySys } from '../src/sys/index.js';
import { saveImages } from '../src/images/save.js';
import { openBuilder } from '../test/helpers/builder.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const runs = Number(process.env['BENCH_RUNS'] ?? 3);
const mb = Number(process.env['BENCH_DEPS_MB'] ?? 64);
// an interrupted run removes its roots (and their cgroups) before it exits
const open = new Set<{ close(): Promise<void> }>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void Promise.allSettled([...open].map((h) => h.close())).then(() => process.exit(130)); });
}
const dockerfile = `FROM bb\nRUN mkdir /deps && dd if=/dev/urandom of=/deps/blob bs=1M count=${mb} 2>/dev/null && sha256sum /deps/blob > /deps/sum\nCOPY app.txt /app.txt\nRUN cat /deps/sum /app.txt > /built\n`;
const a = await openBuilder();
open.add(a);
try {
  const cache = join(a.work, 'cache');
  const dir = a.context({ 'Dockerfile': dockerfile, 'app.txt': 'app\n' });
  await a.build(dir, { cacheTo: [`type=local,dest=${cache}`] });
  const base = join(a.work, 'base.tar');
  await saveImages(a.store, ['bb'], base, { sys: lazySys });
  const times: Record<'cold' | 'imported', number[]> = { cold: [], imported: [] };
  for (let i = 1; i <= runs; i++) {
    for (const kind of (i % 2 ? ['cold', 'imported'] : ['imported', 'cold']) as ('cold' | 'imported')[]) {
      const b = await openBuilder();
      open.add(b);
      try {
        await b.store.load(base);
        const ctx = b.context({ 'Dockerfile': dockerfile, 'app.txt': 'app\n' });
        const r = await b.build(ctx, kind === 'imported' ? { cacheFrom: [`type=local,src=${cache}`] } : {});
        if (kind === 'imported' && r.ran !== 0) throw new Error(`the imported build ran ${r.ran} steps`);
        times[kind].push(r.ms);
        process.stdout.write(`round ${i} ${kind}: ${r.ms} ms (${r.ran} run, ${r.cached} cached)\n`);
      } finally {
        open.delete(b);
        await b.close();
      }
    }
  }
  const cold = median(times.cold);
  const imported = median(times.imported);
  writeFileSync(1, `\n${mb} MiB dependency step, ${runs} rounds on fresh roots:\n  cold build         median ${cold} ms\n  cache_from local   median ${imported} ms\n  ratio cold/imported ${(cold / imported).toFixed(2)}\n`);
} finally {
  await a.close();
}
