// Image throughput and build-cache timings on this machine. Not a test: it asserts nothing.
//   npm run bench:images     (as root; BENCH_RUNS=N rounds, default 5; BENCH_LAYER_MB=N, default 32)
//
// Pull: an image of 4 incompressible layers (BENCH_LAYER_MB each) is pushed to a loopback
// docker-registry, then each round, interleaved:
//   berth pull      pullImage() into a fresh store: download, verify, extract, commit
//   curl            the same 4 blobs with curl, 3 at a time (as berth): the transfer's limit
//   skopeo copy     docker:// → dir: (download + verify, no extraction), where installed
// Build: a Dockerfile of 6 steps over busybox; the first build, a no-change rebuild, and a
// rebuild after one source file changed (the COPY that sees it and the RUN after it re-run).
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import * as tar from 'tar';
import { lazySys } from '../src/sys/index.js';
import { ImageStore } from '../src/images/store.js';
import { ContainerRuntime } from '../src/runtime/container.js';
import { hostCgroupDriver } from '../src/runtime/cgroups/detect.js';
import { nativeDir } from '../src/lib/paths.js';
import { pullImage } from '../src/images/registry/pull.js';
import { pushImage } from '../src/images/registry/push.js';
import { buildImage } from '../src/build/builder.js';
import { makeRoots, makeBusyboxRootfs, cleanupRoots, repoRoot } from '../test/helpers/env.js';
import { startRegistry } from '../test/helpers/registry.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const now = () => Number(process.hrtime.bigint()) / 1e6;

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${code} ${err}`))));
  });
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const layerMb = Number(process.env.BENCH_LAYER_MB ?? 32);
  const roots = makeRoots();
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-images-'));
  const registry = await startRegistry();
  const access = { hosts: { insecure: [] }, credentials: () => undefined };
  try {
    const seed = new ImageStore({ root: join(roots.root, 'seed'), sys: lazySys });
    // four single-layer images, then one image made of their four layers (imported as one
    // layer each and stacked by a build would add steps: push them as separate images instead)
    const digests: string[] = [];
    for (let i = 0; i < 4; i++) {
      const dir = join(work, `layer${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, `blob${i}.bin`), randomBytes(layerMb * 1024 * 1024));
      await tar.c({ file: join(work, `layer${i}.tar.gz`), cwd: dir, gzip: { level: 1 }, portable: true }, ['.']);
      const img = await seed.import(join(work, `layer${i}.tar.gz`), `${registry.host}/bench/l${i}:1`);
      digests.push(seed.layer(img.layers[0].chainId)!.blob!.digest);
      await pushImage(seed, `${registry.host}/bench/l${i}:1`, { ...access, sys: lazySys });
    }
    const totalMb = (digests.length * layerMb);
    const rows: Record<string, number[]> = { 'berth pull (4 images in parallel)': [], 'curl (same blobs, 3 at a time)': [] };
    const skopeo = which('skopeo');
    if (skopeo) rows['skopeo copy → dir: (4 in parallel)'] = [];
    for (let r = 0; r < runs; r++) {
      const store = new ImageStore({ root: join(roots.root, `pull-${r}`), sys: lazySys });
      let t = now();
      await Promise.all(digests.map((_, i) => pullImage(store, `${registry.host}/bench/l${i}:1`, access)));
      rows['berth pull (4 images in parallel)'].push(now() - t);
      rmSync(join(roots.root, `pull-${r}`), { recursive: true, force: true });
      const out = join(work, `curl-${r}`);
      mkdirSync(out);
      t = now();
      const queue = digests.map((d, i) => () => run('curl', ['-sf', '-o', join(out, String(i)), `http://${registry.host}/v2/bench/l${i}/blobs/${d}`]));
      await Promise.all([0, 1, 2].map(async () => { for (let job = queue.shift(); job; job = queue.shift()) await job(); }));
      rows['curl (same blobs, 3 at a time)'].push(now() - t);
      rmSync(out, { recursive: true, force: true });
      if (skopeo) {
        const dirs = digests.map((_, i) => join(work, `skopeo-${r}-${i}`));
        t = now();
        await Promise.all(dirs.map((d, i) => run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${registry.host}/bench/l${i}:1`, `dir:${d}`])));
        rows['skopeo copy → dir: (4 in parallel)'].push(now() - t);
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      }
    }
    console.log(`pull: ${digests.length} layers × ${layerMb} MiB (incompressible, gzip) from a loopback docker-registry, ${runs} rounds`);
    const berthMs = rows['berth pull (4 images in parallel)'];
    for (const [name, xs] of Object.entries(rows)) {
      const ratios = xs.map((x, i) => x / berthMs[i]);
      console.log(`  ${name.padEnd(38)} median ${median(xs).toFixed(0).padStart(6)} ms  ${(totalMb / (median(xs) / 1000)).toFixed(0).padStart(5)} MiB/s  ×${median(ratios).toFixed(2)} of berth`);
    }

    // build
    const store = new ImageStore({ root: roots.root, sys: lazySys });
    const bin = nativeDir(repoRoot);
    const runtime = new ContainerRuntime({
      root: roots.root, cgroupParent: roots.cgroupParent, cgroups: hostCgroupDriver(), shimPath: join(bin, 'berth-shim'),
      initPath: join(bin, 'berth-init'), sys: lazySys, env: roots.env, autoRemoveCommand: ['/bin/true'],
    });
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs);
    makeBusyboxRootfs(rootfs);
    await tar.c({ file: join(work, 'bb.tar'), cwd: rootfs, portable: false }, ['.']);
    await store.import(join(work, 'bb.tar'), 'bb', { config: { Cmd: ['sh'] } });
    const ctx = join(work, 'ctx');
    mkdirSync(join(ctx, 'src'), { recursive: true });
    for (let i = 0; i < 200; i++) writeFileSync(join(ctx, 'src', `f${i}.txt`), `file ${i}\n`.repeat(100));
    writeFileSync(join(ctx, 'deps.txt'), 'deps\n');
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb\nENV APP=/app\nWORKDIR /app\nCOPY deps.txt .\nRUN cat deps.txt > installed\nCOPY src/ ./src/\nRUN ls src | wc -l > count\n');
    const build = () => buildImage({ store, runtime, sys: lazySys, contextDir: ctx, tags: ['bench:1'] });
    const first: number[] = [];
    const cached: number[] = [];
    const oneFile: number[] = [];
    for (let r = 0; r < runs; r++) {
      let t = now();
      await buildImage({ store, runtime, sys: lazySys, contextDir: ctx, noCache: true });
      first.push(now() - t);
      t = now();
      await build();
      cached.push(now() - t);
      writeFileSync(join(ctx, 'src', 'f7.txt'), `changed ${r}\n`);
      t = now();
      await build();
      oneFile.push(now() - t);
    }
    console.log(`build: 6 steps over busybox, 200 files copied, ${runs} rounds`);
    console.log(`  ${'full build (--no-cache)'.padEnd(38)} median ${median(first).toFixed(0).padStart(6)} ms`);
    console.log(`  ${'no-change rebuild'.padEnd(38)} median ${median(cached).toFixed(0).padStart(6)} ms`);
    console.log(`  ${'one source file changed'.padEnd(38)} median ${median(oneFile).toFixed(0).padStart(6)} ms`);
  } finally {
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
    await cleanupRoots(roots);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
