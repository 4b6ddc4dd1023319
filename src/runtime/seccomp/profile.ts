// Seccomp profiles in Docker's JSON format (`--security-opt seccomp=<profile.json>`, and the
// default in default-profile.ts), resolved for one container as moby's setupSeccomp does: a rule
// applies when its `includes` hold (every listed capability is in the container's set, the
// architecture is this host's, the kernel is at least minKernel) and none of its `excludes` does.
// The result is the flat list the launch file carries (shim/protocol.ts); the shim compiles it.
import { release } from 'node:os';
import { InvalidArgument } from '../../lib/errors.js';

export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: string;
}

export interface SeccompFilterCond {
  readonly caps?: readonly string[];
  readonly arches?: readonly string[];
  readonly minKernel?: string;
}

export interface SeccompSyscall {
  readonly names?: readonly string[];
  /** the older single-name form */
  readonly name?: string;
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[] | null;
  readonly includes?: SeccompFilterCond;
  readonly excludes?: SeccompFilterCond;
  readonly comment?: string;
}

export interface SeccompProfile {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly architectures?: readonly string[] | null;
  readonly archMap?: readonly { readonly architecture: string; readonly subArchitectures: readonly string[] | null }[] | null;
  readonly syscalls?: readonly SeccompSyscall[] | null;
}

/** One action as the launch file names it: allow, errno, kill_thread, kill_process, trap, log, trace. */
export interface ResolvedAction { readonly action: string; readonly errno: number }

export interface ResolvedSeccomp {
  readonly defaultAction: ResolvedAction;
  /** extra architectures by libseccomp name ("x86", "x32"); the native one is always in the filter */
  readonly arches: readonly string[];
  readonly rules: readonly (ResolvedAction & { readonly syscall: string; readonly args: string })[];
}

const ACTIONS: Readonly<Record<string, string>> = {
  SCMP_ACT_ALLOW: 'allow', SCMP_ACT_ERRNO: 'errno', SCMP_ACT_KILL: 'kill_thread', SCMP_ACT_KILL_THREAD: 'kill_thread',
  SCMP_ACT_KILL_PROCESS: 'kill_process', SCMP_ACT_TRAP: 'trap', SCMP_ACT_LOG: 'log', SCMP_ACT_TRACE: 'trace',
};
const OPS: Readonly<Record<string, string>> = {
  SCMP_CMP_NE: 'ne', SCMP_CMP_LT: 'lt', SCMP_CMP_LE: 'le', SCMP_CMP_EQ: 'eq', SCMP_CMP_GE: 'ge', SCMP_CMP_GT: 'gt', SCMP_CMP_MASKED_EQ: 'masked_eq',
};

/** Node's process.arch → [Go's GOARCH (what profiles' `arches` name), libseccomp's SCMP_ARCH_*]. */
const HOST_ARCH: Readonly<Record<string, readonly [string, string]>> = {
  x64: ['amd64', 'SCMP_ARCH_X86_64'], arm64: ['arm64', 'SCMP_ARCH_AARCH64'], ia32: ['386', 'SCMP_ARCH_X86'],
  arm: ['arm', 'SCMP_ARCH_ARM'], s390x: ['s390x', 'SCMP_ARCH_S390X'], ppc64: ['ppc64le', 'SCMP_ARCH_PPC64LE'],
  riscv64: ['riscv64', 'SCMP_ARCH_RISCV64'], mips64el: ['mips64le', 'SCMP_ARCH_MIPSEL64'],
};

/** Largest profile file read (Docker's default is 20 KB). */
export const MAX_PROFILE_BYTES = 1024 * 1024;

function bad(where: string, what: string): InvalidArgument {
  return new InvalidArgument(`seccomp profile ${where}: ${what}`);
}

/** Parses and checks a profile's JSON text; errors name the field. */
export function parseProfile(text: string, where: string): SeccompProfile {
  if (Buffer.byteLength(text) > MAX_PROFILE_BYTES) throw bad(where, `larger than ${MAX_PROFILE_BYTES} bytes`);
  let p: unknown;
  try { p = JSON.parse(text); } catch (err) { throw bad(where, `not JSON: ${(err as Error).message}`); }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad(where, 'expected a JSON object');
  const profile = p as SeccompProfile;
  if (typeof profile.defaultAction !== 'string' || !(profile.defaultAction in ACTIONS)) throw bad(where, `defaultAction: unknown action ${JSON.stringify(profile.defaultAction)}`);
  (profile.syscalls ?? []).forEach((s, i) => {
    if (typeof s !== 'object' || s === null) throw bad(where, `syscalls[${i}]: expected an object`);
    if (!(s.action in ACTIONS)) throw bad(where, `syscalls[${i}].action: unknown action ${JSON.stringify(s.action)}`);
    const names = s.names ?? (s.name !== undefined ? [s.name] : []);
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || !/^[a-z0-9_]+$/.test(n))) throw bad(where, `syscalls[${i}].names: expected syscall names`);
    (s.args ?? []).forEach((a, j) => {
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw bad(where, `syscalls[${i}].args[${j}].index: expected 0..5`);
      if (!(a.op in OPS)) throw bad(where, `syscalls[${i}].args[${j}].op: unknown operator ${JSON.stringify(a.op)}`);
      if (!Number.isSafeInteger(a.value) || a.value < 0 || (a.valueTwo !== undefined && (!Number.isSafeInteger(a.valueTwo) || a.valueTwo < 0))) throw bad(where, `syscalls[${i}].args[${j}]: values must be non-negative integers`);
    });
    if ((s.args?.length ?? 0) > 6) throw bad(where, `syscalls[${i}].args: at most 6 conditions`);
  });
  return profile;
}

function kernelAtLeast(kernel: string, min: string): boolean {
  const v = kernel.split(/[.-]/).map(Number);
  const m = min.split('.').map(Number);
  for (let i = 0; i < m.length; i++) {
    if ((v[i] ?? 0) !== m[i]) return (v[i] ?? 0) > m[i]!;
  }
  return true;
}

function holds(cond: SeccompFilterCond | undefined, caps: ReadonlySet<string>, arch: string, kernel: string, all: boolean): boolean {
  if (cond === undefined) return all;
  const tests: boolean[] = [];
  if (cond.caps && cond.caps.length > 0) tests.push(all ? cond.caps.every((c) => caps.has(c)) : cond.caps.some((c) => caps.has(c)));
  if (cond.arches && cond.arches.length > 0) tests.push(cond.arches.includes(arch));
  if (cond.minKernel) tests.push(kernelAtLeast(kernel, cond.minKernel));
  return all ? tests.every((t) => t) : tests.some((t) => t);
}

function action(name: string, errnoRet: number | undefined, fallbackErrno: number): ResolvedAction {
  const a = ACTIONS[name]!;
  return { action: a, errno: a === 'errno' ? (errnoRet ?? fallbackErrno) : a === 'trace' ? (errnoRet ?? 0) : 0 };
}

export interface ResolveContext {
  /** the container's capabilities, "CAP_" names */
  readonly caps: ReadonlySet<string>;
  /** process.arch; the host's by default */
  readonly nodeArch?: string;
  /** uname -r; the host's by default */
  readonly kernel?: string;
}

export function resolveProfile(profile: SeccompProfile, ctx: ResolveContext): ResolvedSeccomp {
  const [goArch, scmpArch] = HOST_ARCH[ctx.nodeArch ?? process.arch] ?? ['', ''];
  const kernel = ctx.kernel ?? release();
  const defaultErrno = profile.defaultErrnoRet ?? 1; // EPERM, as Docker
  let arches: readonly string[] = profile.architectures ?? [];
  if (arches.length === 0) {
    const entry = (profile.archMap ?? []).find((m) => m.architecture === scmpArch);
    arches = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [];
  }
  const rules: (ResolvedAction & { syscall: string; args: string })[] = [];
  for (const s of profile.syscalls ?? []) {
    if (!holds(s.includes, ctx.caps, goArch, kernel, true)) continue;
    if (s.excludes !== undefined && holds(s.excludes, ctx.caps, goArch, kernel, false)) continue;
    const a = action(s.action, s.errnoRet, defaultErrno);
    const args = (s.args ?? []).map((c) => `${c.index}:${OPS[c.op]}:${c.value}${OPS[c.op] === 'masked_eq' ? `:${c.valueTwo ?? 0}` : ''}`).join(',');
    for (const syscall of s.names ?? (s.name !== undefined ? [s.name] : [])) rules.push({ ...a, syscall, args });
  }
  return {
    defaultAction: action(profile.defaultAction, undefined, defaultErrno),
    // The native architecture is implied; the others go by libseccomp's lower-case names. x32 is
    // left out on purpose: compiling the profile for it costs libseccomp 2.5 about 25 ms at every
    // start and exec (measured: 1 ms native, +5 ms x86, +25 ms x32), and without it an x32-ABI
    // syscall fails libseccomp's architecture check and kills the caller -- stricter than Docker,
    // which filters it; Debian's kernel refuses the x32 ABI by default anyway (syscall.x32=n).
    arches: arches.filter((a) => a !== scmpArch && a !== 'SCMP_ARCH_X32').map((a) => a.replace(/^SCMP_ARCH_/, '').toLowerCase()),
    rules,
  };
}
