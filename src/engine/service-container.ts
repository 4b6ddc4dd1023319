// Service (the compose model) → the runtime's CreateRequest for one replica. The one place that
// maps between the two, as compose's create.go does; it decides nothing about *whether* to create.
import { join } from 'node:path';
import type { Project, Service } from '../spec/model.js';
import type { ImageRecord } from '../images/store.js';
import type { CreateRequest } from '../runtime/container.js';
import type { CgroupLimits } from '../runtime/cgroups/driver.js';
import { cpusToQuota } from '../runtime/cgroups/convert.js';
import { mergeProcess } from '../runtime/process-spec.js';
import { newContainerId } from '../runtime/names.js';
import { buildSecurity, nodeSecurityHost, type SecurityHost, type SecurityOptions } from '../runtime/security.js';

/** compose's labels (com.docker.compose.*), as docker compose writes them. */
export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  hash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  oneoff: 'com.docker.compose.oneoff',
  image: 'com.docker.compose.image',
  dependsOn: 'com.docker.compose.depends_on',
  version: 'com.docker.compose.version',
} as const;

export function containerName(project: Project, service: Service, number: number): string {
  return service.container_name ?? `${project.name}-${service.name}-${number}`;
}

export function limitsOf(service: Service): CgroupLimits {
  const r = service.resources;
  const limits: { -readonly [K in keyof CgroupLimits]: CgroupLimits[K] } = {};
  if (r.cpu_shares !== undefined) limits.cpuShares = r.cpu_shares;
  if (r.cpus !== undefined) {
    const q = cpusToQuota(r.cpus);
    if (q) { limits.cpuQuota = q.quota; limits.cpuPeriod = q.period; }
  }
  if (r.cpu_quota !== undefined) limits.cpuQuota = r.cpu_quota;
  if (r.cpu_period !== undefined) limits.cpuPeriod = r.cpu_period;
  if (r.cpuset !== undefined) limits.cpusetCpus = r.cpuset;
  if (r.mem_limit !== undefined) limits.memory = r.mem_limit;
  if (r.memswap_limit !== undefined) limits.memorySwap = r.memswap_limit;
  if (r.pids_limit !== undefined) limits.pidsLimit = r.pids_limit;
  return limits;
}

/** The keys the runtime cannot apply yet: named in a warning at `up`, never silently dropped. */
export function notYetApplied(service: Service): string[] {
  const out: string[] = [];
  const r = service.resources;
  const set = (name: string, on: boolean): void => { if (on) out.push(name); };
  set('ipc', service.ipc !== undefined);
  set('pid', service.pid !== undefined);
  set('logging', service.logging?.driver !== undefined && service.logging.driver !== 'json-file');
  set('mem_reservation', r.mem_reservation !== undefined);
  set('mem_swappiness', r.mem_swappiness !== undefined);
  set('oom_kill_disable', r.oom_kill_disable !== undefined);
  set('oom_score_adj', r.oom_score_adj !== undefined);
  set('cpu_rt_runtime', r.cpu_rt_runtime !== undefined || r.cpu_rt_period !== undefined);
  return out;
}

export interface ReplicaInput {
  readonly project: Project;
  readonly service: Service;
  readonly number: number;
  readonly image: ImageRecord;
  readonly overlayRoot: string;
  readonly configHash: string;
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** reads seccomp profiles and stats devices; the host's by default */
  readonly securityHost?: SecurityHost;
}

/** cap_add … group_add → the runtime's privileges (checked: a bad value is an error at create). */
export function securityOf(service: Service, projectDir: string, host: SecurityHost = nodeSecurityHost): SecurityOptions {
  return buildSecurity({
    capAdd: service.cap_add,
    capDrop: service.cap_drop,
    privileged: service.privileged,
    securityOpt: service.security_opt,
    readOnly: service.read_only,
    devices: service.devices.map((d) => `${d.source}:${d.target}${d.permissions ? `:${d.permissions}` : ""}`),
    sysctls: service.sysctls,
    groupAdd: service.group_add,
    usernsMode: service.userns_mode,
    baseDir: projectDir,
  }, host);
}

/** The image a service's containers run: `image:`, or the name docker compose gives a built one (`<project>-<service>`). */
export function serviceImage(project: Project, service: Service): string {
  if (service.image !== undefined && service.image !== '') return service.image;
  return `${project.name}-${service.name}`.toLowerCase();
}

export function createRequestFor(input: ReplicaInput): CreateRequest {
  const { project, service, number, image } = input;
  const env: string[] = [];
  for (const [k, v] of Object.entries(service.environment)) if (v !== null) env.push(`${k}=${v}`);
  const id = newContainerId();
  // Docker's default host name is the first 12 characters of the container id.
  const hostname = service.hostname !== undefined && service.hostname !== '' ? service.hostname : id.slice(0, 12);
  const process = mergeProcess(image.config, {
    command: service.command ?? [],
    entrypoint: service.entrypoint ?? undefined,
    env,
    workdir: service.working_dir,
    user: service.user,
    hostname,
    tty: service.tty,
  }, input.hostEnv);
  const topFirst = [...image.layers].reverse();
  const labels: Record<string, string> = {
    ...(image.config.Labels ?? {}),
    ...service.labels,
    [LABEL.project]: project.name,
    [LABEL.service]: service.name,
    [LABEL.number]: String(number),
    [LABEL.hash]: input.configHash,
    [LABEL.workingDir]: project.working_dir,
    [LABEL.configFiles]: project.compose_files.join(','),
    [LABEL.oneoff]: 'False',
    [LABEL.image]: image.id,
    [LABEL.dependsOn]: Object.entries(service.depends_on).map(([d, dep]) => `${d}:${dep.condition}:${dep.restart}`).join(','),
  };
  const ulimits: Record<string, { soft: number; hard: number }> = {};
  for (const [name, l] of Object.entries(service.resources.ulimits)) ulimits[name] = { soft: l.soft, hard: l.hard };
  return {
    id,
    name: containerName(project, service, number),
    imageId: image.id,
    imageRef: serviceImage(project, service),
    lowerLinks: topFirst.map((l) => l.link),
    lowerDirs: topFirst.map((l) => join(input.overlayRoot, l.cacheId, 'diff')),
    process,
    hostname,
    ...(service.domainname ? { domainname: service.domainname } : {}),
    tty: service.tty,
    openStdin: service.stdin_open,
    init: service.init ?? false,
    autoRemove: false,
    limits: limitsOf(service),
    shmSize: service.resources.shm_size,
    stopSignal: service.stop_signal ?? image.config.StopSignal,
    stopTimeout: service.stop_grace_period !== undefined ? Math.ceil(service.stop_grace_period / 1000) : undefined,
    labels,
    ulimits,
    restartPolicy: { name: service.restart.name, maximumRetryCount: service.restart.max_attempts },
    security: securityOf(service, project.working_dir, input.securityHost),
    // another driver keeps its warning (notYetApplied) and the json-file defaults
    logOptions: service.logging?.driver === undefined || service.logging.driver === 'json-file' ? service.logging?.options ?? {} : {},
  };
}
