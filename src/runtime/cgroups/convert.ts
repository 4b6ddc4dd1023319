// Pure conversions between Docker's resource flags and cgroup file values. No I/O: the drivers
// read whatever host facts are needed (available CPUs) and pass them in. Numbers and messages
// follow Docker's daemon (daemon/daemon_unix.go verifyPlatformContainerResources) and runc's
// documented v1 → v2 conversions; messages are lower-cased per berth's error style.
import { InvalidArgument } from '../../lib/errors.js';
import type { CgroupLimits } from './driver.js';

export const DEFAULT_CPU_PERIOD = 100_000;
/** Docker's linuxMinMemory: below this a container cannot even start its init */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** Docker's linuxMinCPUShares / linuxMaxCPUShares (the kernel's own bounds for cpu.shares) */
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262_144;
/** the kernel's cpu.cfs_period_us bounds, as Docker checks them */
export const MIN_CPU_PERIOD = 1_000;
export const MAX_CPU_PERIOD = 1_000_000;
export const MIN_CPU_QUOTA = 1_000;
/** Docker's message when v1 swap accounting is missing, kept verbatim: users search for it */
export const NO_SWAP_LIMIT_WARNING = 'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.';

/**
 * runc's cgroup v1 shares → v2 weight: weight = 1 + ((shares − 2) × 9999) / 262142, in integer
 * arithmetic. It maps [2, 262144] onto [1, 10000]; the default 1024 becomes 39 (not v2's own
 * default 100: runc chose a linear map over a matched default). 0 means "unset" and stays 0.
 */
export function sharesToWeight(shares: number): number {
  if (!Number.isInteger(shares) || shares < 0) throw new InvalidArgument(`invalid cpu shares ${shares}: expected a non-negative integer`);
  if (shares === 0) return 0;
  const weight = 1 + Math.floor(((shares - 2) * 9999) / 262_142);
  return Math.min(10_000, Math.max(1, weight));
}

/**
 * Docker's --cpu-shares range handling: negative is an error, 0 means unset, values outside
 * 2..262144 are moved to the nearest bound with a warning.
 */
export function resolveCpuShares(shares: number): { shares: number | undefined; warning?: string } {
  if (!Number.isInteger(shares)) throw new InvalidArgument(`invalid cpu shares (${shares}): value must be an integer`);
  if (shares < 0) throw new InvalidArgument(`invalid cpu shares (${shares}): value must be a positive integer`);
  if (shares === 0) return { shares: undefined };
  if (shares < MIN_CPU_SHARES) return { shares: MIN_CPU_SHARES, warning: `Changing requested CPUShares of ${shares} to minimum allowed of ${MIN_CPU_SHARES}` };
  if (shares > MAX_CPU_SHARES) return { shares: MAX_CPU_SHARES, warning: `Changing requested CPUShares of ${shares} to maximum allowed of ${MAX_CPU_SHARES}` };
  return { shares };
}

/**
 * --cpus (a decimal string or number) → CFS quota and period. Docker stores --cpus as NanoCPUs
 * (cpus × 10⁹, which must be whole) and derives quota = NanoCPUs × period / 10⁹. 0 means
 * unlimited and yields undefined. With `availableCpus`, Docker's range check applies too.
 */
export function cpusToQuota(cpus: number | string, period = DEFAULT_CPU_PERIOD, availableCpus?: number): { quota: number; period: number } | undefined {
  const value = typeof cpus === 'number' ? cpus : /^\s*[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?\s*$/.test(cpus) ? Number(cpus) : Number.NaN;
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgument(`invalid cpus value ${JSON.stringify(String(cpus))}: expected a non-negative number`);
  const nanoCpus = Math.round(value * 1e9);
  if (Math.abs(value * 1e9 - nanoCpus) > 1e-3) throw new InvalidArgument(`invalid cpus value ${JSON.stringify(String(cpus))}: value is too precise`);
  if (nanoCpus === 0) return undefined;
  if (availableCpus !== undefined && (nanoCpus < 1e7 || nanoCpus > availableCpus * 1e9)) {
    throw new InvalidArgument(`range of cpus is from 0.01 to ${availableCpus}.00, as there are only ${availableCpus} cpus available`);
  }
  checkPeriod(period);
  // BigInt: NanoCPUs × period overflows 2^53 from about 90 CPUs at a 1 s period
  const quota = Number((BigInt(nanoCpus) * BigInt(period)) / 1_000_000_000n);
  return { quota, period };
}

function checkPeriod(period: number): void {
  if (!Number.isInteger(period) || period < MIN_CPU_PERIOD || period > MAX_CPU_PERIOD) {
    throw new InvalidArgument(`cpu cfs period can not be less than 1ms (i.e. ${MIN_CPU_PERIOD}) or larger than 1 second (i.e. ${MAX_CPU_PERIOD}), got ${period}`);
  }
}

/**
 * Docker's memory / memory-swap rules. Returns the memory limit and the memory+swap total that
 * should be applied (-1 = unlimited swap), or neither when memory is unlimited.
 */
export function resolveMemory(memory: number | undefined, memorySwap: number | undefined): { memory?: number; memorySwap?: number } {
  if (memory !== undefined && (!Number.isInteger(memory) || memory < 0)) throw new InvalidArgument(`invalid memory limit ${memory}: expected a non-negative number of bytes`);
  if (memorySwap !== undefined && (!Number.isInteger(memorySwap) || memorySwap < -1)) throw new InvalidArgument(`invalid memory-swap limit ${memorySwap}: expected bytes, or -1 for unlimited swap`);
  const mem = memory === 0 ? undefined : memory; // Docker: 0 = unlimited
  const swap = memorySwap === 0 ? undefined : memorySwap; // Docker: 0 = unset
  if (mem !== undefined && mem < MIN_MEMORY) throw new InvalidArgument('minimum memory limit allowed is 6MB');
  if (mem === undefined) {
    if (swap !== undefined && swap > 0) throw new InvalidArgument('you should always set the memory limit when using memoryswap limit, see usage');
    return {};
  }
  if (swap !== undefined && swap > 0 && swap < mem) throw new InvalidArgument('minimum memoryswap limit should be larger than memory limit, see usage');
  return { memory: mem, memorySwap: swap ?? mem * 2 };
}

/** The v2 memory.swap.max value for a resolved memory / memory+swap pair. */
export function swapMaxValue(memory: number, memorySwap: number): string {
  return memorySwap === -1 ? 'max' : String(memorySwap - memory);
}

/** --pids-limit → pids.max: > 0 is the limit; 0, -1 (any value ≤ 0, as Docker does) is "max". */
export function pidsMaxValue(limit: number): string {
  if (!Number.isInteger(limit)) throw new InvalidArgument(`invalid pids limit ${limit}: expected an integer`);
  return limit > 0 ? String(limit) : 'max';
}

/** Largest CPU or memory-node number accepted in a list, so "0-4000000000" cannot exhaust memory. */
const MAX_LIST_VALUE = 65_535;

/** Kernel list format ("0-2,4", possibly empty, trailing newline allowed) → ascending numbers, or undefined when malformed. */
export function parseCpuList(text: string): number[] | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const out = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > MAX_LIST_VALUE) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Checks a requested cpuset ("0-1", "0,1") against what the hierarchy root offers (its
 * effective list), with Docker's messages. Returns the request unchanged: the kernel accepts the
 * syntax Docker accepts.
 */
export function validateCpuset(requested: string, available: string, what: 'cpus' | 'mems'): string {
  const req = parseCpuList(requested);
  if (req === undefined || requested.trim() === '') throw new InvalidArgument(`invalid value ${JSON.stringify(requested)} for cpuset ${what}`);
  const avail = new Set(parseCpuList(available) ?? []);
  if (req.some((n) => !avail.has(n))) {
    const noun = what === 'cpus' ? 'cpus' : 'memory nodes';
    throw new InvalidArgument(`requested ${noun} are not available - requested ${requested.trim()}, available: ${available.trim()}`);
  }
  return requested.trim();
}

/** CgroupLimits after Docker's rules: every present field is to be written as-is. */
export interface ResolvedLimits {
  readonly cpuShares?: number;
  readonly cpuQuota?: number;
  readonly cpuPeriod?: number;
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
  readonly memory?: number;
  /** memory + swap total; -1 = unlimited swap. Always present when memory is. */
  readonly memorySwap?: number;
  /** the pids.max text: "max" or a positive integer */
  readonly pidsMax?: string;
}

/**
 * Applies Docker's validation and defaults to user limits (everything but cpuset availability,
 * which needs the host's CPU list: the driver calls validateCpuset). Pure.
 */
export function resolveLimits(limits: CgroupLimits): { resolved: ResolvedLimits; warnings: string[] } {
  const warnings: string[] = [];
  const out: { -readonly [K in keyof ResolvedLimits]: ResolvedLimits[K] } = {};
  if (limits.cpuShares !== undefined) {
    const r = resolveCpuShares(limits.cpuShares);
    if (r.warning !== undefined) warnings.push(r.warning);
    if (r.shares !== undefined) out.cpuShares = r.shares;
  }
  if (limits.cpuPeriod !== undefined && limits.cpuPeriod !== 0) {
    checkPeriod(limits.cpuPeriod);
    out.cpuPeriod = limits.cpuPeriod;
  }
  if (limits.cpuQuota !== undefined && limits.cpuQuota !== 0 && limits.cpuQuota !== -1) {
    if (!Number.isInteger(limits.cpuQuota) || limits.cpuQuota < MIN_CPU_QUOTA) {
      throw new InvalidArgument(`cpu cfs quota can not be less than 1ms (i.e. ${MIN_CPU_QUOTA}), got ${limits.cpuQuota}`);
    }
    out.cpuQuota = limits.cpuQuota;
    out.cpuPeriod ??= DEFAULT_CPU_PERIOD;
  }
  if (limits.cpusetCpus !== undefined && limits.cpusetCpus.trim() !== '') {
    if (parseCpuList(limits.cpusetCpus) === undefined) throw new InvalidArgument(`invalid value ${JSON.stringify(limits.cpusetCpus)} for cpuset cpus`);
    out.cpusetCpus = limits.cpusetCpus.trim();
  }
  if (limits.cpusetMems !== undefined && limits.cpusetMems.trim() !== '') {
    if (parseCpuList(limits.cpusetMems) === undefined) throw new InvalidArgument(`invalid value ${JSON.stringify(limits.cpusetMems)} for cpuset mems`);
    out.cpusetMems = limits.cpusetMems.trim();
  }
  const memory = resolveMemory(limits.memory, limits.memorySwap);
  if (memory.memory !== undefined) out.memory = memory.memory;
  if (memory.memorySwap !== undefined) out.memorySwap = memory.memorySwap;
  if (limits.pidsLimit !== undefined) out.pidsMax = pidsMaxValue(limits.pidsLimit);
  return { resolved: out, warnings };
}
