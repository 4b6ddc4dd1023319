// berth compose stats [--no-stream] [--format json] [SERVICE…]: CPU, memory and pids of each
// running container, from its cgroup, in docker stats' columns:
//   CONTAINER ID   NAME         CPU %   MEM USAGE / LIMIT   MEM %   NET I/O   BLOCK I/O   PIDS
//   3f1c0e5a9b2d   demo-web-1   0.00%   1.2MiB / 64MiB      1.88%   0B / 0B   --          1
// CPU % needs two samples (Docker: Δcontainer CPU / Δhost CPU × online CPUs × 100): the first
// table comes after one second, then one every second until Ctrl-C (or once with --no-stream).
import type { CliContext } from '../../context.js';
import type { ContainerSummary } from '../../../api/types.js';
import type { ContainerStats } from '../../../runtime/container.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { engine, abortOnInterrupt } from '../../engine.js';
import { connect } from '../../host.js';
import { table } from '../../render/table.js';
import { Conflict, InvalidArgument, NotFound } from '../../../lib/errors.js';

/** commander turns --no-stream / --no-trunc into stream: false / trunc: false */
interface StatsFlags extends ProjectFlags { stream?: boolean; trunc?: boolean; format?: string }

const INTERVAL_MS = 1000;
const HEADERS = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];

interface Row {
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

export default async function stats(flags: StatsFlags, args: string[], ctx: CliContext): Promise<number> {
  const format = flags.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new InvalidArgument(`invalid --format: ${format}: expected 'table' or 'json'`);
  const stream = flags.stream !== false;
  const projectName = await projectNameFor(flags, ctx);
  const api = await engine(ctx);
  const host = await connect(ctx);
  const interrupt = abortOnInterrupt();
  const tty = (ctx.stdout as NodeJS.WriteStream).isTTY === true;
  // one sample per container id, taken one interval ago
  let previous = new Map<string, ContainerStats>();
  const sampleAll = (containers: readonly ContainerSummary[]): Map<string, ContainerStats> => {
    const out = new Map<string, ContainerStats>();
    for (const c of containers) {
      try {
        out.set(c.id, host.runtime.stats(c.id));
      } catch (err) {
        if (!(err instanceof Conflict || err instanceof NotFound)) throw err; // stopped or removed since ps
      }
    }
    return out;
  };
  try {
    let containers = await api.ps(projectName, { all: false, services: args });
    previous = sampleAll(containers);
    for (;;) {
      if (!(await sleep(INTERVAL_MS, interrupt.signal))) return 0;
      const current = sampleAll(containers);
      const rows: Row[] = [];
      for (const c of containers) {
        const now = current.get(c.id);
        if (now) rows.push(row(c, now, previous.get(c.id), flags.trunc !== false));
      }
      if (stream && tty) ctx.stdout.write('\x1b[2J\x1b[H');
      if (format === 'json') for (const r of rows) ctx.stdout.write(`${JSON.stringify(r)}\n`);
      else ctx.stdout.write(table(HEADERS, rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs])));
      if (!stream) return 0;
      // containers started or stopped meanwhile come and go from the next table on
      containers = await api.ps(projectName, { all: false, services: args });
      for (const c of containers) {
        if (current.has(c.id)) continue;
        const first = sampleAll([c]).get(c.id);
        if (first) current.set(c.id, first);
      }
      previous = current;
    }
  } finally {
    interrupt.dispose();
    api.close();
  }
}

function row(c: ContainerSummary, now: ContainerStats, before: ContainerStats | undefined, truncate: boolean): Row {
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

/** Docker's BytesSize: binary units, 4 significant digits ("1.234MiB", "64MiB", "512KiB"). */
function binarySize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** Resolves true after `ms`, or false at once when the signal aborts (Ctrl-C). */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = (): void => { clearTimeout(timer); resolve(false); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
