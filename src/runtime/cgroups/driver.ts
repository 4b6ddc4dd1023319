// The cgroup facility's one interface. Two drivers implement it (v1.ts: one hierarchy per
// controller; v2.ts: the unified hierarchy); detect.ts chooses one, once, from the host's
// mountinfo. Callers (runtime/container.ts) never learn which version they are talking to.
import type { DevicePolicy, DeviceRequest } from './devices.js';

/**
 * Resource limits as the user asked for them, in Docker's units and conventions. Every field is
 * optional: absent means "leave the kernel default". Validation and Docker's defaults (the 6 MiB
 * memory minimum, memory-swap = 2 × memory, shares clamped to 2..262144) are applied by
 * convert.resolveLimits inside create(), so the engine can pass flags through unchecked.
 */
export interface CgroupLimits {
  /** docker --cpu-shares / compose cpu_shares; v1 cpu.shares, v2 cpu.weight via runc's conversion */
  readonly cpuShares?: number;
  /** microseconds of CPU time per period (--cpus 0.5 → 50000); v1 cpu.cfs_quota_us, v2 cpu.max "quota period" */
  readonly cpuQuota?: number;
  /** microseconds; 100000 when a quota is set without one */
  readonly cpuPeriod?: number;
  /** "0", "0-1", "0,1"; must be a subset of the CPUs the hierarchy root offers */
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
  /** bytes; v1 memory.limit_in_bytes, v2 memory.max */
  readonly memory?: number;
  /**
   * Docker's --memory-swap: memory + swap in total, bytes. -1 = unlimited swap. Unset with memory
   * set = 2 × memory (Docker's default). v1 memory.memsw.limit_in_bytes (skipped with a warning
   * when the kernel has no swap accounting); v2 memory.swap.max = memorySwap − memory.
   */
  readonly memorySwap?: number;
  /** > 0: the limit; 0 or -1: unlimited ("max") */
  readonly pidsLimit?: number;
  /**
   * Which devices the container may open and create: v1 the devices controller, v2 a BPF device
   * program attached to the cgroup. Absent: Docker's default allow-list (devices.ts), never
   * "everything" -- an unprivileged container must not reach the host's devices by omission.
   */
  readonly devices?: DevicePolicy;
}

/** What read() returns: the limits as the kernel files hold them. */
export interface ReadBackLimits extends CgroupLimits {
  /**
   * v2 only: the raw cpu.weight. runc's shares → weight conversion is not invertible, so a v2
   * driver reports the weight instead of guessing cpuShares.
   */
  readonly cpuWeight?: number;
}

/** Where a container's process must go, handed to the native shim (which writes its own pid). */
export interface CgroupPlacement {
  /** directories whose cgroup.procs the container's pid is written into (v1: one per hierarchy; v2: one) */
  readonly procsDirs: readonly string[];
  /** the file and key whose counter going above zero means the kernel OOM-killed a task in the cgroup */
  readonly oom: { readonly file: string; readonly key: string };
}

/** A cgroup filesystem as a container sees it under /sys/fs/cgroup (through its cgroup namespace). */
export interface CgroupMount {
  readonly fstype: 'cgroup' | 'cgroup2';
  /** v1: the hierarchy's controllers, comma-separated, as it must be mounted; v2: "" */
  readonly options: string;
  /** the directory under /sys/fs/cgroup; "" for /sys/fs/cgroup itself (v2) */
  readonly subdir: string;
}

export interface CgroupStats {
  /** total CPU time consumed, nanoseconds */
  readonly cpuUsageNs: number;
  /** bytes currently charged */
  readonly memoryUsage: number;
  /** bytes; -1 when unlimited */
  readonly memoryLimit: number;
  /** tasks currently in the cgroup (pids.current); 0 when the pids controller is absent */
  readonly pids: number;
}

export interface CgroupDriver {
  readonly version: 1 | 2;
  /**
   * Creates <name> (e.g. "berth/<containerId>") in every hierarchy the driver uses, creating
   * missing ancestors, and applies the limits. Throws Conflict when <name> already exists,
   * InvalidArgument for limits Docker would reject, Unsupported when a limit needs a controller
   * this host lacks. On failure nothing it created is left behind. Returns Docker-style warnings.
   */
  create(name: string, limits: CgroupLimits): { placement: CgroupPlacement; warnings: string[] };
  /**
   * docker update: sets every limit of an existing <name> to `limits` (the whole set, as
   * create() takes it: a limit left out goes back to unlimited or the kernel default), validated
   * as create() validates. The device policy is not touched. NotFound when <name> does not exist.
   */
  update(name: string, limits: CgroupLimits): { warnings: string[] };
  /** pure path computation: where <name> is (or would be); touches nothing */
  placement(name: string): CgroupPlacement;
  /**
   * Kills nothing. Removes <name> and any sub-cgroups below it (children first) in every
   * hierarchy; a missing dir is not an error; retries briefly on EBUSY while exiting tasks leave
   * (waiting on the driver's clock: the event loop is never blocked).
   * Ancestors (the shared "berth" dir) are left in place: other containers live there.
   */
  remove(name: string): Promise<void>;
  exists(name: string): boolean;
  /** pids of every process in <name> and its sub-cgroups, ascending, without duplicates */
  pids(name: string): number[];
  oomKilled(name: string): boolean;
  stats(name: string): CgroupStats;
  /**
   * v1 freezer.state FROZEN / THAWED; v2 cgroup.freeze 1 / 0. Both resolve once the kernel is
   * done (polling on the driver's clock, within its wait budget).
   */
  freeze(name: string): Promise<void>;
  thaw(name: string): Promise<void>;
  /** the limits as read back from the files (for tests and inspect) */
  read(name: string): ReadBackLimits;
  /** the filesystems a container mounts to see its own cgroups (read-only, /sys/fs/cgroup) */
  containerMounts(): readonly CgroupMount[];
  /** whether the device policy installed on <name> allows `req` (read back from the kernel's view) */
  deviceAllows(name: string, req: DeviceRequest): boolean;
}
