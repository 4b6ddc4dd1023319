// The engine's contract: one options type per verb, the records it answers and streams, and the
// error body. Shared by the CLI (through client/) and the engine (engine/routes.ts). Data only:
// no node: imports, no behaviour; what crosses the socket is checked against these types by
// api/validate.ts.
import type { Project } from '../spec/model.js';
import type { ErrorBody } from '../lib/errors.js';
import type { ImageProgressEvent, PullOverride, RegistryAuth } from './image-types.js';

export type * from './image-types.js';

export const API_VERSION = 1;

// ── the engine and the host ──────────────────────────────────────────────────────────────

/** The handshake: what a client learns when it connects (GET /v1/info). */
export interface EngineInfo {
  readonly version: string;
  readonly apiVersion: number;
  readonly pid: number;
  readonly root: string;
}

/** `berth version`'s server half. */
export interface VersionInfo {
  readonly version: string;
  readonly apiVersion: number;
  /** the Node.js running the engine */
  readonly node: string;
  readonly os: string;
  readonly arch: string;
  readonly kernel: string;
  readonly pid: number;
  /** RFC 3339: when this engine started */
  readonly startedAt: string;
}

/** `berth info`: the host as the engine sees it, in the terms of `docker info`. */
export interface SystemInfo {
  readonly serverVersion: string;
  readonly apiVersion: number;
  readonly containers: { readonly total: number; readonly running: number; readonly paused: number; readonly stopped: number };
  readonly images: number;
  readonly storageDriver: string;
  /** the filesystem BERTH_ROOT lives on (overlay2 needs one that supports it: ext4, xfs…) */
  readonly backingFilesystem: string;
  readonly cgroup: {
    /** berth's cgroup driver: it writes cgroupfs itself (never through systemd) */
    readonly driver: 'cgroupfs';
    readonly version: 1 | 2;
    /** v1, v2, or hybrid (v1 controllers with a cgroup2 mount beside them) */
    readonly mode: 'v1' | 'v2' | 'hybrid';
    /** the parent of every container cgroup */
    readonly parent: string;
  };
  readonly kernelVersion: string;
  readonly operatingSystem: string;
  readonly osType: string;
  readonly architecture: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly name: string;
  readonly rootDir: string;
  readonly runDir: string;
  readonly warnings: readonly string[];
}

/** `berth engine status`: the engine process itself. */
export interface EngineStatus {
  readonly pid: number;
  readonly version: string;
  readonly apiVersion: number;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  /** resident set size, bytes */
  readonly rssBytes: number;
  /** process.memoryUsage()'s parts, bytes: V8's heap in use and reserved (every isolate's is in the RSS, but these are
   *  the main thread's), memory of C++ objects tied to JS ones (Buffers' `arrayBuffers` among them) */
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
  readonly root: string;
  readonly run: string;
  readonly socket: string;
  /** containers under the supervisor's care, health monitors running, policy restarts waiting */
  readonly supervised: number;
  readonly healthMonitors: number;
  readonly pendingRestarts: number;
  /** how many looks at every container the supervisor has finished: one more proves every exit before it was acted on */
  readonly looks: number;
  /** clients following GET /v1/events now */
  readonly eventSubscribers: number;
  /** warm container slots (docs/slots.md): the pool's size (BERTH_SLOTS), idle slots ready now, starts that took one */
  readonly slots: { readonly size: number; readonly idle: number; readonly claimed: number };
  /** plan operations (create, start, stop…) begun and not finished, every project's: 0 when no verb is changing anything */
  readonly operationsInProgress: number;
  /** the event loop's delay (perf_hooks) since the last reset: what a slow synchronous step costs everyone */
  readonly eventLoopDelay: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number; readonly sinceMs: number };
}

// ── compose projects ─────────────────────────────────────────────────────────────────────

export interface UpOptions {
  /** services named on the command line (with their dependencies unless noDeps); empty = all */
  readonly services: readonly string[];
  readonly noDeps: boolean;
  readonly forceRecreate: boolean;
  readonly noRecreate: boolean;
  readonly noStart: boolean;
  readonly removeOrphans: boolean;
  /** --scale svc=N, overriding the model's scale */
  readonly scale: Readonly<Record<string, number>>;
  /** --wait: return only once services are running/healthy */
  readonly wait: boolean;
  /** seconds; 0 = no limit */
  readonly waitTimeout: number;
  /** --build: build every service that has a build section before starting */
  readonly build?: boolean;
  /** --no-build: never build (a missing image of a build service is an error) */
  readonly noBuild?: boolean;
  /** --pull: overrides every service's pull_policy */
  readonly pull?: PullOverride;
}

export interface DownOptions {
  readonly removeOrphans: boolean;
  readonly volumes: boolean;
  /** seconds; undefined = each service's stop_grace_period */
  readonly timeout?: number;
}

export interface ServicesOptions {
  readonly services: readonly string[];
}

export interface StopOptions extends ServicesOptions {
  /** seconds; undefined = each container's stop timeout */
  readonly timeout?: number;
}

export interface KillOptions extends ServicesOptions {
  readonly signal: string;
}

export interface PsOptions extends ServicesOptions {
  readonly all: boolean;
}

export interface LogsOptions extends ServicesOptions {
  readonly follow: boolean;
  /** last N lines per container; undefined = all */
  readonly tail?: number;
  /** RFC 3339, epoch seconds, or a duration back from now ("10m"); only records at or after it */
  readonly since?: string;
}

/** Requests carrying the desired state also carry the project itself (the engine keeps it). */
export interface UpRequest { readonly project: Project; readonly options: UpOptions; readonly auth?: RegistryAuth }

/** `compose watch` / `up --watch` (docs/watch.md): watch until the stream ends (Ctrl-C) or the project is taken down. */
export interface WatchOptions {
  /** the services whose develop.watch rules are watched; empty = every service that has some */
  readonly services: readonly string[];
  /** bring the project up first with these options (absent: --no-up, the containers must run already) */
  readonly up?: UpOptions;
  /**
   * `watch -d` / `up -d --watch`: the answer ends once the watch is ready and the engine keeps
   * watching (recorded in the project's state: an engine restart starts it again) until
   * `watch --stop` or `down`
   */
  readonly detach?: boolean;
  /** compose's --prune (default true): after a rebuild, the image it replaced is removed when nothing names or uses it */
  readonly prune?: boolean;
}
/** `auth`: the caller's registry credentials for the up's pulls and the rebuilds' (held in memory while the watch lasts, never stored) */
export interface WatchRequest { readonly project: Project; readonly options: WatchOptions; readonly auth?: RegistryAuth }
/** `watch --stop`: whether a watch was running, and whether it was a detached one */
export interface WatchStopped { readonly stopped: boolean; readonly detached: boolean }
export interface DownRequest { readonly project?: Project; readonly options: DownOptions }

/** `compose run`: a one-off container of a service. Environment entries are K=V (the client resolved bare names). */
export interface ServiceRunRequest {
  readonly project: Project;
  readonly service: string;
  /** empty: the service's command */
  readonly command: readonly string[];
  readonly name?: string;
  readonly env: readonly string[];
  readonly labels: readonly string[];
  readonly entrypoint?: string;
  readonly user?: string;
  readonly workdir?: string;
  readonly tty: boolean;
  readonly interactive: boolean;
  readonly autoRemove: boolean;
}

/** A container of a project as `compose ps` shows it. */
export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly service: string;
  readonly number: number;
  readonly image: string;
  readonly command: string;
  readonly created: string;
  readonly state: string;
  /** Docker's status text: "Up 5 seconds (healthy)", "Exited (0) 3 seconds ago" */
  readonly status: string;
  readonly health: string;
  readonly exitCode: number;
  readonly ports: string;
  /** its service is being watched (develop.watch): '', 'attached' or 'detached' */
  readonly watch?: WatchMode;
  /** compose ps --format json's Publishers (project rows only) */
  readonly publishers?: readonly PortPublisher[];
}

/** One port of a container as docker compose ps --format json shows it. */
export interface PortPublisher {
  readonly URL: string;
  readonly TargetPort: number;
  readonly PublishedPort: number;
  readonly Protocol: string;
}

export type WatchMode = '' | 'attached' | 'detached';

export interface ProjectSummary {
  readonly name: string;
  /** "running(2), exited(1)" as docker compose ls prints it */
  readonly status: string;
  readonly configFiles: string;
  /** the project is being watched: '', 'attached' or 'detached' */
  readonly watch?: WatchMode;
}

// ── single containers ────────────────────────────────────────────────────────────────────

/**
 * `run`/`create`: the flags as the user gave them (sizes and numbers as text: the engine parses
 * them as Docker does, so every client gets the same errors). Environment entries are K=V: the
 * client resolved `-e NAME` from its own environment.
 */
export interface ContainerCreateOptions {
  readonly image: string;
  readonly command: readonly string[];
  readonly name?: string;
  readonly env: readonly string[];
  readonly labels: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly hostname?: string;
  readonly entrypoint?: string;
  readonly init: boolean;
  readonly autoRemove: boolean;
  readonly interactive: boolean;
  readonly tty: boolean;
  readonly memory?: string;
  readonly memorySwap?: string;
  readonly cpuShares?: string;
  readonly cpus?: string;
  readonly cpusetCpus?: string;
  readonly pidsLimit?: string;
  readonly shmSize?: string;
  readonly stopSignal?: string;
  readonly stopTimeout?: string;
  /** Docker's --restart: no, always, unless-stopped, on-failure[:N] */
  readonly restart?: string;
  /** --health-cmd and friends; durations as Go writes them ("30s", "1m30s") */
  readonly healthCmd?: string;
  readonly healthInterval?: string;
  readonly healthTimeout?: string;
  readonly healthStartPeriod?: string;
  readonly healthStartInterval?: string;
  readonly healthRetries?: string;
  /** --no-healthcheck: disable the image's HEALTHCHECK */
  readonly noHealthcheck: boolean;
  /** --cap-add, --cap-drop, --privileged, --security-opt, --read-only, --device, --sysctl, --group-add */
  readonly security?: ContainerSecurityFlags;
  /** --log-opt k=v */
  readonly logOpts?: readonly string[];
  /** -v/--volume [SOURCE:]TARGET[:OPTIONS] (a SOURCE starting with /, ./ or ~ is a bind mount) */
  readonly volumes?: readonly string[];
  /** --mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,bind-propagation=…]… */
  readonly mounts?: readonly string[];
  /** --tmpfs TARGET[:size=…,mode=…] */
  readonly tmpfs?: readonly string[];
  /** --volumes-from CONTAINER[:ro|rw] */
  readonly volumesFrom?: readonly string[];
  /** the caller's working directory: relative bind sources of -v and --mount are against it */
  readonly cwd?: string;
  /** the caller's home directory: "~" in bind sources */
  readonly home?: string;
  /** --network, -p, --add-host, --dns… (absent: the default bridge, nothing published) */
  readonly network?: ContainerNetworkFlags;
  /** --domainname */
  readonly domainname?: string;
}

/** The network flags of `run`/`create`, as given (engine/service-network.ts reads them). */
export interface ContainerNetworkFlags {
  /** --network: a network's name or id, bridge, none, host, container:NAME */
  readonly network?: string;
  readonly networkAliases?: readonly string[];
  readonly ip?: string;
  readonly ip6?: string;
  readonly macAddress?: string;
  /** -p [ip:][hostPort:]containerPort[/proto] */
  readonly publish?: readonly string[];
  /** -P */
  readonly publishAll?: boolean;
  readonly expose?: readonly string[];
  /** --add-host host:ip */
  readonly addHost?: readonly string[];
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOption?: readonly string[];
}

/** The hardening flags of `run`/`create`, as given (runtime/security.ts buildSecurity parses them). */
export interface ContainerSecurityFlags {
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly privileged?: boolean;
  readonly securityOpt?: readonly string[];
  readonly readOnly?: boolean;
  /** HOST[:CONTAINER][:PERMISSIONS] */
  readonly devices?: readonly string[];
  /** name=value */
  readonly sysctls?: readonly string[];
  readonly groupAdd?: readonly string[];
  /** --userns: host (default) or remap */
  readonly usernsMode?: string;
  /** the caller's working directory: where a relative seccomp=<profile.json> is found */
  readonly baseDir: string;
}

export interface CreatedContainer {
  readonly id: string;
  readonly name: string;
  readonly warnings: readonly string[];
}

/** A container as `docker ps` lists it. */
export interface ContainerRow {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly command: string;
  readonly created: string;
  readonly state: string;
  /** "Up 5 seconds (healthy)", "Exited (0) 3 seconds ago", "Created" */
  readonly status: string;
  readonly ports: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerListOptions {
  readonly all: boolean;
}

export interface ContainerStopOptions {
  /** seconds of grace before SIGKILL; undefined = the container's stop timeout */
  readonly timeout?: number;
  /** undefined = the container's stop signal */
  readonly signal?: string;
}

export interface ContainerKillOptions {
  readonly signal: string;
}

export interface ContainerRemoveOptions {
  readonly force: boolean;
  /** -v: remove the container's anonymous volumes too (those no other container uses) */
  readonly volumes?: boolean;
}

/**
 * `cp` between a host path and a container path; the engine reads and writes the host path (the
 * client resolved it against its working directory). `docker cp`'s rules: a trailing "/." copies
 * a directory's content, an existing destination directory receives the source under its name.
 */
export interface ContainerCopyOptions {
  /** into the container (host → container) or out of it */
  readonly direction: 'in' | 'out';
  /** absolute */
  readonly hostPath: string;
  readonly containerPath: string;
  /** -a: keep the source's owners (default: the destination side's root / the engine's user) */
  readonly archive: boolean;
  /** -L: follow a symlink source */
  readonly followLink: boolean;
}

/** What a copy did: entries and bytes copied, and what had no place on the destination side. */
export interface CopyResult {
  readonly entries: number;
  readonly bytes: number;
  readonly skipped: readonly string[];
}

/** `cp CONTAINER:PATH -` (out: the tar stream is the attached stdout) and `cp - CONTAINER:DIR` (in: stdin). */
export interface ContainerArchiveOptions {
  readonly direction: 'in' | 'out';
  readonly path: string;
  readonly archive: boolean;
  readonly followLink: boolean;
}

/** One line of `diff`: A (added), C (changed) or D (deleted). */
export interface ContainerChange {
  readonly kind: 'A' | 'C' | 'D';
  readonly path: string;
}

export interface ContainerLogsOptions {
  readonly follow: boolean;
  readonly tail?: number;
  readonly since?: string;
}

/** `update`: what may change on an existing container; limits as given (the engine parses them as run's). */
export interface ContainerUpdateOptions {
  /** Docker's --restart */
  readonly restart?: string;
  readonly cpus?: string;
  readonly cpuShares?: string;
  readonly cpuPeriod?: string;
  readonly cpuQuota?: string;
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
  readonly memory?: string;
  readonly memorySwap?: string;
  readonly pidsLimit?: string;
}

/** One process of a container as the host's /proc shows it (host pids), for `top`. */
export interface ContainerProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  /** the controlling terminal's device number (stat field tty_nr); 0 = none */
  readonly ttyNr: number;
  /** epoch ms */
  readonly startedAt: number;
  /** user + system CPU time, ms */
  readonly cpuTimeMs: number;
  readonly args: readonly string[];
  readonly comm: string;
}

/** One sample of a container's resource use (Docker's stats units); CPU % needs two. */
export interface ContainerStats {
  readonly read: number;
  readonly cpuUsageNs: number;
  readonly systemCpuUsageNs: number;
  readonly onlineCpus: number;
  readonly memoryUsage: number;
  readonly memoryLimit: number;
  readonly pids: number;
}

/** `exec`: a process to run in a running container. Environment entries are K=V. */
export interface ExecOptions {
  readonly command: readonly string[];
  readonly env: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly tty: boolean;
  readonly interactive: boolean;
  /** `--privileged`: every capability for this process (docs/security.md: "exec --privileged") */
  readonly privileged?: boolean;
}

/** Docker-shaped JSON, as `docker inspect` prints it. */
export type InspectDocument = Readonly<Record<string, unknown>>;

/** One published port of a container, as `port` prints it ("80/tcp -> 0.0.0.0:8080"). */
export interface PublishedPortRow {
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
  /** "0.0.0.0", "::", or the address given */
  readonly hostIp: string;
  readonly hostPort: number;
}

// ── networks ─────────────────────────────────────────────────────────────────────────────

/** A network as `network ls` lists it. */
export interface NetworkSummary {
  readonly id: string;
  readonly name: string;
  /** bridge; host and null for the two pseudo-networks */
  readonly driver: string;
  readonly scope: 'local';
  readonly internal: boolean;
  readonly ipv6: boolean;
  /** RFC 3339 ('' for the pseudo-networks) */
  readonly created: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** `network create`: the flags as given. */
export interface NetworkCreateOptions {
  readonly name: string;
  /** absent: bridge (the only driver) */
  readonly driver?: string;
  readonly internal: boolean;
  readonly attachable: boolean;
  readonly ipv6: boolean;
  /** CIDRs; at most one IPv4 and one IPv6 */
  readonly subnets: readonly string[];
  readonly gateways: readonly string[];
  readonly ipRanges: readonly string[];
  /** K=V */
  readonly labels: readonly string[];
  /** -o K=V driver options (com.docker.network.driver.mtu is honoured) */
  readonly options: readonly string[];
}

export interface NetworkConnectOptions {
  readonly container: string;
  readonly aliases: readonly string[];
  readonly ip?: string;
  readonly ip6?: string;
}

export interface NetworkDisconnectOptions {
  readonly container: string;
  /** disconnect even a container that is not running (accepted; berth does either way) */
  readonly force: boolean;
}

// ── volumes ──────────────────────────────────────────────────────────────────────────────

/** `volume create [NAME] [-d local] [-o k=v] [--label k=v]`; no name: an anonymous volume. */
export interface VolumeCreateOptions {
  readonly name?: string;
  readonly driver?: string;
  /** k=v, as `-o` gives them (type, o, device) */
  readonly driverOpts: readonly string[];
  /** k=v or k */
  readonly labels: readonly string[];
}

/** `volume ls`: filters as Docker's (`dangling=true|false`, `label=k[=v]`, `name=part`, `driver=local`). */
export interface VolumeListOptions {
  readonly filters: readonly string[];
}

/** A volume as `volume ls` and `volume inspect` show it (Docker's field names). */
export interface VolumeSummary {
  readonly Name: string;
  readonly Driver: 'local';
  readonly Mountpoint: string;
  readonly CreatedAt: string;
  readonly Labels: Readonly<Record<string, string>>;
  readonly Options: Readonly<Record<string, string>> | null;
  readonly Scope: 'local';
}

export interface VolumeRemoveOptions {
  /** -f: a missing volume is not an error */
  readonly force: boolean;
}

/** `volume prune [-a] [--filter label=…]`: anonymous volumes only unless `all`. */
export interface VolumePruneOptions {
  readonly all: boolean;
  readonly filters: readonly string[];
}

export interface VolumePruneResult {
  readonly removed: readonly string[];
  readonly spaceReclaimed: number;
}

// ── images ───────────────────────────────────────────────────────────────────────────────

export interface ImageSummary {
  readonly id: string;
  readonly repoTags: readonly string[];
  /** RFC 3339, or '' when the image does not say */
  readonly created: string;
  readonly size: number;
}

/** `load -i FILE`: an absolute path the engine reads (the client resolved it against its cwd). */
export interface ImageLoadRequest { readonly path: string }

/** `import FILE [REF]`: Dockerfile-style changes (CMD, ENTRYPOINT, ENV, WORKDIR, USER, STOPSIGNAL). */
export interface ImageImportRequest { readonly path: string; readonly reference?: string; readonly changes: readonly string[] }

export interface ImageRemoveOptions { readonly force: boolean }

// ── attached streams ─────────────────────────────────────────────────────────────────────

export interface TerminalSize { readonly rows: number; readonly columns: number }

/** What the caller of an attached verb sends besides stdin. */
export type AttachControl =
  | { readonly kind: 'resize'; readonly size: TerminalSize }
  /** a signal the caller received, to pass on (Docker's sig-proxy): "SIGINT", "SIGTERM"… */
  | { readonly kind: 'signal'; readonly signal: string };

// ── events and logs ──────────────────────────────────────────────────────────────────────

/** Progress and state changes, streamed as NDJSON. */
export type EngineEvent =
  /** sent once before a plan runs: every resource it touches and how many operations it has */
  | { readonly kind: 'plan'; readonly resources: readonly { readonly resourceId: string; readonly operations: number }[]; readonly time: string }
  | { readonly kind: 'operation'; readonly resourceId: string; readonly status: 'started' | 'done' | 'failed' | 'waiting'; readonly text: string; readonly time: string }
  | { readonly kind: 'container'; readonly resourceId: string; readonly action: 'create' | 'start' | 'die' | 'stop' | 'kill' | 'destroy' | 'restart' | 'health_status' | 'oom' | 'pause' | 'unpause' | 'update'; readonly containerId: string; readonly attributes: Readonly<Record<string, string>>; readonly time: string }
  | { readonly kind: 'warning'; readonly text: string; readonly time: string }
  /** pull, push and build progress (image-types.ts) */
  | ImageProgressEvent
  | { readonly kind: 'result'; readonly exitCode: number; readonly time: string }
  | { readonly kind: 'error'; readonly error: ErrorBody; readonly time: string }
  /** what a watch did: `ready` once it watches, then one per step of a batch (text in compose's words), `stopped` at its end */
  | { readonly kind: 'watch'; readonly resourceId: string; readonly action: WatchAction; readonly text: string; readonly files?: readonly string[]; readonly time: string };

export type WatchAction = 'ready' | 'batch' | 'synced' | 'built' | 'recreated' | 'restarted' | 'executed' | 'caught-up' | 'warning' | 'error' | 'stopped';

/** One log line of one container, streamed as NDJSON. */
export interface LogLine {
  /** the compose service ('' for a container of no project) */
  readonly service: string;
  readonly container: string;
  readonly stream: 'stdout' | 'stderr';
  readonly time: string;
  readonly line: string;
}
