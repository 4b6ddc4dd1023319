// One container on this host: create, start, stop, kill, remove, inspect, list, exec, logs.
// The facade the engine uses (the engine is its only user: every verb goes through it). It takes
// every root and every facility as a parameter: the state root, the cgroup driver, the native
// binaries, the clock its waits sleep on. Nothing here blocks the event loop for long: waits
// sleep on the clock and tree removals are asynchronous.
import { chownSync, lstatSync, mkdirSync, writeFileSync, readdirSync, readFileSync, rmSync, rmdirSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { Conflict, NotFound, InternalError, BerthError } from '../lib/errors.js';
import { realClock, type Clock } from '../lib/clock.js';
import { writeJsonAtomic, writeJsonAtomicAsync, writeFileAtomic, createFileExclusive, isTemporaryName, readJson } from '../lib/atomic.js';
import { createLayerDir, removeLayerDirAsync } from '../lib/overlay-layout.js';
import { BASE_HOSTS } from '../lib/hosts.js';
import { runCaptured, signalProcess, processAlive, spawnProcess, type SpawnedProcess, type StdioSlot } from '../sys/spawn.js';
import type { Sys } from '../sys/sys.js';
import { MNT_DETACH } from '../sys/sys.js';
import type { CgroupDriver, CgroupLimits } from './cgroups/driver.js';
import { resolveLimits } from './cgroups/convert.js';
import { observe, checkTransition, type ContainerRecord, type HealthcheckConfig, type Observed, type KernelProbe, type RecordedNetwork } from './state.js';
import { CONTAINER_ID, classifyBundle, claimedName, forgetParsedRecord, placeholderRecord, processToken, tokenAlive, type RecordEntry } from './records.js';
import { isMounted, mountsUnder, removeBundle, removeTemporaryFiles } from './host-files.js';
import { encodeDirectives, launchDirectives, type LaunchSpec, type LaunchMount } from './shim/protocol.js';
import { MASKED_PATHS, READONLY_PATHS, DEFAULT_SHM_SIZE, DEFAULT_STOP_TIMEOUT_SECONDS } from './defaults.js';
import { NO_SECURITY, deviceNodeOwner, checkSecurity, devicePolicyFor, processPrivileges, DEFAULT_NETWORK_SYSCTLS, type SecurityOptions } from './security.js';
import { resolveLogOptions } from './log-options.js';
import { parseSignal } from './signals.js';
import type { ProcessSpec } from './process-spec.js';
import { newContainerId, randomName, validateName } from './names.js';
import { execCapturedIn, writeExecLaunch, type ExecRequest, type ExecTarget } from './exec-captured.js';
import type { SlotPool, PoolStats } from './slots.js';

export interface RuntimeOptions {
  /** BERTH_ROOT: containers/ and overlay2/ live here */
  readonly root: string;
  readonly cgroups: CgroupDriver;
  /** parent of every container cgroup: "<cgroupParent>/<id>" */
  readonly cgroupParent: string;
  /** native/build/berth-shim and berth-init */
  readonly shimPath: string;
  readonly initPath: string;
  /** raw syscalls (only repair paths need them: pass a lazy one) */
  readonly sys: Sys;
  /** environment for the shim and for on_exit hooks (BERTH_ROOT etc. must reach `berth rm`) */
  readonly env: NodeJS.ProcessEnv;
  /**
   * argv of a command the supervisor runs after the exit of a `--rm` container started detached
   * (the id is appended). Absent: nothing is run, and whoever supervises (the engine) removes it.
   */
  readonly autoRemoveCommand?: readonly string[];
  /** what the runtime's waits (stop's grace period, a shim's exit) sleep on; default: real time */
  readonly clock?: Clock;
  /** host resolv.conf to base the container's on */
  readonly hostResolvConf?: string;
  /** warm slots (slots.ts): starts take a waiting shim from here when one is free; absent: every start is cold */
  readonly slots?: SlotPool;
}

export interface CreateRequest {
  /** 64 hex; generated when absent */
  readonly id?: string;
  readonly name?: string;
  readonly imageId: string;
  readonly imageRef: string;
  /** the image's layer short links and diff dirs, top-most first */
  readonly lowerLinks: readonly string[];
  readonly lowerDirs: readonly string[];
  readonly process: ProcessSpec;
  readonly hostname?: string;
  /** the UTS domain name; absent: none */
  readonly domainname?: string;
  readonly tty: boolean;
  readonly openStdin: boolean;
  readonly init: boolean;
  readonly autoRemove: boolean;
  readonly limits: CgroupLimits;
  readonly shmSize?: number;
  readonly stopSignal?: string;
  readonly stopTimeout?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** rlimits by name as in RLIMIT_<name> (NOFILE, NPROC, …) */
  readonly ulimits?: Readonly<Record<string, { readonly soft: number; readonly hard: number }>>;
  /** recorded for inspect and for the engine's restart decisions; the runtime never restarts */
  readonly restartPolicy?: { readonly name: string; readonly maximumRetryCount: number };
  /** recorded for inspect and for the engine's health monitor (the image's merged with the user's); the runtime never probes */
  readonly healthcheck?: HealthcheckConfig;
  /**
   * User mounts (volumes, binds, tmpfs, secrets, configs) in mount order, as src/volumes/mounts.ts
   * builds them; passed to the shim at every start and recorded for inspect, cp and diff.
   */
  readonly mounts?: readonly RecordedMount[];
  /** from the network facility's sandbox: the namespace to join, the two files it renders, and what was asked (recorded) */
  readonly network?: ContainerNetworkFiles & { readonly config?: RecordedNetwork };
  /** capabilities, seccomp, devices, read-only rootfs, sysctls, groups: Docker's defaults when absent */
  readonly security?: SecurityOptions;
  /** json-file options (max-size, max-file); berth's rotation defaults when absent (log-options.ts) */
  readonly logOptions?: Readonly<Record<string, string>>;
}

export type { HealthcheckConfig, RecordedNetwork, RecordedEndpoint, RecordedPort } from './state.js';

/** What the container's process is given of its network: the namespace to join and its two files. */
export interface ContainerNetworkFiles {
  /** absent: a fresh namespace with lo only */
  readonly netns?: string;
  readonly hosts: string;
  readonly resolvConf: string;
}

/** The standard descriptors of an attached shim (`run` attached, `exec`): pipes, /dev/null or descriptors of the engine's. */
export type ShimStdio = readonly [StdioSlot, StdioSlot, StdioSlot];

/**
 * A remapped container (userns_mode: remap) gets what a runtime inside its user namespace would
 * have made its root's: the /etc files berth binds in, and the top of each named volume still
 * owned by the host's root (a fresh one), as Docker's userns-remap does. Files inside a volume are
 * left as they are; bind-mount sources are never changed.
 */
function giveToRemappedRoot(view: ContainerView): void {
  const map = view.record.hostConfig.Security?.IdMap;
  if (map === undefined) return;
  for (const f of ['hostname', 'hosts', 'resolv.conf']) chownSync(join(view.bundle, f), map.Uid, map.Gid);
  for (const m of view.record.hostConfig.Mounts ?? []) {
    if (m.kind !== 'volume' || m.type !== 'bind') continue;
    const st = lstatSync(m.source, { throwIfNoEntry: false });
    if (st?.isDirectory() && st.uid === 0 && st.gid === 0) chownSync(m.source, map.Uid, map.Gid);
  }
}

/** A launch mount plus what inspect's `Mounts` shows about where it came from. */
export type RecordedMount = LaunchMount & {
  /** Docker's mount Type: bind, volume or tmpfs (secrets and configs are binds) */
  readonly kind: 'bind' | 'volume' | 'tmpfs';
  /** the volume's name (kind volume) */
  readonly name?: string;
};

export interface ContainerView {
  readonly record: ContainerRecord;
  readonly observed: Observed;
  readonly bundle: string;
  /**
   * Set when the record could not be read (corrupt or missing config.v2.json): `record` is then a
   * placeholder (records.ts), the status is `dead` and `observed.error` says which file is bad.
   */
  readonly problem?: string;
}

/** What the engine keeps about a container besides the record: restart count and health. */
export interface RuntimeState {
  readonly restartCount?: number;
  /** the finishedAt of the last exit the engine acted on (so a restarted engine acts once) */
  readonly handledExitAt?: string;
  /** set while a policy restart waits out its back-off (the finishedAt of the exit it follows): an engine that stops meanwhile leaves it for the next one */
  readonly pendingRestart?: string;
  readonly health?: {
    readonly status: 'starting' | 'healthy' | 'unhealthy';
    readonly failingStreak: number;
    readonly log: readonly { readonly start: string; readonly end: string; readonly exitCode: number; readonly output: string }[];
  };
}

export type { ExecRequest } from './exec-captured.js';

/**
 * One sample of a container's resource use, in the units of Docker's stats API. `stats` callers
 * compute CPU % from two samples: Δcpu / Δsystem × onlineCpus × 100.
 */
export interface ContainerStats {
  /** epoch ms when the sample was taken */
  readonly read: number;
  /** CPU time the container's cgroup has used, ns */
  readonly cpuUsageNs: number;
  /** CPU time the whole host has used (every CPU, idle included), ns: Docker's system_cpu_usage */
  readonly systemCpuUsageNs: number;
  readonly onlineCpus: number;
  /** bytes charged to the cgroup (page cache included: the driver does not split it out) */
  readonly memoryUsage: number;
  /** bytes: the cgroup's limit, or the host's memory when the cgroup has none (as Docker reports it) */
  readonly memoryLimit: number;
  readonly pids: number;
}

/** One process of a container as the host's /proc shows it (host pids), for `top`. */
export interface ContainerProcess {
  readonly pid: number;
  readonly ppid: number;
  /** effective uid, as the host sees it */
  readonly uid: number;
  /** the controlling terminal's device number (stat field tty_nr); 0 = none */
  readonly ttyNr: number;
  /** epoch ms */
  readonly startedAt: number;
  /** user + system CPU time, ms */
  readonly cpuTimeMs: number;
  /** argv; empty for a zombie or a process that is exiting */
  readonly args: readonly string[];
  /** the kernel's short name (stat's comm), shown as "[comm]" when argv is empty */
  readonly comm: string;
}

const HOSTS = BASE_HOSTS.join('\n') + '\n';

export class ContainerRuntime {
  private readonly containersDir: string;
  private readonly overlayRoot: string;
  private readonly clock: Clock;

  constructor(private readonly opts: RuntimeOptions) {
    this.containersDir = join(opts.root, 'containers');
    this.overlayRoot = join(opts.root, 'overlay2');
    this.clock = opts.clock ?? realClock;
  }

  bundle(id: string): string {
    return join(this.containersDir, id);
  }

  // ── lookup ──────────────────────────────────────────────────────────────────────────────

  /**
   * Every container directory as an entry, a bad one included (as a placeholder with its problem):
   * one unreadable file never hides the others, nor throws. Directories a create is still making
   * or a crash interrupted (repair removes those) are not containers yet.
   */
  private entries(): RecordEntry[] {
    let ids: string[];
    try { ids = readdirSync(this.containersDir); } catch { return []; }
    const out: RecordEntry[] = [];
    for (const id of ids) {
      const entry = this.entry(id);
      if (entry) out.push(entry);
    }
    return out;
  }

  private entry(id: string): RecordEntry | undefined {
    if (!CONTAINER_ID.test(id)) return undefined;
    const bundle = this.bundle(id);
    const c = classifyBundle(bundle);
    switch (c.kind) {
      case 'record': return { id, record: c.record! };
      case 'removing': return { id, record: c.record ?? placeholderRecord(id, bundle, this.opts.cgroupParent, claimedName(this.namesDir, id)) };
      case 'corrupt':
      case 'missing': return { id, record: placeholderRecord(id, bundle, this.opts.cgroupParent, claimedName(this.namesDir, id)), problem: c.problem! };
      default: return undefined;
    }
  }

  private records(): ContainerRecord[] {
    return this.entries().map((e) => e.record);
  }

  private viewOf(e: RecordEntry): ContainerView {
    const bundle = this.bundle(e.id);
    const observed = observe(bundle, this.kernelProbe(e.record));
    if (e.problem === undefined || observed.status === 'removing') return { record: e.record, observed, bundle };
    return { record: e.record, observed: { ...observed, status: 'dead', error: observed.lost ? `${e.problem}; ${observed.error}` : e.problem }, bundle, problem: e.problem };
  }

  /** The kernel's side of a container, asked only when its shim's files and liveness disagree. */
  private kernelProbe(record: ContainerRecord): KernelProbe {
    return {
      cgroupPids: () => {
        try {
          if (cgroupEmptyAtFirstSight(this.opts.cgroups.placement(record.cgroupName).procsDirs[0])) return [];
          return this.opts.cgroups.exists(record.cgroupName) ? this.opts.cgroups.pids(record.cgroupName) : [];
        } catch { return []; }
      },
    };
  }

  /** The ids of every container directory, without reading a record (the supervisor views them one at a time). */
  ids(): string[] {
    try { return readdirSync(this.containersDir).filter((id) => CONTAINER_ID.test(id)); } catch { return []; }
  }

  /** One container by full id; undefined when its directory is not a container (yet, or any more). */
  view(id: string): ContainerView | undefined {
    const e = this.entry(id);
    return e ? this.viewOf(e) : undefined;
  }

  list(): ContainerView[] {
    return this.entries()
      .map((e) => this.viewOf(e))
      .sort((a, b) => (a.record.created < b.record.created ? 1 : -1));
  }

  /** By exact name, full id, or unique id prefix — Docker's order. */
  find(ref: string): ContainerView {
    if (CONTAINER_ID.test(ref)) {
      // a full id (what the engine passes): one directory to read, not all of them
      const e = this.entry(ref);
      if (e) return this.viewOf(e);
    }
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const all = this.entries();
    let hit = all.find((e) => e.record.name === name) ?? all.find((e) => e.id === ref);
    if (!hit && /^[0-9a-f]+$/.test(ref)) {
      const matches = all.filter((e) => e.id.startsWith(ref));
      if (matches.length > 1) throw new Conflict(`multiple containers found with provided prefix: ${ref}`);
      hit = matches[0];
    }
    if (!hit) throw new NotFound(`no such container: ${ref}`);
    return this.viewOf(hit);
  }

  imageInUse(imageId: string): boolean {
    return this.records().some((r) => r.image === imageId);
  }

  private get namesDir(): string {
    return join(this.opts.root, 'names');
  }

  // ── create ──────────────────────────────────────────────────────────────────────────────

  async create(req: CreateRequest): Promise<ContainerRecord> {
    // every record is read only when needed (a random name, a name already claimed): reading
    // them all at every create made `up` of N services read N² records
    let all: ContainerRecord[] | undefined;
    const records = (): readonly ContainerRecord[] => (all ??= this.records());
    const name = req.name !== undefined ? validateName(req.name) : randomName((n) => records().some((r) => r.name === n));
    const id = req.id ?? newContainerId();
    this.reserveName(name, id, records);
    if (!/^[0-9a-f]{64}$/.test(id)) throw new InternalError(`malformed container id ${id}`);
    const stopSignal = req.stopSignal ?? 'SIGTERM';
    parseSignal(stopSignal); // reject a bad signal before anything is created
    const security = req.security ?? NO_SECURITY;
    checkSecurity(security); // and bad privileges, and a bad seccomp profile
    resolveLogOptions(undefined, req.logOptions ?? {});
    const bundle = this.bundle(id);
    const cgroupName = `${this.opts.cgroupParent}/${id}`;
    try {
      mkdirSync(bundle, { recursive: true, mode: 0o710 });
      // Until the record is written, `creating` names the process making the container: a crash in
      // between leaves a directory that repair() recognises (its creator is gone) and removes.
      writeFileSync(join(bundle, 'creating'), processToken());
      const layer = createLayerDir(this.overlayRoot, id, req.lowerLinks);
      mkdirSync(join(layer.dir, 'work'), { mode: 0o700 });
      mkdirSync(join(layer.dir, 'merged'), { mode: 0o755 });
      const hostname = req.hostname && req.hostname !== '' ? req.hostname : id.slice(0, 12);
      writeFileSync(join(bundle, 'hostname'), `${hostname}\n`);
      writeFileSync(join(bundle, 'hosts'), req.network?.hosts ?? HOSTS);
      writeFileSync(join(bundle, 'resolv.conf'), req.network?.resolvConf ?? this.resolvConf());
      const { warnings } = this.opts.cgroups.create(cgroupName, { ...req.limits, devices: devicePolicyFor(security) });
      const record: ContainerRecord = {
        id,
        name,
        created: new Date().toISOString(),
        image: req.imageId,
        imageRef: req.imageRef,
        path: req.process.args[0]!,
        args: req.process.args.slice(1),
        config: {
          Hostname: hostname,
          User: req.process.user,
          Env: req.process.env,
          Cmd: req.process.cmd,
          Entrypoint: req.process.entrypoint,
          WorkingDir: req.process.cwd,
          Image: req.imageRef,
          Labels: req.labels ?? {},
          StopSignal: stopSignal,
          StopTimeout: req.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
          Tty: req.tty,
          OpenStdin: req.openStdin,
          ...(req.healthcheck ? { Healthcheck: req.healthcheck } : {}),
          ...(req.domainname ? { Domainname: req.domainname } : {}),
        },
        hostConfig: {
          AutoRemove: req.autoRemove,
          Init: req.init,
          ShmSize: req.shmSize ?? DEFAULT_SHM_SIZE,
          limits: req.limits,
          Ulimits: req.ulimits ?? {},
          RestartPolicy: req.restartPolicy ?? { name: 'no', maximumRetryCount: 0 },
          ...(req.mounts && req.mounts.length > 0 ? { Mounts: req.mounts } : {}),
          ...(req.network?.netns !== undefined ? { NetnsPath: req.network.netns } : {}),
          ...(req.network?.config !== undefined ? { Network: req.network.config } : {}),
          Security: security,
          LogOptions: req.logOptions ?? {},
        },
        cgroupName,
        layer: { id, lower: req.lowerDirs },
      };
      if (warnings.length > 0) writeFileSync(join(bundle, 'warnings'), warnings.join('\n') + '\n');
      await writeJsonAtomicAsync(join(bundle, 'config.v2.json'), record);
      rmSync(join(bundle, 'creating'), { force: true });
      return record;
    } catch (err) {
      await this.removeFiles(id, cgroupName);
      this.releaseName(name, id);
      throw err;
    }
  }

  /**
   * Names are claimed with an exclusive create of names/<name> (holding the id), so two berth
   * processes racing for one name cannot both win. A claim whose container is gone (a crash
   * between claim and record) is taken over.
   */
  private reserveName(name: string, id: string, records: () => readonly ContainerRecord[]): void {
    const dir = this.namesDir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, name);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        // never an empty or partial claim, even on a full disk or a crash (createFileExclusive)
        createFileExclusive(file, id, 0o600);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let holder = '';
      try { holder = readFileSync(file, 'utf8'); } catch { /* released meanwhile */ }
      if (holder !== '' && (records().some((r) => r.id === holder) || this.beingCreated(holder))) {
        throw new Conflict(`the container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      rmSync(file, { force: true });
    }
    throw new Conflict(`the container name "/${name}" is being claimed by another berth process`);
  }

  private releaseName(name: string, id: string): void {
    const file = join(this.namesDir, name);
    try {
      if (readFileSync(file, 'utf8') === id) rmSync(file, { force: true });
    } catch { /* not ours or gone */ }
  }

  /** A container directory without a record whose creator still runs: a create in progress. */
  private beingCreated(id: string): boolean {
    let token: string;
    try { token = readFileSync(join(this.bundle(id), 'creating'), 'utf8'); } catch { return false; }
    return token !== '' && tokenAlive(token);
  }

  /**
   * Start-up repair of everything a crash may have left half-done (docs/crash-consistency.md has
   * the invariants). Each step is idempotent, and a failure in one container's repair is reported
   * and does not stop the others. Returns one line per action, for the engine log.
   *   - a removal interrupted (`removing` marker): finished;
   *   - a create interrupted (no record, creator gone): rolled back, cgroup and layers included;
   *   - a stopped container whose rootfs is still mounted (its shim was killed): unmounted;
   *   - name claims: a claim whose container is gone (or an empty one) is removed, a container
   *     whose claim is missing gets it back;
   *   - container layer directories and cgroups that belong to no container: removed;
   *   - temporary files of interrupted atomic writes: removed.
   */
  async repair(): Promise<string[]> {
    const done: string[] = [];
    const attempt = async (what: string, step: () => Promise<string | undefined> | string | undefined): Promise<void> => {
      try {
        const line = await step();
        if (line) done.push(line);
      } catch (err) {
        done.push(`could not repair ${what}: ${(err as Error).message}`);
      }
    };
    let dirs: string[];
    try { dirs = readdirSync(this.containersDir); } catch { dirs = []; }
    const live = new Set<string>();
    for (const id of dirs) {
      if (!CONTAINER_ID.test(id)) {
        if (isTemporaryName(id)) await attempt(id, () => { rmSync(join(this.containersDir, id), { force: true, recursive: true }); return undefined; });
        continue;
      }
      const short = id.slice(0, 12);
      const bundle = this.bundle(id);
      const c = classifyBundle(bundle);
      if (c.kind === 'removing') {
        await attempt(`container ${short}`, async () => { await this.finishRemoval(id, c.record); return `finished the removal of container ${short}, which a crash interrupted`; });
        continue;
      }
      if (c.kind === 'interrupted') {
        await attempt(`container ${short}`, async () => {
          await this.finishRemoval(id, undefined);
          return `removed the remains of container ${short}, whose creation was interrupted`;
        });
        continue;
      }
      live.add(id);
      if (c.kind === 'corrupt' || c.kind === 'missing') { done.push(`container ${short} is dead: ${c.problem} (berth rm -f ${short} removes it)`); continue; }
      if (c.kind !== 'record') continue;
      const record = c.record!;
      await attempt(`container ${short}`, async () => {
        removeTemporaryFiles(bundle);
        const o = observe(bundle, this.kernelProbe(record));
        if (o.status === 'exited' || o.status === 'created') {
          const merged = join(this.overlayRoot, record.layer.id, 'merged');
          if (isMounted(merged)) { this.opts.sys.umount2(merged, MNT_DETACH); return `unmounted the rootfs of stopped container ${short}, whose supervisor was killed`; }
        }
        return undefined;
      });
      await attempt(`the name of container ${short}`, () => this.repairClaim(record));
    }
    await attempt('names', () => this.repairNames(live));
    await attempt('layer directories', () => this.repairLayers(live));
    await attempt('cgroups', () => this.repairCgroups(live));
    return done;
  }

  /** A container without its name claim (a crash between removing one and making the other) gets it back. */
  private repairClaim(record: ContainerRecord): string | undefined {
    const file = join(this.namesDir, record.name);
    let holder: string | undefined;
    try { holder = readFileSync(file, 'utf8'); } catch { /* none */ }
    if (holder === record.id) return undefined;
    if (holder !== undefined && holder !== '' && existsSync(join(this.bundle(holder), 'config.v2.json'))) {
      return `containers ${record.id.slice(0, 12)} and ${holder.slice(0, 12)} both have the name "${record.name}"`;
    }
    mkdirSync(this.namesDir, { recursive: true, mode: 0o700 });
    rmSync(file, { force: true });
    createFileExclusive(file, record.id, 0o600);
    return `claimed the name "${record.name}" for container ${record.id.slice(0, 12)} again`;
  }

  /** Claims whose container is gone, empty claims, and temporary files in names/. */
  private repairNames(live: ReadonlySet<string>): string | undefined {
    let names: string[];
    try { names = readdirSync(this.namesDir); } catch { return undefined; }
    const removed: string[] = [];
    for (const n of names) {
      const file = join(this.namesDir, n);
      if (isTemporaryName(n)) { rmSync(file, { force: true }); continue; }
      let holder = '';
      try { holder = readFileSync(file, 'utf8'); } catch { continue; }
      if (CONTAINER_ID.test(holder) && (live.has(holder) || this.beingCreated(holder))) continue;
      rmSync(file, { force: true });
      removed.push(n);
    }
    return removed.length > 0 ? `released ${removed.length} name claim(s) of containers that no longer exist: ${removed.join(', ')}` : undefined;
  }

  /** Container layer directories (they have `work/`) of no container; image layers are the image store's. */
  private async repairLayers(live: ReadonlySet<string>): Promise<string | undefined> {
    let ids: string[];
    try { ids = readdirSync(this.overlayRoot); } catch { return undefined; }
    const removed: string[] = [];
    for (const id of ids) {
      if (!CONTAINER_ID.test(id) || live.has(id) || existsSync(this.bundle(id))) continue;
      const dir = join(this.overlayRoot, id);
      if (!existsSync(join(dir, 'work')) && !existsSync(join(dir, 'merged'))) continue;
      for (const mp of mountsUnder(dir)) this.opts.sys.umount2(mp, MNT_DETACH);
      await removeLayerDirAsync(this.overlayRoot, id);
      removed.push(id.slice(0, 12));
    }
    return removed.length > 0 ? `removed the layer directories of ${removed.length} container(s) that no longer exist: ${removed.join(', ')}` : undefined;
  }

  /**
   * The engine's stop: the containers' parent cgroup goes when no container cgroup is left in it
   * (rmdir refuses a cgroup with children, so a container that lives on keeps it). The next
   * create makes it again.
   */
  removeIdleCgroupParent(): void {
    for (const d of this.opts.cgroups.placement(this.opts.cgroupParent).procsDirs) {
      try { rmdirSync(d); } catch { /* absent, or containers still in it */ }
    }
  }

  /** Empty cgroups under the parent named like a container that does not exist. */
  private async repairCgroups(live: ReadonlySet<string>): Promise<string | undefined> {
    const parentDirs = this.opts.cgroups.placement(this.opts.cgroupParent).procsDirs;
    const candidates = new Set<string>();
    for (const d of parentDirs) {
      let names: string[];
      try { names = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name); } catch { continue; }
      for (const n of names) if (CONTAINER_ID.test(n) && !live.has(n) && !existsSync(this.bundle(n))) candidates.add(n);
    }
    const removed: string[] = [];
    for (const id of candidates) {
      const name = `${this.opts.cgroupParent}/${id}`;
      if (this.opts.cgroups.pids(name).length > 0) continue; // not ours to kill: reported by nobody, left alone
      await this.opts.cgroups.remove(name);
      removed.push(id.slice(0, 12));
    }
    return removed.length > 0 ? `removed the cgroups of ${removed.length} container(s) that no longer exist: ${removed.join(', ')}` : undefined;
  }

  /**
   * The container's network after its sandbox was made again (a reboot emptied BERTH_RUN, the
   * container it shares a namespace with was recreated, a network was connected): the namespace
   * recorded for the next start, and /etc/hosts and /etc/resolv.conf rewritten in place — they
   * are bind-mounted file by file into a running container, so the inode must stay (no rename).
   */
  setNetworkFiles(id: string, files: ContainerNetworkFiles, config?: RecordedNetwork): void {
    const view = this.find(id);
    writeFileSync(join(view.bundle, 'hosts'), files.hosts);
    writeFileSync(join(view.bundle, 'resolv.conf'), files.resolvConf);
    const hostConfig: { -readonly [K in keyof ContainerRecord['hostConfig']]: ContainerRecord['hostConfig'][K] } = { ...view.record.hostConfig };
    if (files.netns !== undefined) hostConfig.NetnsPath = files.netns; else delete hostConfig.NetnsPath;
    if (config !== undefined) hostConfig.Network = config;
    writeJsonAtomic(join(view.bundle, 'config.v2.json'), { ...view.record, hostConfig });
  }

  warnings(id: string): string[] {
    try { return readFileSync(join(this.bundle(id), 'warnings'), 'utf8').split('\n').filter((l) => l !== ''); } catch { return []; }
  }

  private resolvConf(): string {
    let text = '';
    try { text = readFileSync(this.opts.hostResolvConf ?? '/etc/resolv.conf', 'utf8'); } catch { /* none on the host */ }
    // Docker drops loopback nameservers: inside the container's own netns they point nowhere.
    const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
    if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
    return lines.filter((l, i, a) => !(l === '' && i === a.length - 1)).join('\n') + '\n';
  }

  // ── start ───────────────────────────────────────────────────────────────────────────────

  private launchSpec(record: ContainerRecord, bundle: string, onExit: readonly string[]): LaunchSpec {
    const layerDir = join(this.overlayRoot, record.layer.id);
    const merged = join(layerDir, 'merged');
    const lowers = readFileSync(join(layerDir, 'lower'), 'utf8').trim();
    const placement = this.opts.cgroups.placement(record.cgroupName);
    const security = record.hostConfig.Security ?? NO_SECURITY;
    const privileges = processPrivileges(security, this.seccompCacheDir());
    const rotation = resolveLogOptions(undefined, record.hostConfig.LogOptions ?? {});
    return {
      id: record.id,
      bundle,
      overlay: {
        mountpoint: merged,
        options: `lowerdir=${lowers},upperdir=${join(layerDir, 'diff')},workdir=${join(layerDir, 'work')}`,
        chdir: this.overlayRoot,
      },
      rootfs: merged,
      hostname: record.config.Hostname,
      ...(record.config.Domainname ? { domainname: record.config.Domainname } : {}),
      ...(record.hostConfig.NetnsPath !== undefined ? { netns: record.hostConfig.NetnsPath } : {}),
      args: [record.path, ...record.args],
      env: record.config.Env,
      cwd: record.config.WorkingDir,
      user: record.config.User,
      cgroups: placement.procsDirs,
      oom: placement.oom,
      caps: privileges.caps,
      noNewPrivs: privileges.noNewPrivs,
      seccomp: privileges.seccomp,
      groupAdd: privileges.groupAdd,
      // No rlimit is imposed by default: the container inherits the caller's, as Docker's
      // containers inherit the daemon's. (--ulimit will add entries here.)
      rlimits: Object.entries(record.hostConfig.Ulimits ?? {}).map(([name, l]) => ({ name: name.toUpperCase(), soft: l.soft < 0 ? 'unlimited' as const : l.soft, hard: l.hard < 0 ? 'unlimited' as const : l.hard })),
      shmSize: record.hostConfig.ShmSize,
      // privileged: nothing masked, nothing read-only, /sys writable (Docker's --privileged)
      masked: security.Privileged ? [] : MASKED_PATHS,
      readonly: security.Privileged ? [] : READONLY_PATHS,
      sysfsRw: security.Privileged,
      readonlyRootfs: security.ReadonlyRootfs,
      binds: [
        { source: join(bundle, 'hostname'), target: '/etc/hostname', readonly: false },
        { source: join(bundle, 'hosts'), target: '/etc/hosts', readonly: false },
        { source: join(bundle, 'resolv.conf'), target: '/etc/resolv.conf', readonly: false },
      ],
      mounts: record.hostConfig.Mounts ?? [],
      sysctls: Object.entries({ ...DEFAULT_NETWORK_SYSCTLS, ...security.Sysctls }),
      devices: security.Devices.map((d) => ({ path: d.PathInContainer, type: d.type, major: d.major, minor: d.minor, mode: d.mode, ...deviceNodeOwner(security, d) })),
      cgroupfs: this.opts.cgroups.containerMounts(),
      init: record.hostConfig.Init ? this.opts.initPath : undefined,
      tty: record.config.Tty,
      stdin: record.config.OpenStdin,
      log: join(bundle, `${record.id}-json.log`),
      logMaxSize: rotation.maxSize,
      logMaxFiles: rotation.maxFiles,
      ...(security.IdMap ? { userns: { uid: security.IdMap.Uid, gid: security.IdMap.Gid, count: security.IdMap.Count } } : {}),
      onExit,
    };
  }

  private async prepareStart(view: ContainerView, onExit: readonly string[] = [], opts: { readonly keepRecords?: boolean } = {}): Promise<string> {
    if (view.problem !== undefined) throw new Conflict(`container ${view.record.id.slice(0, 12)} cannot start: ${view.problem}`);
    checkTransition(view.record.id, view.observed.status, 'running');
    // One instance per container, always: nothing may start while processes of an earlier run
    // are in its cgroup (a lost supervisor's) or its rootfs is still mounted (a shim killed before
    // it unmounted): a second overlay mount on the same upper dir corrupts it.
    const name = view.record.cgroupName;
    if (this.cgroupBusy(name)) {
      throw new Conflict(`container ${view.record.id.slice(0, 12)} cannot start: processes of an earlier run are still in its cgroup`);
    }
    await this.unmountIfMounted(join(this.overlayRoot, view.record.layer.id, 'merged'));
    // a removal that began meanwhile (down racing a policy restart) wins: nothing is made again
    if (existsSync(join(view.bundle, 'removing')) || !existsSync(join(view.bundle, 'config.v2.json'))) {
      throw new Conflict(`container ${view.record.id.slice(0, 12)} cannot start: it is being removed`);
    }
    // After a host reboot (or anything else that emptied the cgroup filesystem) the container's
    // cgroup is gone, and a crash during a removal may have left it in some hierarchies only:
    // make it again, whole, from the record, so that a restart policy can bring it back.
    if (!this.opts.cgroups.placement(name).procsDirs.every((d) => existsSync(d))) {
      await this.opts.cgroups.remove(name);
      this.opts.cgroups.create(name, { ...view.record.hostConfig.limits, devices: devicePolicyFor(view.record.hostConfig.Security ?? NO_SECURITY) });
    }
    // a held start keeps the last run's records until it goes: until then the container has exited
    if (!opts.keepRecords) this.clearRunRecords(view.bundle);
    giveToRemappedRoot(view);
    const file = join(view.bundle, 'launch');
    // rewritten at every start from the record: a host crash losing it loses nothing
    writeFileAtomic(file, encodeDirectives(launchDirectives(this.launchSpec(view.record, view.bundle, onExit))), { durable: false });
    return file;
  }

  /** The records of the last run: removed by a start, before its shim writes new ones. */
  private clearRunRecords(bundle: string): void {
    for (const f of ['started', 'exited', 'error']) rmSync(join(bundle, f), { force: true });
  }

  /**
   * Starts in the background: returns once the container runs (or failed to start).
   *
   * With `held` (a policy restart waiting out its back-off) the start is *held*: the whole start
   * is made at once — overlay, namespaces, cgroups, mounts, pivot_root — and the container's
   * process sleeps just before its execve until `held.deadline` (epoch ms, the engine's clock:
   * realtime), then goes by itself (`berth-shim run --detach --hold-until`, native/src/hold.h);
   * the shim drops the last run's records once it went. `held.signal` aborting cancels it: the
   * shim is told, and exactly one of the two wins. Cancelled first: the shim undoes the start,
   * the records stay as they were, and this rejects with an AbortError. The deadline first: the
   * container runs and this resolves as for any start (the caller finds `signal` aborted and the
   * container running: a stop that races the deadline must act after this, under the
   * container's lock). `held.went` is told when the process woke (epoch ms, the shim's clock).
   */
  async startDetached(ref: string, held?: HeldStart): Promise<ContainerView> {
    const view = this.find(ref);
    // Detached, nobody waits for the exit: a configured hook removes it (Docker's --rm), else
    // the engine's supervisor does when it sees the exit.
    const onExit = view.record.hostConfig.AutoRemove && this.opts.autoRemoveCommand ? [...this.opts.autoRemoveCommand, view.record.id] : [];
    if (held) return this.startHeld(view, onExit, held);
    const file = await this.prepareStart(view, onExit);
    const r = (await this.opts.slots?.runDetached(file)) ?? await runCaptured(this.opts.shimPath, ['run', '--detach', file], this.opts.env);
    if (r.code !== 0) throw startError(r.code, r.stderr, view.record.id);
    return this.find(view.record.id);
  }

  private async startHeld(view: ContainerView, onExit: readonly string[], held: HeldStart): Promise<ContainerView> {
    if (held.signal.aborted) throw cancelledStart();
    const file = await this.prepareStart(view, onExit, { keepRecords: true });
    if (held.signal.aborted) throw cancelledStart();
    const shim = await spawnProcess(this.opts.shimPath, ['run', '--detach', `--hold-until=${holdDeadline(held.deadline)}`, file], this.opts.env, ['pipe', 'pipe', 'pipe']);
    let stderr = '';
    let stdout = '';
    shim.stderr!.setEncoding('utf8');
    shim.stderr!.on('data', (s: string) => { stderr += s; });
    shim.stdout!.setEncoding('utf8');
    shim.stdout!.on('data', (s: string) => { stdout += s; });
    const stdin = shim.stdin!;
    stdin.on('error', () => { /* the shim exited first: its exit says why */ });
    // the cancellation: EOF on the shim's stdin (it decides, atomically, whether it came first)
    const cancel = (): void => { stdin.end(); };
    held.signal.addEventListener('abort', cancel, { once: true });
    if (held.signal.aborted) cancel(); // aborted while the shim was being spawned
    let exit;
    try {
      exit = await shim.exited;
    } finally {
      held.signal.removeEventListener('abort', cancel);
      stdin.end();
    }
    // "ready\n" once made, then "went <time> ready <time>\n" (exit 0) or "cancelled\n" (exit 125)
    const went = /^went (\S+) ready (\S+)$/m.exec(stdout);
    if (exit.code === 0 && went) {
      held.went?.(epochMsOf(went[1]!), epochMsOf(went[2]!));
      return this.find(view.record.id);
    }
    if (/^cancelled$/m.test(stdout)) throw cancelledStart();
    // as a start that failed unheld: created, with the shim's error (it wrote `error`)
    for (const f of ['started', 'exited']) rmSync(join(view.bundle, f), { force: true });
    throw startError(exit.code ?? 125, stderr, view.record.id);
  }

  /**
   * Starts attached: the shim (`berth-shim run`) supervises the container as a detached one
   * does, and also relays its stdio to `stdio`. With a tty, stdin should be a terminal (the
   * slave of a pty) so that the shim follows its window size on SIGWINCH. Resolves once the shim
   * runs; its exit status is the container's exit code (see shimExitCode).
   */
  async startAttached(ref: string, stdio: ShimStdio): Promise<SpawnedProcess> {
    const view = this.find(ref);
    const file = await this.prepareStart(view);
    return this.opts.slots?.runAttached(file, stdio) ?? spawnProcess(this.opts.shimPath, ['run', file], this.opts.env, stdio);
  }

  // ── warm slots (slots.ts) ─────────────────────────────────────────────────────────────

  /** Fills the slot pool in the background (the engine calls it once it is up). */
  warmSlots(): void {
    this.opts.slots?.warm();
  }

  /** The engine's stop: idle slots end (their socket's EOF) and are waited for. */
  async stopSlots(): Promise<void> {
    await this.opts.slots?.stop();
  }

  slotStats(): PoolStats {
    return this.opts.slots?.stats() ?? { size: 0, idle: 0, pids: [], claimed: 0 };
  }

  // ── stop / kill ─────────────────────────────────────────────────────────────────────────

  /**
   * Best effort: a stop or kill must work on a full disk. The record keeps the old value then, and
   * the engine's supervisor still knows the user stopped it (it cancels pending restarts itself).
   */
  private async markStoppedByUser(view: ContainerView): Promise<void> {
    if (view.record.stoppedByUser || view.problem !== undefined) return;
    try {
      // off the loop: a down stops every container at once
      await writeJsonAtomicAsync(join(view.bundle, 'config.v2.json'), { ...view.record, stoppedByUser: true });
    } catch { /* see above */ }
  }

  /** Waits until the shim has written `exited`; false on timeout. */
  private async waitExited(bundle: string, timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const o = observe(bundle);
      if (o.status !== 'running') return true;
      if (this.clock.now() >= deadline) return false;
      await this.clock.sleep(10);
    }
  }

  /** Waits for the supervisor itself to finish (it unmounts the rootfs after the exit record). */
  private async waitShimGone(view: ContainerView, timeoutMs: number): Promise<void> {
    const shimPid = view.observed.started?.shimPid;
    if (!shimPid) return;
    const deadline = this.clock.now() + timeoutMs;
    while (this.clock.now() < deadline && processAlive(shimPid) && isShim(shimPid)) await this.clock.sleep(10);
  }

  /**
   * Docker's stop: the stop signal, `timeoutSeconds` of grace, then SIGKILL.
   *
   * `critical` runs the decision — the container's state read, the stop recorded, the first
   * signal sent — under the caller's lock for this container (the engine's: a held restart keeps
   * it until its shim has said whether it went, so a stop never decides on a container about to
   * run). The grace and the waits run outside it: a `kill` during a long stop is not held up.
   */
  async stop(ref: string, timeoutSeconds?: number, signal?: string, critical: CriticalSection = immediately): Promise<ContainerView> {
    const sent = await critical(async (): Promise<{ view: ContainerView; pid?: number }> => {
      let view = this.find(ref);
      if (view.observed.lost) { await this.markStoppedByUser(view); return { view: await this.reapLost(view.record.id) }; }
      if (view.observed.status === 'paused') { await this.thaw(view); view = this.find(ref); }
      if (view.observed.status !== 'running') return { view };
      await this.markStoppedByUser(view);
      const pid = view.observed.started!.pid;
      signalProcess(pid, parseSignal(signal ?? view.record.config.StopSignal));
      return { view, pid };
    });
    const { view, pid } = sent;
    if (pid === undefined) return view;
    const grace = (timeoutSeconds ?? view.record.config.StopTimeout) * 1000;
    if (!(await this.waitExited(view.bundle, grace))) {
      signalProcess(pid, 9);
      if (!(await this.waitExited(view.bundle, 10_000))) throw new InternalError(`container ${view.record.id.slice(0, 12)} did not exit after SIGKILL`);
    }
    await this.waitShimGone(view, 5_000);
    return this.find(view.record.id);
  }

  /** Docker's kill; `critical` as for stop(): the decision and the signal under the caller's lock, the wait after SIGKILL outside it. */
  async kill(ref: string, signal = 'SIGKILL', critical: CriticalSection = immediately): Promise<void> {
    const sig = parseSignal(signal);
    const view = await critical(async (): Promise<ContainerView | undefined> => {
      let view = this.find(ref);
      if (view.observed.lost && sig === 9) { await this.markStoppedByUser(view); await this.reapLost(view.record.id); return undefined; }
      if (view.observed.status === 'paused' && sig === 9) { await this.thaw(view); view = this.find(ref); }
      if (view.observed.status !== 'running') throw new Conflict(`cannot kill container: ${ref}: container ${view.record.id} is not running`);
      if (sig === 9 || sig === 15) await this.markStoppedByUser(view);
      signalProcess(view.observed.started!.pid, sig);
      return view;
    });
    if (view && sig === 9) {
      await this.waitExited(view.bundle, 10_000);
      await this.waitShimGone(view, 5_000);
    }
  }

  // ── pause / unpause (the cgroup freezer) ─────────────────────────────────────────────

  async pause(ref: string): Promise<ContainerView> {
    const view = this.find(ref);
    if (view.observed.status === 'paused') throw new Conflict(`container ${view.record.id} is already paused`);
    if (view.observed.status !== 'running') throw new Conflict(`container ${view.record.id} is not running`);
    await this.opts.cgroups.freeze(view.record.cgroupName);
    writeFileSync(join(view.bundle, 'paused'), '');
    return this.find(view.record.id);
  }

  async unpause(ref: string): Promise<ContainerView> {
    const view = this.find(ref);
    if (view.observed.status !== 'paused') throw new Conflict(`container ${view.record.id} is not paused`);
    await this.thaw(view);
    return this.find(view.record.id);
  }

  /** A frozen container cannot act on a signal: stop, kill and rm thaw it first (as Docker does). */
  private async thaw(view: ContainerView): Promise<void> {
    if (view.observed.status !== 'paused') return;
    await this.opts.cgroups.thaw(view.record.cgroupName);
    rmSync(join(view.bundle, 'paused'), { force: true });
  }

  // ── remove ──────────────────────────────────────────────────────────────────────────────

  /**
   * Removes a container. Once its processes are gone, the `removing` marker is written before
   * anything is taken away: from then on the container is `removing` to everyone, and a crash at
   * any later point is finished by repair() (finishRemoval), never half-done and never started.
   */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<string> {
    let view = this.find(ref);
    if (view.observed.status === 'paused' && opts.force) { await this.thaw(view); view = this.find(ref); }
    if (view.observed.status === 'running' || view.observed.status === 'paused') {
      if (!opts.force) {
        throw new Conflict(`cannot remove container "/${view.record.name}": container is running: stop the container before removing or force remove`);
      }
      signalProcess(view.observed.started!.pid, 9);
      await this.waitExited(view.bundle, 10_000);
    }
    if (view.observed.lost || (view.problem !== undefined && this.cgroupBusy(view.record.cgroupName))) {
      if (!opts.force) throw new Conflict(`cannot remove container "/${view.record.name}": ${view.observed.error}: processes still run in its cgroup: force remove to kill them`);
      await this.killCgroup(view.record);
    }
    await this.waitShimGone(view, 5_000);
    // Marker first; a full disk must not prevent a removal: an empty marker needs no block on
    // most filesystems, and a failure to write it only loses crash safety for this one removal.
    try { writeFileSync(join(view.bundle, 'removing'), ''); } catch { /* removing anyway */ }
    await this.finishRemoval(view.record.id, view.record);
    return view.record.id;
  }

  /**
   * Everything a container has on the host, each step idempotent: its processes (a lost
   * supervisor's), the rootfs mount, the cgroup, the layer directories, the name claim, and the
   * directory last — its record and marker after every other file, so that a crash leaves a
   * directory repair() still recognises as a removal.
   */
  private async finishRemoval(id: string, record: ContainerRecord | undefined): Promise<void> {
    const cgroupName = record?.cgroupName ?? `${this.opts.cgroupParent}/${id}`;
    const layerId = record?.layer.id ?? id;
    if (this.cgroupBusy(cgroupName)) await this.killCgroup({ cgroupName, id });
    await this.unmountIfMounted(join(this.overlayRoot, layerId, 'merged'));
    await this.opts.cgroups.remove(cgroupName);
    await removeLayerDirAsync(this.overlayRoot, layerId);
    // a scan of names/ only when the record is unknown: a down of many containers stays linear
    if (record) this.releaseName(record.name, id);
    else this.releaseClaimsOf(id);
    await removeBundle(this.bundle(id));
    forgetParsedRecord(this.bundle(id));
  }

  private cgroupBusy(name: string): boolean {
    try { return this.opts.cgroups.exists(name) && this.opts.cgroups.pids(name).length > 0; } catch { return false; }
  }

  /** Removes every name claim that holds `id` (a placeholder's name may not be the claim's). */
  private releaseClaimsOf(id: string): void {
    let name: string | undefined;
    while ((name = claimedName(this.namesDir, id)) !== undefined) rmSync(join(this.namesDir, name), { force: true });
  }

  /**
   * Kills every process in the container's cgroup and waits until it is empty: the one way to end
   * a container whose supervisor is gone. Freezing first keeps a forking process from escaping
   * between the read of the pids and the kill; SIGKILL reaches frozen tasks once thawed.
   */
  private async killCgroup(record: Pick<ContainerRecord, 'cgroupName' | 'id'>): Promise<void> {
    const name = record.cgroupName;
    const deadline = this.clock.now() + 10_000;
    let frozen = false;
    try { await this.opts.cgroups.freeze(name); frozen = true; } catch { /* no freezer: kill in rounds */ }
    for (;;) {
      const pids = this.opts.cgroups.exists(name) ? this.opts.cgroups.pids(name) : [];
      if (pids.length === 0) break;
      for (const pid of pids) signalProcess(pid, 9);
      if (frozen) { await this.opts.cgroups.thaw(name).catch(() => undefined); frozen = false; }
      if (this.clock.now() >= deadline) throw new InternalError(`the processes of container ${record.id.slice(0, 12)} did not exit after SIGKILL`);
      await this.clock.sleep(10);
    }
    if (frozen) await this.opts.cgroups.thaw(name).catch(() => undefined);
  }

  /**
   * Ends a container whose supervisor was lost while its processes run (observe()'s `lost`):
   * kills them, unmounts its rootfs, and records the end as the shim would have (exit 137, the
   * SIGKILL it took), with the reason in `error`. Afterwards it is an ordinary exited container,
   * which its restart policy may start again — never while the old processes or mount remain.
   */
  async reapLost(id: string): Promise<ContainerView> {
    const view = this.find(id);
    if (!view.observed.lost) return view;
    await this.killCgroup(view.record);
    await this.unmountIfMounted(join(this.overlayRoot, view.record.layer.id, 'merged'));
    const finishedAt = new Date(this.clock.now()).toISOString();
    try {
      writeFileAtomic(join(view.bundle, 'error'), `supervisor lost: its ${view.observed.lost.pids.length} remaining process(es) were killed\n`, { durable: false });
    } catch { /* the exit record matters more */ }
    if (!view.observed.started) writeJsonAtomic(join(view.bundle, 'started'), { pid: view.observed.lost.pids[0] ?? 0, shimPid: 0, startedAt: finishedAt });
    writeJsonAtomic(join(view.bundle, 'exited'), { exitCode: 137, signal: 9, oomKilled: false, finishedAt });
    return this.find(id);
  }

  /** A supervisor killed before it could unmount leaves the rootfs mounted. */
  private async unmountIfMounted(path: string): Promise<void> {
    if (!isMounted(path)) return;
    this.opts.sys.umount2(path, MNT_DETACH);
  }

  /** The cgroup, the layer directories (a container's upper dir may be large) and the bundle, without blocking. */
  private async removeFiles(id: string, cgroupName: string): Promise<void> {
    await this.opts.cgroups.remove(cgroupName);
    await removeLayerDirAsync(this.overlayRoot, id);
    await removeBundle(this.bundle(id));
    forgetParsedRecord(this.bundle(id));
  }

  // ── exec ────────────────────────────────────────────────────────────────────────────────

  private execTarget(view: ContainerView): ExecTarget {
    return { record: view.record, bundle: view.bundle, pid: view.observed.started!.pid, cgroupProcsDirs: this.opts.cgroups.placement(view.record.cgroupName).procsDirs, seccompCacheDir: this.seccompCacheDir() };
  }

  /** BERTH_ROOT/seccomp: the shim's compiled filters (root only), created on first use. */
  private seccompCacheDir(): string {
    const dir = join(this.opts.root, 'seccomp');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /**
   * Runs a process in the container through `berth-shim exec`, which relays its stdio to `stdio`
   * (with a tty, stdin should be the slave of a pty, as for startAttached). Resolves once the shim
   * runs; its exit status is the process's. The launch file is removed when the shim exits.
   */
  async exec(ref: string, req: ExecRequest, stdio: ShimStdio): Promise<SpawnedProcess> {
    const view = this.find(ref);
    if (view.observed.status !== 'running') throw new Conflict(`container ${view.record.id} is not running`);
    const file = writeExecLaunch(this.execTarget(view), req);
    const cleanup = (): void => { try { unlinkSync(file); } catch { /* gone */ } };
    let child: SpawnedProcess;
    try {
      child = await spawnProcess(this.opts.shimPath, ['exec', file], this.opts.env, stdio);
    } catch (err) {
      cleanup();
      throw err;
    }
    void child.exited.then(cleanup);
    return child;
  }

  /**
   * `exec` for health probes: stdin closed, no tty, stdout+stderr captured (at most 4096 bytes by
   * default), the command's whole session killed after `timeoutMs` or on abort. See exec-captured.ts.
   */
  async execCaptured(ref: string, req: ExecRequest, opts: { timeoutMs: number; maxOutput?: number; signal?: AbortSignal }): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const view = this.find(ref);
    if (view.observed.status !== 'running') throw new Conflict(`container ${view.record.id} is not running`);
    const target = this.execTarget(view);
    return execCapturedIn({ shimPath: this.opts.shimPath, env: this.opts.env }, target, req, opts);
  }

  // ── state kept for the engine ────────────────────────────────────────────────────────

  /** Restart count and health, written by the engine and shown by inspect/ps (state.json). A corrupt state.json reads as empty (it holds nothing that cannot be rebuilt: counts, health). */
  runtimeState(id: string): RuntimeState {
    try {
      const s = readJson<RuntimeState>(join(this.bundle(id), 'state.json'));
      return typeof s === 'object' && s !== null && !Array.isArray(s) ? s : {};
    } catch {
      return {};
    }
  }

  /**
   * Throws a SysError (never a bare Node error) when it cannot write: a full disk, or a container
   * removed meanwhile (NotFound). Callers in the supervisor log it and go on.
   */
  updateRuntimeState(id: string, patch: Partial<RuntimeState>): RuntimeState {
    const next = { ...this.runtimeState(id), ...patch };
    if (!existsSync(this.bundle(id))) throw new NotFound(`no such container: ${id}`);
    // written at every exit and health probe: a host crash may only lose the last of these writes
    writeJsonAtomic(join(this.bundle(id), 'state.json'), next, { durable: false });
    return next;
  }

  /** `update --restart`: the policy the engine follows from the next exit on. */
  updateRestartPolicy(ref: string, policy: { readonly name: string; readonly maximumRetryCount: number }): ContainerRecord {
    const view = this.find(ref);
    const record: ContainerRecord = { ...view.record, hostConfig: { ...view.record.hostConfig, RestartPolicy: { name: policy.name, maximumRetryCount: policy.maximumRetryCount } } };
    writeJsonAtomic(join(view.bundle, 'config.v2.json'), record);
    return record;
  }

  /**
   * `update --memory/--cpus/…`: `changes` over the limits the container has (docker update merges
   * the same way), applied at once to a running or paused container's cgroup (a stopped one gets
   * them at its next start), then recorded. Returns Docker's warnings.
   */
  updateLimits(ref: string, changes: CgroupLimits): string[] {
    const view = this.find(ref);
    // the device policy stays (update never changes it; the driver leaves it alone)
    const merged: CgroupLimits = { ...view.record.hostConfig.limits, ...changes };
    // validated even when nothing runs, so that a bad value fails now, not at the next start
    let { warnings } = resolveLimits(merged);
    if (this.opts.cgroups.exists(view.record.cgroupName)) warnings = this.opts.cgroups.update(view.record.cgroupName, merged).warnings;
    const record: ContainerRecord = { ...view.record, hostConfig: { ...view.record.hostConfig, limits: merged } };
    writeJsonAtomic(join(view.bundle, 'config.v2.json'), record);
    return warnings;
  }

  /** The container layer's upper dir: what `commit` makes a layer of. */
  upperDir(ref: string): string {
    return join(this.overlayRoot, this.find(ref).record.layer.id, 'diff');
  }

  /** A user stop recorded earlier no longer holds once the container is started again. */
  clearStoppedByUser(id: string): void {
    const view = this.find(id);
    if (!view.record.stoppedByUser) return;
    writeJsonAtomic(join(view.bundle, 'config.v2.json'), { ...view.record, stoppedByUser: false });
  }

  // ── inspect ─────────────────────────────────────────────────────────────────────────────

  logPath(id: string): string {
    return join(this.bundle(id), `${id}-json.log`);
  }

  inspect(ref: string): Record<string, unknown> {
    const { record: r, observed: o, bundle } = this.find(ref);
    const rs = this.runtimeState(r.id);
    const layerDir = join(this.overlayRoot, r.layer.id);
    const oom = o.exited?.oomKilled ?? (this.opts.cgroups.exists(r.cgroupName) ? this.opts.cgroups.oomKilled(r.cgroupName) : false);
    const l = r.hostConfig.limits;
    const applied = appliedLimits(l);
    const sec = r.hostConfig.Security ?? NO_SECURITY;
    return {
      Id: r.id,
      Created: r.created,
      Path: r.path,
      Args: r.args,
      State: {
        Status: o.status,
        Running: o.status === 'running' || o.status === 'paused',
        Paused: o.status === 'paused',
        Restarting: false,
        OOMKilled: oom,
        Dead: o.status === 'dead',
        Pid: o.status === 'running' || o.status === 'paused' ? o.started!.pid : 0,
        ...(rs.health ? { Health: { Status: rs.health.status, FailingStreak: rs.health.failingStreak, Log: rs.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })) } } : {}),
        ExitCode: o.exited?.exitCode ?? 0,
        Error: o.error ?? '',
        StartedAt: o.started?.startedAt ?? '0001-01-01T00:00:00Z',
        FinishedAt: o.exited?.finishedAt || '0001-01-01T00:00:00Z',
      },
      Image: r.image,
      Mounts: (r.hostConfig.Mounts ?? []).map((m) => ({
        Type: m.kind,
        ...(m.name !== undefined ? { Name: m.name } : {}),
        Source: m.type === 'bind' ? m.source : '',
        Destination: m.target,
        ...(m.kind === 'volume' ? { Driver: 'local' } : {}),
        Mode: m.kind === 'bind' ? (m.readonly ? 'ro' : 'rw') : '',
        RW: !m.readonly,
        Propagation: m.type === 'bind' && m.kind === 'bind' ? (m.propagation ?? 'rprivate') : '',
      })),
      ResolvConfPath: join(bundle, 'resolv.conf'),
      HostnamePath: join(bundle, 'hostname'),
      HostsPath: join(bundle, 'hosts'),
      LogPath: this.logPath(r.id),
      Name: `/${r.name}`,
      RestartCount: rs.restartCount ?? 0,
      Driver: 'overlay2',
      Platform: 'linux',
      HostConfig: {
        AutoRemove: r.hostConfig.AutoRemove,
        Init: r.hostConfig.Init,
        ShmSize: r.hostConfig.ShmSize,
        NetworkMode: 'none',
        CpuShares: l.cpuShares ?? 0,
        NanoCpus: l.cpuQuota && l.cpuPeriod ? Math.round((l.cpuQuota / l.cpuPeriod) * 1e9) : 0,
        CpuPeriod: l.cpuPeriod ?? 0,
        CpuQuota: l.cpuQuota ?? 0,
        CpusetCpus: l.cpusetCpus ?? '',
        CpusetMems: l.cpusetMems ?? '',
        // what was applied, as Docker reports it: -m 64m alone gives MemorySwap 128m (2 × memory)
        Memory: applied.memory ?? 0,
        MemorySwap: applied.memorySwap ?? 0,
        PidsLimit: l.pidsLimit ?? null,
        CgroupParent: '',
        Cgroup: r.cgroupName,
        LogConfig: { Type: 'json-file', Config: r.hostConfig.LogOptions ?? {} },
        CapAdd: sec.CapAdd.length > 0 ? sec.CapAdd : null,
        CapDrop: sec.CapDrop.length > 0 ? sec.CapDrop : null,
        Privileged: sec.Privileged,
        // a profile's JSON text is shown as Docker shows it: seccomp=<the text>
        SecurityOpt: sec.SecurityOpt.length > 0 ? sec.SecurityOpt : null,
        ReadonlyRootfs: sec.ReadonlyRootfs,
        Devices: sec.Devices.map((d) => ({ PathOnHost: d.PathOnHost, PathInContainer: d.PathInContainer, CgroupPermissions: d.CgroupPermissions })),
        Sysctls: Object.keys(sec.Sysctls).length > 0 ? sec.Sysctls : null,
        GroupAdd: sec.GroupAdd.length > 0 ? sec.GroupAdd : null,
        // Docker shows "" for the host's user namespace; berth's remap also names its range
        UsernsMode: sec.UsernsMode === 'remap' ? 'remap' : '',
        ...(sec.IdMap ? { IdMap: sec.IdMap } : {}),
        RestartPolicy: { Name: r.hostConfig.RestartPolicy?.name ?? 'no', MaximumRetryCount: r.hostConfig.RestartPolicy?.maximumRetryCount ?? 0 },
        Ulimits: Object.entries(r.hostConfig.Ulimits ?? {}).map(([Name, l]) => ({ Name: Name.toLowerCase(), Soft: l.soft, Hard: l.hard })),
      },
      GraphDriver: {
        Name: 'overlay2',
        Data: {
          LowerDir: r.layer.lower.join(':'),
          UpperDir: join(layerDir, 'diff'),
          MergedDir: join(layerDir, 'merged'),
          WorkDir: join(layerDir, 'work'),
        },
      },
      Config: {
        Hostname: r.config.Hostname,
        User: r.config.User,
        Tty: r.config.Tty,
        OpenStdin: r.config.OpenStdin,
        Env: r.config.Env,
        Cmd: r.config.Cmd,
        Entrypoint: r.config.Entrypoint.length > 0 ? r.config.Entrypoint : null,
        WorkingDir: r.config.WorkingDir,
        Image: r.config.Image,
        Labels: r.config.Labels,
        StopSignal: r.config.StopSignal,
        StopTimeout: r.config.StopTimeout,
        ...(r.config.Healthcheck ? { Healthcheck: r.config.Healthcheck } : {}),
      },
    };
  }

  // ── stats / top (read from the container's cgroup and the host's /proc) ─────────────────

  private runningView(ref: string): ContainerView {
    const view = this.find(ref);
    if (view.observed.status !== 'running' && view.observed.status !== 'paused') throw new Conflict(`container ${view.record.id} is not running`);
    return view;
  }

  /** One sample of the container's CPU, memory and pids counters. */
  stats(ref: string): ContainerStats {
    const view = this.runningView(ref);
    const s = this.opts.cgroups.stats(view.record.cgroupName);
    const hostMemory = totalmem();
    return {
      read: Date.now(),
      cpuUsageNs: s.cpuUsageNs,
      systemCpuUsageNs: systemCpuUsageNs(),
      onlineCpus: cpus().length,
      memoryUsage: s.memoryUsage,
      // v1 reports "unlimited" as a page-rounded 2^63; both drivers turn it into -1
      memoryLimit: s.memoryLimit < 0 || s.memoryLimit > hostMemory ? hostMemory : s.memoryLimit,
      pids: s.pids,
    };
  }

  /** The container's processes (every pid in its cgroup), ascending by pid. */
  top(ref: string): ContainerProcess[] {
    const view = this.runningView(ref);
    const bootMs = bootTimeMs();
    const out: ContainerProcess[] = [];
    for (const pid of this.opts.cgroups.pids(view.record.cgroupName)) {
      const p = readProcess(pid, bootMs);
      if (p) out.push(p); // gone between cgroup.procs and /proc: not an error
    }
    return out;
  }
}


/**
 * The kernel reports clock_t values in /proc in USER_HZ, which is 100 on every architecture Linux
 * exports to user space (sysconf(_SC_CLK_TCK)); Node offers no sysconf, so it is a constant here.
 */
const USER_HZ = 100;

/** Host-wide CPU time from /proc/stat's "cpu" line, as Docker sums it (user … softirq), ns. */
function systemCpuUsageNs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
  return (ticks * 1e9) / USER_HZ;
}

/** /proc/stat's btime: when the host booted, epoch ms (process start times count from it). */
function bootTimeMs(): number {
  const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
  return m ? Number(m[1]) * 1000 : 0;
}

/** /proc/<pid>/stat, status and cmdline; undefined when the process is gone. */
function readProcess(pid: number, bootMs: number): ContainerProcess | undefined {
  let stat: string;
  let status: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw err;
  }
  // comm may hold spaces and parentheses: it runs from the first "(" to the last ")"
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(open + 1, close);
  // after comm: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice num_threads itrealvalue starttime …
  const f = stat.slice(close + 2).split(' ');
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status);
  return {
    pid,
    ppid: Number(f[1]),
    uid: uid ? Number(uid[1]) : -1,
    ttyNr: Number(f[4]),
    startedAt: bootMs + (Number(f[19]) * 1000) / USER_HZ,
    cpuTimeMs: ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ,
    args: cmdline.split('\0').filter((a, i, all) => !(a === '' && i === all.length - 1)),
    comm,
  };
}

/** The limits create() applied (Docker's defaults included); {} for a record whose limits no longer validate. */
function appliedLimits(limits: CgroupLimits): { readonly memory?: number; readonly memorySwap?: number } {
  try { return resolveLimits(limits).resolved; } catch { return {}; }
}

function isShim(pid: number): boolean {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-shim'); } catch { return false; }
}

/** Runs `fn` under a lock of the caller's (the engine's per-container lock); see stop(). */
export type CriticalSection = <T>(fn: () => Promise<T>) => Promise<T>;
const immediately: CriticalSection = (fn) => fn();

/** A held start (startDetached): when it goes by itself, and what cancels it. */
export interface HeldStart {
  /** epoch ms (realtime: the shim sleeps on CLOCK_REALTIME until then) */
  readonly deadline: number;
  /** aborting it cancels the start, unless the deadline came first */
  readonly signal: AbortSignal;
  /** told when the container's process woke and went, and when it was ready to (epoch ms) */
  readonly went?: (atMs: number, readyMs: number) => void;
}

/** `SEC.NSEC` of an epoch-ms deadline, as `berth-shim run --hold-until=` takes it. */
export function holdDeadline(ms: number): string {
  const whole = Math.max(0, Math.floor(ms));
  const sec = Math.floor(whole / 1000);
  const nsec = (whole - sec * 1000) * 1_000_000 + Math.round((ms - whole) * 1_000_000);
  return `${sec}.${String(Math.min(nsec, 999_999_999)).padStart(9, '0')}`;
}

/** An RFC 3339 time with nanoseconds → epoch ms with its fraction (Date.parse keeps whole ms only). */
function epochMsOf(time: string): number {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(time);
  if (!m) return Date.parse(time);
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

function cancelledStart(): Error {
  const e = new Error('the held start was cancelled');
  e.name = 'AbortError';
  return e;
}

/** The shim's exit status for a failed start → a BerthError carrying Docker's exit code. */
function startError(code: number | null, stderr: string, id: string): BerthError {
  const message = stderr.trim().replace(/^berth-shim: /, '') || `container ${id.slice(0, 12)} failed to start (status ${code})`;
  return new BerthError('SYS', message, { exitCode: code ?? 125 });
}

/**
 * Whether a container's cgroup is surely empty from one look at its first hierarchy: the directory
 * is there, its cgroup.procs is empty and it has no sub-cgroups. A supervisor places a container's
 * processes in every hierarchy at once, so an empty first one means an empty cgroup; anything else
 * (no such directory, processes, sub-cgroups, an unreadable file) is left to the driver's full
 * walk. Every `created` container is asked this at every look of the supervisor: the full walk
 * (some ten v1 hierarchies, three syscalls each) over 30 containers being created held the
 * engine's event loop for seconds on a loaded machine (issue 17).
 */
function cgroupEmptyAtFirstSight(dir: string | undefined): boolean {
  if (dir === undefined) return false;
  try {
    if (readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '') return false;
    return !readdirSync(dir, { withFileTypes: true }).some((d) => d.isDirectory());
  } catch {
    return false;
  }
}
