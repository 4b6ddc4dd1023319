// Chooses the cgroup driver, once, from a mountinfo text. Pure apart from hostCgroupDriver(),
// which is the one place that names a host path (/proc/self/mountinfo).
//
// Hosts come in three shapes:
//   v1      controllers each mounted as "cgroup" (often co-mounted: "cpu,cpuacct")
//   v2      one "cgroup2" mount with every controller (the unified hierarchy)
//   hybrid  v1 controllers plus a "cgroup2" beside them (systemd's /sys/fs/cgroup/unified).
//           A controller bound to a v1 hierarchy cannot appear in the v2 one, so such a cgroup2
//           usually offers nothing berth needs, and the v1 driver is chosen.
import { readFileSync } from 'node:fs';
import { fromNodeError, Unsupported } from '../../lib/errors.js';
import type { CgroupDriver, CgroupLimits, CgroupMount, CgroupPlacement, CgroupStats, ReadBackLimits } from './driver.js';
import type { CgroupFs } from './fs.js';
import type { DeviceRequest } from './devices.js';
import { CgroupV1Driver, V1_CONTROLLERS, type V1Controller } from './v1.js';
import { CgroupV2Driver } from './v2.js';

/** the only host path this facility reads on its own */
const HOST_MOUNTINFO = '/proc/self/mountinfo';

export interface MountEntry {
  readonly mountId: number;
  readonly parentId: number;
  /** the path inside the filesystem that is mounted here ("/" unless a sub-tree is bind-mounted) */
  readonly root: string;
  readonly mountPoint: string;
  readonly mountOptions: readonly string[];
  /** "shared:N", "master:N"… (between the mount options and the " - " separator) */
  readonly optionalFields: readonly string[];
  readonly fsType: string;
  readonly source: string;
  /** per-superblock options; for cgroup v1 they name the controllers ("rw,cpu,cpuacct") */
  readonly superOptions: readonly string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses proc(5) mountinfo. Lines that do not have the documented shape are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    // the optional fields are variable in number; " - " ends them (search from field 6)
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 4) continue;
    out.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      root: unescapeOctal(f[3]!),
      mountPoint: unescapeOctal(f[4]!),
      mountOptions: f[5]!.split(','),
      optionalFields: f.slice(6, sep),
      fsType: f[sep + 1]!,
      source: unescapeOctal(f[sep + 2]!),
      superOptions: f[sep + 3]!.split(','),
    });
  }
  return out;
}

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export interface CgroupDetection {
  readonly mode: CgroupMode;
  readonly driver: CgroupDriver;
  /** where each v1 controller berth uses is mounted (empty on a v2 host) */
  readonly v1Mounts: Readonly<Partial<Record<V1Controller, string>>>;
  /** the cgroup2 mount point, when there is one */
  readonly v2Mount: string | undefined;
  /** why a preference was not honoured, and similar notes for `berth info` */
  readonly warnings: readonly string[];
}

export interface DetectOptions {
  /** the version to use when the host allows either; ignored with a warning when it cannot be used */
  readonly prefer?: 1 | 2;
  /** file operations for the chosen driver (tests pass a fake tree) */
  readonly fs?: CgroupFs;
}

export function detectCgroups(mountinfoText: string, opts: DetectOptions = {}): CgroupDetection {
  const mounts = parseMountinfo(mountinfoText);
  const v1Mounts: Partial<Record<V1Controller, string>> = {};
  // A hierarchy mounted twice (bind mounts) is used through the first mount that shows all of
  // it (root "/"), else through the first mount of a sub-tree (inside a container).
  const v1 = mounts.filter((m) => m.fsType === 'cgroup');
  for (const m of [...v1.filter((x) => x.root === '/'), ...v1.filter((x) => x.root !== '/')]) {
    for (const c of V1_CONTROLLERS) if (m.superOptions.includes(c)) v1Mounts[c] ??= m.mountPoint;
  }
  const v2 = mounts.find((m) => m.fsType === 'cgroup2' && m.root === '/') ?? mounts.find((m) => m.fsType === 'cgroup2');
  const anyV1 = mounts.some((m) => m.fsType === 'cgroup' && m.superOptions.some((o) => (V1_ALL as readonly string[]).includes(o)));
  const mode: CgroupMode = anyV1 ? (v2 ? 'hybrid' : 'v1') : 'v2';
  if (!anyV1 && !v2) throw new Unsupported('no cgroup hierarchy is mounted (mountinfo has no "cgroup" or "cgroup2" entry)');

  // berth needs the memory controller (limits and OOM reports). It lives in exactly one place:
  // a v1 hierarchy, or (when not bound to v1) the unified one.
  const v1Usable = v1Mounts.memory !== undefined;
  const v2Usable = v2 !== undefined && !v1Usable;
  const warnings: string[] = [];
  let version: 1 | 2;
  if (opts.prefer === 2 && v2Usable) version = 2;
  else if (opts.prefer === 1 && v1Usable) version = 1;
  else {
    version = v1Usable ? 1 : 2;
    if (opts.prefer !== undefined && opts.prefer !== version) {
      warnings.push(opts.prefer === 2
        ? 'cgroup v2 was preferred but the memory controller is bound to a v1 hierarchy; using cgroup v1'
        : 'cgroup v1 was preferred but no v1 hierarchy carries the memory controller; using cgroup v2');
    }
  }
  if (version === 1 && !v1Usable) {
    throw new Unsupported('cgroup v1 controllers are mounted but none carries "memory", and there is no usable cgroup2 hierarchy');
  }
  const base = opts.fs ? { fs: opts.fs } : {};
  const driver: CgroupDriver = version === 1
    ? new CgroupV1Driver({ ...base, mounts: { ...v1Mounts, memory: v1Mounts.memory! } })
    : new CgroupV2Driver({ ...base, root: v2!.mountPoint });
  return { mode, driver, v1Mounts, v2Mount: v2?.mountPoint, warnings };
}

/** every v1 controller name the kernel knows, to tell a controller hierarchy from a named one (name=systemd) */
const V1_ALL = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'devices', 'blkio', 'net_cls', 'net_prio', 'perf_event', 'hugetlb', 'rdma', 'misc'] as const;

/**
 * The driver for this host, detected from /proc/self/mountinfo on first use (so commands that
 * never touch a cgroup, like `berth images`, work on a host without cgroups).
 */
export function hostCgroupDriver(opts: Omit<DetectOptions, 'fs'> = {}): CgroupDriver {
  let chosen: CgroupDriver | undefined;
  const get = (): CgroupDriver => {
    if (chosen === undefined) {
      let text: string;
      try {
        text = readFileSync(HOST_MOUNTINFO, 'utf8');
      } catch (err) {
        throw fromNodeError(err, 'read', HOST_MOUNTINFO);
      }
      chosen = detectCgroups(text, opts).driver;
    }
    return chosen;
  };
  return {
    get version() { return get().version; },
    create: (name: string, limits: CgroupLimits): { placement: CgroupPlacement; warnings: string[] } => get().create(name, limits),
    update: (name: string, limits: CgroupLimits): { warnings: string[] } => get().update(name, limits),
    placement: (name: string): CgroupPlacement => get().placement(name),
    remove: (name: string): Promise<void> => get().remove(name),
    exists: (name: string): boolean => get().exists(name),
    pids: (name: string): number[] => get().pids(name),
    oomKilled: (name: string): boolean => get().oomKilled(name),
    stats: (name: string): CgroupStats => get().stats(name),
    freeze: (name: string): Promise<void> => get().freeze(name),
    thaw: (name: string): Promise<void> => get().thaw(name),
    read: (name: string): ReadBackLimits => get().read(name),
    deviceAllows: (name: string, req: DeviceRequest): boolean => get().deviceAllows(name, req),
    containerMounts: (): readonly CgroupMount[] => get().containerMounts(),
  };
}
