// One check per request body of the engine API (api/types.ts), used by engine/routes.ts before a
// body reaches the engine: a malformed body is a 400 naming the path, never a crash inside a
// verb. Absent fields take the CLI's defaults, so `curl -X POST …/stop` works.
import type {
  AttachControl, ContainerCopyOptions, ContainerCreateOptions, VolumeCreateOptions, VolumePruneOptions, ContainerSecurityFlags, ContainerKillOptions, ContainerStopOptions, ContainerUpdateOptions, DownOptions, DownRequest, ContainerNetworkFlags, NetworkConnectOptions, NetworkCreateOptions, NetworkDisconnectOptions,
  ExecOptions, ImageImportRequest, ImageLoadRequest, KillOptions, ServiceRunRequest, ServicesOptions, StopOptions, TerminalSize,
  UpOptions, UpRequest, WatchOptions, WatchRequest,
} from './types.js';
import { array, body, bool, count, flag, int, literal, nonEmpty, nonNegative, object, optional, record, required, str, stringList, withDefault, type Check } from './check.js';
import { checkProject } from './project-check.js';
import { pullOverride, registryAuth } from './image-requests.js';
import { InvalidArgument } from '../lib/errors.js';

const strings = array(str);
const list = stringList;

const upOptions = object<UpOptions>({
  services: list,
  noDeps: flag,
  forceRecreate: flag,
  noRecreate: flag,
  noStart: flag,
  removeOrphans: flag,
  scale: withDefault(record(count), {}),
  wait: flag,
  waitTimeout: withDefault(nonNegative, 0),
  build: optional(bool),
  noBuild: optional(bool),
  pull: optional(pullOverride),
});

const downOptions = object<DownOptions>({ removeOrphans: flag, volumes: flag, timeout: optional(nonNegative) });

export const upRequest = body(object<UpRequest>({ project: required(checkProject), options: body(upOptions), auth: optional(registryAuth) }));
export const watchRequest = body(object<WatchRequest>({ project: required(checkProject), options: body(object<WatchOptions>({ services: list, up: optional(upOptions), detach: optional(bool), prune: optional(bool) })), auth: optional(registryAuth) }));
export const downRequest = body(object<DownRequest>({ project: optional(checkProject), options: body(downOptions) }));
export const servicesOptions = body(object<ServicesOptions>({ services: list }));
export const stopOptions = body(object<StopOptions>({ services: list, timeout: optional(nonNegative) }));
export const killOptions = body(object<KillOptions>({ services: list, signal: withDefault(nonEmpty, 'SIGKILL') }));

export const serviceRunRequest = body(object<ServiceRunRequest>({
  project: required(checkProject),
  service: required(nonEmpty),
  command: list,
  name: optional(nonEmpty),
  env: list,
  labels: list,
  entrypoint: optional(str),
  user: optional(str),
  workdir: optional(str),
  tty: flag,
  interactive: flag,
  autoRemove: flag,
}));

export const containerCreateOptions = body(object<ContainerCreateOptions>({
  image: required(nonEmpty),
  command: list,
  name: optional(nonEmpty),
  env: list,
  labels: list,
  workdir: optional(str),
  user: optional(str),
  hostname: optional(str),
  entrypoint: optional(str),
  init: flag,
  autoRemove: flag,
  interactive: flag,
  tty: flag,
  memory: optional(str),
  memorySwap: optional(str),
  cpuShares: optional(str),
  cpus: optional(str),
  cpusetCpus: optional(str),
  pidsLimit: optional(str),
  shmSize: optional(str),
  stopSignal: optional(str),
  stopTimeout: optional(str),
  restart: optional(str),
  healthCmd: optional(str),
  healthInterval: optional(str),
  healthTimeout: optional(str),
  healthStartPeriod: optional(str),
  healthStartInterval: optional(str),
  healthRetries: optional(str),
  noHealthcheck: flag,
  security: optional(object<ContainerSecurityFlags>({
    capAdd: optional(strings),
    capDrop: optional(strings),
    privileged: optional(bool),
    securityOpt: optional(strings),
    readOnly: optional(bool),
    devices: optional(strings),
    sysctls: optional(strings),
    groupAdd: optional(strings),
    usernsMode: optional(str),
    baseDir: required(str),
  })),
  logOpts: optional(strings),
  volumes: optional(strings),
  mounts: optional(strings),
  tmpfs: optional(strings),
  volumesFrom: optional(strings),
  cwd: optional(str),
  home: optional(str),
  network: optional(object<ContainerNetworkFlags>({
    network: optional(nonEmpty),
    networkAliases: optional(strings),
    ip: optional(nonEmpty),
    ip6: optional(nonEmpty),
    macAddress: optional(nonEmpty),
    publish: optional(strings),
    publishAll: optional(bool),
    expose: optional(strings),
    addHost: optional(strings),
    dns: optional(strings),
    dnsSearch: optional(strings),
    dnsOption: optional(strings),
  })),
  domainname: optional(str),
}));

export const networkCreateOptions = body(object<NetworkCreateOptions>({
  name: required(nonEmpty),
  driver: optional(nonEmpty),
  internal: flag,
  attachable: flag,
  ipv6: flag,
  subnets: list,
  gateways: list,
  ipRanges: list,
  labels: list,
  options: list,
}));
export const networkConnectOptions = body(object<NetworkConnectOptions>({ container: required(nonEmpty), aliases: list, ip: optional(nonEmpty), ip6: optional(nonEmpty) }));
export const networkDisconnectOptions = body(object<NetworkDisconnectOptions>({ container: required(nonEmpty), force: flag }));

export const containerCopyOptions = body(object<ContainerCopyOptions>({
  direction: required(literal('in', 'out')),
  hostPath: required(nonEmpty),
  containerPath: required(nonEmpty),
  archive: flag,
  followLink: flag,
}));

export const volumeCreateOptions = body(object<VolumeCreateOptions>({ name: optional(nonEmpty), driver: optional(str), driverOpts: list, labels: list }));
export const volumePruneOptions = body(object<VolumePruneOptions>({ all: flag, filters: list }));

export const containerStopOptions = body(object<ContainerStopOptions>({ timeout: optional(int), signal: optional(nonEmpty) }));
export const containerKillOptions = body(object<ContainerKillOptions>({ signal: withDefault(nonEmpty, 'SIGKILL') }));
export const containerUpdateOptions = body(object<ContainerUpdateOptions>({
  restart: optional(str),
  cpus: optional(str),
  cpuShares: optional(str),
  cpuPeriod: optional(str),
  cpuQuota: optional(str),
  cpusetCpus: optional(str),
  cpusetMems: optional(str),
  memory: optional(str),
  memorySwap: optional(str),
  pidsLimit: optional(str),
}));

export const execOptions = body(object<ExecOptions>({
  command: (v, p) => {
    const argv = required(strings)(v, p);
    if (argv.length === 0) throw new InvalidArgument(`${p}: expected at least one argument`, { path: p });
    return argv;
  },
  env: list,
  user: optional(str),
  workdir: optional(str),
  tty: flag,
  interactive: flag,
  privileged: flag,
}));

export const imageLoadRequest = body(object<ImageLoadRequest>({ path: required(nonEmpty) }));
export const imageImportRequest = body(object<ImageImportRequest>({ path: required(nonEmpty), reference: optional(nonEmpty), changes: list }));

const terminalSize = object<TerminalSize>({ rows: count, columns: count });

/** A control frame of an attached stream. */
export const attachControl: Check<AttachControl> = (v, p) => {
  const kind = object<{ kind: 'resize' | 'signal' }>({ kind: literal('resize', 'signal') })(v, p).kind;
  if (kind === 'resize') return object<Extract<AttachControl, { kind: 'resize' }>>({ kind: literal('resize'), size: required(terminalSize) })(v, p);
  return object<Extract<AttachControl, { kind: 'signal' }>>({ kind: literal('signal'), signal: required(nonEmpty) })(v, p);
};

/** The first frame of an attached stream: the options of the verb, and the caller's terminal size. */
export const attachStart = object<{ readonly size?: TerminalSize; readonly stdin: boolean; readonly exec?: ExecOptions }>({
  size: optional(terminalSize),
  stdin: flag,
  exec: optional(execOptions),
});
