// Single-container verbs (`run`, `create`, `ps`, `stop`, `inspect`, …) as the engine implements
// them: one options type per verb (api/types.ts), in → host facilities → result. The flags
// arrive as the user typed them and are parsed here, as Docker's daemon does, so that every
// client gets the same errors.
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type {
  ContainerCreateOptions, ContainerNetworkFlags, ContainerLogsOptions, ContainerProcess, ContainerRow, ContainerStats, CreatedContainer, LogLine,
} from '../api/types.js';
import { InvalidArgument, NotFound } from '../lib/errors.js';
import { parseBytes, dockerStatus } from '../lib/units.js';
import type { Clock } from '../lib/clock.js';
import type { Healthcheck } from '../spec/canonical/healthcheck.js';
import { parseDuration } from '../spec/canonical/duration.js';
import { parseRestart } from '../spec/canonical/restart.js';
import type { CgroupLimits } from '../runtime/cgroups/driver.js';
import { cpusToQuota } from '../runtime/cgroups/convert.js';
import { mergeProcess } from '../runtime/process-spec.js';
import { newContainerId, randomName, validateName } from '../runtime/names.js';
import { readLog } from '../runtime/logs.js';
import type { ContainerRuntime, ContainerView, CreateRequest, RecordedMount } from '../runtime/container.js';
import type { ContainerRecord } from '../runtime/state.js';
import type { ImageRecord, ImageStore } from '../images/store.js';
import { healthcheckConfig } from './health.js';
import { parseSince } from './projects.js';
import { IMAGE_HINT } from './preflight.js';
import { buildSecurity, nodeSecurityHost } from '../runtime/security.js';
import { parseLogOpts } from '../runtime/log-options.js';

function integer(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgument(`invalid argument "${value}" for "${flag}" flag: expected an integer`);
  return Number(value);
}

/** Docker's flags → cgroup limits (validation of ranges is the cgroup conversion's job). */
export function limitsFromFlags(o: Pick<ContainerCreateOptions, 'memory' | 'memorySwap' | 'cpuShares' | 'cpus' | 'cpusetCpus' | 'pidsLimit'>): CgroupLimits {
  const limits: { -readonly [K in keyof CgroupLimits]: CgroupLimits[K] } = {};
  if (o.memory !== undefined) limits.memory = parseBytes(o.memory, 'memory limit');
  if (o.memorySwap !== undefined) limits.memorySwap = o.memorySwap.trim() === '-1' ? -1 : parseBytes(o.memorySwap, 'memory-swap limit');
  if (o.cpuShares !== undefined) limits.cpuShares = integer(o.cpuShares, '--cpu-shares');
  if (o.cpus !== undefined) {
    const q = cpusToQuota(o.cpus, undefined, availableParallelism());
    if (q) {
      limits.cpuPeriod = q.period;
      limits.cpuQuota = q.quota;
    }
  }
  if (o.cpusetCpus !== undefined) limits.cpusetCpus = o.cpusetCpus;
  if (o.pidsLimit !== undefined) limits.pidsLimit = integer(o.pidsLimit, '--pids-limit');
  return limits;
}

/** Docker's --restart value → the policy recorded on the container. */
export function restartPolicyFlag(value: string | undefined): { name: string; maximumRetryCount: number } {
  if (value === undefined) return { name: 'no', maximumRetryCount: 0 };
  try {
    const p = parseRestart(value);
    return { name: p.name, maximumRetryCount: p.max_attempts };
  } catch {
    throw new InvalidArgument(`invalid restart policy "${value}": expected no, always, unless-stopped or on-failure[:max-retries]`);
  }
}

function duration(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  let ms: number;
  try { ms = parseDuration(value); } catch { throw new InvalidArgument(`invalid argument "${value}" for "${flag}" flag: expected a duration like 30s or 1m30s`); }
  if (ms < 0) throw new InvalidArgument(`${flag} cannot be negative`);
  return ms;
}

/** --health-* and --no-healthcheck as a compose-style healthcheck (undefined: the image's, as is). */
export function healthcheckFromFlags(o: ContainerCreateOptions): Healthcheck | undefined {
  const given = o.healthCmd !== undefined || o.healthInterval !== undefined || o.healthTimeout !== undefined || o.healthStartPeriod !== undefined
    || o.healthStartInterval !== undefined || o.healthRetries !== undefined;
  if (o.noHealthcheck) {
    if (given) throw new InvalidArgument('--no-healthcheck conflicts with --health-* options');
    return { disable: true };
  }
  if (!given) return undefined;
  const interval = duration(o.healthInterval, '--health-interval');
  const timeout = duration(o.healthTimeout, '--health-timeout');
  const startPeriod = duration(o.healthStartPeriod, '--health-start-period');
  const startInterval = duration(o.healthStartInterval, '--health-start-interval');
  const retries = o.healthRetries !== undefined ? integer(o.healthRetries, '--health-retries') : undefined;
  if (retries !== undefined && retries < 0) throw new InvalidArgument('--health-retries cannot be negative');
  return {
    // docker run --health-cmd is a shell command (CMD-SHELL)
    ...(o.healthCmd !== undefined ? { test: ['CMD-SHELL', o.healthCmd] } : {}),
    ...(interval !== undefined ? { interval } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(startPeriod !== undefined ? { start_period: startPeriod } : {}),
    ...(startInterval !== undefined ? { start_interval: startInterval } : {}),
    ...(retries !== undefined ? { retries } : {}),
    disable: false,
  };
}

/**
 * Makes a container's network before it is created and records it with it (networking.ts); the
 * engine passes its networking job. Returns the namespace and files, and warnings for the user.
 */
export type NetworkAttacher = (id: string, name: string, identity: { readonly hostname: string; readonly domainname?: string; readonly explicitHostname: boolean },
  flags: ContainerNetworkFlags, imageExposed: readonly string[]) => Promise<{ readonly network: NonNullable<CreateRequest['network']>; readonly warnings: readonly string[]; readonly undo: () => Promise<void> }>;

/** Makes a container with its mounts (engine/volumes.ts createWith): prepares them, calls `create`, releases them if it fails. */
export type WithMounts = (slot: { readonly containerId: string; readonly bundle: string; readonly image: ImageRecord; readonly overlayRoot: string },
  create: (mounts: RecordedMount[]) => Promise<ContainerRecord>) => Promise<{ created: ContainerRecord; warnings: string[] }>;

/** `run`/`create`: the container is created (not started); its id, name and any warnings returned. */
export async function createContainer(runtime: ContainerRuntime, store: ImageStore, o: ContainerCreateOptions, withMounts?: WithMounts, attachNetwork?: NetworkAttacher): Promise<CreatedContainer> {
  // Flags are checked before the image is looked up, as Docker does.
  const limits = limitsFromFlags(o);
  const shmSize = o.shmSize !== undefined ? parseBytes(o.shmSize, 'shm size') : undefined;
  const stopTimeout = o.stopTimeout !== undefined ? integer(o.stopTimeout, '--stop-timeout') : undefined;
  const restartPolicy = restartPolicyFlag(o.restart);
  if (o.autoRemove && restartPolicy.name !== 'no') throw new InvalidArgument('conflicting options: cannot specify both --restart and --rm');
  const userHealthcheck = healthcheckFromFlags(o);
  // a relative seccomp=<profile.json> was resolved against the caller's directory (baseDir)
  const security = buildSecurity(o.security ?? { baseDir: '/' }, nodeSecurityHost);
  const logOptions = parseLogOpts(o.logOpts ?? []);
  let image;
  try {
    image = store.resolve(o.image);
  } catch (err) {
    // the same hint as `up` gives for a missing image
    if (err instanceof NotFound) throw new NotFound(`${err.message}; ${IMAGE_HINT}`, { images: [o.image] });
    throw err;
  }
  const id = newContainerId();
  const hostname = o.hostname !== undefined && o.hostname !== '' ? o.hostname : id.slice(0, 12);
  const process = mergeProcess(image.config, {
    command: o.command,
    entrypoint: o.entrypoint,
    env: o.env,
    workdir: o.workdir,
    user: o.user,
    hostname,
    tty: o.tty,
  }, {});
  const labels: Record<string, string> = { ...(image.config.Labels ?? {}) };
  for (const l of o.labels) {
    const at = l.indexOf('=');
    labels[at < 0 ? l : l.slice(0, at)] = at < 0 ? '' : l.slice(at + 1);
  }
  const topFirst = [...image.layers].reverse();
  // the name is decided here (not by the runtime) when the network needs it: the resolver answers it
  const name = o.name !== undefined ? validateName(o.name) : attachNetwork ? randomName((n) => runtime.list().some((v) => v.record.name === n)) : undefined;
  const net = attachNetwork ? await attachNetwork(id, name!, { hostname, ...(o.domainname ? { domainname: o.domainname } : {}), explicitHostname: o.hostname !== undefined && o.hostname !== '' },
    o.network ?? {}, Object.keys(image.config.ExposedPorts ?? {})) : undefined;
  const create = (mounts: RecordedMount[]): Promise<ContainerRecord> => runtime.create({
    ...(mounts.length > 0 ? { mounts } : {}),
    id,
    name,
    imageId: image.id,
    imageRef: o.image,
    lowerLinks: topFirst.map((l) => l.link),
    lowerDirs: topFirst.map((l) => join(store.overlayRoot(), l.cacheId, 'diff')),
    process,
    hostname,
    tty: o.tty,
    openStdin: o.interactive,
    init: o.init,
    autoRemove: o.autoRemove,
    limits,
    shmSize,
    stopSignal: o.stopSignal ?? image.config.StopSignal,
    stopTimeout,
    labels,
    restartPolicy,
    healthcheck: healthcheckConfig(userHealthcheck, image.config.Healthcheck),
    security,
    logOptions,
    ...(o.domainname ? { domainname: o.domainname } : {}),
    ...(net ? { network: net.network } : {}),
  });
  let made: { created: ContainerRecord; warnings: string[] };
  try {
    made = withMounts
      ? await withMounts({ containerId: id, bundle: runtime.bundle(id), image, overlayRoot: store.overlayRoot() }, create)
      : { created: await create([]), warnings: [] };
  } catch (err) {
    await net?.undo().catch(() => { /* repair at the next engine start will */ });
    throw err;
  }
  return { id: made.created.id, name: made.created.name, warnings: [...(net?.warnings ?? []), ...made.warnings, ...runtime.warnings(made.created.id)] };
}

/** `docker ps`'s row of one container, health in its status for every container that has a check. */
export function containerRow(runtime: ContainerRuntime, view: ContainerView, nowMs: number): ContainerRow {
  const { record: r, observed: o } = view;
  const health = runtime.runtimeState(r.id).health?.status ?? '';
  return {
    id: r.id,
    name: r.name,
    image: r.imageRef,
    command: [r.path, ...r.args].join(' '),
    created: r.created,
    state: o.status,
    status: dockerStatus(o.status, o.exited?.exitCode ?? 0, o.started?.startedAt, o.exited?.finishedAt, nowMs, health, o.error),
    ports: '',
    labels: r.config.Labels,
  };
}

export function topOf(runtime: ContainerRuntime, ref: string): ContainerProcess[] {
  return runtime.top(ref).map((p) => ({ ...p, args: [...p.args] }));
}

export function statsOf(runtime: ContainerRuntime, ref: string): ContainerStats {
  return { ...runtime.stats(ref) };
}

/** `logs`: one container's records, as LogLines (stream and time kept; the CLI writes each to its stream). */
export async function containerLogs(runtime: ContainerRuntime, clock: Clock, ref: string, opts: ContainerLogsOptions, emit: (line: LogLine) => void, signal: AbortSignal): Promise<void> {
  const view = runtime.find(ref);
  const since = opts.since !== undefined ? parseSince(opts.since, clock.now()) : undefined;
  await readLog(runtime.logPath(view.record.id), {
    tail: opts.tail,
    follow: opts.follow,
    clock,
    signal,
    running: () => { try { return runtime.find(view.record.id).observed.status === 'running'; } catch (err) { if (err instanceof NotFound) return false; throw err; } },
  }, (r) => {
    if (since !== undefined && Date.parse(r.time) < since) return;
    emit({ service: view.record.config.Labels['com.docker.compose.service'] ?? '', container: view.record.name, stream: r.stream, time: r.time, line: r.log });
  });
}
