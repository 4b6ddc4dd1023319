// `berth-shim exec` with stdin closed and the output captured: what a health probe runs.
//
// Killing it is the subtle part. The shim forks the exec'd process into the container's pid
// namespace; that child dies with the shim (PR_SET_PDEATHSIG) only while it is being set up: the
// shim clears the parent-death signal just before execve, so that an exec'd process, like the
// container's own PID 1, does not die with its supervisor. It also calls setsid(), so it leads a
// session of its own. SIGKILL to the shim alone would therefore leave the command running inside
// the container (reparented to the container's PID 1). So on a timeout we:
//   1. find the shim's children (the exec'd process, or the child still in setup);
//   2. SIGKILL each of them and every process of the session it leads (`sh -c 'a; b'` forks; a
//      background job keeps the session) — Docker kills only the exec'd process itself;
//   3. let the shim reap its child and exit (so no zombie is handed to a PID 1 that may never
//      reap), SIGKILLing it if it has not exited within SHIM_GRACE_MS;
//   4. sweep the sessions once more, for a process forked between steps 1 and 2.
// A child forked after step 1 still has its parent-death signal (it clears it only after the
// shim has released it into the cgroup), so the SIGKILL to the shim covers it.
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { realClock, type Clock } from '../lib/clock.js';
import { writeFileAtomic } from '../lib/atomic.js';
import { spawnCaptured, childPids, sessionMembers, signalProcess, type CapturedOutput } from '../sys/spawn.js';
import { encodeDirectives, execDirectives } from './shim/protocol.js';
import { NO_SECURITY, processPrivileges } from './security.js';
import { setEnv } from './process-spec.js';
import type { ContainerRecord } from './state.js';

/** One process to run in a running container (`exec`, health probes). */
export interface ExecRequest {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly tty: boolean;
  readonly stdin: boolean;
  /**
   * `exec --privileged`: every capability for this process, as Docker gives it. The container's
   * seccomp profile stays, resolved for those capabilities (Docker keeps the filter made for the
   * container's own set, so a privileged exec still cannot mount under the default profile).
   */
  readonly privileged?: boolean;
}

/** Docker keeps the first 4096 bytes of a probe's output (daemon/health.go maxOutputLen). */
export const DEFAULT_MAX_OUTPUT = 4096;

/** How long the shim gets to reap its killed child and exit before it is SIGKILLed itself. */
const SHIM_GRACE_MS = 2_000;

export interface ExecCapturedOptions {
  /** the command is killed after this long and reported as timedOut */
  readonly timeoutMs: number;
  /** bytes of stdout+stderr kept; more is dropped and "..." appended (Docker's limitedBuffer) */
  readonly maxOutput?: number;
  /** aborting kills the command as a timeout does, then rejects with an AbortError */
  readonly signal?: AbortSignal;
}

export interface CapturedExec {
  /** the command's exit status (128+n when killed by signal n); -1 when it timed out, as Docker records */
  readonly exitCode: number;
  /** stdout and stderr interleaved, at most maxOutput bytes, then "..." if more was written */
  readonly output: string;
  readonly timedOut: boolean;
}

/** What a running container contributes to an exec: its record, pid 1 and cgroup procs dirs. */
export interface ExecTarget {
  readonly record: ContainerRecord;
  readonly bundle: string;
  readonly pid: number;
  readonly cgroupProcsDirs: readonly string[];
  /** where the shim may keep the compiled seccomp filter (BERTH_ROOT/seccomp) */
  readonly seccompCacheDir?: string;
}

/** The shim to run and its environment (the runtime's own options). */
export interface ShimCommand {
  readonly shimPath: string;
  readonly env: NodeJS.ProcessEnv;
}

function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

/** The container's environment with the request's K=V entries replacing or appended (as `exec`). */
function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const env = [...base];
  for (const e of extra) setEnv(env, e);
  return env;
}

/**
 * Writes the launch file of one exec into the container's directory (deleted by the caller once
 * the shim is done with it; so not fsynced). With a tty, TERM defaults to xterm as Docker sets it.
 */
export function writeExecLaunch(target: ExecTarget, req: ExecRequest): string {
  const file = join(target.bundle, `exec-${randomBytes(8).toString('hex')}.launch`);
  const env = mergeEnv(target.record.config.Env, req.env);
  // exactly the container's privileges (an exec or a health probe gets no more than PID 1),
  // unless the request asks for every capability
  const security = target.record.hostConfig.Security ?? NO_SECURITY;
  const privileges = processPrivileges(req.privileged ? { ...security, CapAdd: ['ALL'], CapDrop: [] } : security, target.seccompCacheDir);
  writeFileAtomic(file, encodeDirectives(execDirectives({
    pid: target.pid,
    cgroups: target.cgroupProcsDirs,
    args: req.args,
    env: req.tty && !env.some((e) => e.startsWith('TERM=')) ? [...env, 'TERM=xterm'] : env,
    cwd: req.workdir ?? target.record.config.WorkingDir,
    user: req.user ?? target.record.config.User,
    caps: privileges.caps,
    noNewPrivs: privileges.noNewPrivs,
    groupAdd: privileges.groupAdd,
    seccomp: privileges.seccomp,
    tty: req.tty,
    stdin: req.stdin,
    ...(privileges.userns ? { userns: privileges.userns } : {}),
  })), { durable: false });
  return file;
}

/**
 * SIGKILLs every live process of each session. `withLeader`: the leader's pid is known to be
 * live or an unreaped zombie (so it is still the leader's), and is signalled directly too — before
 * its setsid() it is not yet in a session of its own.
 */
function killSessions(leaders: readonly number[], withLeader: boolean): void {
  for (const leader of leaders) {
    if (withLeader) signalProcess(leader, 9);
    // While any process of the session lives, the kernel does not hand its id out again, so every
    // member found here is ours.
    for (const pid of sessionMembers(leader)) if (pid !== leader || withLeader) signalProcess(pid, 9);
  }
}

/** Kills the exec'd process tree and then the shim; resolves once the shim has exited. */
async function killExec(child: { readonly pid: number; readonly done: Promise<unknown>; unreaped(): boolean }, clock: Clock): Promise<void> {
  if (!child.unreaped()) return; // it exited on its own meanwhile: its child is gone with it
  // Synchronous from the check above: the shim cannot be reaped (its pid reused) in between.
  const leaders = childPids(child.pid);
  killSessions(leaders, true);
  if (leaders.length === 0) {
    signalProcess(child.pid, 9);
  } else {
    const grace = new AbortController();
    const exited = await Promise.race([
      child.done.then(() => true, () => true),
      clock.sleep(SHIM_GRACE_MS, grace.signal).then(() => false, () => false),
    ]);
    grace.abort();
    if (!exited && child.unreaped()) signalProcess(child.pid, 9);
  }
  await child.done.catch(() => undefined);
  // A process forked between the scan and the kill above escaped it: sweep once more. The
  // leaders are reaped by now, so their own pids are left alone.
  killSessions(leaders, false);
}

function statusOf(r: CapturedOutput): number {
  if (r.code !== null) return r.code;
  const signo = r.signal ? osConstants.signals[r.signal] : undefined;
  return signo !== undefined ? 128 + signo : -1;
}

function outputOf(r: CapturedOutput): string {
  // Decoding replaces an invalid or cut UTF-8 sequence with U+FFFD, as Go's JSON encoding of
  // Docker's byte buffer does.
  return r.output.toString('utf8') + (r.truncated ? '...' : '');
}

/**
 * Runs `req.args` inside the container `target` through `berth-shim exec`, stdin closed and
 * stdout+stderr captured; kills the whole exec'd session on timeout or abort (see the header).
 */
export async function execCapturedIn(shim: ShimCommand, target: ExecTarget, req: ExecRequest, opts: ExecCapturedOptions, clock: Clock = realClock): Promise<CapturedExec> {
  if (opts.signal?.aborted) throw abortError();
  const file = writeExecLaunch(target, { ...req, tty: false, stdin: false });
  try {
    const child = spawnCaptured(shim.shimPath, ['exec', file], shim.env, opts.maxOutput ?? DEFAULT_MAX_OUTPUT);
    const done = child.done;
    const stopTimer = new AbortController();
    const expiry = clock.sleep(Math.max(0, opts.timeoutMs), stopTimer.signal).then(() => 'timeout' as const, () => 'none' as const);
    let markAborted = (): void => undefined;
    const aborted = new Promise<'abort'>((resolve) => { markAborted = () => resolve('abort'); });
    const onAbort = (): void => markAborted();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const first = await Promise.race([done.then(() => 'exited' as const, () => 'exited' as const), expiry, aborted]);
    stopTimer.abort();
    opts.signal?.removeEventListener('abort', onAbort);
    if (first !== 'exited') await killExec(child, clock);
    if (first === 'abort') throw abortError();
    const r = await done;
    if (first === 'timeout') return { exitCode: -1, output: outputOf(r), timedOut: true };
    return { exitCode: statusOf(r), output: outputOf(r), timedOut: false };
  } finally {
    try { unlinkSync(file); } catch { /* gone */ }
  }
}
