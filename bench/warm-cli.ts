// The warm CLI (docs/warm-cli.md): the verbs people type most, through the launcher served by the
// running engine ("warm") against the same launcher falling back to the Node CLI ("node",
// BERTH_NO_WARM=1: what every verb cost before), beside their floors — `node` on an empty file,
// the launcher's own round trip (`--version`, answered by the engine without running a command)
// and the namespace floor — and docker's same verbs with BENCH_DOCKER=1 (a dockerd of the bench's
// own, bench/dockerd.ts, with the same 30 sleeping containers and 10,000-line log made in it).
// Subjects run interleaved (A B C … A B C …) so that drift on a shared machine hits them alike;
// prints medians and paired ratios. Not a test: it asserts nothing.
//   npm run bench:warm             (as root; BENCH_RUNS=N rounds, default 20; BENCH_DOCKER=1 for docker)
//   BERTH_BASELINE=/other/checkout/bin/berth npm run bench:warm
//                                  adds that build's warm no-op `up -d` (1 and 10 services) and `up -d`
//                                  of 10 services (its own engine and roots), paired with this build's
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { berthCommand, median } from './measure.js';
import { berthBin, busyboxTarball, cleanupRoots, importBusybox, makeRoots, removeAllContainers, stopEngine, type TestRoots } from '../test/helpers/env.js';
import { startDockerd, stopDockerd, which, type Dockerd } from './dockerd.js';

interface Subject {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** untimed, after each timed run (puts the state back) */
  readonly after?: () => void;
}

function timed(s: Subject): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(s.argv[0]!, s.argv.slice(1), { env: s.env, cwd: s.cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${s.name} failed (${r.status ?? r.signal}): ${r.stderr?.toString()}`);
  s.after?.();
  return ms;
}

function must(argv: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { env, cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

function services(n: number, prefix: string): string {
  let y = 'services:\n';
  for (let i = 1; i <= n; i++) y += `  ${prefix}${i}:\n    image: bb\n    command: ["sleep", "100000"]\n    init: true\n    stop_grace_period: 1s\n`;
  return y;
}

/** docker's subject → the warm berth subject it is paired with (same round, ratio docker ÷ berth). */
const DOCKER_PAIRS: Readonly<Record<string, string>> = {
  'docker ps (31 running)': 'warm: ps (31 running)',
  'docker logs --tail 10 (10,000 lines)': 'warm: logs --tail 10 (10,000 lines)',
  'docker run --rm --network none': 'warm: run --rm --network none bb true',
};

const CHATTY = 'i=0; while [ $i -lt 10000 ]; do echo "log line $i"; i=$((i+1)); done; exec sleep 100000';

/** docker's side: the busybox image, 30 sleeping containers and `chatty` with the same log. */
function dockerState(d: Dockerd, tarball: string): void {
  must([d.cli, 'import', tarball, 'busybox'], d.env);
  for (let i = 1; i <= 30; i++) must([d.cli, 'run', '-d', '--network', 'none', '--init', '--name', `s${i}`, 'busybox', 'sleep', '100000'], d.env);
  must([d.cli, 'run', '-d', '--network', 'none', '--name', 'chatty', 'busybox', 'sh', '-c', CHATTY], d.env);
  for (let i = 0; i < 200 && !must([d.cli, 'logs', '--tail', '1', 'chatty'], d.env).includes('log line 9999'); i++) spawnSync('sleep', ['0.1']);
}

/** Writes DIR/<name>/compose.yaml and returns the directory. */
function project(dir: string, name: string, body: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'compose.yaml'), `name: ${name}\n${body}`);
  return d;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  const roots = makeRoots();
  let dockerd: Dockerd | undefined;
  const baselineBin = process.env.BERTH_BASELINE;
  const baseRoots: TestRoots | undefined = baselineBin ? makeRoots() : undefined;
  const baseDirs: string[] = [];
  try {
    await importBusybox(roots, 'bb');
    const warm = { ...roots.env, BERTH_NO_WARM: '' };
    const cold = { ...roots.env, BERTH_NO_WARM: '1' };
    // 30 running containers for ps; a 10,000-line log for logs --tail 10; an empty project of 10 services for up -d
    const steady = join(roots.dir, 'steady');
    mkdirSync(steady);
    writeFileSync(join(steady, 'compose.yaml'), `name: steady\n${services(30, 's')}`);
    must([berthBin, 'up', '-d'], warm, steady);
    must([berthBin, 'run', '-d', '--name', 'chatty', 'bb', 'sh', '-c', CHATTY], warm);
    for (let i = 0; i < 200 && !must([berthBin, 'logs', '--tail', '1', 'chatty'], warm).includes('log line 9999'); i++) spawnSync('sleep', ['0.1']);
    const ten = join(roots.dir, 'ten');
    mkdirSync(ten);
    writeFileSync(join(ten, 'compose.yaml'), `name: ten\n${services(10, 'w')}`);
    const noop = join(roots.dir, 'noop');
    mkdirSync(noop);
    writeFileSync(join(noop, 'compose.yaml'), 'name: noop\nservices:\n  one:\n    image: bb\n    command: ["sleep", "100000"]\n    init: true\n');
    must([berthBin, 'up', '-d'], warm, noop);
    const empty = join(roots.dir, 'empty.js');
    writeFileSync(empty, '');
    const down = (): void => { must([berthBin, 'down', '-t', '1'], warm, ten); };

    const subjects: Subject[] = [
      { name: 'node empty.js (Node floor)', argv: [process.execPath, empty], env: warm },
      { name: 'launcher --version (round trip)', argv: [berthBin, '--version'], env: warm },
      { name: 'unshare -fpmiun --mount-proc true', argv: ['unshare', '-fpmiun', '--mount-proc', 'true'], env: warm },
    ];
    const verbs: { name: string; argv: string[]; cwd?: string; after?: () => void }[] = [
      { name: 'ps (31 running)', argv: ['ps'] },
      { name: 'logs --tail 10 (10,000 lines)', argv: ['logs', '--tail', '10', 'chatty'] },
      { name: 'run --rm bb true', argv: ['run', '--rm', 'bb', 'true'] },
      { name: 'run --rm --network none bb true', argv: ['run', '--rm', '--network', 'none', 'bb', 'true'] },
      { name: 'up -d, no-op (1 service)', argv: ['up', '-d'], cwd: noop },
      { name: 'up -d, 10 services', argv: ['up', '-d'], cwd: ten, after: down },
    ];
    for (const v of verbs) {
      subjects.push({ name: `warm: ${v.name}`, argv: [berthBin, ...v.argv], env: warm, ...(v.cwd ? { cwd: v.cwd } : {}), ...(v.after ? { after: v.after } : {}) });
      subjects.push({ name: `node: ${v.name}`, argv: [berthBin, ...v.argv], env: cold, ...(v.cwd ? { cwd: v.cwd } : {}), ...(v.after ? { after: v.after } : {}) });
    }
    const noop10 = project(roots.dir, 'noopten', services(10, 'n'));
    must([berthBin, 'up', '-d'], warm, noop10);
    subjects.push({ name: 'warm: up -d, no-op (10 services)', argv: [berthBin, 'up', '-d'], env: warm, cwd: noop10 });
    // the baseline build's compose rows, on its own engine, paired with this build's
    if (baselineBin && baseRoots) {
      const base = berthCommand(baselineBin);
      must([...base, 'import', await busyboxTarball(baseRoots.dir), 'bb'], baseRoots.env);
      const noopBase = project(baseRoots.dir, 'noop', services(1, 'one'));
      const noop10Base = project(baseRoots.dir, 'noopten', services(10, 'n'));
      const tenBase = project(baseRoots.dir, 'ten', services(10, 'w'));
      baseDirs.push(noopBase, noop10Base, tenBase);
      must([...base, 'up', '-d'], baseRoots.env, noopBase);
      must([...base, 'up', '-d'], baseRoots.env, noop10Base);
      subjects.push({ name: 'baseline: up -d, no-op (1 service)', argv: [...base, 'up', '-d'], env: baseRoots.env, cwd: noopBase });
      subjects.push({ name: 'baseline: up -d, no-op (10 services)', argv: [...base, 'up', '-d'], env: baseRoots.env, cwd: noop10Base });
      subjects.push({ name: 'baseline: up -d, 10 services', argv: [...base, 'up', '-d'], env: baseRoots.env, cwd: tenBase, after: () => { must([...base, 'down', '-t', '1'], baseRoots.env, tenBase); } });
    }
    const docker = process.env.BENCH_DOCKER === '1';
    if (docker) {
      const dockerdPath = which('dockerd');
      if (!dockerdPath) throw new Error('BENCH_DOCKER=1 but dockerd is not installed (apt-get install docker.io)');
      dockerd = await startDockerd(dockerdPath);
      dockerState(dockerd, await busyboxTarball(roots.dir));
      const d = dockerd;
      subjects.push({ name: 'docker ps (31 running)', argv: [d.cli, 'ps'], env: d.env });
      subjects.push({ name: 'docker logs --tail 10 (10,000 lines)', argv: [d.cli, 'logs', '--tail', '10', 'chatty'], env: d.env });
      // dockerd runs with --bridge=none (no default bridge, no NAT rules on this host): none only
      subjects.push({ name: 'docker run --rm --network none', argv: [d.cli, 'run', '--rm', '--network', 'none', 'busybox', 'true'], env: d.env });
      process.stdout.write(`dockerd: ${spawnSync(dockerdPath, ['--version'], { encoding: 'utf8' }).stdout.trim()}\n`);
    }

    for (const s of subjects) timed(s); // caches, the engine's first use of each verb
    const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    for (let i = 0; i < runs; i++) for (const s of subjects) samples.get(s.name)!.push(timed(s));

    const nodeFloor = samples.get(subjects[0]!.name)!;
    process.stdout.write(`load average after the rounds: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    process.stdout.write(`warm CLI, ${runs} interleaved rounds: medians in ms; paired: warm over node (same verb), and minus node's empty-file floor\n`);
    if (!docker) process.stdout.write('(BENCH_DOCKER=1 adds docker: berth only)\n');
    for (const s of subjects) {
      const xs = samples.get(s.name)!;
      let extra = `   ${(median(xs.map((x, i) => x - nodeFloor[i]!)) >= 0 ? '+' : '')}${median(xs.map((x, i) => x - nodeFloor[i]!)).toFixed(1)} vs node floor`;
      if (s.name.startsWith('warm: ')) {
        const peer = samples.get(s.name.replace(/^warm: /, 'node: '));
        if (peer) extra += `   node/warm ×${median(xs.map((x, i) => peer[i]! / x)).toFixed(2)}`;
        const base = samples.get(s.name.replace(/^warm: /, 'baseline: '));
        if (base) extra += `   baseline/warm ×${median(xs.map((x, i) => base[i]! / x)).toFixed(2)}`;
      }
      const rival = DOCKER_PAIRS[s.name];
      if (rival !== undefined && samples.has(rival)) {
        const warmXs = samples.get(rival)!;
        extra += `   docker/warm ×${median(xs.map((x, i) => x / warmXs[i]!)).toFixed(2)}`;
      }
      process.stdout.write(`  ${s.name.padEnd(36)} ${median(xs).toFixed(1).padStart(8)}${extra}\n`);
    }
  } finally {
    spawnSync(berthBin, ['down', '-t', '1'], { env: roots.env, cwd: join(roots.dir, 'steady'), stdio: 'ignore' });
    spawnSync(berthBin, ['down', '-t', '1'], { env: roots.env, cwd: join(roots.dir, 'ten'), stdio: 'ignore' });
    spawnSync(berthBin, ['down', '-t', '1'], { env: roots.env, cwd: join(roots.dir, 'noop'), stdio: 'ignore' });
    if (baselineBin && baseRoots) {
      const base = berthCommand(baselineBin);
      for (const d of baseDirs) spawnSync(base[0]!, [...base.slice(1), 'down', '-t', '1'], { env: baseRoots.env, cwd: d, stdio: 'ignore' });
      spawnSync(base[0]!, [...base.slice(1), 'rmi', 'bb'], { env: baseRoots.env, stdio: 'ignore' });
      await stopEngine(baseRoots);
      await cleanupRoots(baseRoots);
    }
    spawnSync(berthBin, ['down', '-t', '1'], { env: roots.env, cwd: join(roots.dir, 'noopten'), stdio: 'ignore' });
    await removeAllContainers(roots);
    spawnSync(berthBin, ['rmi', 'bb'], { env: roots.env, stdio: 'ignore' });
    await cleanupRoots(roots);
    if (dockerd) {
      const ids = spawnSync(dockerd.cli, ['ps', '-aq'], { env: dockerd.env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) spawnSync(dockerd.cli, ['rm', '-f', ...ids], { env: dockerd.env, stdio: 'ignore' });
      spawnSync(dockerd.cli, ['rmi', 'busybox'], { env: dockerd.env, stdio: 'ignore' });
      await stopDockerd(dockerd);
    }
  }
}

await main();
