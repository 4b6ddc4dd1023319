// I/O through a named volume, a bind mount and the container's overlay layer, each against the
// host filesystem directly (the limit), and `cp` of a 100 MB tree against `cp -a` on the host.
// Not a test: it asserts nothing. Subjects run interleaved within each round, so drift on a shared
// machine hits all of them alike; it prints medians and paired ratios (median of per-round ratios).
//   npm run bench:volumes     (as root; BENCH_RUNS=N rounds, default 5; BENCH_MB=N for the sequential size)
// The same busybox binary runs every workload: on the host directly for the host rows, inside one
// running container (through exec) for the others; each times itself from /proc/uptime (10 ms steps).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, importBusybox, cleanupRoots, berthOk } from '../test/helpers/env.js';
import { Harness } from '../test/integration/volumes-harness.js';
import { withContainerRoot } from '../src/volumes/view.js';
import { copyToContainer, copyFromContainer } from '../src/volumes/cp.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const SMALL = 10_000;

function script(dir: string, work: 'write' | 'read' | 'small', mb: number): string {
  const body = work === 'write' ? `dd if=/dev/zero of=${dir}/seq bs=1M count=${mb} conv=fsync 2>/dev/null`
    : work === 'read' ? `dd if=${dir}/seq of=/dev/null bs=1M 2>/dev/null`
      : `mkdir -p ${dir}/small; s=$(head -c 4096 /dev/zero | tr "\\0" a); i=0; while [ $i -lt ${SMALL} ]; do printf %s "$s" > ${dir}/small/f$i; i=$((i+1)); done; sync`;
  const cleanup = work === 'small' ? `; rm -rf ${dir}/small` : '';
  return `t0=$(cut -d" " -f1 /proc/uptime); ${body}; t1=$(cut -d" " -f1 /proc/uptime); echo "$t0 $t1"${cleanup}`;
}

function seconds(output: string): number {
  const m = /([\d.]+) ([\d.]+)\s*$/.exec(output.trim());
  if (!m) throw new Error(`no timing in: ${output}`);
  return Number(m[2]) - Number(m[1]);
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const mb = Number(process.env.BENCH_MB ?? 128);
  const roots = makeRoots();
  await importBusybox(roots, 'bb');
  const h = new Harness(roots);
  try {
    const hostDir = join(roots.dir, 'hostfs');
    const bindDir = join(roots.dir, 'bindsrc');
    mkdirSync(hostDir);
    mkdirSync(bindDir);
    h.store.create({ name: 'bench-vol' });
    const { id } = await h.create('bb', ['sleep', '100000'], {
      mounts: [
        { type: 'volume', source: 'bench-vol', target: '/vol', readOnly: false, nocopy: true },
        { type: 'bind', source: bindDir, target: '/bind', readOnly: false, createHostPath: false },
      ],
    });
    await h.start(id);
    const inContainer = async (s: string): Promise<string> => {
      const r = await h.host.runtime.execCaptured(id, { args: ['sh', '-c', s], env: [], tty: false, stdin: false }, { timeoutMs: 600_000, maxOutput: 4096 });
      if (r.exitCode !== 0) throw new Error(`exec failed: ${r.output}`);
      return r.output;
    };
    const onHost = (s: string): string => {
      const r = spawnSync('/bin/busybox', ['sh', '-c', s], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`host run failed: ${r.stderr}`);
      return r.stdout;
    };
    await inContainer('mkdir -p /layer');
    const subjects = [
      { name: 'host filesystem', run: (w: 'write' | 'read' | 'small') => Promise.resolve(onHost(script(hostDir, w, mb))) },
      { name: 'named volume', run: (w: 'write' | 'read' | 'small') => inContainer(script('/vol', w, mb)) },
      { name: 'bind mount', run: (w: 'write' | 'read' | 'small') => inContainer(script('/bind', w, mb)) },
      { name: 'overlay layer', run: (w: 'write' | 'read' | 'small') => inContainer(script('/layer', w, mb)) },
    ];
    const works = ['write', 'read', 'small'] as const;
    const times = new Map<string, number[]>();
    const ratios = new Map<string, number[]>();
    for (let round = 0; round < runs; round++) {
      for (const w of works) {
        let host = 0;
        for (const s of subjects) {
          const t = seconds(await s.run(w));
          const key = `${w}\t${s.name}`;
          (times.get(key) ?? times.set(key, []).get(key)!).push(t);
          if (s.name === 'host filesystem') host = t;
          else (ratios.get(key) ?? ratios.set(key, []).get(key)!).push(host > 0 ? t / host : NaN);
        }
      }
      process.stderr.write(`round ${round + 1}/${runs}\n`);
    }
    const label = { write: `sequential write ${mb} MiB (dd, fsync)`, read: `sequential read ${mb} MiB (dd, warm cache)`, small: `${SMALL} × 4 KiB files (create + write, sync)` };
    console.log(`\nI/O, ${runs} rounds, median seconds (throughput), ratio = paired median vs host filesystem`);
    for (const w of works) {
      console.log(`\n${label[w]}`);
      for (const s of subjects) {
        const key = `${w}\t${s.name}`;
        const t = median(times.get(key)!);
        const rate = w === 'small' ? `${Math.round(SMALL / t)} files/s` : `${Math.round(mb / t)} MiB/s`;
        const ratio = s.name === 'host filesystem' ? '' : `  ×${median(ratios.get(key)!).toFixed(2)}`;
        console.log(`  ${s.name.padEnd(16)} ${t.toFixed(2).padStart(7)} s  ${rate.padStart(14)}${ratio}`);
      }
    }

    // cp of a 100 MB tree: 100 directories × 10 files × 100 KiB
    const tree = join(roots.dir, 'tree');
    const chunk = Buffer.alloc(100 * 1024, 7);
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(tree, `d${d}`), { recursive: true });
      for (let f = 0; f < 10; f++) writeFileSync(join(tree, `d${d}`, `f${f}`), chunk);
    }
    const fsOf = () => {
      const v = h.host.runtime.find(id);
      return { pid: v.observed.started!.pid, overlayRoot: join(roots.root, 'overlay2'), layerId: v.record.layer.id, mounts: v.record.hostConfig.Mounts ?? [] };
    };
    const cpTimes = { host: [] as number[], into: [] as number[], out: [] as number[], cliInto: [] as number[], cliOut: [] as number[] };
    const cpRatios = { into: [] as number[], out: [] as number[], cliInto: [] as number[], cliOut: [] as number[] };
    for (let round = 0; round < runs; round++) {
      const dest = join(roots.dir, 'cp-host');
      let t0 = process.hrtime.bigint();
      const r = spawnSync('cp', ['-a', tree, dest]);
      if (r.status !== 0) throw new Error(`cp -a failed: ${r.stderr}`);
      const host = Number(process.hrtime.bigint() - t0) / 1e6;
      rmSync(dest, { recursive: true, force: true });
      t0 = process.hrtime.bigint();
      await withContainerRoot({ sys: h.sys, scratchDir: h.store.dir }, fsOf(), (root) => copyToContainer(h.sys, root, tree, '/cp-in'));
      const into = Number(process.hrtime.bigint() - t0) / 1e6;
      const out = join(roots.dir, 'cp-out');
      t0 = process.hrtime.bigint();
      await withContainerRoot({ sys: h.sys, scratchDir: h.store.dir }, fsOf(), (root) => copyFromContainer(h.sys, root, '/cp-in', out));
      const outMs = Number(process.hrtime.bigint() - t0) / 1e6;
      rmSync(out, { recursive: true, force: true });
      await inContainer('rm -rf /cp-in');
      // the user's way: `berth cp`, through the engine's socket and its volumes worker
      t0 = process.hrtime.bigint();
      await berthOk(roots, ['cp', tree, `${id}:/cp-cli`], { timeoutMs: 600_000 });
      const cliInto = Number(process.hrtime.bigint() - t0) / 1e6;
      t0 = process.hrtime.bigint();
      await berthOk(roots, ['cp', `${id}:/cp-cli`, out], { timeoutMs: 600_000 });
      const cliOut = Number(process.hrtime.bigint() - t0) / 1e6;
      rmSync(out, { recursive: true, force: true });
      await inContainer('rm -rf /cp-cli');
      cpTimes.host.push(host); cpTimes.into.push(into); cpTimes.out.push(outMs); cpTimes.cliInto.push(cliInto); cpTimes.cliOut.push(cliOut);
      cpRatios.into.push(into / host); cpRatios.out.push(outMs / host); cpRatios.cliInto.push(cliInto / host); cpRatios.cliOut.push(cliOut / host);
    }
    console.log(`\ncp of a 100 MB tree (1,000 files in 100 directories), ${runs} rounds, median ms, ratio = paired median vs cp -a on the host`);
    console.log(`  cp -a on the host                  ${median(cpTimes.host).toFixed(0).padStart(6)} ms`);
    console.log(`  facility host -> running container ${median(cpTimes.into).toFixed(0).padStart(6)} ms  ×${median(cpRatios.into).toFixed(2)}`);
    console.log(`  facility running container -> host ${median(cpTimes.out).toFixed(0).padStart(6)} ms  ×${median(cpRatios.out).toFixed(2)}`);
    console.log(`  \`berth cp\` CLI host -> container  ${median(cpTimes.cliInto).toFixed(0).padStart(6)} ms  ×${median(cpRatios.cliInto).toFixed(2)}  (engine, worker, socket)`);
    console.log(`  \`berth cp\` CLI container -> host  ${median(cpTimes.cliOut).toFixed(0).padStart(6)} ms  ×${median(cpRatios.cliOut).toFixed(2)}`);
    const docker = spawnSync('docker', ['info'], { stdio: 'ignore' });
    console.log(docker.status === 0 ? '  (docker answers: docker cp is not run by this benchmark yet)' : '  docker cp: not measured (no docker daemon answers on this machine)');
  } finally {
    const left = await h.cleanup();
    await berthOk(roots, ['rmi', 'bb']);
    await cleanupRoots(roots);
    if (left.length > 0) throw new Error(`left behind: ${left.join(', ')}`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
