// The launch file berth writes for berth-shim. Mirrors native/src/protocol.h; the format is
// documented in native/PROTOCOL.md (version 1). One directive per line, TAB-separated fields,
// with \\, \t and \n escaped in every field.

export const PROTOCOL_VERSION = 1;

export type Directive = readonly [name: string, ...fields: string[]];

/**
 * A user mount (volumes, bind mounts, tmpfs, secrets and configs), emitted after `binds` as a
 * `bind` or `tmpfs` directive; the list is in mount order (a mount inside another comes after it).
 */
export type LaunchMount =
  | {
    readonly type: 'bind';
    /** host path: a file or directory (a volume's data directory, a bind source, a secret file) */
    readonly source: string;
    readonly target: string;
    readonly readonly: boolean;
    readonly nosuid?: boolean;
    readonly nodev?: boolean;
    readonly noexec?: boolean;
    /** bind without the source's submounts */
    readonly nonRecursive?: boolean;
    /** read-only (and nosuid, nodev, noexec) on the top mount only: the submounts keep their own flags */
    readonly readonlyTopOnly?: boolean;
    readonly propagation?: 'private' | 'rprivate' | 'slave' | 'rslave' | 'shared' | 'rshared';
    /** relative: resolved beneath source by the shim, never leaving it */
    readonly subpath?: string;
  }
  | {
    readonly type: 'tmpfs';
    readonly target: string;
    /** bytes; 0 = the kernel's default (half of RAM) */
    readonly size: number;
    readonly mode: number;
    readonly readonly: boolean;
    readonly nosuid?: boolean;
    readonly nodev?: boolean;
    readonly noexec?: boolean;
  };

/** The resolved seccomp filter (runtime/seccomp/profile.ts resolveProfile). */
export interface SeccompSpec {
  readonly defaultAction: { readonly action: string; readonly errno: number };
  /** where the shim keeps compiled programs, and this filter's key (sha256 of the rules) */
  readonly cache?: { readonly dir: string; readonly key: string };
  readonly arches: readonly string[];
  readonly rules: readonly { readonly action: string; readonly errno: number; readonly syscall: string; readonly args: string }[];
}

/** A device node made in the container's /dev. */
export interface DeviceNodeSpec {
  readonly path: string;
  readonly type: 'c' | 'b';
  readonly major: number;
  readonly minor: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** A cgroup filesystem mounted read-only under /sys/fs/cgroup in the container. */
export interface CgroupfsSpec {
  readonly fstype: 'cgroup' | 'cgroup2';
  /** v1: the hierarchy's controllers ("cpu,cpuacct"); v2: "" */
  readonly options: string;
  /** v1: its directory under /sys/fs/cgroup; v2: "" */
  readonly subdir: string;
}

export interface LaunchSpec {
  readonly id: string;
  readonly bundle: string;
  readonly overlay?: { readonly mountpoint: string; readonly options: string; readonly chdir: string };
  readonly rootfs: string;
  readonly hostname: string;
  /** the UTS domain name; absent: none */
  readonly domainname?: string;
  /** a network namespace to join (bind-mounted nsfs file, /proc/<pid>/ns/net); absent: a new one with lo only */
  readonly netns?: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly cgroups: readonly string[];
  readonly oom?: { readonly file: string; readonly key: string };
  readonly caps: readonly number[];
  readonly noNewPrivs: boolean;
  readonly rlimits: readonly { readonly name: string; readonly soft: number | 'unlimited'; readonly hard: number | 'unlimited' }[];
  readonly shmSize: number;
  readonly masked: readonly string[];
  readonly readonly: readonly string[];
  readonly binds: readonly { readonly source: string; readonly target: string; readonly readonly: boolean }[];
  /** user mounts, after `binds` (absent = none) */
  readonly mounts?: readonly LaunchMount[];
  readonly init?: string;
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly log?: string;
  readonly onExit: readonly string[];
  readonly groupAdd?: readonly string[];
  readonly readonlyRootfs?: boolean;
  readonly sysfsRw?: boolean;
  readonly sysctls?: readonly (readonly [name: string, value: string])[];
  readonly devices?: readonly DeviceNodeSpec[];
  readonly cgroupfs?: readonly CgroupfsSpec[];
  /** json-file rotation: bytes per file (absent: unbounded) and files kept */
  readonly logMaxSize?: number;
  readonly logMaxFiles?: number;
  /** absent: no filter */
  readonly seccomp?: SeccompSpec;
  /** a remapped user namespace: host uid/gid of the container's 0, and how many ids; absent: the host's */
  readonly userns?: { readonly uid: number; readonly gid: number; readonly count: number };
}

export interface ExecSpec {
  readonly pid: number;
  readonly cgroups: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly caps: readonly number[];
  readonly noNewPrivs: boolean;
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly groupAdd?: readonly string[];
  readonly seccomp?: SeccompSpec;
  /** a remapped container: the child enters the container's user namespace (never PID 1's own nested one) */
  readonly userns?: { readonly uid: number; readonly gid: number; readonly count: number };
}

export function escapeField(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

export function unescapeField(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c));
}

export function encodeDirectives(directives: readonly Directive[]): string {
  const lines = [`berth-launch\t${PROTOCOL_VERSION}`];
  for (const d of directives) lines.push(d.map(escapeField).join('\t'));
  return lines.join('\n') + '\n';
}

export function decodeDirectives(text: string): Directive[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const head = lines.shift();
  if (head !== `berth-launch\t${PROTOCOL_VERSION}`) throw new Error(`not a version ${PROTOCOL_VERSION} launch file`);
  // Split on unescaped TABs: an escaped TAB is "\t" (two characters), never a raw TAB.
  return lines.map((line) => line.split('\t').map(unescapeField) as unknown as Directive);
}

const b = (v: boolean): string => (v ? '1' : '0');

export function launchDirectives(spec: LaunchSpec): Directive[] {
  const d: Directive[] = [['id', spec.id], ['bundle', spec.bundle]];
  if (spec.overlay) d.push(['overlay', spec.overlay.mountpoint, spec.overlay.options, spec.overlay.chdir]);
  d.push(['rootfs', spec.rootfs], ['hostname', spec.hostname]);
  if (spec.domainname) d.push(['domainname', spec.domainname]);
  if (spec.netns) d.push(['netns', spec.netns]);
  for (const a of spec.args) d.push(['arg', a]);
  for (const e of spec.env) d.push(['env', e]);
  d.push(['cwd', spec.cwd], ['user', spec.user]);
  for (const c of spec.cgroups) d.push(['cgroup', c]);
  if (spec.oom) d.push(['oom', spec.oom.file, spec.oom.key]);
  for (const c of spec.caps) d.push(['cap', String(c)]);
  d.push(['no_new_privs', b(spec.noNewPrivs)]);
  for (const r of spec.rlimits) d.push(['rlimit', r.name, String(r.soft), String(r.hard)]);
  d.push(['shm_size', String(spec.shmSize)]);
  for (const m of spec.masked) d.push(['mask', m]);
  for (const r of spec.readonly) d.push(['readonly', r]);
  for (const bind of spec.binds) d.push(['bind', bind.source, bind.target, bind.readonly ? 'ro' : 'rw']);
  for (const m of spec.mounts ?? []) d.push(mountDirective(m));
  if (spec.init) d.push(['init', spec.init]);
  d.push(['tty', b(spec.tty)], ['stdin', b(spec.stdin)]);
  if (spec.log) d.push(['log', spec.log]);
  for (const a of spec.onExit) d.push(['on_exit', a]);
  for (const g of spec.groupAdd ?? []) d.push(['group_add', g]);
  if (spec.readonlyRootfs) d.push(['readonly_rootfs', '1']);
  if (spec.sysfsRw) d.push(['sysfs_rw', '1']);
  for (const [name, value] of spec.sysctls ?? []) d.push(['sysctl', name, value]);
  for (const n of spec.devices ?? []) d.push(['device', n.path, n.type, String(n.major), String(n.minor), n.mode.toString(8).padStart(4, '0'), String(n.uid), String(n.gid)]);
  for (const c of spec.cgroupfs ?? []) d.push(['cgroupfs', c.fstype, c.options, c.subdir]);
  if (spec.logMaxSize !== undefined && spec.logMaxSize > 0) d.push(['log_max_size', String(spec.logMaxSize)]);
  if (spec.logMaxFiles !== undefined) d.push(['log_max_files', String(spec.logMaxFiles)]);
  if (spec.userns) d.push(['userns', String(spec.userns.uid), String(spec.userns.gid), String(spec.userns.count)]);
  pushSeccomp(d, spec.seccomp);
  return d;
}

/** `bind <source> <target> <options> [<subpath>]` or `tmpfs <target> <size> <mode> <flags>`. */
export function mountDirective(m: LaunchMount): Directive {
  const flags = [m.nosuid ? 'nosuid' : '', m.nodev ? 'nodev' : '', m.noexec ? 'noexec' : ''];
  if (m.type === 'tmpfs') {
    return ['tmpfs', m.target, String(m.size), m.mode.toString(8), [m.readonly ? 'ro' : '', ...flags].filter((f) => f !== '').join(',')];
  }
  const options = [m.readonly ? 'ro' : 'rw', ...flags, m.nonRecursive ? 'norecursive' : '', m.readonlyTopOnly ? 'toponly' : '', m.propagation ?? ''].filter((f) => f !== '').join(',');
  return m.subpath !== undefined ? ['bind', m.source, m.target, options, m.subpath] : ['bind', m.source, m.target, options];
}

function pushSeccomp(d: Directive[], seccomp: SeccompSpec | undefined): void {
  if (!seccomp) return;
  d.push(['seccomp', seccomp.defaultAction.action, String(seccomp.defaultAction.errno)]);
  if (seccomp.cache) d.push(['seccomp_cache', seccomp.cache.dir, seccomp.cache.key]);
  for (const a of seccomp.arches) d.push(['seccomp_arch', a]);
  for (const r of seccomp.rules) d.push(['seccomp_rule', r.action, String(r.errno), r.syscall, r.args]);
}

export function execDirectives(spec: ExecSpec): Directive[] {
  const d: Directive[] = [['pid', String(spec.pid)]];
  for (const c of spec.cgroups) d.push(['cgroup', c]);
  for (const a of spec.args) d.push(['arg', a]);
  for (const e of spec.env) d.push(['env', e]);
  d.push(['cwd', spec.cwd], ['user', spec.user]);
  for (const c of spec.caps) d.push(['cap', String(c)]);
  d.push(['no_new_privs', b(spec.noNewPrivs)], ['tty', b(spec.tty)], ['stdin', b(spec.stdin)]);
  for (const g of spec.groupAdd ?? []) d.push(['group_add', g]);
  if (spec.userns) d.push(['userns', String(spec.userns.uid), String(spec.userns.gid), String(spec.userns.count)]);
  pushSeccomp(d, spec.seccomp);
  return d;
}

/** What the shim writes into the bundle. */
export interface StartedRecord { readonly pid: number; readonly shimPid: number; readonly startedAt: string }
export interface ExitedRecord { readonly exitCode: number; readonly signal: number; readonly oomKilled: boolean; readonly finishedAt: string }
