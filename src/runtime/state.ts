// A container's lifecycle: what is stored (the record, written by berth) and what is observed
// (the shim's `started`/`exited` files and whether the shim still lives). Status is derived, not
// stored, so a crash between two writes can never leave a status that lies.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict } from '../lib/errors.js';
import { readJson } from '../lib/atomic.js';
import { processAlive } from '../sys/spawn.js';
import type { ExitedRecord, StartedRecord, LaunchMount } from './shim/protocol.js';
import type { CgroupLimits } from './cgroups/driver.js';
import type { SecurityOptions } from './security.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing' | 'dead';

/** Legal moves between statuses (runc's and Docker's lifecycle). */
const TRANSITIONS: Readonly<Record<ContainerStatus, readonly ContainerStatus[]>> = {
  created: ['running', 'exited', 'removing'],
  running: ['paused', 'exited', 'restarting'],
  paused: ['running', 'exited'],
  restarting: ['running', 'exited'],
  exited: ['running', 'removing', 'restarting'],
  removing: ['dead'],
  dead: ['removing'],
};

export function checkTransition(id: string, from: ContainerStatus, to: ContainerStatus): void {
  if (!TRANSITIONS[from].includes(to)) throw new Conflict(`container ${id.slice(0, 12)} is ${from}: cannot move to ${to}`);
}

/** A health check as Docker's Config.Healthcheck holds it: durations in nanoseconds. */
export interface HealthcheckConfig {
  /** ["CMD", argv…], ["CMD-SHELL", command] or ["NONE"] */
  readonly Test: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/**
 * A container's networking as it was asked for, in the runtime's own terms: what inspect shows
 * (HostConfig.NetworkMode, PortBindings, Dns…) and what the engine makes the container's network
 * sandbox again from when it is gone (after a reboot, BERTH_RUN is empty). The runtime records it
 * and never acts on it: the network facility does, through the engine.
 */
export interface RecordedNetwork {
  /** "bridge" (the endpoints below), "none", "host" or "container:<id>" */
  readonly mode: string;
  /** network_mode service:X: the service whose container was joined (joined again when it was recreated) */
  readonly joinedService?: string;
  readonly dns: readonly string[];
  readonly dnsSearch: readonly string[];
  readonly dnsOptions: readonly string[];
  /** "host:ip" (ip may be host-gateway) */
  readonly extraHosts: readonly string[];
  /** in connection order: the first is eth0 */
  readonly endpoints: readonly RecordedEndpoint[];
  readonly ports: readonly RecordedPort[];
  /** ports exposed without publishing (compose `expose`, image EXPOSE): shown by inspect */
  readonly expose: readonly string[];
}

export interface RecordedEndpoint {
  /** the network's name on the host (compose: "<project>_<key>" or its `name:`) */
  readonly network: string;
  /** the names the embedded resolver answers for this container there (container name first) */
  readonly names: readonly string[];
  /** the user's aliases among them (inspect's Aliases) */
  readonly aliases: readonly string[];
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
  readonly macAddress?: string;
  readonly interfaceName?: string;
  /** this network carries the default route (gw_priority) */
  readonly defaultRoute?: boolean;
}

export interface RecordedPort {
  readonly protocol: 'tcp' | 'udp';
  /** absent: every address */
  readonly hostIp?: string;
  /** absent: a random free port */
  readonly hostPort?: { readonly start: number; readonly end: number };
  readonly containerPort: { readonly start: number; readonly end: number };
}

/** What berth writes once at create time (config.v2.json in the container directory). */
export interface ContainerRecord {
  readonly id: string;
  readonly name: string;
  readonly created: string;
  readonly image: string;            // image id (sha256:…)
  readonly imageRef: string;         // as the user wrote it
  readonly path: string;             // argv[0]
  readonly args: readonly string[];  // argv[1..]
  readonly config: {
    readonly Hostname: string;
    readonly User: string;
    readonly Env: readonly string[];
    readonly Cmd: readonly string[];
    readonly Entrypoint: readonly string[];
    readonly WorkingDir: string;
    readonly Image: string;
    readonly Labels: Readonly<Record<string, string>>;
    readonly StopSignal: string;
    readonly StopTimeout: number;
    readonly Tty: boolean;
    readonly OpenStdin: boolean;
    /** the image's health check merged with the user's at create (Docker's); absent: none, or a record older than this field */
    readonly Healthcheck?: HealthcheckConfig;
    /** the UTS domain name (compose `domainname`); absent: none */
    readonly Domainname?: string;
  };
  readonly hostConfig: {
    readonly AutoRemove: boolean;
    readonly Init: boolean;
    readonly ShmSize: number;
    readonly limits: CgroupLimits;
    /** absent in records written before ulimits existed */
    readonly Ulimits?: Readonly<Record<string, { readonly soft: number; readonly hard: number }>>;
    readonly RestartPolicy?: { readonly name: string; readonly maximumRetryCount: number };
    /** user mounts in mount order (absent: none); see container.ts RecordedMount */
    readonly Mounts?: readonly (LaunchMount & { readonly kind: 'bind' | 'volume' | 'tmpfs'; readonly name?: string })[];
    /** the network namespace the shim joins (src/network's sandbox); absent: a fresh one, lo only */
    readonly NetnsPath?: string;
    /** the networking asked for at create (absent: none, a record older than networking) */
    readonly Network?: RecordedNetwork;
    /** privileges as asked for (runtime/security.ts); absent in records written before they existed */
    readonly Security?: SecurityOptions;
    /** json-file options as given (--log-opt, logging.options) */
    readonly LogOptions?: Readonly<Record<string, string>>;
  };
  readonly cgroupName: string;
  readonly layer: { readonly id: string; readonly lower: readonly string[] };
  /** true once `stop`/`kill` by the user was asked for: restart policies must not undo it */
  readonly stoppedByUser?: boolean;
}

export interface Observed {
  readonly status: ContainerStatus;
  readonly started?: StartedRecord;
  readonly exited?: ExitedRecord;
  readonly error?: string;
  /**
   * Set when processes run in the container's cgroup with no supervisor of theirs alive (the shim
   * was killed, or its `started` record deleted): the status is then `dead`, nothing may start
   * the container again (a second instance on the same upper dir), and the engine kills them
   * (ContainerRuntime.reapLost) before a restart policy or a removal goes on.
   */
  readonly lost?: { readonly pids: readonly number[] };
}

/** What observe() asks the kernel, only when the shim's files and its liveness disagree. */
export interface KernelProbe {
  /** the pids in the container's cgroup (none when it has no cgroup) */
  cgroupPids(): readonly number[];
}

/** What observe() found of a file it could not read as JSON: the status says so, with the file. */
function readRecord<T>(path: string, bad: string[]): T | undefined {
  try {
    return readJson<T>(path);
  } catch (err) {
    bad.push((err as Error).message);
    return undefined;
  }
}

/**
 * Reads the shim's files in `bundle` and decides the status. Never throws for a bad file: a torn
 * or garbage `started`/`exited` makes the container `dead` with the reason.
 *
 * The order of the reads matters. The shim writes `exited`, then exits; so `exited` is read again
 * *after* the shim is seen gone — reading it only before would report a clean exit as "supervisor
 * lost" when the shim finishes between the two reads. A shim that is gone without an `exited`
 * record was killed: whether the container went with it is judged from the kernel (its cgroup),
 * never from the shim alone.
 */
export function observe(bundle: string, kernel?: KernelProbe): Observed {
  let names: string[];
  try { names = readdirSync(bundle); } catch { names = []; }
  const has = (f: string): boolean => names.includes(f);
  const bad: string[] = [];
  const started = has('started') ? readRecord<StartedRecord>(join(bundle, 'started'), bad) : undefined;
  let exited = has('exited') ? readRecord<ExitedRecord>(join(bundle, 'exited'), bad) : undefined;
  let error: string | undefined;
  if (has('error')) { try { error = readFileSync(join(bundle, 'error'), 'utf8').trim(); } catch { /* removed meanwhile */ } }
  if (has('removing')) return { status: 'removing', started, exited, error };
  if (bad.length > 0) return { status: 'dead', started, exited, error: bad.join('; ') };
  if (exited) return { status: 'exited', started, exited, error };
  if (started) {
    // `paused` is written by pause (after freezing the cgroup) and removed by unpause.
    if (shimAlive(started.shimPid, bundle)) return { status: has('paused') ? 'paused' : 'running', started };
    // the shim may have written `exited` and quit since the first read
    exited = readRecord<ExitedRecord>(join(bundle, 'exited'), bad);
    if (exited) return { status: 'exited', started, exited, error };
    const pids = kernel?.cgroupPids() ?? [];
    if (pids.length > 0) {
      return { status: 'dead', started, error: `supervisor lost: ${pids.length} process${pids.length === 1 ? '' : 'es'} still in the container's cgroup`, lost: { pids } };
    }
    // The shim and the container are both gone and nobody recorded the end (SIGKILL of both, a
    // host crash): Docker's code for an unknown end.
    return { status: 'exited', started, exited: { exitCode: 255, signal: 0, oomKilled: false, finishedAt: '' }, error: 'supervisor lost' };
  }
  // No `started`: created — unless processes run in its cgroup (its `started` record was deleted)
  // with no shim of this container starting it right now.
  // A shim of this container that has run longer than any start takes (START_GRACE_MS) without
  // writing `started` is not starting it: its record was deleted, and nobody can stop or see the
  // container through it — judged like a lost supervisor (its processes are killed, never joined).
  if (kernel) {
    const pids = kernel.cgroupPids();
    if (pids.length > 0) {
      const shim = shimParentOf(pids, bundle) ?? runShimOf(bundle);
      if (shim === undefined) {
        return { status: 'dead', error: `supervisor lost: ${pids.length} process${pids.length === 1 ? '' : 'es'} in the container's cgroup but no record of a start`, lost: { pids } };
      }
      const age = processAgeMs(shim);
      if (age !== undefined && age > START_GRACE_MS) {
        return { status: 'dead', error: `supervisor lost: no record of a start, yet its supervisor (pid ${shim}) has run for ${Math.round(age / 1000)} s`, lost: { pids } };
      }
    }
  }
  // A start that failed before exec leaves the container created, with the error (as Docker does).
  return { status: 'created', error };
}

/** The container's own shim (`berth-shim run … <bundle>/launch`), not another's that reused the pid. */
function shimAlive(pid: number, bundle: string): boolean {
  if (!processAlive(pid)) return false;
  try {
    return isRunShimOf(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), bundle);
  } catch {
    return false;
  }
}

function isRunShimOf(cmdline: string, bundle: string): boolean {
  const argv = cmdline.split('\0');
  return (argv[0] ?? '').endsWith('berth-shim') && argv[1] === 'run' && argv.includes(join(bundle, 'launch'));
}

/** The longest a shim may take between its launch and its `started` record under heavy load. */
export const START_GRACE_MS = 15_000;

/** Whether a shim is starting this container (between its launch and its `started` record): a /proc scan, for the rare case only. */
export function startingShim(bundle: string): boolean {
  return runShimOf(bundle) !== undefined;
}

/** The pid of a live `berth-shim run` of this bundle, if any. */
function runShimOf(bundle: string): number | undefined {
  let pids: string[];
  try { pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)); } catch { return undefined; }
  for (const pid of pids) {
    let cmdline: string;
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    if (isRunShimOf(cmdline, bundle) && processAlive(Number(pid))) return Number(pid);
  }
  return undefined;
}

/**
 * The container's own shim found as the parent of one of its processes (a shim forks the
 * container's first process): a few /proc reads instead of runShimOf's scan of every process on
 * the host, which the supervisor's look paid for every container being started (issue 17: the
 * engine's event loop stalled during `up -d` of 30 services). Undefined when no parent is its
 * shim; the caller then scans.
 */
function shimParentOf(pids: readonly number[], bundle: string): number | undefined {
  for (const pid of pids.slice(0, 8)) {
    let ppid: number;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch { continue; }
    if (!(ppid > 1)) continue;
    try {
      if (isRunShimOf(readFileSync(`/proc/${ppid}/cmdline`, 'utf8'), bundle) && processAlive(ppid)) return ppid;
    } catch { /* gone meanwhile */ }
  }
  return undefined;
}

/** How long a process has run (its start time in /proc/<pid>/stat against /proc/uptime). */
function processAgeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    // USER_HZ is 100 on every Linux architecture berth runs on
    return uptimeS * 1000 - (startTicks / 100) * 1000;
  } catch {
    return undefined;
  }
}
