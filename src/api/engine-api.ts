// The engine's methods, one per verb: the single door to containers, images and projects.
// engine/engine.ts implements it; engine/routes.ts exposes each method as one route of
// api/routes.ts; client/client.ts gives the CLI the same shape on the other side of the socket.
//
// Streaming methods take an `emit` callback and an AbortSignal (the client went away, Ctrl-C).
// Attached methods (a container's or an exec's stdio) take an AttachIo: on the socket it is the
// framing of api/frames.ts; in a process that holds the caller's descriptors (the warm CLI of
// the next issue) it can be the descriptors themselves.
import type {
  AttachControl, TerminalSize,
  ContainerCreateOptions, ContainerKillOptions, ContainerListOptions, ContainerLogsOptions, ContainerProcess, ContainerRemoveOptions,
  ContainerRow, ContainerStats, ContainerStopOptions, ContainerSummary, ContainerUpdateOptions, CreatedContainer, DownRequest,
  EngineEvent, EngineInfo, EngineStatus, ExecOptions, ImageImportRequest, ImageLoadRequest, ImageRemoveOptions, ImageSummary,
  InspectDocument, KillOptions, LogLine, LogsOptions, ProjectSummary, PsOptions, ServiceRunRequest, ServicesOptions, StopOptions,
  SystemInfo, UpRequest, VersionInfo, WatchRequest, WatchStopped,
  NetworkConnectOptions, NetworkCreateOptions, NetworkDisconnectOptions, NetworkSummary, PublishedPortRow,
  ContainerArchiveOptions, ContainerChange, ContainerCopyOptions, CopyResult,
  VolumeCreateOptions, VolumeListOptions, VolumePruneOptions, VolumePruneResult, VolumeRemoveOptions, VolumeSummary,
} from './types.js';
import type {
  ContainerCommitOptions, ImageBuildRequest, ImageBuildResult, ImageHistoryRow, ImagePruneOptions, ImagePruneResult, ImagePullRequest,
  ImagePullResult, ImagePushRequest, ImageTagRequest, ProjectBuildRequest, ProjectImageRow, ProjectPrepareRequest, ProjectPullRequest,
  RegistryLoginRequest, RegistryLoginResult,
} from './image-types.js';

export type { EngineInfo } from './types.js';

/** The caller's side of an attached process: its stdin, where output goes, its terminal. */
export interface AttachIo {
  /** the caller's terminal size when a tty was asked for */
  readonly size?: TerminalSize;
  /** the caller's stdin, when attached (-i): bytes until the caller closes it */
  readonly stdin?: AsyncIterable<Uint8Array>;
  /** the process's output; resolves when the caller can take more (back-pressure). With a tty everything is stdout. */
  write(stream: 'stdout' | 'stderr', data: Uint8Array): Promise<void> | void;
  /** resize and signal requests from the caller, for as long as the process runs */
  onControl(listener: (control: AttachControl) => void): void;
  /**
   * The caller's own descriptors, when the engine holds them (the warm CLI: docs/warm-cli.md).
   * The engine then gives them to the process as its stdio instead of relaying, and `stdin` and
   * `write` go unused; resizes and signals still arrive through onControl. Never sent over the
   * socket: a remote client has no descriptors to give.
   */
  readonly handoff?: DescriptorHandoff;
}

export interface DescriptorHandoff {
  /** stdin for the process: the caller's stdin (-i), or its terminal (-t, so the shim can read the window size) */
  readonly stdin?: number;
  readonly stdout: number;
  readonly stderr: number;
  /** resolves once everything the caller's command wrote to these descriptors itself is out */
  ready(): Promise<void>;
}

type Emit = (e: EngineEvent) => void;

export interface EngineApi {
  // ── the engine ──
  /** the handshake (cheap and synchronous: a client's connect asks it) */
  info(): EngineInfo;
  version(): Promise<VersionInfo>;
  systemInfo(): Promise<SystemInfo>;
  /** the engine process: uptime, memory, supervision, event-loop delay (`reset` starts a new delay window) */
  engineStatus(opts: { readonly reset: boolean }): Promise<EngineStatus>;
  /** the live event feed, until abort */
  events(emit: Emit, signal: AbortSignal): Promise<void>;
  /** stops the engine itself (containers keep running: live restore) */
  shutdown(): Promise<void>;

  // ── compose projects ──
  /** resolves with docker compose's exit code for the verb */
  up(req: UpRequest, emit: Emit, signal: AbortSignal): Promise<number>;
  down(projectName: string, req: DownRequest, emit: Emit, signal: AbortSignal): Promise<number>;
  start(projectName: string, opts: ServicesOptions, emit: Emit, signal: AbortSignal): Promise<number>;
  stop(projectName: string, opts: StopOptions, emit: Emit, signal: AbortSignal): Promise<number>;
  restart(projectName: string, opts: StopOptions, emit: Emit, signal: AbortSignal): Promise<number>;
  kill(projectName: string, opts: KillOptions, emit: Emit, signal: AbortSignal): Promise<number>;
  pause(projectName: string, opts: ServicesOptions, emit: Emit, signal: AbortSignal): Promise<number>;
  unpause(projectName: string, opts: ServicesOptions, emit: Emit, signal: AbortSignal): Promise<number>;
  ps(projectName: string, opts: PsOptions): Promise<ContainerSummary[]>;
  ls(opts: { readonly all: boolean }): Promise<ProjectSummary[]>;
  /** resolves when not following, or when every followed container has stopped, or on abort */
  logs(projectName: string, opts: LogsOptions, emit: (line: LogLine) => void, signal: AbortSignal): Promise<void>;
  /** compose run: creates the one-off container (not started) */
  createOneOff(projectName: string, req: ServiceRunRequest): Promise<CreatedContainer>;
  /** compose watch: (up, then) sync/restart/exec on file changes, emitting `watch` events, until abort or `down`; resolves with the exit code */
  watch(req: WatchRequest, emit: Emit, signal: AbortSignal): Promise<number>;
  /** watch --stop: ends the project's watch (detached or attached), forgetting it in the project's state; the containers keep running */
  watchStop(projectName: string): Promise<WatchStopped>;

  // ── single containers (a ref is a name, a full id or a unique id prefix) ──
  containerCreate(opts: ContainerCreateOptions): Promise<CreatedContainer>;
  containerList(opts: ContainerListOptions): Promise<ContainerRow[]>;
  containerInspect(ref: string): Promise<InspectDocument>;
  /** starts in the background; resolves once it runs */
  containerStart(ref: string): Promise<void>;
  /** starts it attached to `io`; resolves with its exit code once it exited (and, with --rm, was removed) */
  containerStartAttached(ref: string, io: AttachIo, signal: AbortSignal): Promise<number>;
  containerStop(ref: string, opts: ContainerStopOptions): Promise<void>;
  containerKill(ref: string, opts: ContainerKillOptions): Promise<void>;
  containerRemove(ref: string, opts: ContainerRemoveOptions): Promise<void>;
  containerPause(ref: string): Promise<void>;
  containerUnpause(ref: string): Promise<void>;
  containerLogs(ref: string, opts: ContainerLogsOptions, emit: (line: LogLine) => void, signal: AbortSignal): Promise<void>;
  containerTop(ref: string): Promise<ContainerProcess[]>;
  containerStats(ref: string): Promise<ContainerStats>;
  containerUpdate(ref: string, opts: ContainerUpdateOptions): Promise<void>;
  /** runs a process in the container attached to `io`; resolves with its exit code */
  containerExec(ref: string, opts: ExecOptions, io: AttachIo, signal: AbortSignal): Promise<number>;
  /** exec -d: resolves once the process runs */
  containerExecDetached(ref: string, opts: ExecOptions): Promise<void>;
  /** `port`: the container's published ports */
  containerPort(ref: string): Promise<PublishedPortRow[]>;

  // ── networks (a ref is a name, a full id or a unique id prefix) ──
  networkList(): Promise<NetworkSummary[]>;
  /** resolves with the new network's id */
  networkCreate(opts: NetworkCreateOptions): Promise<{ readonly id: string }>;
  networkInspect(ref: string): Promise<InspectDocument>;
  networkRemove(ref: string): Promise<void>;
  networkConnect(ref: string, opts: NetworkConnectOptions): Promise<void>;
  networkDisconnect(ref: string, opts: NetworkDisconnectOptions): Promise<void>;
  /** removes every network no container uses (the default bridge excepted); resolves with their names */
  networkPrune(): Promise<{ readonly deleted: readonly string[] }>;
  /** `cp` between a host path (the engine's side) and the container, either way */
  containerCopy(ref: string, opts: ContainerCopyOptions): Promise<CopyResult>;
  /** `cp` with `-`: a tar stream out of the container on io's stdout, or into it from io's stdin; resolves 0 */
  containerArchive(ref: string, opts: ContainerArchiveOptions, io: AttachIo, signal: AbortSignal): Promise<number>;
  /** `diff`: what the container changed in its filesystem, sorted by path */
  containerDiff(ref: string): Promise<ContainerChange[]>;

  // ── volumes ──
  volumeCreate(opts: VolumeCreateOptions): Promise<VolumeSummary>;
  volumeList(opts: VolumeListOptions): Promise<VolumeSummary[]>;
  volumeInspect(name: string): Promise<VolumeSummary>;
  /** in use: a Conflict naming the containers */
  volumeRemove(name: string, opts: VolumeRemoveOptions): Promise<void>;
  volumePrune(opts: VolumePruneOptions): Promise<VolumePruneResult>;

  // ── images ──
  imageList(): Promise<ImageSummary[]>;
  imageInspect(ref: string): Promise<InspectDocument>;
  /** the messages `docker load` prints ("Loaded image: …") */
  imageLoad(req: ImageLoadRequest): Promise<{ readonly messages: readonly string[] }>;
  imageImport(req: ImageImportRequest): Promise<{ readonly id: string }>;
  /** the lines `docker rmi` prints ("Untagged: …", "Deleted: …") */
  imageRemove(ref: string, opts: ImageRemoveOptions): Promise<{ readonly lines: readonly string[] }>;
  /** docker pull: layer and message events as it goes */
  imagePull(req: ImagePullRequest, emit: Emit, signal: AbortSignal): Promise<ImagePullResult>;
  /** docker push REF */
  imagePush(ref: string, req: ImagePushRequest, emit: Emit, signal: AbortSignal): Promise<{ readonly digest: string }>;
  /** docker build: step and output events as it goes */
  imageBuild(req: ImageBuildRequest, emit: Emit, signal: AbortSignal): Promise<ImageBuildResult>;
  /** the messages docker tag would print (none) */
  imageTag(ref: string, req: ImageTagRequest): Promise<void>;
  /** docker save: the tar's bytes written to `io` as stdout; resolves with 0 once all are written */
  imageSave(refs: readonly string[], io: AttachIo, signal: AbortSignal): Promise<number>;
  imageHistory(ref: string): Promise<ImageHistoryRow[]>;
  imagePrune(opts: ImagePruneOptions): Promise<ImagePruneResult>;
  /** docker commit: the new image's id */
  containerCommit(ref: string, opts: ContainerCommitOptions): Promise<{ readonly id: string }>;
  /** checks credentials against the registry (the client stores them in its own config.json) */
  registryLogin(req: RegistryLoginRequest): Promise<RegistryLoginResult>;

  // ── compose image verbs ──
  /** compose pull: exit code as docker compose's */
  projectPull(projectName: string, req: ProjectPullRequest, emit: Emit, signal: AbortSignal): Promise<number>;
  projectBuild(projectName: string, req: ProjectBuildRequest, emit: Emit, signal: AbortSignal): Promise<number>;
  /** the images of these services made ready as up would (pull_policy, build): compose run's first step */
  projectPrepare(projectName: string, req: ProjectPrepareRequest, emit: Emit, signal: AbortSignal): Promise<number>;
  projectImages(projectName: string, opts: ServicesOptions): Promise<ProjectImageRow[]>;
}

/**
 * The engine as a command sees it: the API, and a way to let go of it. Over the socket it is the
 * client (client/client.ts); inside the engine (the warm CLI) it can be the engine itself.
 */
export interface EngineConnection extends EngineApi {
  /**
   * up, with a second way to end it: `cancel` asks the engine to stop (it starts nothing more and
   * lets the operations in progress finish) and this resolves or rejects only when the engine has
   * finished, with what it reported meanwhile; `signal` still lets go at once (the engine then
   * does the same on its own, unseen). docs/engine-api.md, "Cancelling a request".
   */
  up(req: UpRequest, emit: Emit, signal: AbortSignal, cancel?: AbortSignal): Promise<number>;
  /** releases kept-alive connections (idle ones never keep a process alive anyway) */
  close(): void;
}
