// What the container boundary costs at start-up (issue 15): `berth run --rm bb true` before and
// after, and each piece on its own -- the seccomp filter, the device policy, the sealed copy of
// the shim, the sealed berth-init (--init), a remapped user namespace (--userns remap).
// Interleaved rounds, medians, paired ratios; not a test: it asserts nothing.
//   npm run build && node dist/bench/boundary-costs.js [BEFORE_CHECKOUT]
// BEFORE_CHECKOUT: a built checkout of the commit to compare with (e.g. `git worktree add
// /tmp/before main && cd /tmp/before && npm ci && npm run build`); without it only the pieces run.
import { spawnSync } from 'node:child_process';
import { berthCommand, timeOnce, median, type Subject } from './measure.js';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as tar from 'tar';
import { makeRoots, makeBusyboxRootfs, berthBin, repoRoot, cleanupRoots, type TestRoots } from '../test/helpers/env.js';
import { CgroupV1Driver, type V1Options } from '../src/runtime/cgroups/v1.js';
import { detectCgroups } from '../src/runtime/cgroups/detect.js';
import { ALLOW_ALL_DEVICES, DEFAULT_DEVICE_POLICY } from '../src/runtime/cgroups/devices.js';


async function importBusybox(roots: TestRoots, bin: string): Promise<void> {
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    makeBusyboxRootfs(rootfs);
    const file = join(roots.dir, 'busybox.tar');
    await tar.c({ file, cwd: rootfs }, ['.']);
    const [cmd, ...pre] = berthCommand(bin);
    const imp = spawnSync(cmd!, [...pre, 'import', file, 'bb'], { env: roots.env });
    if (imp.status !== 0) throw new Error(`import failed: ${imp.stderr}`);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

function interleave(subjects: readonly Subject[], runs: number): Map<string, number[]> {
  const times = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  for (const s of subjects) timeOnce(s); // warm caches
  for (let i = 0; i < runs; i++) for (const s of subjects) times.get(s.name)!.push(timeOnce(s));
  return times;
}

function print(title: string, times: Map<string, number[]>, base: string): void {
  console.log(`\n${title}`);
  const b = times.get(base)!;
  for (const [name, t] of times) {
    const ratios = t.map((x, i) => x / b[i]!);
    console.log(`  ${name.padEnd(58)} median ${median(t).toFixed(1).padStart(7)} ms   ×${median(ratios).toFixed(3)} vs first`);
  }
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 30);
  const before = process.argv[2];
  const roots = makeRoots();
  const beforeRoots = before ? makeRoots() : undefined;
  try {
    await importBusybox(roots, berthBin);
    const subjects: Subject[] = [];
    if (before && beforeRoots) {
      await importBusybox(beforeRoots, join(before, 'bin', 'berth'));
      subjects.push({ name: 'before: berth run --rm bb true', argv: [...berthCommand(join(before, 'bin', 'berth')), 'run', '--rm', 'bb', 'true'], env: beforeRoots.env });
      // berth-init exec'd from a bind of the host file (before), from a sealed memfd copy (after)
      subjects.push({ name: 'before: … --init', argv: [...berthCommand(join(before, 'bin', 'berth')), 'run', '--rm', '--init', 'bb', 'true'], env: beforeRoots.env });
    }
    subjects.push(
      { name: 'after:  berth run --rm bb true', argv: [berthBin, 'run', '--rm', 'bb', 'true'], env: roots.env },
      { name: 'after:  … --security-opt seccomp=unconfined', argv: [berthBin, 'run', '--rm', '--security-opt', 'seccomp=unconfined', 'bb', 'true'], env: roots.env },
      { name: 'after:  … --init (sealed berth-init)', argv: [berthBin, 'run', '--rm', '--init', 'bb', 'true'], env: roots.env },
      // a remapped user namespace: the helper, idmapped layers, the setns (docs/security.md)
      { name: 'after:  … --userns remap', argv: [berthBin, 'run', '--rm', '--userns', 'remap', 'bb', 'true'], env: roots.env },
    );
    print(`berth run --rm bb true (${runs} interleaved rounds)`, interleave(subjects, runs), subjects[0]!.name);

    // The sealed copy: a shim that fails at once (no launch file), with and without the re-exec
    // from a memfd copy. The difference is the copy + seal + second execve.
    const shim = join(repoRoot, 'native', 'build', 'berth-shim');
    const shimSubjects: Subject[] = [];
    if (before && existsSync(join(before, 'native', 'build', 'berth-shim'))) {
      shimSubjects.push({ name: 'before: berth-shim run /missing (no sealed copy)', argv: [join(before, 'native', 'build', 'berth-shim'), 'run', '/missing'], expectFailure: true });
    }
    shimSubjects.push({ name: 'after:  berth-shim run /missing (sealed copy, re-exec)', argv: [shim, 'run', '/missing'], expectFailure: true });
    print(`the sealed shim copy (${runs * 4} rounds)`, interleave(shimSubjects, runs * 4), shimSubjects[0]!.name);

    // The device policy: creating and removing a container cgroup with Docker's allow-list (v1:
    // 12 writes to devices.deny/allow) against "allow all" (1 write), in process.
    const det = detectCgroups(readFileSync('/proc/self/mountinfo', 'utf8'));
    if (det.driver.version === 1 && det.v1Mounts.devices) {
      const driver = new CgroupV1Driver({ mounts: det.v1Mounts as V1Options['mounts'] });
      const t = { default: [] as number[], allowAll: [] as number[] };
      for (let i = 0; i < runs * 4; i++) {
        for (const [key, devices] of [['default', DEFAULT_DEVICE_POLICY], ['allowAll', ALLOW_ALL_DEVICES]] as const) {
          const name = `${roots.cgroupParent}/bench-${key}`;
          const t0 = process.hrtime.bigint();
          driver.create(name, { devices });
          t[key].push(Number(process.hrtime.bigint() - t0) / 1e6);
          await driver.remove(name);
        }
      }
      console.log(`\nthe device policy (v1 devices cgroup, ${runs * 4} creates each)`);
      console.log(`  cgroup create, Docker's allow-list                         median ${median(t.default).toFixed(2).padStart(7)} ms`);
      console.log(`  cgroup create, allow all (one write)                       median ${median(t.allowAll).toFixed(2).padStart(7)} ms`);
    }
  } finally {
    spawnSync(berthBin, ['rmi', 'bb'], { env: roots.env });
    await cleanupRoots(roots);
    if (beforeRoots) {
      { const [cmd, ...pre] = berthCommand(join(before!, 'bin', 'berth')); spawnSync(cmd!, [...pre, 'rmi', 'bb'], { env: beforeRoots.env }); }
      await cleanupRoots(beforeRoots);
    }
  }
}

await main();
