// cgroup v1: one hierarchy per controller (or per group of co-mounted controllers, such as
// "cpu,cpuacct" in one dir). A container's cgroup is the same relative path in each hierarchy,
// and its process joins each one. The mount points come from detect.ts (mountinfo); nothing
// here knows /sys/fs/cgroup.
//
// Controllers used: cpu, cpuacct, cpuset, memory, pids, freezer, devices (the device allow-list,
// devices.ts). Not handled yet: blkio, net_cls/net_prio, hugetlb, perf_event, and the named
// systemd hierarchy.
import { basename, join } from 'node:path';
import { Conflict, NotFound, Unsupported, SysError } from '../../lib/errors.js';
import type { CgroupDriver, CgroupLimits, CgroupMount, CgroupPlacement, CgroupStats, ReadBackLimits } from './driver.js';
import { resolveLimits, validateCpuset, NO_SWAP_LIMIT_WARNING, type ResolvedLimits } from './convert.js';
import { nodeCgroupFs, nameSegments, removeTree, removeFreshTree, keyedValue, parsePids, type CgroupFs } from './fs.js';
import { realClock, type Clock } from '../../lib/clock.js';
import { DEFAULT_DEVICE_POLICY, parseDevicesList, policyAllows, v1DeviceWrites, type DevicePolicy, type DeviceRequest } from './devices.js';

export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'devices'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface V1Options {
  /**
   * Mount point of each controller's hierarchy. Co-mounted controllers share one path. memory is
   * intentionally required: without it there is no limit and no OOM report, which berth's
   * contract (placement().oom) depends on.
   */
  readonly mounts: Readonly<Partial<Record<V1Controller, string>>> & { readonly memory: string };
  readonly fs?: CgroupFs;
  /** how long a freeze or a removal may wait for the kernel, ms */
  readonly waitBudgetMs?: number;
  /** what those waits sleep on (default: the real clock) */
  readonly clock?: Clock;
}

/** v1 reports "no limit" as the largest page-aligned signed 64-bit value; anything this big is unlimited. */
function isUnlimited(text: string): boolean {
  const n = Number(text.trim());
  return n < 0 || n > Number.MAX_SAFE_INTEGER;
}

/** Docker prints nothing like it: it refuses to start without a devices cgroup. berth warns. */
export const NO_DEVICES_WARNING = 'Your kernel does not support the devices cgroup or it is not mounted. The device allow-list is not enforced.';

export class CgroupV1Driver implements CgroupDriver {
  readonly version = 1 as const;
  private readonly fs: CgroupFs;
  private readonly mounts: Readonly<Partial<Record<V1Controller, string>>>;
  /** distinct hierarchies in V1_CONTROLLERS order, each with the controllers it carries */
  private readonly hierarchies: readonly { readonly mount: string; readonly controllers: readonly V1Controller[] }[];
  private readonly budgetMs: number;
  private readonly clock: Clock;

  constructor(opts: V1Options) {
    this.fs = opts.fs ?? nodeCgroupFs;
    this.mounts = opts.mounts;
    this.budgetMs = opts.waitBudgetMs ?? 2000;
    this.clock = opts.clock ?? realClock;
    const byMount = new Map<string, V1Controller[]>();
    for (const c of V1_CONTROLLERS) {
      const m = opts.mounts[c];
      if (m === undefined) continue;
      const list = byMount.get(m);
      if (list) list.push(c);
      else byMount.set(m, [c]);
    }
    this.hierarchies = [...byMount].map(([mount, controllers]) => ({ mount, controllers }));
  }

  /** <mount of controller>/<name>, or undefined when the controller is not mounted */
  private dir(controller: V1Controller, name: string): string | undefined {
    const m = this.mounts[controller];
    return m === undefined ? undefined : join(m, ...nameSegments(name));
  }

  private need(controller: V1Controller, what: string): string {
    const m = this.mounts[controller];
    if (m === undefined) throw new Unsupported(`${what} needs the cgroup v1 "${controller}" controller, which is not mounted on this host`);
    return m;
  }

  placement(name: string): CgroupPlacement {
    const segments = nameSegments(name);
    return {
      procsDirs: this.hierarchies.map((h) => join(h.mount, ...segments)),
      oom: { file: join(this.dir('memory', name)!, 'memory.oom_control'), key: 'oom_kill' },
    };
  }

  exists(name: string): boolean {
    return this.placement(name).procsDirs.some((d) => this.fs.exists(d));
  }

  create(name: string, limits: CgroupLimits): { placement: CgroupPlacement; warnings: string[] } {
    const segments = nameSegments(name);
    const { resolved, warnings } = resolveLimits(limits);
    this.checkControllers(resolved);
    if (resolved.cpusetCpus !== undefined) validateCpuset(resolved.cpusetCpus, this.fs.read(join(this.mounts.cpuset!, 'cpuset.effective_cpus')), 'cpus');
    if (resolved.cpusetMems !== undefined) validateCpuset(resolved.cpusetMems, this.fs.read(join(this.mounts.cpuset!, 'cpuset.effective_mems')), 'mems');
    // Swap accounting (CONFIG_MEMCG_SWAP, and not disabled by swapaccount=0) shows as the memsw files.
    const swapAccounting = this.fs.exists(join(this.mounts.memory!, 'memory.memsw.limit_in_bytes'));
    if (resolved.memory !== undefined && !swapAccounting) warnings.push(NO_SWAP_LIMIT_WARNING);

    const placement = this.placement(name);
    for (const d of placement.procsDirs) if (this.fs.exists(d)) throw new Conflict(`cgroup "${d}" already exists`);
    const createdLeaves: string[] = [];
    try {
      for (const h of this.hierarchies) {
        let dir = h.mount;
        for (const [i, segment] of segments.entries()) {
          const parent = dir;
          dir = join(dir, segment);
          const made = this.fs.mkdir(dir);
          if (i === segments.length - 1) {
            if (!made) throw new Conflict(`cgroup "${dir}" already exists`);
            createdLeaves.push(dir);
          }
          // A new cpuset cgroup starts with empty cpus and mems, and the kernel refuses tasks
          // (ENOSPC) until both are set: inherit the parent's, for intermediate dirs as well —
          // also for one that already exists, since a crash between its mkdir and this write
          // leaves it empty (inheritCpuset writes only what is empty).
          if (h.controllers.includes('cpuset')) this.inheritCpuset(parent, dir);
          if (!made) continue;
          // Hierarchical accounting must be on in a parent before children exist (kernels
          // before 5.x allowed it off); newer kernels pin it to 1 and only accept "1".
          if (h.controllers.includes('memory')) this.enableMemoryHierarchy(dir);
        }
      }
      this.apply(name, resolved, swapAccounting);
      if (!this.applyDevices(name, limits.devices ?? DEFAULT_DEVICE_POLICY)) warnings.push(NO_DEVICES_WARNING);
    } catch (err) {
      for (const leaf of createdLeaves) {
        try { removeFreshTree(this.fs, leaf); } catch { /* the original error matters more */ }
      }
      throw err;
    }
    return { placement, warnings };
  }

  update(name: string, limits: CgroupLimits): { warnings: string[] } {
    const { resolved, warnings } = resolveLimits(limits);
    this.checkControllers(resolved);
    if (resolved.cpusetCpus !== undefined) validateCpuset(resolved.cpusetCpus, this.fs.read(join(this.mounts.cpuset!, 'cpuset.effective_cpus')), 'cpus');
    if (resolved.cpusetMems !== undefined) validateCpuset(resolved.cpusetMems, this.fs.read(join(this.mounts.cpuset!, 'cpuset.effective_mems')), 'mems');
    const memory = this.dir('memory', name)!;
    if (!this.fs.exists(memory)) throw new NotFound(`cgroup "${memory}" does not exist`);
    const swapAccounting = this.fs.exists(join(memory, 'memory.memsw.limit_in_bytes'));
    if (resolved.memory !== undefined && !swapAccounting) warnings.push(NO_SWAP_LIMIT_WARNING);
    const cpu = this.dir('cpu', name);
    if (cpu !== undefined && this.fs.exists(cpu)) {
      this.fs.write(join(cpu, 'cpu.shares'), String(resolved.cpuShares ?? 1024));
      // quota off first: a new, shorter period is checked against the quota in place
      this.fs.write(join(cpu, 'cpu.cfs_quota_us'), '-1');
      this.fs.write(join(cpu, 'cpu.cfs_period_us'), String(resolved.cpuPeriod ?? 100_000));
      if (resolved.cpuQuota !== undefined) this.fs.write(join(cpu, 'cpu.cfs_quota_us'), String(resolved.cpuQuota));
    }
    const cpuset = this.dir('cpuset', name);
    if (cpuset !== undefined && this.fs.exists(cpuset)) {
      const parent = join(cpuset, '..');
      this.fs.write(join(cpuset, 'cpuset.cpus'), resolved.cpusetCpus ?? this.fs.read(join(parent, 'cpuset.cpus')).trim());
      this.fs.write(join(cpuset, 'cpuset.mems'), resolved.cpusetMems ?? this.fs.read(join(parent, 'cpuset.mems')).trim());
    }
    // memory+swap must stay ≥ memory at every moment: lift it first, then set both
    if (swapAccounting) this.fs.write(join(memory, 'memory.memsw.limit_in_bytes'), '-1');
    this.fs.write(join(memory, 'memory.limit_in_bytes'), String(resolved.memory ?? -1));
    if (swapAccounting && resolved.memorySwap !== undefined) this.fs.write(join(memory, 'memory.memsw.limit_in_bytes'), String(resolved.memorySwap));
    const pids = this.dir('pids', name);
    if (pids !== undefined && this.fs.exists(pids)) this.fs.write(join(pids, 'pids.max'), resolved.pidsMax ?? 'max');
    return { warnings };
  }

  private checkControllers(r: ResolvedLimits): void {
    if (r.cpuShares !== undefined || r.cpuQuota !== undefined || r.cpuPeriod !== undefined) this.need('cpu', 'a cpu limit');
    if (r.cpusetCpus !== undefined || r.cpusetMems !== undefined) this.need('cpuset', 'a cpuset');
    if (r.pidsMax !== undefined) this.need('pids', 'a pids limit');
  }

  private inheritCpuset(parent: string, dir: string): void {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (this.fs.read(join(dir, file)).trim() === '') this.fs.write(join(dir, file), this.fs.read(join(parent, file)).trim());
    }
  }

  private enableMemoryHierarchy(dir: string): void {
    const file = join(dir, 'memory.use_hierarchy');
    if (this.fs.exists(file) && this.fs.read(file).trim() === '0') this.fs.write(file, '1');
  }

  private apply(name: string, r: ResolvedLimits, swapAccounting: boolean): void {
    const cpu = this.dir('cpu', name);
    if (cpu !== undefined) {
      if (r.cpuShares !== undefined) this.fs.write(join(cpu, 'cpu.shares'), String(r.cpuShares));
      // period first: the kernel checks quota against the current period
      if (r.cpuPeriod !== undefined) this.fs.write(join(cpu, 'cpu.cfs_period_us'), String(r.cpuPeriod));
      if (r.cpuQuota !== undefined) this.fs.write(join(cpu, 'cpu.cfs_quota_us'), String(r.cpuQuota));
    }
    const cpuset = this.dir('cpuset', name);
    if (cpuset !== undefined) {
      if (r.cpusetCpus !== undefined) this.fs.write(join(cpuset, 'cpuset.cpus'), r.cpusetCpus);
      if (r.cpusetMems !== undefined) this.fs.write(join(cpuset, 'cpuset.mems'), r.cpusetMems);
    }
    const memory = this.dir('memory', name)!;
    if (r.memory !== undefined) {
      // memory before memsw: the kernel requires memsw ≥ memory at every moment, and a fresh
      // cgroup has both unlimited
      this.fs.write(join(memory, 'memory.limit_in_bytes'), String(r.memory));
      if (swapAccounting && r.memorySwap !== undefined) this.fs.write(join(memory, 'memory.memsw.limit_in_bytes'), String(r.memorySwap));
    }
    const pids = this.dir('pids', name);
    if (pids !== undefined && r.pidsMax !== undefined) this.fs.write(join(pids, 'pids.max'), r.pidsMax);
  }

  async remove(name: string): Promise<void> {
    for (const dir of this.placement(name).procsDirs) await removeTree(this.fs, dir, this.budgetMs, this.clock);
  }

  /** Installs the device policy; false when this host has no devices hierarchy to enforce it. */
  private applyDevices(name: string, policy: DevicePolicy): boolean {
    const dir = this.dir('devices', name);
    if (dir === undefined) return false;
    // A new devices cgroup starts with its parent's list; "a" in devices.deny empties it first.
    for (const [file, line] of v1DeviceWrites(policy)) this.fs.write(join(dir, file), line);
    return true;
  }

  containerMounts(): readonly CgroupMount[] {
    return this.hierarchies.map((h) => ({ fstype: 'cgroup' as const, options: h.controllers.join(','), subdir: basename(h.mount) }));
  }

  deviceAllows(name: string, req: DeviceRequest): boolean {
    const dir = this.need('devices', 'a device policy');
    return policyAllows(parseDevicesList(this.fs.read(join(dir, ...nameSegments(name), 'devices.list'))), req);
  }

  pids(name: string): number[] {
    const found = new Set<number>();
    const walk = (dir: string): void => {
      if (!this.fs.exists(dir)) return;
      for (const pid of parsePids(this.fs.read(join(dir, 'cgroup.procs')))) found.add(pid);
      for (const child of this.fs.subdirs(dir)) walk(join(dir, child));
    };
    for (const dir of this.placement(name).procsDirs) walk(dir);
    return [...found].sort((a, b) => a - b);
  }

  oomKilled(name: string): boolean {
    const { file, key } = this.placement(name).oom;
    // oom_kill appeared in 4.13; older kernels only say under_oom, which clears after the kill
    return (keyedValue(this.fs.read(file), key) ?? 0) > 0;
  }

  stats(name: string): CgroupStats {
    const memory = this.dir('memory', name)!;
    const cpuacct = this.dir('cpuacct', name);
    const pids = this.dir('pids', name);
    const limit = this.fs.read(join(memory, 'memory.limit_in_bytes'));
    return {
      cpuUsageNs: cpuacct === undefined ? 0 : Number(this.fs.read(join(cpuacct, 'cpuacct.usage')).trim()),
      memoryUsage: Number(this.fs.read(join(memory, 'memory.usage_in_bytes')).trim()),
      memoryLimit: isUnlimited(limit) ? -1 : Number(limit.trim()),
      pids: pids === undefined ? 0 : Number(this.fs.read(join(pids, 'pids.current')).trim()),
    };
  }

  freeze(name: string): Promise<void> {
    return this.setFreezer(name, 'FROZEN');
  }

  thaw(name: string): Promise<void> {
    return this.setFreezer(name, 'THAWED');
  }

  /**
   * Writing FROZEN starts freezing; the state reads FREEZING until every task has stopped. Like
   * runc, re-write the target state while waiting: a task forking during the freeze can leave
   * the cgroup stuck in FREEZING otherwise.
   */
  private async setFreezer(name: string, target: 'FROZEN' | 'THAWED'): Promise<void> {
    this.need('freezer', target === 'FROZEN' ? 'freeze' : 'thaw');
    const file = join(this.dir('freezer', name)!, 'freezer.state');
    const deadline = this.clock.now() + this.budgetMs;
    let delay = 1;
    for (;;) {
      this.fs.write(file, target);
      if (this.fs.read(file).trim() === target) return;
      if (this.clock.now() >= deadline) throw new SysError('write', file, 'ETIMEDOUT', `write "${target}" to "${file}": the cgroup did not reach ${target} within ${this.budgetMs} ms`);
      await this.clock.sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  read(name: string): ReadBackLimits {
    const out: { -readonly [K in keyof ReadBackLimits]: ReadBackLimits[K] } = {};
    const text = (dir: string | undefined, file: string): string | undefined => {
      if (dir === undefined || !this.fs.exists(join(dir, file))) return undefined;
      return this.fs.read(join(dir, file)).trim();
    };
    const cpu = this.dir('cpu', name);
    const shares = text(cpu, 'cpu.shares');
    if (shares !== undefined) out.cpuShares = Number(shares);
    const quota = text(cpu, 'cpu.cfs_quota_us');
    if (quota !== undefined && quota !== '-1') out.cpuQuota = Number(quota);
    const period = text(cpu, 'cpu.cfs_period_us');
    if (period !== undefined) out.cpuPeriod = Number(period);
    const cpuset = this.dir('cpuset', name);
    const cpus = text(cpuset, 'cpuset.cpus');
    if (cpus !== undefined) out.cpusetCpus = cpus;
    const mems = text(cpuset, 'cpuset.mems');
    if (mems !== undefined) out.cpusetMems = mems;
    const memory = this.dir('memory', name);
    const limit = text(memory, 'memory.limit_in_bytes');
    if (limit !== undefined && !isUnlimited(limit)) {
      out.memory = Number(limit);
      const memsw = text(memory, 'memory.memsw.limit_in_bytes');
      if (memsw !== undefined) out.memorySwap = isUnlimited(memsw) ? -1 : Number(memsw);
    }
    const pidsMax = text(this.dir('pids', name), 'pids.max');
    if (pidsMax !== undefined) out.pidsLimit = pidsMax === 'max' ? -1 : Number(pidsMax);
    return out;
  }
}
