// cgroup v2: one unified hierarchy. A container is one dir under the root; each ancestor from the
// root down must delegate the controllers to its children through cgroup.subtree_control before
// the interface files (cpu.max, memory.max…) appear in the child. The root is a parameter (the
// cgroup2 mount point from detect.ts, or a temp dir in tests).
import { join } from 'node:path';
import { Conflict, NotFound, Unsupported, SysError } from '../../lib/errors.js';
import type { CgroupDriver, CgroupLimits, CgroupMount, CgroupPlacement, CgroupStats, ReadBackLimits } from './driver.js';
import { resolveLimits, validateCpuset, sharesToWeight, swapMaxValue, NO_SWAP_LIMIT_WARNING, type ResolvedLimits } from './convert.js';
import { nodeCgroupFs, nameSegments, removeTree, removeFreshTree, keyedValue, parsePids, type CgroupFs } from './fs.js';
import { realClock, type Clock } from '../../lib/clock.js';
import { lazySys } from '../../sys/index.js';
import { DEFAULT_DEVICE_POLICY, deviceProgram, runDeviceProgram, type DeviceRequest } from './devices.js';

/** the controllers berth delegates down to container cgroups, in the order they are enabled */
export const V2_CONTROLLERS = ['cpu', 'cpuset', 'memory', 'pids'] as const;
export type V2Controller = (typeof V2_CONTROLLERS)[number];

export interface V2Options {
  /** the cgroup2 mount point (or a delegated sub-tree of it) under which container cgroups go */
  readonly root: string;
  readonly fs?: CgroupFs;
  /** how long a freeze or a removal may wait for the kernel, ms */
  readonly waitBudgetMs?: number;
  /** what those waits sleep on (default: the real clock) */
  readonly clock?: Clock;
  /** where device programs go: the kernel (bpf(2) through sys) unless a test passes a recorder */
  readonly deviceFilter?: DeviceFilter;
}

/**
 * Attaching a BPF device program to a cgroup (and reading back what is attached). A cgroup v2
 * has no devices interface file: the allow-list is a program the kernel runs on every open and
 * mknod of a device node by a process in the cgroup.
 */
export interface DeviceFilter {
  attach(cgroupDir: string, program: Uint8Array): void;
  /** the program attached to cgroupDir by attach(), if it can be read back */
  attached(cgroupDir: string): Uint8Array | undefined;
}

/** The kernel's: bpf(BPF_PROG_LOAD) + bpf(BPF_PROG_ATTACH), loading koffi on first use. */
export function kernelDeviceFilter(): DeviceFilter {
  return {
    attach(dir, program) {
      // koffi is loaded here, on the first container created on a v2 host, not at import
      lazySys.attachDeviceProgram(dir, program);
    },
    attached() { return undefined; },
  };
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

export class CgroupV2Driver implements CgroupDriver {
  readonly version = 2 as const;
  private readonly fs: CgroupFs;
  private readonly root: string;
  private readonly budgetMs: number;
  private readonly clock: Clock;
  private readonly deviceFilter: DeviceFilter;

  constructor(opts: V2Options) {
    this.fs = opts.fs ?? nodeCgroupFs;
    this.root = opts.root;
    this.budgetMs = opts.waitBudgetMs ?? 2000;
    this.clock = opts.clock ?? realClock;
    this.deviceFilter = opts.deviceFilter ?? kernelDeviceFilter();
  }

  private dir(name: string): string {
    return join(this.root, ...nameSegments(name));
  }

  placement(name: string): CgroupPlacement {
    const dir = this.dir(name);
    return { procsDirs: [dir], oom: { file: join(dir, 'memory.events'), key: 'oom_kill' } };
  }

  exists(name: string): boolean {
    return this.fs.exists(this.dir(name));
  }

  create(name: string, limits: CgroupLimits): { placement: CgroupPlacement; warnings: string[] } {
    const segments = nameSegments(name);
    const { resolved, warnings } = resolveLimits(limits);
    const offered = words(this.fs.read(join(this.root, 'cgroup.controllers')));
    this.checkControllers(resolved, offered);
    if (resolved.cpusetCpus !== undefined) validateCpuset(resolved.cpusetCpus, this.fs.read(join(this.root, 'cpuset.cpus.effective')), 'cpus');
    if (resolved.cpusetMems !== undefined) validateCpuset(resolved.cpusetMems, this.fs.read(join(this.root, 'cpuset.mems.effective')), 'mems');
    const leaf = this.dir(name);
    if (this.fs.exists(leaf)) throw new Conflict(`cgroup "${leaf}" already exists`);

    let dir = this.root;
    // Ancestors (root included, leaf excluded) delegate; the leaf holds processes, and the
    // "no internal processes" rule forbids enabling controllers in a cgroup that has them.
    for (const segment of segments.slice(0, -1)) {
      this.delegate(dir);
      dir = join(dir, segment);
      this.fs.mkdir(dir);
    }
    this.delegate(dir);
    if (!this.fs.mkdir(leaf)) throw new Conflict(`cgroup "${leaf}" already exists`);
    try {
      // memory.swap.max exists only with swap accounting (CONFIG_MEMCG_SWAP, no cgroup.memory=noswap)
      const swapAccounting = this.fs.exists(join(leaf, 'memory.swap.max'));
      if (resolved.memory !== undefined && !swapAccounting) warnings.push(NO_SWAP_LIMIT_WARNING);
      this.apply(leaf, resolved, swapAccounting);
      this.deviceFilter.attach(leaf, deviceProgram(limits.devices ?? DEFAULT_DEVICE_POLICY));
    } catch (err) {
      try { removeFreshTree(this.fs, leaf); } catch { /* the original error matters more */ }
      throw err;
    }
    return { placement: this.placement(name), warnings };
  }

  update(name: string, limits: CgroupLimits): { warnings: string[] } {
    const { resolved, warnings } = resolveLimits(limits);
    const leaf = this.dir(name);
    if (!this.fs.exists(leaf)) throw new NotFound(`cgroup "${leaf}" does not exist`);
    const offered = words(this.fs.read(join(this.root, 'cgroup.controllers')));
    this.checkControllers(resolved, offered);
    if (resolved.cpusetCpus !== undefined) validateCpuset(resolved.cpusetCpus, this.fs.read(join(this.root, 'cpuset.cpus.effective')), 'cpus');
    if (resolved.cpusetMems !== undefined) validateCpuset(resolved.cpusetMems, this.fs.read(join(this.root, 'cpuset.mems.effective')), 'mems');
    const swapAccounting = this.fs.exists(join(leaf, 'memory.swap.max'));
    if (resolved.memory !== undefined && !swapAccounting) warnings.push(NO_SWAP_LIMIT_WARNING);
    const has = (file: string): boolean => this.fs.exists(join(leaf, file));
    // every file written, so that a limit left out goes back to "no limit"
    if (has('cpu.weight')) this.fs.write(join(leaf, 'cpu.weight'), String(resolved.cpuShares !== undefined ? sharesToWeight(resolved.cpuShares) : 100));
    if (has('cpu.max')) this.fs.write(join(leaf, 'cpu.max'), `${resolved.cpuQuota ?? 'max'} ${resolved.cpuPeriod ?? 100_000}`);
    if (has('cpuset.cpus')) this.fs.write(join(leaf, 'cpuset.cpus'), resolved.cpusetCpus ?? '');
    if (has('cpuset.mems')) this.fs.write(join(leaf, 'cpuset.mems'), resolved.cpusetMems ?? '');
    if (has('memory.max')) this.fs.write(join(leaf, 'memory.max'), resolved.memory !== undefined ? String(resolved.memory) : 'max');
    if (swapAccounting) this.fs.write(join(leaf, 'memory.swap.max'), resolved.memory !== undefined && resolved.memorySwap !== undefined ? swapMaxValue(resolved.memory, resolved.memorySwap) : 'max');
    if (has('pids.max')) this.fs.write(join(leaf, 'pids.max'), resolved.pidsMax ?? 'max');
    return { warnings };
  }

  private checkControllers(r: ResolvedLimits, offered: readonly string[]): void {
    const need = (c: V2Controller, what: string): void => {
      if (!offered.includes(c)) throw new Unsupported(`${what} needs the cgroup v2 "${c}" controller, which "${join(this.root, 'cgroup.controllers')}" does not offer`);
    };
    if (r.cpuShares !== undefined || r.cpuQuota !== undefined || r.cpuPeriod !== undefined) need('cpu', 'a cpu limit');
    if (r.cpusetCpus !== undefined || r.cpusetMems !== undefined) need('cpuset', 'a cpuset');
    if (r.memory !== undefined) need('memory', 'a memory limit');
    if (r.pidsMax !== undefined) need('pids', 'a pids limit');
  }

  /** Enables in `dir`'s children every berth controller that `dir` itself has and has not yet delegated. */
  private delegate(dir: string): void {
    const available = words(this.fs.read(join(dir, 'cgroup.controllers')));
    const enabled = words(this.fs.read(join(dir, 'cgroup.subtree_control')));
    const missing = V2_CONTROLLERS.filter((c) => available.includes(c) && !enabled.includes(c));
    if (missing.length > 0) this.fs.write(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  }

  private apply(dir: string, r: ResolvedLimits, swapAccounting: boolean): void {
    if (r.cpuShares !== undefined) this.fs.write(join(dir, 'cpu.weight'), String(sharesToWeight(r.cpuShares)));
    if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) {
      this.fs.write(join(dir, 'cpu.max'), `${r.cpuQuota ?? 'max'} ${r.cpuPeriod}`);
    }
    if (r.cpusetCpus !== undefined) this.fs.write(join(dir, 'cpuset.cpus'), r.cpusetCpus);
    if (r.cpusetMems !== undefined) this.fs.write(join(dir, 'cpuset.mems'), r.cpusetMems);
    if (r.memory !== undefined) {
      this.fs.write(join(dir, 'memory.max'), String(r.memory));
      if (swapAccounting && r.memorySwap !== undefined) this.fs.write(join(dir, 'memory.swap.max'), swapMaxValue(r.memory, r.memorySwap));
    }
    if (r.pidsMax !== undefined) this.fs.write(join(dir, 'pids.max'), r.pidsMax);
  }

  remove(name: string): Promise<void> {
    return removeTree(this.fs, this.dir(name), this.budgetMs, this.clock);
  }

  pids(name: string): number[] {
    const found = new Set<number>();
    const walk = (dir: string): void => {
      for (const pid of parsePids(this.fs.read(join(dir, 'cgroup.procs')))) found.add(pid);
      for (const child of this.fs.subdirs(dir)) walk(join(dir, child));
    };
    const dir = this.dir(name);
    if (this.fs.exists(dir)) walk(dir);
    return [...found].sort((a, b) => a - b);
  }

  oomKilled(name: string): boolean {
    const { file, key } = this.placement(name).oom;
    if (!this.fs.exists(file)) return false; // memory controller not delegated: nothing could be OOM-killed by this cgroup
    return (keyedValue(this.fs.read(file), key) ?? 0) > 0;
  }

  stats(name: string): CgroupStats {
    const dir = this.dir(name);
    const optional = (file: string): string | undefined => (this.fs.exists(join(dir, file)) ? this.fs.read(join(dir, file)).trim() : undefined);
    const usageUsec = keyedValue(this.fs.read(join(dir, 'cpu.stat')), 'usage_usec') ?? 0;
    const max = optional('memory.max');
    return {
      cpuUsageNs: usageUsec * 1000,
      memoryUsage: Number(optional('memory.current') ?? 0),
      memoryLimit: max === undefined || max === 'max' ? -1 : Number(max),
      pids: Number(optional('pids.current') ?? 0),
    };
  }

  freeze(name: string): Promise<void> {
    return this.setFrozen(name, true);
  }

  thaw(name: string): Promise<void> {
    return this.setFrozen(name, false);
  }

  /** cgroup.freeze starts the change; cgroup.events' "frozen" line reports when it is complete. */
  private async setFrozen(name: string, frozen: boolean): Promise<void> {
    const dir = this.dir(name);
    const file = join(dir, 'cgroup.freeze');
    if (!this.fs.exists(file)) throw new Unsupported(`freezing needs cgroup.freeze (Linux 5.2+), which "${dir}" does not have`);
    this.fs.write(file, frozen ? '1' : '0');
    const want = frozen ? 1 : 0;
    const deadline = this.clock.now() + this.budgetMs;
    let delay = 1;
    while (keyedValue(this.fs.read(join(dir, 'cgroup.events')), 'frozen') !== want) {
      if (this.clock.now() >= deadline) throw new SysError('write', file, 'ETIMEDOUT', `write "${want}" to "${file}": cgroup.events did not report frozen ${want} within ${this.budgetMs} ms`);
      await this.clock.sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  read(name: string): ReadBackLimits {
    const dir = this.dir(name);
    const out: { -readonly [K in keyof ReadBackLimits]: ReadBackLimits[K] } = {};
    const text = (file: string): string | undefined => (this.fs.exists(join(dir, file)) ? this.fs.read(join(dir, file)).trim() : undefined);
    const weight = text('cpu.weight');
    if (weight !== undefined) out.cpuWeight = Number(weight);
    const cpuMax = text('cpu.max');
    if (cpuMax !== undefined) {
      const [quota, period] = words(cpuMax);
      if (quota !== undefined && quota !== 'max') out.cpuQuota = Number(quota);
      if (period !== undefined) out.cpuPeriod = Number(period);
    }
    const cpus = text('cpuset.cpus');
    if (cpus !== undefined) out.cpusetCpus = cpus;
    const mems = text('cpuset.mems');
    if (mems !== undefined) out.cpusetMems = mems;
    const memoryMax = text('memory.max');
    if (memoryMax !== undefined && memoryMax !== 'max') {
      out.memory = Number(memoryMax);
      const swapMax = text('memory.swap.max');
      if (swapMax !== undefined) out.memorySwap = swapMax === 'max' ? -1 : out.memory + Number(swapMax);
    }
    const pidsMax = text('pids.max');
    if (pidsMax !== undefined) out.pidsLimit = pidsMax === 'max' ? -1 : Number(pidsMax);
    return out;
  }

  containerMounts(): readonly CgroupMount[] {
    return [{ fstype: 'cgroup2', options: '', subdir: '' }];
  }

  deviceAllows(name: string, req: DeviceRequest): boolean {
    const program = this.deviceFilter.attached(this.dir(name));
    if (program === undefined) throw new Unsupported(`the device program of cgroup "${this.dir(name)}" cannot be read back`);
    return runDeviceProgram(program, req);
  }
}
