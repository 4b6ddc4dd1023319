// Start latency of `berth run --rm IMAGE true` beside its floors and peers, on this machine.
// Runs the commands interleaved (A B C … A B C …) so that drift on a shared machine hits all of
// them alike, and prints medians and paired ratios. Not a test: it asserts nothing.
//   npm run bench                  (as root; BENCH_RUNS=N to change the number of rounds)
//   BERTH_BASELINE=/path/to/other/berth/bin/berth npm run bench
//                                  adds that build's `run --rm` (on roots of its own) beside this
//                                  one: e.g. the parent commit, whose single-container verbs ran
//                                  in the CLI process, against every verb through the engine.
// Warm slots (docs/slots.md): `run --rm` is timed on an engine with the default pool and, on roots
// of their own, on one started with BERTH_SLOTS=0 (every shim spawned at its start), both with the
// default network and with `--network none`; the paired differences are printed after the table.
import { spawnSync } from 'node:child_process';
import { berthCommand, timeOnce, median, type Subject } from './measure.js';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, loadavg } from 'node:os';
import * as tar from 'tar';
import { makeRoots, makeBusyboxRootfs, berthBin, cleanupRoots, type TestRoots } from '../test/helpers/env.js';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 30);
  const roots: TestRoots = makeRoots();
  let baselineRoots: TestRoots | undefined;
  const coldRoots: TestRoots = makeRoots();
  const coldEnv = { ...coldRoots.env, BERTH_SLOTS: '0' };
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    makeBusyboxRootfs(rootfs);
    const file = join(roots.dir, 'busybox.tar');
    await tar.c({ file, cwd: rootfs }, ['.']);
    const imp = spawnSync(berthBin, ['import', file, 'bb'], { env: roots.env });
    if (imp.status !== 0) throw new Error(`import failed: ${imp.stderr}`);
    const cold = spawnSync(berthBin, ['import', file, 'bb'], { env: coldEnv });
    if (cold.status !== 0) throw new Error(`import (BERTH_SLOTS=0) failed: ${cold.stderr}`);
    const empty = join(roots.dir, 'empty.js');
    writeFileSync(empty, '');

    const subjects: Subject[] = [
      { name: 'node empty.js (Node floor)', argv: [process.execPath, empty] },
      { name: 'berth --version', argv: [berthBin, '--version'], env: roots.env },
      { name: 'berth ps (one socket round trip)', argv: [berthBin, 'ps'], env: roots.env },
      { name: 'unshare -fpmiun --mount-proc true', argv: ['unshare', '-fpmiun', '--mount-proc', 'true'] },
      { name: 'berth run --rm bb true', argv: [berthBin, 'run', '--rm', 'bb', 'true'], env: roots.env },
      { name: 'same, BERTH_SLOTS=0', argv: [berthBin, 'run', '--rm', 'bb', 'true'], env: coldEnv },
      { name: 'berth run --rm --network none bb true', argv: [berthBin, 'run', '--rm', '--network', 'none', 'bb', 'true'], env: roots.env },
      { name: 'same, BERTH_SLOTS=0 ', argv: [berthBin, 'run', '--rm', '--network', 'none', 'bb', 'true'], env: coldEnv },
    ];
    const baselineBin = process.env.BERTH_BASELINE;
    if (baselineBin) {
      // the other build on roots of its own: two builds never share a state root
      baselineRoots = makeRoots();
      const [bcmd, ...bpre] = berthCommand(baselineBin);
      const b = spawnSync(bcmd!, [...bpre, 'import', file, 'bb'], { env: baselineRoots.env });
      if (b.status !== 0) throw new Error(`baseline import failed: ${b.stderr}`);
      subjects.push({ name: 'baseline: berth run --rm bb true', argv: [...berthCommand(baselineBin), 'run', '--rm', 'bb', 'true'], env: baselineRoots.env });
      subjects.push({ name: 'baseline: berth ps', argv: [...berthCommand(baselineBin), 'ps'], env: baselineRoots.env });
    }
    if (which('crun')) {
      // crun on the same busybox rootfs, with its default spec (namespaces as berth's).
      const bundle = join(roots.dir, 'crun-bundle');
      spawnSync('mkdir', ['-p', bundle]);
      spawnSync('cp', ['-a', rootfs, join(bundle, 'rootfs')]);
      spawnSync('crun', ['spec'], { cwd: bundle });
      const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
      spec.process.terminal = false;
      spec.process.args = ['true'];
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      subjects.push({ name: 'crun run (same rootfs)', argv: ['sh', '-c', `crun run --bundle ${bundle} bench-$$ >/dev/null`] });
    }
    if (which('docker') && spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0) {
      spawnSync('sh', ['-c', `tar -C ${rootfs} -c . | docker import - berth-bench-bb:latest`], { stdio: 'ignore' });
      subjects.push({ name: 'docker run --rm (same rootfs)', argv: ['docker', 'run', '--rm', '--network', 'none', 'berth-bench-bb', 'true'] });
    }

    for (const s of subjects) timeOnce(s); // warm caches once
    const loadBefore = loadavg()[0]!;
    const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    for (let i = 0; i < runs; i++) for (const s of subjects) samples.get(s.name)!.push(timeOnce(s));

    const nodeFloor = samples.get(subjects[0]!.name)!;
    const berthRun = samples.get('berth run --rm bb true')!;
    process.stdout.write(`start latency, ${runs} interleaved rounds (medians, ms)\n`);
    for (const s of subjects) {
      const xs = samples.get(s.name)!;
      const overNode = median(xs.map((x, i) => x - nodeFloor[i]!));
      const ratioToBerth = median(xs.map((x, i) => x / berthRun[i]!));
      process.stdout.write(`  ${s.name.padEnd(36)} ${median(xs).toFixed(1).padStart(8)}   (+${overNode.toFixed(1)} over node, paired)   ×${ratioToBerth.toFixed(2)} of berth run (paired)\n`);
    }
    const paired = (warm: string, coldName: string): string => {
      const w = samples.get(warm)!;
      const c = samples.get(coldName)!;
      return `${median(c.map((x, i) => x - w[i]!)).toFixed(1)} ms less (×${median(w.map((x, i) => x / c[i]!)).toFixed(2)})`;
    };
    process.stdout.write(`warm slots against BERTH_SLOTS=0, paired medians: default network ${paired('berth run --rm bb true', 'same, BERTH_SLOTS=0')}; --network none ${paired('berth run --rm --network none bb true', 'same, BERTH_SLOTS=0 ')}\n`);
    process.stdout.write(`load average (1 min) before the timed rounds ${loadBefore.toFixed(2)}, after ${loadavg()[0]!.toFixed(2)}\n`);

    // Per-container supervisor memory: a detached sleep container's berth-shim RSS.
    const d = spawnSync(berthBin, ['run', '-d', 'bb', 'sleep', '60'], { env: roots.env, encoding: 'utf8' });
    const id = d.stdout.trim();
    const info = JSON.parse(spawnSync(berthBin, ['inspect', id], { env: roots.env, encoding: 'utf8' }).stdout)[0];
    const started = JSON.parse(readFileSync(join(roots.root, 'containers', info.Id, 'started'), 'utf8'));
    process.stdout.write(`supervisor (berth-shim) RSS with one running container: ${rssKiB(started.shimPid)} KiB\n`);
    spawnSync(berthBin, ['rm', '-f', id], { env: roots.env });
    const shim = join(berthBin, '..', '..', 'native', 'build', 'berth-shim');
    if (existsSync(shim)) process.stdout.write(`berth-shim binary: ${readFileSync(shim).length} bytes\n`);
    spawnSync(berthBin, ['rmi', 'bb'], { env: roots.env });
    if (baselineBin && baselineRoots) { const [bcmd, ...bpre] = berthCommand(baselineBin); spawnSync(bcmd!, [...bpre, 'rmi', 'bb'], { env: baselineRoots.env }); }
  } catch (err) {
    // said before the clean-up, whose own failure (what the error left) would hide it
    process.stderr.write(`start-latency: ${(err as Error).message}\n`);
    throw err;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
    await cleanupRoots(roots);
    spawnSync(berthBin, ['rmi', 'bb'], { env: coldEnv });
    await cleanupRoots(coldRoots);
    if (baselineRoots) await cleanupRoots(baselineRoots);
  }
}

await main();
