// The engine's door to the volumes facility (src/volumes): the store, what the planner sees of it,
// the runner of `volume:<name>` operations, a container's mounts at create and before every
// start, the release of its volumes at removal, the `volume` verbs, and crash repair. Copy-up
// runs in the facility's worker process (volumes/worker.ts), one at a time per volume, so the
// event loop never waits for an image's content to be copied.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../spec/model.js';
import type { ObservedVolume } from '../plan/observed.js';
import type { Operation } from '../plan/plan.js';
import type { EngineEvent, VolumeCreateOptions, VolumeListOptions, VolumePruneOptions, VolumePruneResult, VolumeSummary } from '../api/types.js';
import { BerthError, Conflict, InvalidArgument, NotFound } from '../lib/errors.js';
import { parseDriverOptions } from '../volumes/driver-opts.js';
import { writeFileAtomic } from '../lib/atomic.js';
import type { Sys } from '../sys/sys.js';
import { VolumeStore, type RepairReport, type VolumeRecord } from '../volumes/store.js';
import { activateMounts, prepareContainerMounts, releaseContainerVolumes, type ContainerMountContext, type MountRequest } from '../volumes/mounts.js';
import { MAX_GRANT_BYTES, writeFileGrants, type FileGrant } from '../volumes/file-grants.js';
import type { CopyUpOutcome, ImageLayers } from '../volumes/copy-up.js';
import { runWorker, type WorkerOptions, type WorkerRequest } from '../volumes/worker-client.js';
import type { WorkerIo } from '../volumes/worker-client.js';
import type { ContainerView, RecordedMount } from '../runtime/container.js';
import type { ResourceRunner } from './executor.js';
import { KeyedLock } from './keyed-lock.js';
import { LABEL } from './service-container.js';
import { statSync } from 'node:fs';

/** compose's label of a project volume: its key in the compose file */
export const VOLUME_LABEL = 'com.docker.compose.volume';

/**
 * What a container's create needs from the facility, mapped from the compose model or run's
 * flags: the facility's context (volumes/mounts.ts) without what the engine supplies itself.
 */
export type MountInputs = Omit<ContainerMountContext, 'store' | 'copyUp' | 'imageHasFile' | 'newVolumeLabels' | 'anonymousLabels' | 'imageVolumes'> & {
  readonly imageVolumes: readonly string[];
  readonly requests: readonly MountRequest[];
  readonly grants: readonly FileGrant[];
  /** labels of the volumes created here (compose's project labels) */
  readonly labels?: Readonly<Record<string, string>>;
  /** driver options of named volumes this create makes (`--mount volume-opt=…`) */
  readonly volumeOptions?: ReadonlyMap<string, Readonly<Record<string, string>>>;
};

export interface EngineVolumesOptions {
  /** BERTH_ROOT */
  readonly root: string;
  readonly sys: Sys;
  /** how to start the facility's worker */
  readonly worker: WorkerOptions;
  readonly log: (line: string) => void;
}

/** The grants a container was created with, kept beside it: rewritten before every start. */
const GRANTS_FILE = 'grants.json';

export class EngineVolumes {
  readonly store: VolumeStore;
  /** copy-ups of one volume never overlap */
  private readonly copying = new KeyedLock();

  constructor(private readonly opts: EngineVolumesOptions) {
    this.store = new VolumeStore({ root: opts.root, sys: opts.sys });
  }

  /** Runs one request in the facility's worker; a worker that died has its work directories swept. */
  async worker<T>(request: WorkerRequest, io?: WorkerIo): Promise<T> {
    try {
      return await runWorker<T>(this.opts.worker, request, io);
    } finally {
      // a killed worker leaves its view or copy-up mount behind: gone processes' are swept at once
      await this.store.sweepDead().catch((err: unknown) => this.opts.log(`sweeping volume work directories: ${(err as Error).message}`));
    }
  }

  // ── the planner's view ─────────────────────────────────────────────────────────────────

  /** The volumes of a project (by label) and those its model names, for plan/volumes.ts. */
  observe(projectName: string, project?: Project): ObservedVolume[] {
    const named = new Set(Object.values(project?.volumes ?? {}).map((v) => v.name));
    return this.store.list()
      .filter((v) => v.labels[LABEL.project] === projectName || named.has(v.name))
      .map((v) => ({ name: v.name, anonymous: v.anonymous, users: this.store.users(v.name), ...(v.labels[LABEL.project] !== undefined ? { project: v.labels[LABEL.project]! } : {}) }));
  }

  /**
   * Before `up` touches anything: the external volumes the services in scope use must exist
   * (compose's "external volume not found"). Returns warnings about existing volumes the project
   * did not make, or made with other driver options (compose's warnings; berth never recreates).
   */
  checkForUp(project: Project, scope: Iterable<string>): string[] {
    const warnings: string[] = [];
    const seen = new Set<string>();
    for (const name of scope) {
      const service = project.services[name];
      if (!service) continue;
      for (const m of service.volumes) {
        if (m.type !== 'volume' || m.source === undefined || seen.has(m.source)) continue;
        seen.add(m.source);
        const def = project.volumes[m.source];
        if (!def) continue;
        if (def.external) { this.store.external(def.name); continue; }
        // an unsupported driver or bad driver_opts fail here, before any container is touched
        try { parseDriverOptions(def.driver, def.driver_opts); } catch (err) {
          if (err instanceof BerthError) throw new BerthError(err.code, `volume "${m.source}" of service "${name}": ${err.message}`, err.details);
          throw err;
        }
        const v = this.store.find(def.name);
        if (!v) continue;
        const owner = v.labels[LABEL.project];
        if (owner === undefined) warnings.push(`volume "${def.name}" already exists but was not created by berth or docker compose. Use \`external: true\` to use an existing volume`);
        else if (owner !== project.name) warnings.push(`volume "${def.name}" already exists but was created for project "${owner}" (expected "${project.name}"). Use \`external: true\` to use an existing volume`);
        const want = def.driver_opts;
        const same = Object.keys(want).length === Object.keys(v.options).length && Object.entries(want).every(([k, x]) => v.options[k] === x);
        if (!same) warnings.push(`volume "${def.name}" exists with other driver options (${JSON.stringify(v.options)}) than the compose file gives (${JSON.stringify(want)}): they apply to a new volume only; remove it (\`down -v\`, \`volume rm\`) to apply them`);
      }
    }
    return warnings;
  }

  /** The runner of `volume:<name>` operations for one plan of `project`. */
  runner(project: Project, emit: (e: EngineEvent) => void, now: () => string): ResourceRunner {
    return {
      create: async (op: Operation): Promise<void> => {
        const name = volumeOf(op);
        const key = Object.keys(project.volumes).find((k) => project.volumes[k]!.name === name);
        if (key === undefined) throw new NotFound(`volume "${name}" is not declared by project "${project.name}"`);
        this.ensureProjectVolume(project, key);
      },
      remove: async (op: Operation): Promise<string | void> => {
        const name = volumeOf(op);
        try {
          await this.store.remove(name);
        } catch (err) {
          if (err instanceof NotFound) return 'Removed'; // gone already (removed with its container, or by hand)
          if (!(err instanceof Conflict)) throw err;
          // compose's "still in use": kept, and said why, not a failure of `down`
          emit({ kind: 'warning', text: `volume "${name}" is kept: ${err.message}`, time: now() });
          return 'In use, kept';
        }
      },
    };
  }

  /**
   * A top-level volume of the project, made when missing as the compose file declares it (with
   * compose's labels; idempotent). An external one must exist. Returns its name on this host.
   */
  ensureProjectVolume(project: Project, key: string): string {
    const def = project.volumes[key];
    if (!def) throw new NotFound(`volume "${key}" is not declared under the top-level volumes of project "${project.name}"`);
    if (def.external) return this.store.external(def.name).name;
    if (this.store.find(def.name)) return def.name;
    return this.store.create({
      name: def.name, ...(def.driver !== undefined ? { driver: def.driver } : {}), driverOpts: def.driver_opts,
      labels: { ...def.labels, [LABEL.project]: project.name, [VOLUME_LABEL]: key },
    }).name;
  }

  /**
   * Creates a container with its mounts: prepared (volumes referenced, content copied up), the
   * container made by `create`, its grants kept; a failed create releases what was referenced.
   */
  async createWith<T extends { readonly id: string }>(m: MountInputs, create: (mounts: RecordedMount[]) => Promise<T>): Promise<{ created: T; warnings: string[] }> {
    const prepared = await this.prepare(m);
    let created: T;
    try {
      created = await create(prepared.mounts);
    } catch (err) {
      await this.released(m.containerId, true);
      throw err;
    }
    // (a container whose grants could not be kept exists, holds its volumes, and fails to start
    // naming the missing file: removing it releases them)
    this.saveGrants(m.bundle, m.grants);
    return { created, warnings: prepared.warnings };
  }

  // ── a container's mounts ───────────────────────────────────────────────────────────────

  /**
   * At create: volumes ensured (named ones created with the given labels, anonymous ones made,
   * image content copied up in the worker), referenced by the container, bind sources checked;
   * grant files checked. On failure nothing is left referenced.
   */
  async prepare(m: MountInputs): Promise<{ mounts: RecordedMount[]; warnings: string[] }> {
    for (const g of m.grants) checkGrant(g);
    for (const [name, driverOpts] of m.volumeOptions ?? []) {
      if (!this.store.find(name)) this.store.create({ name, driverOpts, ...(m.labels ? { labels: m.labels } : {}) });
    }
    const { requests, grants, labels, volumeOptions: _options, ...context } = m;
    const prepared = await prepareContainerMounts({
      ...context, store: this.store,
      ...(labels ? { newVolumeLabels: labels, anonymousLabels: labels } : {}),
      copyUp: (volume, target) => this.copyUp(volume, m.image, target),
    }, requests, grants);
    return { mounts: [...prepared.mounts], warnings: [...prepared.warnings] };
  }

  /** Copy-up of one volume, in the worker, never two at once on one volume; none for a volume holding data. */
  private copyUp(volume: string, image: ImageLayers, target: string): Promise<CopyUpOutcome> {
    return this.copying.run(volume, async () => {
      this.store.get(volume); // settles an interrupted earlier copy-up
      if (this.store.backing(this.store.get(volume)).kind !== 'tmpfs' && !this.store.isEmpty(volume)) return { outcome: 'not-empty' };
      return this.worker<CopyUpOutcome>({ op: 'copyup', root: this.opts.root, volume, image, target });
    });
  }

  /** After the container was created: its grants kept in its directory, for every start. */
  saveGrants(bundle: string, grants: readonly FileGrant[]): void {
    if (grants.length === 0) return;
    writeFileAtomic(join(bundle, GRANTS_FILE), JSON.stringify(grants), { mode: 0o600 });
  }

  /** Before every start (restarts included): secrets and configs written again, tmpfs-style volumes mounted. */
  beforeStart(view: ContainerView): void {
    let grants: FileGrant[] = [];
    try { grants = JSON.parse(readFileSync(join(view.bundle, GRANTS_FILE), 'utf8')) as FileGrant[]; } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidArgument(`container ${view.record.name}: its secrets and configs record is unreadable: ${(err as Error).message}`);
    }
    if (grants.length > 0) writeFileGrants(view.bundle, grants);
    activateMounts(this.store, view.record.hostConfig.Mounts ?? []);
  }

  /** The anonymous volumes a container mounts, by target: what its replacement keeps (a recreate). */
  anonymousOf(view: ContainerView): Map<string, string> {
    const out = new Map<string, string>();
    for (const m of view.record.hostConfig.Mounts ?? []) {
      if (m.kind === 'volume' && m.name !== undefined && this.store.find(m.name)?.anonymous) out.set(m.target, m.name);
    }
    return out;
  }

  /** After a container's removal: its volumes released; its anonymous ones removed when asked (rm -v, --rm). */
  async released(containerId: string, removeAnonymous: boolean): Promise<void> {
    const r = await releaseContainerVolumes(this.store, containerId, { removeAnonymous });
    if (r.removed.length > 0) this.opts.log(`removed the anonymous volumes of container ${containerId.slice(0, 12)}: ${r.removed.join(', ')}`);
  }

  /** tmpfs-style volumes no running container uses are unmounted (after an exit or a removal). */
  deactivateUnused(running: ReadonlySet<string>): void {
    this.store.deactivateUnused(running);
  }

  /** At engine start, after the runtime's repair: whatever a crash interrupted, finished or rolled back. */
  async repair(live: ReadonlySet<string>, running: ReadonlySet<string>): Promise<RepairReport> {
    return this.store.repair(live, running);
  }

  // ── the verbs ──────────────────────────────────────────────────────────────────────────

  summary(v: VolumeRecord): VolumeSummary {
    const i = this.store.inspect(v.name);
    return { Name: i.Name, Driver: i.Driver, Mountpoint: i.Mountpoint, CreatedAt: i.CreatedAt, Labels: i.Labels, Options: i.Options, Scope: i.Scope };
  }

  create(o: VolumeCreateOptions): VolumeSummary {
    const v = this.store.create({
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.driver !== undefined ? { driver: o.driver } : {}),
      driverOpts: pairs(o.driverOpts, '-o', true),
      labels: pairs(o.labels, '--label', false),
    });
    return this.summary(v);
  }

  list(o: VolumeListOptions): VolumeSummary[] {
    const f = parseFilters(o.filters);
    return this.store.list({ labels: f.labels }).filter((v) => {
      if (f.dangling !== undefined && (this.store.users(v.name).length === 0) !== f.dangling) return false;
      if (f.names.length > 0 && !f.names.some((n) => v.name.includes(n))) return false;
      if (f.drivers.length > 0 && !f.drivers.includes(v.driver)) return false;
      return true;
    }).map((v) => this.summary(v));
  }

  inspect(name: string): VolumeSummary {
    return this.summary(this.store.get(name));
  }

  /** `volume rm`: in use is a Conflict naming the containers (by name when `nameOf` knows them). */
  async remove(name: string, force: boolean, nameOf: (id: string) => string | undefined): Promise<void> {
    try {
      await this.store.remove(name, { force });
    } catch (err) {
      if (err instanceof Conflict) {
        const ids = (err.details as { containers?: string[] } | undefined)?.containers ?? [];
        throw new Conflict(`remove ${name}: volume is in use - [${ids.map((id) => nameOf(id) ?? id).join(', ')}]`, { containers: ids });
      }
      throw err;
    }
  }

  async prune(o: VolumePruneOptions): Promise<VolumePruneResult> {
    const f = parseFilters(o.filters);
    if (f.dangling === false || f.names.length > 0) throw new InvalidArgument('volume prune takes label filters only (label=KEY[=VALUE], label!=… is not supported)');
    return this.store.prune({ all: o.all || f.all, labels: f.labels });
  }
}

function volumeOf(op: Operation): string {
  return op.resourceId.slice('volume:'.length);
}

/** A grant's file must exist, be a regular file and be small enough, before the container is made. */
function checkGrant(g: FileGrant): void {
  if (!('file' in g.content)) return;
  let st;
  try { st = statSync(g.content.file); } catch { throw new NotFound(`${g.kind} "${g.name}": file ${g.content.file} does not exist`); }
  if (!st.isFile()) throw new InvalidArgument(`${g.kind} "${g.name}": ${g.content.file} is not a regular file`);
  if (st.size > MAX_GRANT_BYTES) throw new InvalidArgument(`${g.kind} "${g.name}": ${g.content.file} is ${st.size} bytes, more than the ${MAX_GRANT_BYTES} allowed`);
}

/** KEY=VALUE pairs of -o and --label (a label may be KEY alone: an empty value). */
function pairs(list: readonly string[], flag: string, needValue: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const at = p.indexOf('=');
    if (at === 0 || (at < 0 && needValue)) throw new InvalidArgument(`invalid ${flag} ${JSON.stringify(p)}: expected KEY=VALUE`);
    out[at < 0 ? p : p.slice(0, at)] = at < 0 ? '' : p.slice(at + 1);
  }
  return out;
}

/** Docker's volume filters: dangling=true|false, label=KEY[=VALUE], name=PART, driver=NAME; prune's all=true. */
function parseFilters(filters: readonly string[]): { labels: Record<string, string | undefined>; dangling?: boolean; names: string[]; drivers: string[]; all: boolean } {
  const labels: Record<string, string | undefined> = {};
  const names: string[] = [];
  const drivers: string[] = [];
  let dangling: boolean | undefined;
  let all = false;
  for (const f of filters) {
    const at = f.indexOf('=');
    const key = at < 0 ? f : f.slice(0, at);
    const value = at < 0 ? '' : f.slice(at + 1);
    if (key === 'dangling' && /^(true|1|false|0)$/.test(value)) dangling = value === 'true' || value === '1';
    else if (key === 'label' && value !== '') {
      const eq = value.indexOf('=');
      labels[eq < 0 ? value : value.slice(0, eq)] = eq < 0 ? undefined : value.slice(eq + 1);
    } else if (key === 'name' && value !== '') names.push(value);
    else if (key === 'driver' && value !== '') drivers.push(value);
    else if (key === 'all' && /^(true|1|false|0)$/.test(value)) all = value === 'true' || value === '1';
    else throw new InvalidArgument(`invalid filter ${JSON.stringify(f)}: expected dangling=true|false, label=KEY[=VALUE], name=NAME or driver=local`);
  }
  return { labels, ...(dangling !== undefined ? { dangling } : {}), names, drivers, all };
}
