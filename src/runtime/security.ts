// A container's privileges, as Docker's flags and compose keys describe them (cap_add, cap_drop,
// privileged, security_opt, read_only, devices, sysctls, group_add), resolved into what the shim
// and the cgroup apply: validation with Docker's messages, the capability set, the seccomp filter,
// the device policy and nodes, the sysctls. Pure except buildSecurity's host reads (a profile
// file, a device's numbers), which go through an injected SecurityHost (nodeSecurityHost for real).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { InvalidArgument } from '../lib/errors.js';
import { CAP, DEFAULT_CAPS, type CapName } from './defaults.js';
import { DEFAULT_DEVICE_POLICY, ALLOW_ALL_DEVICES, type DevicePolicy, type DeviceRule } from './cgroups/devices.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp/default-profile.js';
import { parseProfile, resolveProfile, type ResolvedSeccomp } from './seccomp/profile.js';
import type { DeviceNodeSpec } from './shim/protocol.js';
import { hostId, parseUsernsMode, readIdFiles, resolveIdMap, type IdFiles, type IdMap, type UsernsMode } from './userns.js';

/** What the user asked for, as stored in the container record (Docker's HostConfig names). */
export interface SecurityOptions {
  readonly CapAdd: readonly string[];
  readonly CapDrop: readonly string[];
  readonly Privileged: boolean;
  /** as given: "no-new-privileges", "no-new-privileges:true", "seccomp=unconfined", "seccomp=<JSON text>" */
  readonly SecurityOpt: readonly string[];
  readonly ReadonlyRootfs: boolean;
  readonly Devices: readonly DeviceMapping[];
  readonly Sysctls: Readonly<Record<string, string>>;
  readonly GroupAdd: readonly string[];
  /** absent or host: the host's user namespace; remap: IdMap's range (userns.ts), resolved at create */
  readonly UsernsMode?: UsernsMode;
  readonly IdMap?: IdMap;
}

/** `--device /dev/fuse:/dev/fuse:rwm`, with the host node's kind, numbers, mode and owner as found at create time. */
export interface DeviceMapping extends Omit<DeviceNodeSpec, 'path'> {
  readonly PathOnHost: string;
  readonly PathInContainer: string;
  readonly CgroupPermissions: string;
}

export const NO_SECURITY: SecurityOptions = {
  CapAdd: [], CapDrop: [], Privileged: false, SecurityOpt: [], ReadonlyRootfs: false, Devices: [], Sysctls: {}, GroupAdd: [],
};

/** "net_admin", "CAP_NET_ADMIN", "NET_ADMIN" → "NET_ADMIN"; "ALL" stays; unknown names are an error. */
export function normalizeCap(name: string, flag: string): CapName | 'ALL' {
  const upper = name.trim().toUpperCase();
  const bare = upper.startsWith('CAP_') ? upper.slice(4) : upper;
  if (bare === 'ALL') return 'ALL';
  if (!(bare in CAP)) throw new InvalidArgument(`invalid ${flag} value "${name}": unknown capability: "CAP_${bare}"`);
  return bare as CapName;
}

/**
 * Docker's capability set: the defaults, minus cap_drop, plus cap_add; ALL in cap_drop empties
 * the set before the adds, ALL in cap_add takes every capability. Privileged: every capability.
 */
export function resolveCaps(o: Pick<SecurityOptions, 'CapAdd' | 'CapDrop' | 'Privileged'>): CapName[] {
  const all = Object.keys(CAP) as CapName[];
  if (o.Privileged) return all;
  const add = o.CapAdd.map((c) => normalizeCap(c, '--cap-add'));
  const drop = o.CapDrop.map((c) => normalizeCap(c, '--cap-drop'));
  if (add.includes('ALL')) return all.filter((c) => !drop.includes(c));
  let set = new Set<CapName>(drop.includes('ALL') ? [] : DEFAULT_CAPS.filter((c) => !drop.includes(c)));
  for (const c of add) if (c !== 'ALL') set.add(c);
  set = new Set(all.filter((c) => set.has(c))); // in number order
  return [...set];
}

export type SeccompChoice = { readonly kind: 'default' } | { readonly kind: 'unconfined' } | { readonly kind: 'profile'; readonly json: string };

export interface ParsedSecurityOpt {
  readonly noNewPrivileges: boolean;
  readonly seccomp: SeccompChoice;
}

/**
 * `--security-opt`: no-new-privileges[:true|false] (also "=", as Docker accepts), seccomp=unconfined,
 * seccomp=<profile JSON text> (the CLI reads the file: the record keeps its content, as Docker's
 * HostConfig does), label=disable and apparmor=unconfined (accepted: berth has no LSM profile to
 * disable). Anything else is an error naming the option.
 */
export function parseSecurityOpt(opts: readonly string[]): ParsedSecurityOpt {
  let noNewPrivileges = false;
  let seccomp: SeccompChoice = { kind: 'default' };
  for (const raw of opts) {
    const opt = raw.trim();
    const nnp = /^no-new-privileges(?:[:=](true|false))?$/.exec(opt);
    if (nnp) { noNewPrivileges = nnp[1] !== 'false'; continue; }
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'seccomp' && value !== '') {
      if (value === 'unconfined') seccomp = { kind: 'unconfined' };
      else if (value === 'builtin') seccomp = { kind: 'default' };
      else seccomp = { kind: 'profile', json: value };
      continue;
    }
    if ((key === 'label' && value === 'disable') || (key === 'apparmor' && value === 'unconfined')) continue;
    throw new InvalidArgument(`invalid --security-opt: "${opt.length > 80 ? `${opt.slice(0, 80)}…` : opt}": expected no-new-privileges, seccomp=unconfined or seccomp=<profile.json>`);
  }
  return { noNewPrivileges, seccomp };
}

/** The filter the shim compiles, or undefined for none (unconfined, privileged). */
export function seccompFor(o: SecurityOptions, caps: readonly CapName[], ctx: { nodeArch?: string; kernel?: string } = {}): ResolvedSeccomp | undefined {
  const { seccomp } = parseSecurityOpt(o.SecurityOpt);
  if (seccomp.kind === 'unconfined') return undefined;
  // Docker: a privileged container runs without seccomp unless a profile is given explicitly
  if (o.Privileged && seccomp.kind === 'default') return undefined;
  if (seccomp.kind === 'profile') return resolveProfile(parseProfile(seccomp.json, 'given with --security-opt'), { caps: new Set(caps.map((c) => `CAP_${c}`)), ...ctx });
  // Docker's default profile, resolved for a capability set: the same few sets come back at every
  // create and start (resolving walks ~400 rules: it was a tenth of `up -d`'s time on the loop)
  const key = `${[...caps].sort().join(',')}|${ctx.nodeArch ?? ''}|${ctx.kernel ?? ''}`;
  let resolved = DEFAULT_RESOLVED.get(key);
  if (!resolved) {
    if (DEFAULT_RESOLVED.size >= 32) DEFAULT_RESOLVED.clear();
    resolved = resolveProfile(DEFAULT_SECCOMP_PROFILE, { caps: new Set(caps.map((c) => `CAP_${c}`)), ...ctx });
    DEFAULT_RESOLVED.set(key, resolved);
  }
  return resolved;
}

/** The hash naming a resolved filter in the shim's cache; the default profile's (cached above) is taken once. */
function filterKey(seccomp: ResolvedSeccomp): string {
  let key = FILTER_KEYS.get(seccomp);
  if (key === undefined) {
    key = createHash('sha256').update(JSON.stringify(seccomp)).digest('hex');
    FILTER_KEYS.set(seccomp, key);
  }
  return key;
}
const FILTER_KEYS = new WeakMap<ResolvedSeccomp, string>();

/** The default profile resolved per capability set and context (bounded: a handful of sets in practice). */
const DEFAULT_RESOLVED = new Map<string, ResolvedSeccomp>();

// ── sysctls ────────────────────────────────────────────────────────────────────────────────

/** Docker's namespaced sysctls: only these may be set for a container with its own namespaces. */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function validateSysctls(sysctls: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(sysctls)) {
    const ok = IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.') || name.startsWith('net.');
    if (!ok || !/^[a-z0-9_.-]+$/.test(name) || name.includes('..')) {
      throw new InvalidArgument(`sysctl "${name}" is not allowed: only namespaced sysctls (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*) can be set in a container`);
    }
    if (/[\n\0]/.test(value) || value.length > 4096) throw new InvalidArgument(`sysctl "${name}": invalid value`);
  }
}

/**
 * Docker sets these in every container with its own network namespace (since 20.10): binding
 * ports below 1024 needs no capability, and ping needs no raw socket. User sysctls override them.
 */
export const DEFAULT_NETWORK_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_unprivileged_port_start': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};

// ── devices ────────────────────────────────────────────────────────────────────────────────

/** `--device HOST[:CONTAINER][:PERMISSIONS]` → its parts (the host node is stat'ed by the caller). */
export function parseDeviceSpec(spec: string): { host: string; container: string; permissions: string } {
  const parts = spec.split(':');
  let permissions = 'rwm';
  if (parts.length > 1 && /^[rwm]+$/.test(parts[parts.length - 1]!)) permissions = parts.pop()!;
  if (parts.length > 2 || parts[0] === '') throw new InvalidArgument(`invalid device "${spec}": expected HOST[:CONTAINER][:PERMISSIONS]`);
  const host = parts[0]!;
  const container = parts[1] ?? host;
  if (!host.startsWith('/') || !container.startsWith('/dev/') || container.split('/').includes('..')) {
    throw new InvalidArgument(`invalid device "${spec}": the host path must be absolute and the container path under /dev`);
  }
  return { host, container, permissions };
}

/** A --device node's owner as the container sees it: in a remapped container, the ids inside its range. */
export function deviceNodeOwner(o: SecurityOptions, d: DeviceMapping): { uid: number; gid: number } {
  if (o.IdMap === undefined) return { uid: d.uid, gid: d.gid };
  return { uid: hostId(o.IdMap, 'uid', d.uid), gid: hostId(o.IdMap, 'gid', d.gid) };
}

/** The cgroup policy: privileged allows everything; else Docker's default plus each --device. */
export function devicePolicyFor(o: SecurityOptions): DevicePolicy {
  if (o.Privileged) return ALLOW_ALL_DEVICES;
  if (o.Devices.length === 0) return DEFAULT_DEVICE_POLICY;
  const extra: DeviceRule[] = o.Devices.map((d) => ({ type: d.type, major: d.major, minor: d.minor, access: d.CgroupPermissions }));
  return { allowAll: false, allow: [...DEFAULT_DEVICE_POLICY.allow, ...extra] };
}

// ── what create checks, and what every process of the container gets ──────────────────────

/** Rejects what Docker rejects, before anything is created (unknown capability, bad option…). */
export function checkSecurity(o: SecurityOptions): void {
  const caps = resolveCaps(o);
  seccompFor(o, caps);
  validateSysctls(o.Sysctls);
  for (const g of o.GroupAdd) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(g) || g.length > 256) throw new InvalidArgument(`invalid group_add entry "${g}": expected a group name or id`);
  }
}

/** The process-level privileges: the same for PID 1, `exec` and health probes. */
export interface ProcessPrivileges {
  /** capability numbers kept in the bounding set */
  readonly caps: readonly number[];
  readonly noNewPrivs: boolean;
  readonly seccomp: (ResolvedSeccomp & { readonly cache?: { readonly dir: string; readonly key: string } }) | undefined;
  readonly groupAdd: readonly string[];
  /** a remapped container's range: exec and health probes enter its user namespace */
  readonly userns?: { readonly uid: number; readonly gid: number; readonly count: number };
}

/**
 * seccompCacheDir: where the shim may keep the compiled filter (keyed by a hash of the rules), so
 * that only the first start with a given filter pays libseccomp's compile (native/src/seccomp.h).
 */
export function processPrivileges(o: SecurityOptions, seccompCacheDir?: string): ProcessPrivileges {
  const caps = resolveCaps(o);
  const seccomp = seccompFor(o, caps);
  const key = seccomp && seccompCacheDir ? filterKey(seccomp) : undefined;
  return {
    caps: caps.map((c) => CAP[c]),
    // Docker: off unless asked for; the seccomp filter, not no_new_privs, is what the boundary rests on
    noNewPrivs: parseSecurityOpt(o.SecurityOpt).noNewPrivileges,
    seccomp: seccomp && key ? { ...seccomp, cache: { dir: seccompCacheDir!, key } } : seccomp,
    groupAdd: o.GroupAdd,
    ...(o.IdMap ? { userns: { uid: o.IdMap.Uid, gid: o.IdMap.Gid, count: o.IdMap.Count } } : {}),
  };
}

// ── from flags or compose keys ─────────────────────────────────────────────────────────────

/** Docker's flags / compose keys as written; buildSecurity checks and resolves them. */
export interface SecurityInput {
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly privileged?: boolean;
  readonly securityOpt?: readonly string[];
  readonly readOnly?: boolean;
  /** `--device` specs: HOST[:CONTAINER][:PERMISSIONS] */
  readonly devices?: readonly string[];
  /** "k=v" (--sysctl) or a map (compose) */
  readonly sysctls?: readonly string[] | Readonly<Record<string, string | number>>;
  readonly groupAdd?: readonly (string | number)[];
  /** userns_mode / --userns: "host" (default) or "remap" */
  readonly usernsMode?: string;
  /** where a relative `seccomp=<profile.json>` path is resolved */
  readonly baseDir: string;
}

/** The host facts buildSecurity reads (injected in tests). */
export interface SecurityHost {
  readFile(path: string, maxBytes: number): string;
  /** a device node's kind, numbers, mode and owner; throws when it is not a device */
  statDevice(path: string): Omit<DeviceNodeSpec, 'path'>;
  /** /etc/subuid and /etc/subgid (userns.ts readIdFiles when absent) */
  readIdFiles?(): IdFiles;
}

export function buildSecurity(input: SecurityInput, host: SecurityHost): SecurityOptions {
  const securityOpt = (input.securityOpt ?? []).map((opt) => {
    const m = /^seccomp[=:](.+)$/.exec(opt.trim());
    if (!m || m[1] === 'unconfined' || m[1] === 'builtin') return opt.trim();
    // a profile file: its content goes into the record (as Docker's HostConfig keeps it)
    const path = m[1]!.startsWith('/') ? m[1]! : `${input.baseDir}/${m[1]}`;
    const text = host.readFile(path, MAX_PROFILE_FILE);
    parseProfile(text, `"${path}"`);
    return `seccomp=${text}`;
  });
  const sysctls: Record<string, string> = {};
  if (Array.isArray(input.sysctls)) {
    for (const kv of input.sysctls as readonly string[]) {
      const at = kv.indexOf('=');
      if (at <= 0) throw new InvalidArgument(`invalid sysctl "${kv}": expected name=value`);
      sysctls[kv.slice(0, at).trim()] = kv.slice(at + 1).trim();
    }
  } else {
    for (const [k, v] of Object.entries(input.sysctls ?? {})) sysctls[k] = String(v);
  }
  const devices = (input.devices ?? []).map((spec) => {
    const { host: hostPath, container, permissions } = parseDeviceSpec(spec);
    let node;
    try {
      node = host.statDevice(hostPath);
    } catch (err) {
      throw new InvalidArgument(`error gathering device information while adding custom device "${hostPath}": ${(err as Error).message}`);
    }
    return { PathOnHost: hostPath, PathInContainer: container, CgroupPermissions: permissions, ...node };
  });
  const usernsMode = parseUsernsMode(input.usernsMode);
  if (usernsMode === 'remap' && input.privileged) {
    // Docker's refusal, word for word
    throw new InvalidArgument('privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode');
  }
  const o: SecurityOptions = {
    ...(usernsMode === 'remap' ? { UsernsMode: usernsMode, IdMap: resolveIdMap((host.readIdFiles ?? readIdFiles)()) } : {}),
    CapAdd: input.capAdd ?? [],
    CapDrop: input.capDrop ?? [],
    Privileged: input.privileged ?? false,
    SecurityOpt: securityOpt,
    ReadonlyRootfs: input.readOnly ?? false,
    Devices: devices,
    Sysctls: sysctls,
    GroupAdd: (input.groupAdd ?? []).map(String),
  };
  checkSecurity(o);
  return o;
}

const MAX_PROFILE_FILE = 1024 * 1024;

/** The real host: node:fs, regular files and device nodes only. */
export const nodeSecurityHost: SecurityHost = {
  readFile(path, maxBytes) {
    let st;
    try { st = statSync(path); } catch (err) { throw new InvalidArgument(`opening seccomp profile "${path}" failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`); }
    if (!st.isFile()) throw new InvalidArgument(`seccomp profile "${path}" is not a regular file`);
    if (st.size > maxBytes) throw new InvalidArgument(`seccomp profile "${path}" is larger than ${maxBytes} bytes`);
    return readFileSync(path, 'utf8');
  },
  statDevice(path) {
    const st = statSync(path);
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new Error('not a device node');
    return { type: st.isCharacterDevice() ? 'c' : 'b', major: (st.rdev >> 8) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  },
};
