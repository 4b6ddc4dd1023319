// `berth convert` on a 100-service project beside `berth config` of the same project (the budget:
// convert stays within a few tens of ms of config). Interleaved rounds, medians and the paired
// difference; plus the converter alone, in process. Not a test: it asserts nothing.
//   npm run bench:convert          (BENCH_RUNS=N to change the number of rounds; no root needed)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { berthBin, makeRoots, cleanupRoots } from '../test/helpers/env.js';
import { loadProject } from '../src/spec/index.js';
import { convertProject } from '../src/kube/convert.js';
import { renderStream } from '../src/kube/render.js';
import { nodeHost } from '../src/cli/commands/convert.js';

const SERVICES = 100;

/** A project with the keys convert maps most: ports, named volumes, health checks, waits, env, secrets. */
function composeFile(dir: string): string {
  writeFileSync(join(dir, 'app.conf'), 'listen 80;\n');
  writeFileSync(join(dir, 'token.txt'), 's3cret\n');
  const lines = ['name: bench', 'services:'];
  for (let i = 0; i < SERVICES; i++) {
    lines.push(
      `  svc${i}:`,
      `    image: registry.example/team/svc${i}:1.${i}`,
      `    command: ["serve", "--port", "${8000 + i}", "--name", "svc${i}"]`,
      `    ports: ["${10000 + i}:${8000 + i}"]`,
      '    environment:',
      `      SERVICE_NAME: svc${i}`,
      '      LOG_LEVEL: info',
      `      UPSTREAM: http://svc${(i + 1) % SERVICES}:${8000 + ((i + 1) % SERVICES)}`,
      '    healthcheck:',
      `      test: ["CMD", "wget", "-q", "-O-", "http://localhost:${8000 + i}/health"]`,
      '      interval: 10s',
      '      start_period: 30s',
      '    deploy:',
      '      resources:',
      '        limits: {cpus: "0.5", memory: 256M}',
      '        reservations: {memory: 64M}',
      ...(i % 10 === 0 ? ['    volumes:', `      - data${i}:/var/lib/data`, '      - ./app.conf:/etc/app.conf:ro'] : []),
      ...(i % 5 === 0 ? ['    secrets: [token]'] : []),
      ...(i > 0 && i % 3 === 0 ? ['    depends_on:', `      svc${i - 1}: {condition: service_healthy}`] : []),
    );
  }
  lines.push('volumes:', ...Array.from({ length: SERVICES / 10 }, (_, k) => `  data${k * 10}: {}`));
  lines.push('secrets:', '  token: {file: ./token.txt}');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

interface Subject { readonly name: string; readonly argv: readonly string[] }

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 30);
  const roots = makeRoots();
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-convert-'));
  try {
    const file = composeFile(dir);
    const out = join(dir, 'out');
    const subjects: Subject[] = [
      { name: 'berth config', argv: [berthBin, 'config', '-f', file] },
      { name: 'berth convert (stdout)', argv: [berthBin, 'convert', '-f', file] },
      { name: 'berth convert -o DIR', argv: [berthBin, 'convert', '-f', file, '-o', out] },
    ];
    // wall time from spawn to exit, and the command's CPU time (user + system of bash's children,
    // from its `times` builtin), which other load on a shared machine disturbs much less
    const timeOnce = (s: Subject): { wall: number; cpu: number } => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync('bash', ['-c', '"$@" >/dev/null; rc=$?; times; exit $rc', 'bench', ...s.argv], { env: roots.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${s.name} failed (${r.status}): ${r.stderr?.toString()}`);
      const children = r.stdout.toString().trim().split('\n').at(-1)!;
      const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
      return { wall, cpu };
    };
    for (const s of subjects) timeOnce(s); // warm the file cache and berth's project cache alike
    const samples = new Map(subjects.map((s) => [s.name, [] as number[]]));
    const cpuSamples = new Map(subjects.map((s) => [s.name, [] as number[]]));
    for (let i = 0; i < runs; i++) {
      for (const s of subjects) {
        const t = timeOnce(s);
        samples.get(s.name)!.push(t.wall);
        cpuSamples.get(s.name)!.push(t.cpu);
      }
    }

    // the converter alone, in CPU time (user + system), which other load on the machine
    // disturbs less than wall time: the loaded project → manifests, then → YAML text
    const { project } = await loadProject({ files: [file], env: {}, cwd: dir });
    const convertCpu: number[] = [], renderCpu: number[] = [];
    const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
    let objects = 0, bytes = 0;
    for (let i = 0; i < Math.max(runs, 30) * 3; i++) {
      let u = process.cpuUsage();
      const c = convertProject(project, {}, nodeHost(project, {}, []));
      convertCpu.push(cpuMs(process.cpuUsage(u)));
      u = process.cpuUsage();
      const text = renderStream(c, 'yaml');
      renderCpu.push(cpuMs(process.cpuUsage(u)));
      objects = c.manifests.length; bytes = text.length;
    }

    const config = samples.get('berth config')!, configCpu = cpuSamples.get('berth config')!;
    const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
    process.stdout.write(`berth convert, ${SERVICES}-service project (${objects} objects, ${Math.round(bytes / 1024)} KiB of YAML), ${runs} interleaved rounds (medians, ms)\n`);
    process.stdout.write(`${'command'.padEnd(24)} ${'wall'.padStart(8)} ${'wall − config'.padStart(14)} ${'CPU'.padStart(8)} ${'CPU − config'.padStart(13)}\n`);
    for (const s of subjects) {
      const xs = samples.get(s.name)!, cs = cpuSamples.get(s.name)!;
      const first = s.name === 'berth config';
      process.stdout.write(`${s.name.padEnd(24)} ${median(xs).toFixed(1).padStart(8)} ${(first ? '' : signed(median(xs.map((x, i) => x - config[i]!)))).padStart(14)} ${median(cs).toFixed(1).padStart(8)} ${(first ? '' : signed(median(cs.map((x, i) => x - configCpu[i]!)))).padStart(13)}\n`);
    }
    process.stdout.write(`in process, CPU ms (median of ${convertCpu.length}): convertProject ${median(convertCpu).toFixed(1)}, YAML ${median(renderCpu).toFixed(1)}\n`);
    const nproc = spawnSync('nproc').stdout?.toString().trim();
    process.stdout.write(`machine: ${nproc} cores, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cleanupRoots(roots);
  }
}

await main();
