// Single-container verbs (`run`, `exec`, `stop`, …) as the engine implements them: one options
// type per verb, in → host facilities → result. The CLI builds the options and renders results.
import { join } from 'node:path';
import { InvalidArgument } from '../lib/errors.js';
import { parseBytes } from '../lib/units.js';
import { availableParallelism } from 'node:os';
import type { CgroupLimits } from '../runtime/cgroups/driver.js';
import { cpusToQuota } from '../runtime/cgroups/convert.js';
import { mergeProcess } from '../runtime/process-spec.js';
import { newContainerId } from '../runtime/names.js';
import type { LocalHost } from './local.js';
import { buildSecurity, nodeSecurityHost, type SecurityInput } from '../runtime/security.js';
import { parseLogOpts } from '../runtime/log-options.js';

export interface RunOptions {
  readonly image: string;
  readonly command: readonly string[];
  readonly name?: string;
  readonly env: readonly string[];
  readonly labels: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly hostname?: string;
  readonly entrypoint?: string;
  readonly init: boolean;
  readonly autoRemove: boolean;
  readonly detach: boolean;
  readonly interactive: boolean;
  readonly tty: boolean;
  readonly memory?: string;
  readonly memorySwap?: string;
  readonly cpuShares?: string;
  readonly cpus?: string;
  readonly cpusetCpus?: string;
  readonly pidsLimit?: string;
  readonly shmSize?: string;
  readonly stopSignal?: string;
  readonly stopTimeout?: string;
  /** --cap-add, --privileged, --security-opt, --read-only, --device, --sysctl, --group-add */
  readonly security?: SecurityInput;
  /** --log-opt k=v */
  readonly logOpts?: readonly string[];
}

export interface RunResult {
  readonly id: string;
  readonly warnings: readonly string[];
}

function integer(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgument(`invalid argument "${value}" for "${flag}" flag: expected an integer`);
  return Number(value);
}

/** Docker's flags → cgroup limits (validation of ranges is the cgroup conversion's job). */
export function limitsFromFlags(o: Pick<RunOptions, 'memory' | 'memorySwap' | 'cpuShares' | 'cpus' | 'cpusetCpus' | 'pidsLimit'>): CgroupLimits {
  const limits: { -readonly [K in keyof CgroupLimits]: CgroupLimits[K] } = {};
  if (o.memory !== undefined) limits.memory = parseBytes(o.memory, 'memory limit');
  if (o.memorySwap !== undefined) limits.memorySwap = o.memorySwap.trim() === '-1' ? -1 : parseBytes(o.memorySwap, 'memory-swap limit');
  if (o.cpuShares !== undefined) limits.cpuShares = integer(o.cpuShares, '--cpu-shares');
  if (o.cpus !== undefined) {
    const q = cpusToQuota(o.cpus, undefined, availableParallelism());
    if (q) {
      limits.cpuPeriod = q.period;
      limits.cpuQuota = q.quota;
    }
  }
  if (o.cpusetCpus !== undefined) limits.cpusetCpus = o.cpusetCpus;
  if (o.pidsLimit !== undefined) limits.pidsLimit = integer(o.pidsLimit, '--pids-limit');
  return limits;
}

/** `run`, first half: the container is created (not started); its id and any warnings returned. */
export async function createContainer(host: LocalHost, o: RunOptions): Promise<RunResult> {
  // Flags are checked before the image is looked up, as Docker does.
  const limits = limitsFromFlags(o);
  const shmSize = o.shmSize !== undefined ? parseBytes(o.shmSize, 'shm size') : undefined;
  const stopTimeout = o.stopTimeout !== undefined ? integer(o.stopTimeout, '--stop-timeout') : undefined;
  const security = buildSecurity(o.security ?? { baseDir: '/' }, nodeSecurityHost);
  const logOptions = parseLogOpts(o.logOpts ?? []);
  const store = await host.images();
  const image = store.resolve(o.image);
  const id = newContainerId();
  const hostname = o.hostname !== undefined && o.hostname !== '' ? o.hostname : id.slice(0, 12);
  const process = mergeProcess(image.config, {
    command: o.command,
    entrypoint: o.entrypoint,
    env: o.env,
    workdir: o.workdir,
    user: o.user,
    hostname,
    tty: o.tty,
  }, globalThis.process.env);
  const labels: Record<string, string> = { ...(image.config.Labels ?? {}) };
  for (const l of o.labels) {
    const at = l.indexOf('=');
    labels[at < 0 ? l : l.slice(0, at)] = at < 0 ? '' : l.slice(at + 1);
  }
  const topFirst = [...image.layers].reverse();
  const record = host.runtime.create({
    id,
    name: o.name,
    imageId: image.id,
    imageRef: o.image,
    lowerLinks: topFirst.map((l) => l.link),
    lowerDirs: topFirst.map((l) => join(store.overlayRoot(), l.cacheId, 'diff')),
    process,
    hostname,
    tty: o.tty,
    openStdin: o.interactive,
    init: o.init,
    autoRemove: o.autoRemove,
    limits,
    shmSize,
    stopSignal: o.stopSignal ?? image.config.StopSignal,
    stopTimeout,
    labels,
    security,
    logOptions,
  });
  const warnings = host.runtime.warnings(record.id);
  return { id: record.id, warnings };
}
