// A container's lifecycle: what is stored (the record, written by berth) and what is observed
// (the shim's `started`/`exited` files and whether the shim still lives). Status is derived, not
// stored, so a crash between two writes can never leave a status that lies.
import { readFileSync, existsSync } from 'node:fs';
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
}

/** Reads the shim's files in `bundle` and decides the status. */
export function observe(bundle: string): Observed {
  const started = readJson<StartedRecord>(join(bundle, 'started'));
  const exited = readJson<ExitedRecord>(join(bundle, 'exited'));
  let error: string | undefined;
  try { error = readFileSync(join(bundle, 'error'), 'utf8').trim(); } catch { /* none */ }
  if (exited) return { status: 'exited', started, exited, error };
  if (started) {
    // `paused` is written by pause (after freezing the cgroup) and removed by unpause.
    if (shimAlive(started.shimPid)) return { status: existsSync(join(bundle, 'paused')) ? 'paused' : 'running', started };
    // The shim died without writing `exited` (SIGKILL, host crash): the container is gone with
    // it, since its PID 1 dies with the pid namespace's parent only if it was killed too; report
    // it as exited with Docker's code for an unknown end.
    return { status: 'exited', started, exited: { exitCode: 255, signal: 0, oomKilled: false, finishedAt: '' }, error: 'supervisor lost' };
  }
  // A start that failed before exec leaves the container created, with the error (as Docker does).
  return { status: 'created', error };
}

function shimAlive(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    // pid reuse guard: the process must still be a berth-shim.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-shim');
  } catch {
    return false;
  }
}
