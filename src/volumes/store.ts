// Named and anonymous volumes under the state root, in Docker's layout:
//   <root>/volumes/<name>/volume.json   the record (driver, options, labels, created, anonymous)
//   <root>/volumes/<name>/_data/        the data (or, tmpfs-style, the mount point of its tmpfs)
//   <root>/volumes/<name>/refs/<id>     one empty file per container that uses the volume
//   <root>/volumes/<name>/copyup.json   only while image content is being copied in (copy-up.ts)
// Invariants (what may exist on disk at any instant, and what repair() does with it):
//   - a volume exists iff <name>/volume.json exists. It is built complete in
//     `.creating-<pid>-<rand>/` and renamed into place in one rename(2): a crash leaves either no
//     volume or a whole one; repair removes `.creating-*` whose creator is gone.
//   - a removal renames <name> to `.removing-<pid>-<rand>` first (the volume is gone at that
//     instant), then deletes the tree; repair finishes `.removing-*`.
//   - a volume with copyup.json was being filled: until repair (or the next access) finishes or
//     rolls it back, it is never mounted and never taken as "holding data".
//   - refs/<id> is written before the container is created and removed after it is removed:
//     repair drops refs whose container no longer exists.
// One writer: the engine is the single door to volumes; tests and benchmarks run one store at a time.
// What may take long (deleting a volume's tree, measuring it) is asynchronous, so the engine's
// event loop never waits for a big volume; the step that decides (the rename) is synchronous.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync, statSync, lstatSync, closeSync, chownSync, chmodSync, utimesSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument, NotFound, SysError, fromNodeError } from '../lib/errors.js';
import { readJson, writeJsonAtomic, CorruptFile } from '../lib/atomic.js';
import { processAlive } from '../sys/spawn.js';
import { MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, O_CLOEXEC, O_DIRECTORY, O_RDONLY, type Sys } from '../sys/sys.js';
import { parseDriverOptions, type VolumeBacking } from './driver-opts.js';
import { isMountPoint, mountsUnder } from './mountinfo.js';

export { mountsUnder };

/** The label Docker puts on anonymous volumes (`docker volume prune` without -a removes only those). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface VolumeRecord {
  readonly name: string;
  readonly driver: 'local';
  /** driver_opts as given (type, o, device) */
  readonly options: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** RFC 3339 */
  readonly createdAt: string;
  readonly anonymous: boolean;
}

export interface CreateVolumeRequest {
  /** absent: an anonymous volume with a random 64-hex name */
  readonly name?: string;
  readonly driver?: string;
  readonly driverOpts?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface VolumeStoreOptions {
  /** BERTH_ROOT: the store lives in <root>/volumes */
  readonly root: string;
  readonly sys: Sys;
  readonly now?: () => Date;
}

/** What Docker's `volume inspect` prints for one volume. */
export interface VolumeInspect {
  readonly CreatedAt: string;
  readonly Driver: 'local';
  readonly Labels: Readonly<Record<string, string>>;
  readonly Mountpoint: string;
  readonly Name: string;
  readonly Options: Readonly<Record<string, string>> | null;
  readonly Scope: 'local';
}

export interface RepairReport {
  /** `.creating-*` left by a creator that died: no volume was ever visible */
  readonly abandonedCreates: number;
  /** `.removing-*` whose deletion was finished */
  readonly finishedRemovals: number;
  /** copy-ups rolled back (the volume is empty again) or finished (moved into place) */
  readonly copyUps: readonly { readonly volume: string; readonly outcome: 'rolled-back' | 'finished' }[];
  /** refs of containers that no longer exist */
  readonly droppedRefs: readonly { readonly volume: string; readonly containerId: string }[];
  /** mounts berth had made (copy-up views, tmpfs volumes without a running user) that were undone */
  readonly unmounted: readonly string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]+$/;
const CONTAINER_ID = /^[0-9a-f]{64}$/;

export function validateVolumeName(name: string): string {
  if (!NAME.test(name) || name.length > 255) {
    throw new InvalidArgument(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
  }
  return name;
}

const sameRecord = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** The copy-up intent (copyup.json), written by copy-up.ts through beginCopyUp/markMoving. */
export interface CopyUpMarker {
  /** the process copying; while it lives, the copy-up is in progress */
  readonly pid: number;
  /** copying: the staging tree is being filled (roll back); moving: it is complete (roll forward) */
  readonly state: 'copying' | 'moving';
  /** owner, mode and mtime the data directory takes from the image directory (moving only) */
  readonly root?: { readonly mode: number; readonly uid: number; readonly gid: number; readonly mtime: number };
}

export class VolumeStore {
  readonly dir: string;
  private readonly now: () => Date;

  constructor(readonly opts: VolumeStoreOptions) {
    this.dir = join(opts.root, 'volumes');
    this.now = opts.now ?? (() => new Date());
  }

  get sys(): Sys { return this.opts.sys; }

  volumeDir(name: string): string { return join(this.dir, validateVolumeName(name)); }
  /** <name>/_data: what a container mounts for a directory or tmpfs-style volume. */
  dataDir(name: string): string { return join(this.volumeDir(name), '_data'); }

  private ensureDir(): void {
    try { mkdirSync(this.dir, { recursive: true, mode: 0o701 }); } catch (err) { throw fromNodeError(err, 'mkdir', this.dir); }
  }

  // ── create / look up ──────────────────────────────────────────────────────────────────

  /**
   * Creates a volume, or returns the existing one of that name when its driver options agree
   * (Docker's `volume create` is idempotent that way; different options are a conflict).
   */
  create(req: CreateVolumeRequest = {}): VolumeRecord {
    const anonymous = req.name === undefined;
    const name = anonymous ? randomBytes(32).toString('hex') : validateVolumeName(req.name!);
    const options = { ...(req.driverOpts ?? {}) };
    parseDriverOptions(req.driver, options); // refuse bad options before anything is made
    const existing = this.find(name);
    if (existing) return this.sameOrConflict(existing, options);
    const record: VolumeRecord = {
      name,
      driver: 'local',
      options,
      labels: { ...(req.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) },
      createdAt: this.now().toISOString(),
      anonymous,
    };
    this.ensureDir();
    const staging = join(this.dir, `.creating-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(join(staging, '_data'), { recursive: true, mode: 0o755 });
      mkdirSync(join(staging, 'refs'), { mode: 0o700 });
      writeJsonAtomic(join(staging, 'volume.json'), record);
      // the one step that makes the volume exist; a rival creator's complete volume makes it fail
      renameSync(staging, join(this.dir, name));
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        const winner = this.find(name);
        if (winner) return this.sameOrConflict(winner, options);
      }
      throw fromNodeError(err, 'create volume', join(this.dir, name));
    }
    return record;
  }

  private sameOrConflict(existing: VolumeRecord, options: Readonly<Record<string, string>>): VolumeRecord {
    if (!sameRecord(existing.options, options)) {
      throw new Conflict(`volume "${existing.name}" already exists with different driver options (${JSON.stringify(existing.options)})`);
    }
    return existing;
  }

  /** The volume, or undefined. A copy-up cut by a crash is settled first. */
  find(name: string): VolumeRecord | undefined {
    const record = this.rawRecord(name);
    if (record && existsSync(join(this.volumeDir(name), 'copyup.json'))) this.settleCopyUp(name);
    return record;
  }

  /**
   * The record as stored, nothing settled (for the copy-up bookkeeping itself); undefined when
   * there is none. A record that cannot be read (garbage, truncated, not a volume) throws the
   * error naming the file: the volume is not treated as absent, so nothing creates a new one over
   * its data; `volume ls` leaves it out and `volume rm` removes it.
   */
  private rawRecord(name: string): VolumeRecord | undefined {
    const file = join(this.volumeDir(name), 'volume.json');
    const r = readJson<VolumeRecord>(file);
    if (r === undefined) return undefined;
    if (typeof r !== 'object' || r === null || r.name !== name || typeof r.driver !== 'string' || typeof r.labels !== 'object' || r.labels === null) throw new CorruptFile(file, 'not a volume record');
    return r;
  }

  private rawBacking(name: string): VolumeBacking {
    const record = this.rawRecord(name);
    if (!record) throw new NotFound(`get ${name}: no such volume`);
    return this.backing(record);
  }

  get(name: string): VolumeRecord {
    const v = this.find(name);
    if (!v) throw new NotFound(`get ${name}: no such volume`);
    return v;
  }

  /** `external: true` (compose): the volume must exist already; berth never creates or removes it. */
  external(name: string): VolumeRecord {
    const v = this.find(name);
    if (!v) throw new NotFound(`external volume "${name}" not found`);
    return v;
  }

  list(filter: { readonly labels?: Readonly<Record<string, string | undefined>>; readonly anonymous?: boolean } = {}): VolumeRecord[] {
    let names: string[];
    try { names = readdirSync(this.dir); } catch { return []; }
    const out: VolumeRecord[] = [];
    for (const name of names) {
      if (!NAME.test(name)) continue; // .creating-*, .removing-*, .copyup-*
      let v: VolumeRecord | undefined;
      try { v = this.find(name); } catch (err) {
        if (err instanceof SysError) continue; // a damaged record: named by inspect, removed by rm
        throw err;
      }
      if (!v) continue;
      if (filter.anonymous !== undefined && v.anonymous !== filter.anonymous) continue;
      if (filter.labels && !Object.entries(filter.labels).every(([k, want]) => k in v.labels && (want === undefined || v.labels[k] === want))) continue;
      out.push(v);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  inspect(name: string): VolumeInspect {
    const v = this.get(name);
    return {
      CreatedAt: v.createdAt,
      Driver: 'local',
      Labels: v.labels,
      Mountpoint: this.dataDir(name),
      Name: v.name,
      Options: Object.keys(v.options).length > 0 ? v.options : null,
      Scope: 'local',
    };
  }

  backing(v: VolumeRecord): VolumeBacking {
    return parseDriverOptions(v.driver, v.options);
  }

  // ── in use ────────────────────────────────────────────────────────────────────────────

  /** Container ids that use the volume (in any state). */
  users(name: string): string[] {
    try { return readdirSync(join(this.volumeDir(name), 'refs')).filter((n) => CONTAINER_ID.test(n)).sort(); } catch { return []; }
  }

  /** Records that `containerId` uses the volume: before the container is created. */
  acquire(name: string, containerId: string): void {
    if (!CONTAINER_ID.test(containerId)) throw new InvalidArgument(`malformed container id ${containerId}`);
    this.get(name);
    const refs = join(this.volumeDir(name), 'refs');
    try {
      mkdirSync(refs, { recursive: true, mode: 0o700 });
      writeFileSync(join(refs, containerId), '');
    } catch (err) { throw fromNodeError(err, 'write', join(refs, containerId)); }
  }

  /** The container no longer uses the volume: after it was removed. */
  release(name: string, containerId: string): void {
    if (!CONTAINER_ID.test(containerId)) return;
    try { rmSync(join(this.volumeDir(name), 'refs', containerId), { force: true }); } catch { /* volume gone */ }
  }

  /** Every volume a container holds a ref on (for its removal). */
  volumesOf(containerId: string): string[] {
    return this.list().filter((v) => this.users(v.name).includes(containerId)).map((v) => v.name);
  }

  // ── remove / prune ────────────────────────────────────────────────────────────────────

  /**
   * Removes a volume that no container uses. In use: a Conflict naming the containers (Docker's
   * message). `force` only makes a missing volume not an error, as `docker volume rm -f`. The
   * volume is gone when this returns its promise (the rename is synchronous); the promise
   * settles once its tree is deleted.
   */
  remove(name: string, opts: { readonly force?: boolean } = {}): Promise<void> {
    let v: VolumeRecord | undefined;
    try { v = this.find(name); } catch (err) {
      if (!(err instanceof SysError)) return Promise.reject(err);
      v = { name } as VolumeRecord; // a damaged record: removed like any volume no container uses
    }
    if (!v) {
      if (opts.force) return Promise.resolve();
      return Promise.reject(new NotFound(`get ${name}: no such volume`));
    }
    const users = this.users(name);
    if (users.length > 0) return Promise.reject(new Conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`, { containers: users }));
    const dir = this.volumeDir(name);
    const doomed = join(this.dir, `.removing-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      this.unmountData(name);
      renameSync(dir, doomed);
    } catch (err) { return Promise.reject(fromNodeError(err, 'rename', dir)); }
    return this.deleteTree(doomed);
  }

  /**
   * Docker's `volume prune`: removes the volumes no container uses — anonymous ones only unless
   * `all` — matching every label filter (`key` or `key=value`). Returns what was removed and the
   * bytes freed.
   */
  async prune(opts: { readonly all?: boolean; readonly labels?: Readonly<Record<string, string | undefined>> } = {}): Promise<{ removed: string[]; spaceReclaimed: number }> {
    const removed: string[] = [];
    let spaceReclaimed = 0;
    for (const v of this.list({ labels: opts.labels })) {
      if (!opts.all && !v.anonymous) continue;
      if (this.users(v.name).length > 0) continue;
      const size = this.backing(v).kind === 'directory' ? await treeSize(this.dataDir(v.name)) : 0;
      try {
        await this.remove(v.name);
      } catch (err) {
        if (err instanceof Conflict || err instanceof NotFound) continue; // taken or removed meanwhile
        throw err;
      }
      removed.push(v.name);
      spaceReclaimed += size;
    }
    return { removed, spaceReclaimed };
  }

  /** Deletes a tree berth owns, unmounting anything found mounted inside it first. */
  private async deleteTree(path: string): Promise<void> {
    for (const mp of mountsUnder(path).reverse()) {
      try { this.sys.umount2(mp, MNT_DETACH); } catch { /* gone meanwhile */ }
    }
    try { await rm(path, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 }); } catch (err) { throw fromNodeError(err, 'remove', path); }
  }

  // ── data: what containers bind ───────────────────────────────────────────────────────

  /**
   * The host path a container binds for this volume, made ready: a tmpfs-style volume gets its
   * tmpfs mounted on _data (shared by every container using it while mounted, as Docker's local
   * driver does); a bind-style volume's device must exist and be a directory.
   */
  activate(name: string): { source: string; readonly: boolean } {
    const v = this.get(name);
    if (existsSync(join(this.volumeDir(name), 'copyup.json'))) throw new Conflict(`volume "${name}" is being filled with image content by another berth process`);
    const backing = this.backing(v);
    if (backing.kind === 'directory') return { source: this.dataDir(name), readonly: false };
    if (backing.kind === 'bind') {
      let isDir = false;
      try { isDir = statSync(backing.device).isDirectory(); } catch { /* reported below */ }
      if (!isDir) throw new NotFound(`volume "${name}": its device ${backing.device} does not exist or is not a directory`);
      return { source: backing.device, readonly: backing.readonly };
    }
    const data = this.dataDir(name);
    if (!isMountPoint(data)) {
      let flags = 0;
      for (const f of backing.flags) flags |= f === 'ro' ? MS_RDONLY : f === 'nosuid' ? MS_NOSUID : f === 'nodev' ? MS_NODEV : MS_NOEXEC;
      this.sys.mount('tmpfs', data, 'tmpfs', flags, backing.data === '' ? null : backing.data);
      // nothing mounted below it may propagate to the host's peers
      this.sys.mount('', data, '', MS_PRIVATE, null);
    }
    return { source: data, readonly: backing.flags.includes('ro') };
  }

  /** Unmounts the tmpfs of tmpfs-style volumes that none of `running` uses. Returns their names. */
  deactivateUnused(running: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const v of this.list()) {
      if (this.backing(v).kind !== 'tmpfs' || !isMountPoint(this.dataDir(v.name))) continue;
      if (this.users(v.name).some((id) => running.has(id))) continue;
      this.unmountData(v.name);
      out.push(v.name);
    }
    return out;
  }

  private unmountData(name: string): void {
    const data = this.dataDir(name);
    if (isMountPoint(data)) this.sys.umount2(data, MNT_DETACH);
  }

  /** True when the volume's data directory holds nothing (copy-up's condition). */
  isEmpty(name: string): boolean {
    try { return readdirSync(this.contentDir(name)).length === 0; } catch { return true; }
  }

  // ── copy-up intent (the copying itself is copy-up.ts) ─────────────────────────────────

  /** Where a volume's content really is: _data, or a bind-style volume's device directory. */
  contentDir(name: string): string {
    const backing = this.rawBacking(name);
    return backing.kind === 'bind' ? backing.device : this.dataDir(name);
  }

  private markerPath(name: string): string { return join(this.volumeDir(name), 'copyup.json'); }
  /** The staging tree: inside the content directory's filesystem, so that moving it in is a rename. */
  stagingDir(name: string): string {
    const backing = this.rawBacking(name);
    if (backing.kind === 'bind') return join(backing.device, '.berth-copyup');
    return backing.kind === 'tmpfs' ? join(this.dataDir(name), '.berth-copyup') : join(this.volumeDir(name), 'copyup');
  }

  /** Writes the intent (state copying) and an empty staging directory; returns the staging path. */
  beginCopyUp(name: string): string {
    const staging = this.stagingDir(name);
    rmSync(staging, { recursive: true, force: true });
    writeJsonAtomic(this.markerPath(name), { pid: process.pid, state: 'copying' } satisfies CopyUpMarker);
    try { mkdirSync(staging, { mode: 0o700 }); } catch (err) { throw fromNodeError(err, 'mkdir', staging); }
    return staging;
  }

  /** The staging tree is complete: flushed to disk, then the intent says "move it in". */
  markMoving(name: string, root: NonNullable<CopyUpMarker['root']>): void {
    const fd = this.sys.openat2(-100, this.stagingDir(name), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0); // syncfs refuses an O_PATH fd
    try { this.sys.syncfs(fd); } finally { try { closeSync(fd); } catch { /* closed */ } }
    writeJsonAtomic(this.markerPath(name), { pid: process.pid, state: 'moving', root } satisfies CopyUpMarker);
  }

  /**
   * Moves each top-level entry of the staging tree into the content directory (an entry that
   * appeared there meanwhile wins: nothing in a volume is ever overwritten), gives the content
   * directory the image directory's owner and mode, and drops the intent. Idempotent: repair
   * calls it again after a crash half-way.
   */
  finishCopyUp(name: string): void {
    const marker = readJson<CopyUpMarker>(this.markerPath(name));
    const staging = this.stagingDir(name);
    const content = this.contentDir(name);
    let entries: string[] = [];
    try { entries = readdirSync(staging); } catch { /* moved already */ }
    for (const entry of entries) {
      const to = join(content, entry);
      let taken = true;
      try { lstatSync(to); } catch { taken = false; }
      if (taken) rmSync(join(staging, entry), { recursive: true, force: true });
      else renameSync(join(staging, entry), to);
    }
    if (marker?.root) {
      chownSync(content, marker.root.uid, marker.root.gid);
      chmodSync(content, marker.root.mode & 0o7777);
      utimesSync(content, marker.root.mtime, marker.root.mtime);
    }
    rmSync(staging, { recursive: true, force: true });
    rmSync(this.markerPath(name), { force: true });
  }

  /** Rolls back a copy-up that had not finished copying: the volume is as empty as before. */
  abortCopyUp(name: string): void {
    rmSync(this.stagingDir(name), { recursive: true, force: true });
    rmSync(this.markerPath(name), { force: true });
  }

  /**
   * An intent whose process is gone: rolled back (copying) or finished (moving). A live copier's
   * intent is left alone ('none').
   */
  settleCopyUp(name: string): 'rolled-back' | 'finished' | 'none' {
    const marker = readJson<CopyUpMarker>(this.markerPath(name));
    if (!marker) return 'none';
    // copy-up runs synchronously: a marker of this very process is a crashed predecessor's (pid reuse)
    if (marker.pid !== process.pid && processAlive(marker.pid)) return 'none';
    if (marker.state === 'moving') { this.finishCopyUp(name); return 'finished'; }
    this.abortCopyUp(name);
    return 'rolled-back';
  }

  /** An error in this process stopped a copy-up: settle it now (roll back, or forward when moving). */
  settleCopyUpOwn(name: string): void {
    const marker = readJson<CopyUpMarker>(this.markerPath(name));
    if (marker?.state === 'moving') this.finishCopyUp(name);
    else this.abortCopyUp(name);
  }

  /** A copy-up in progress (its intent exists): such a volume is never mounted or taken as full. */
  copyUpPending(name: string): boolean {
    return existsSync(this.markerPath(name));
  }

  /**
   * The work directories (.creating, .removing, .copyup, .view) of processes that are gone — a
   * copy or cp worker that died — unmounted and deleted. Safe while the engine runs: its own and
   * every live process's are left alone. Returns the directories removed.
   */
  async sweepDead(): Promise<string[]> {
    let names: string[];
    try { names = readdirSync(this.dir); } catch { return []; }
    const out: string[] = [];
    for (const name of names) {
      const m = /^\.(creating|removing|copyup|view)-(\d+)-[0-9a-f]+$/.exec(name);
      if (!m || Number(m[2]) === process.pid || processAlive(Number(m[2]))) continue;
      await this.deleteTree(join(this.dir, name));
      out.push(name);
    }
    return out;
  }

  // ── repair ───────────────────────────────────────────────────────────────────────────

  /**
   * At engine start (nothing else uses the store then): finishes or rolls back whatever a crash
   * interrupted, and drops refs of containers not in `liveContainers`. `running` names the
   * containers running now (tmpfs volumes nobody running uses are unmounted).
   */
  async repair(liveContainers: ReadonlySet<string>, running: ReadonlySet<string> = new Set()): Promise<RepairReport> {
    let names: string[];
    try { names = readdirSync(this.dir); } catch { return { abandonedCreates: 0, finishedRemovals: 0, copyUps: [], droppedRefs: [], unmounted: [] }; }
    let abandonedCreates = 0;
    let finishedRemovals = 0;
    const copyUps: { volume: string; outcome: 'rolled-back' | 'finished' }[] = [];
    const droppedRefs: { volume: string; containerId: string }[] = [];
    const unmounted: string[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      const m = /^\.(creating|removing|copyup|view)-(\d+)-[0-9a-f]+$/.exec(name);
      if (m) {
        if (Number(m[2]) !== process.pid && processAlive(Number(m[2]))) continue;
        const mounted = mountsUnder(path);
        unmounted.push(...mounted);
        await this.deleteTree(path);
        if (m[1] === 'creating') abandonedCreates++;
        if (m[1] === 'removing') finishedRemovals++;
        continue;
      }
      if (!NAME.test(name)) continue;
      if (!existsSync(join(path, 'volume.json'))) continue;
      if (existsSync(join(path, 'copyup.json'))) {
        const outcome = this.settleCopyUp(name);
        if (outcome !== 'none') copyUps.push({ volume: name, outcome });
      }
      for (const id of this.users(name)) {
        if (!liveContainers.has(id)) {
          this.release(name, id);
          droppedRefs.push({ volume: name, containerId: id });
        }
      }
    }
    for (const v of this.deactivateUnused(running)) unmounted.push(this.dataDir(v));
    return { abandonedCreates, finishedRemovals, copyUps, droppedRefs, unmounted };
  }
}

/** Bytes of the regular files in a tree (no symlink followed), read without blocking. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try { entries = await readdir(dir, { withFileTypes: true }); } catch { return 0; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeSize(p);
    else if (e.isFile()) {
      try { total += (await lstat(p)).size; } catch { /* removed meanwhile */ }
    }
  }
  return total;
}
