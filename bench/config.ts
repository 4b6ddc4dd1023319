// Cold `berth config -q` on a typical 80-line compose file, paired against `node` on an empty file
// (the floor of every berth verb). Cold: the project cache (BERTH_RUN/cache/projects) is removed
// before every berth run, so each one parses the YAML and validates the schema. The warm row (a
// cache hit) is printed beside it. Interleaved rounds, medians and paired differences, in wall time
// and in CPU time (user + system, from /usr/bin/time: less moved by other load on a shared
// machine); not a test, it asserts nothing. Budget (issue 14): cold within 35 ms of node.
//   npm run bench:config            (BENCH_RUNS=N to change the number of rounds, default 40)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { berthBin } from '../test/helpers/env.js';

/** A typical project: 5 services, 80 lines, the keys compose files use most. */
export const TYPICAL = `name: shop
services:
  proxy:
    image: nginx:1.27-alpine
    ports:
      - "80:80"
      - "443:443"
    volumes:
      - ./proxy/nginx.conf:/etc/nginx/nginx.conf:ro
      - certs:/etc/nginx/certs:ro
    depends_on:
      - web
    networks: [front]
    restart: unless-stopped
  web:
    build:
      context: ./web
      target: production
      args:
        NODE_ENV: production
    environment:
      DATABASE_URL: postgres://shop:\${DB_PASSWORD:-secret}@db:5432/shop
      REDIS_URL: redis://cache:6379/0
      LOG_LEVEL: \${LOG_LEVEL:-info}
    env_file:
      - path: ./web.env
        required: false
    expose:
      - "3000"
    depends_on:
      db:
        condition: service_healthy
      cache:
        condition: service_started
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:3000/health"]
      interval: 10s
      timeout: 3s
      retries: 5
    deploy:
      resources:
        limits: {cpus: "1.0", memory: 512M}
    networks: [front, back]
  worker:
    build: ./web
    command: ["node", "worker.js"]
    environment:
      - QUEUE=default
      - CONCURRENCY=4
    depends_on: [db, cache]
    networks: [back]
    restart: on-failure:5
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: \${DB_PASSWORD:-secret}
      POSTGRES_DB: shop
    volumes:
      - db-data:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U shop"]
      interval: 5s
      timeout: 3s
      retries: 10
    networks: [back]
  cache:
    image: redis:7-alpine
    command: redis-server --appendonly yes
    volumes:
      - cache-data:/data
    networks: [back]
networks:
  front: {}
  back:
    internal: true
volumes:
  db-data:
  cache-data:
  certs:
    external: true
`;

/** Wall time (spawn to exit) and CPU time (user + system, from /usr/bin/time) of one run, in ms. */
function timeOnce(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): { wall: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', ...argv], { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const err = r.stderr?.toString() ?? '';
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${err}`);
  const [user, sys] = err.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: ((user ?? NaN) + (sys ?? NaN)) * 1000 };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function main(): void {
  const runs = Number(process.env['BENCH_RUNS'] ?? 40);
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-config-'));
  try {
    const project = join(dir, 'shop');
    spawnSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'compose.yaml'), TYPICAL);
    writeFileSync(join(dir, 'empty.js'), '');
    const run = join(dir, 'run');
    const env = { ...process.env, BERTH_ROOT: join(dir, 'root'), BERTH_RUN: run, NO_COLOR: '1' };
    const lines = readFileSync(join(project, 'compose.yaml'), 'utf8').trimEnd().split('\n').length;
    const node = [process.execPath, join(dir, 'empty.js')];
    const config = [berthBin, 'config', '-q'];
    type T = { wall: number; cpu: number };
    const cold = (): T => { rmSync(join(run, 'cache'), { recursive: true, force: true }); return timeOnce(config, env, project); };
    const warm = (): T => timeOnce(config, env, project);
    // warm the page cache and the project cache once
    timeOnce(node, env, project); cold(); warm();
    const n: T[] = [], c: T[] = [], w: T[] = [];
    for (let i = 0; i < runs; i++) { n.push(timeOnce(node, env, project)); c.push(cold()); w.push(warm()); }
    const row = (name: string, xs: T[], budget = ''): string => {
      const over = (k: keyof T): number => median(xs.map((x, i) => x[k] - n[i]![k]));
      return `  ${name.padEnd(42)} ${median(xs.map((x) => x.wall)).toFixed(1).padStart(7)} (+${over('wall').toFixed(1)})   ${median(xs.map((x) => x.cpu)).toFixed(0).padStart(5)} (+${over('cpu').toFixed(0)})${budget}\n`;
    };
    process.stdout.write(`config -q on a typical ${lines}-line compose file, ${runs} interleaved rounds: medians in ms, (+paired difference to node)\n`);
    process.stdout.write(`  ${''.padEnd(42)} ${'wall'.padStart(7)}            ${'cpu'.padStart(5)}\n`);
    process.stdout.write(row('node empty.js (Node floor)', n).replace(/\(\+0\.0\)|\(\+0\)/g, '      '));
    process.stdout.write(row('berth config -q, cold (no project cache)', c, '   budget: +35 wall'));
    process.stdout.write(row('berth config -q, warm (project cache hit)', w));
    process.stdout.write(`machine: ${spawnSync('nproc').stdout.toString().trim()} CPUs, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, node ${process.version}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
