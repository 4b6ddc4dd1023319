// `stats`: CPU, memory and pids of each running container, in docker stats' columns:
//   CONTAINER ID   NAME         CPU %   MEM USAGE / LIMIT   MEM %   NET I/O   BLOCK I/O   PIDS
//   3f1c0e5a9b2d   demo-web-1   0.00%   1.2MiB / 64MiB      1.88%   0B / 0B   --          1
// CPU % needs two samples (Docker: Δcontainer CPU / Δhost CPU × online CPUs × 100): the first
// table comes after one interval, then one every interval until Ctrl-C (or once with --no-stream).
import type { ContainerStats } from '../../api/types.js';
import type { CliContext } from '../context.js';
import { InvalidArgument } from '../../lib/errors.js';
import { formatBinarySize } from '../../lib/units.js';
import { table } from './table.js';

export const STATS_INTERVAL_MS = 1000;
const HEADERS = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];

export interface StatsRow {
  readonly ID: string;
  readonly Name: string;
  readonly CPUPerc: string;
  readonly MemUsage: string;
  readonly MemPerc: string;
  /** containers have only a loopback interface (network_mode none): nothing crosses it */
  readonly NetIO: string;
  /** not measured yet */
  readonly BlockIO: string;
  readonly PIDs: string;
}

export interface StatsTarget { readonly id: string; readonly name: string }

export function statsRow(c: StatsTarget, now: ContainerStats, before: ContainerStats | undefined, truncate: boolean): StatsRow {
  let cpu = 0;
  if (before) {
    const cpuDelta = now.cpuUsageNs - before.cpuUsageNs;
    const systemDelta = now.systemCpuUsageNs - before.systemCpuUsageNs;
    if (cpuDelta > 0 && systemDelta > 0) cpu = (cpuDelta / systemDelta) * now.onlineCpus * 100;
  }
  const memPercent = now.memoryLimit > 0 ? (now.memoryUsage / now.memoryLimit) * 100 : 0;
  return {
    ID: truncate ? c.id.slice(0, 12) : c.id,
    Name: c.name,
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${binarySize(now.memoryUsage)} / ${binarySize(now.memoryLimit)}`,
    MemPerc: `${memPercent.toFixed(2)}%`,
    NetIO: '0B / 0B',
    BlockIO: '--',
    PIDs: String(now.pids),
  };
}

/** Docker's BytesSize (lib/units), as stats prints memory. */
export const binarySize = formatBinarySize;

/**
 * The stats loop: `targets()` says which containers run now, `sample(id)` reads one (undefined
 * when it stopped meanwhile); a table every interval, until `signal` aborts or once with !stream.
 */
export async function statsLoop(ctx: CliContext, opts: { readonly stream: boolean; readonly format: string; readonly trunc: boolean; readonly signal: AbortSignal },
  targets: () => Promise<readonly StatsTarget[]>, sample: (id: string) => Promise<ContainerStats | undefined>): Promise<number> {
  if (opts.format !== 'table' && opts.format !== 'json') throw new InvalidArgument(`invalid --format: ${opts.format}: expected 'table' or 'json'`);
  const tty = ctx.terminal.isTTY('stdout');
  const sampleAll = async (list: readonly StatsTarget[]): Promise<Map<string, ContainerStats>> => {
    const out = new Map<string, ContainerStats>();
    for (const c of list) {
      const s = await sample(c.id);
      if (s) out.set(c.id, s);
    }
    return out;
  };
  let containers = await targets();
  let previous = await sampleAll(containers);
  for (;;) {
    try { await ctx.clock.sleep(STATS_INTERVAL_MS, opts.signal); } catch { return 0; }
    const current = await sampleAll(containers);
    const rows: StatsRow[] = [];
    for (const c of containers) {
      const now = current.get(c.id);
      if (now) rows.push(statsRow(c, now, previous.get(c.id), opts.trunc));
    }
    if (opts.stream && tty) ctx.stdout.write('\x1b[2J\x1b[H');
    if (opts.format === 'json') for (const r of rows) ctx.stdout.write(`${JSON.stringify(r)}\n`);
    else ctx.stdout.write(table(HEADERS, rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs])));
    if (!opts.stream) return 0;
    // containers started or stopped meanwhile come and go from the next table on
    containers = await targets();
    for (const c of containers) {
      if (current.has(c.id)) continue;
      const first = (await sampleAll([c])).get(c.id);
      if (first) current.set(c.id, first);
    }
    previous = current;
  }
}
