// RUN --mount: BuildKit's syntax read into typed mounts (pure), and the cache mounts' store.
//
//   --mount=[type=bind,]target=PATH[,source=PATH][,from=STAGE|IMAGE][,rw]
//   --mount=type=cache,target=PATH[,id=ID][,sharing=shared|private|locked][,from=…][,source=…][,ro][,mode=0755][,uid=0][,gid=0]
//   --mount=type=secret[,id=ID][,target=PATH][,required][,mode=0400][,uid=0][,gid=0]
//   --mount=type=tmpfs,target=PATH[,size=BYTES]
//
// A relative target is below the step's WORKDIR (BuildKit does the same). Option values are
// substituted with the build args and ENV in scope before they are read.
//
// Cache mounts live under the store's state dir, `cachemounts/<sha256(id)[:32]>-<n>/data`, with a
// `meta.json` beside each instance (id, last use, size when last measured). They outlive builds
// and are never part of a layer: the directory is bind-mounted into the step container, and the
// step's upper dir only ever sees the (empty) mount point, which the builder removes. They are
// bounded: after a build that used them, instances not in use are removed, least recently used
// first, while the total is over BERTH_BUILD_CACHE_MOUNT_MAX (bytes; default 4 GiB); `image
// prune --all` removes them all (docs/images.md).
//
// Sharing is decided in this process (the engine runs every build): `shared` instances are
// used by any number of steps at once, `locked` waits for the one user to finish, `private`
// takes an instance nobody uses (making a new one when every existing one is busy).
import { mkdirSync, readdirSync, rmSync, chownSync, chmodSync, lstatSync, existsSync, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { InvalidArgument } from '../lib/errors.js';
import { readJson, writeJsonAtomic } from '../lib/atomic.js';

export type RunMount =
  | { readonly type: 'bind'; readonly target: string; readonly source: string; readonly from?: string; readonly readonly: boolean }
  | {
    readonly type: 'cache'; readonly target: string; readonly id: string; readonly sharing: 'shared' | 'private' | 'locked';
    readonly from?: string; readonly source: string; readonly readonly: boolean; readonly mode: number; readonly uid: number; readonly gid: number;
  }
  | { readonly type: 'secret'; readonly target: string; readonly id: string; readonly required: boolean; readonly mode: number; readonly uid: number; readonly gid: number }
  | { readonly type: 'tmpfs'; readonly target: string; readonly size: number };

/** Bounds for hostile input: mounts per RUN, bytes of one --mount value. */
export const MAX_MOUNTS = 64;
const MAX_MOUNT_TEXT = 4096;

const KEYS: Record<RunMount['type'], readonly string[]> = {
  bind: ['type', 'target', 'dst', 'destination', 'source', 'src', 'from', 'ro', 'readonly', 'rw', 'readwrite'],
  cache: ['type', 'target', 'dst', 'destination', 'source', 'src', 'from', 'id', 'sharing', 'ro', 'readonly', 'rw', 'readwrite', 'mode', 'uid', 'gid'],
  secret: ['type', 'target', 'dst', 'destination', 'id', 'required', 'mode', 'uid', 'gid'],
  tmpfs: ['type', 'target', 'dst', 'destination', 'size'],
};

function bool(value: string | undefined, key: string, where: string): boolean {
  if (value === undefined || value === '' || value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgument(`${where}: --mount ${key}=${value}: expected true or false`);
}

function int(value: string | undefined, key: string, where: string, radix: 8 | 10, max: number): number {
  const re = radix === 8 ? /^0?[0-7]{1,4}$/ : /^\d{1,10}$/;
  if (value === undefined || !re.test(value) || parseInt(value, radix) > max) {
    throw new InvalidArgument(`${where}: --mount ${key}=${value ?? ''}: expected ${radix === 8 ? 'an octal mode such as 0755' : `an integer from 0 to ${max}`}`);
  }
  return parseInt(value, radix);
}

/**
 * One --mount value as a typed mount. `expand` substitutes variables in a value; `workdir`
 * anchors a relative target.
 */
export function parseMount(text: string, where: string, workdir: string, expand: (value: string) => string): RunMount {
  if (text.length > MAX_MOUNT_TEXT) throw new InvalidArgument(`${where}: --mount value longer than ${MAX_MOUNT_TEXT} characters`);
  const fields = new Map<string, string | undefined>();
  for (const field of text.split(',')) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (fields.has(key)) throw new InvalidArgument(`${where}: --mount ${key} given twice`);
    fields.set(key, eq < 0 ? undefined : expand(field.slice(eq + 1)));
  }
  const type = (fields.get('type') ?? 'bind') as RunMount['type'];
  if ((type as string) === 'ssh') throw new InvalidArgument(`${where}: --mount=type=ssh is not supported (berth has no SSH agent forwarding into builds)`);
  if (!(type in KEYS)) throw new InvalidArgument(`${where}: --mount type "${type}": expected bind, cache, secret or tmpfs`);
  for (const key of fields.keys()) {
    if (!KEYS[type].includes(key)) throw new InvalidArgument(`${where}: --mount=type=${type}: unknown option "${key}" (expected ${KEYS[type].filter((k) => k !== 'type').join(', ')})`);
  }
  const rawTarget = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
  const anchor = (p: string): string => posix.resolve(workdir || '/', p);
  let readonly: boolean | undefined;
  for (const k of ['ro', 'readonly']) if (fields.has(k)) readonly = bool(fields.get(k), k, where);
  for (const k of ['rw', 'readwrite']) if (fields.has(k)) readonly = !bool(fields.get(k), k, where);
  const mode = (dflt: number) => (fields.has('mode') ? int(fields.get('mode'), 'mode', where, 8, 0o7777) : dflt);
  const uid = fields.has('uid') ? int(fields.get('uid'), 'uid', where, 10, 0xfffffffe) : 0;
  const gid = fields.has('gid') ? int(fields.get('gid'), 'gid', where, 10, 0xfffffffe) : 0;
  const source = fields.get('source') ?? fields.get('src') ?? '';
  const from = fields.get('from');
  if (type === 'secret') {
    const id = fields.get('id') ?? (rawTarget !== undefined ? posix.basename(rawTarget) : undefined);
    if (id === undefined || id === '') throw new InvalidArgument(`${where}: --mount=type=secret needs an id or a target`);
    return { type, id, target: anchor(rawTarget ?? `/run/secrets/${id}`), required: fields.has('required') ? bool(fields.get('required'), 'required', where) : false, mode: mode(0o400), uid, gid };
  }
  if (rawTarget === undefined || rawTarget === '') throw new InvalidArgument(`${where}: --mount=type=${type} needs a target`);
  const target = anchor(rawTarget);
  if (target === '/') throw new InvalidArgument(`${where}: --mount target cannot be /`);
  if (type === 'tmpfs') {
    const size = fields.has('size') ? int(fields.get('size'), 'size', where, 10, Number.MAX_SAFE_INTEGER) : 0;
    return { type, target, size };
  }
  if (from !== undefined && from === '') throw new InvalidArgument(`${where}: --mount from= needs a stage or an image`);
  if (type === 'bind') return { type, target, source, ...(from !== undefined ? { from } : {}), readonly: readonly ?? true };
  const sharing = fields.get('sharing') ?? 'shared';
  if (sharing !== 'shared' && sharing !== 'private' && sharing !== 'locked') throw new InvalidArgument(`${where}: --mount sharing=${sharing}: expected shared, private or locked`);
  const id = fields.get('id') || target;
  return { type, target, id, sharing, ...(from !== undefined ? { from } : {}), source, readonly: readonly ?? false, mode: mode(0o755), uid, gid };
}

// ── the cache mounts' store ──────────────────────────────────────────────────────────────────

interface InstanceMeta { readonly id: string; readonly lastUsed: number; readonly size?: number }

interface Usage { users: number; locked?: Promise<void> }

/** Users of each instance dir, across every build of this process (entries stay: a waiter holds its Usage). */
const usage = new Map<string, Usage>();

export const DEFAULT_CACHE_MOUNT_MAX = 4 * 1024 * 1024 * 1024;

export class CacheMounts {
  constructor(readonly dir: string, private readonly now: () => number = Date.now) {}

  private base(id: string): string {
    return createHash('sha256').update(id).digest('hex').slice(0, 32);
  }

  /**
   * An instance for `m`, held until release(): its data dir (made with m's mode and owner when
   * new, `seed` then filling it) and whether it was new.
   */
  async acquire(m: Extract<RunMount, { type: 'cache' }>, seed?: (dir: string) => Promise<void>): Promise<{ path: string; release: () => void }> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const base = this.base(m.id);
    let instance = join(this.dir, `${base}-0`);
    if (m.sharing === 'private') {
      for (let n = 0; ; n++) {
        instance = join(this.dir, `${base}-${n}`);
        if ((usage.get(instance)?.users ?? 0) === 0) break;
      }
    }
    let u = usage.get(instance);
    if (!u) { u = { users: 0 }; usage.set(instance, u); }
    let unlock: (() => void) | undefined;
    if (m.sharing === 'locked') {
      while (u.locked) await u.locked;
      u.locked = new Promise<void>((resolve) => { unlock = resolve; });
    }
    u.users++;
    const held = u;
    const release = () => {
      held.users--;
      if (unlock) { held.locked = undefined; unlock(); }
      this.touch(instance, m.id);
    };
    try {
      const data = join(instance, 'data');
      if (!existsSync(data)) {
        rmSync(instance, { recursive: true, force: true });
        mkdirSync(instance, { mode: 0o700 });
        const fresh = join(instance, 'data.new');
        mkdirSync(fresh);
        chmodSync(fresh, m.mode);
        chownSync(fresh, m.uid, m.gid);
        if (seed) await seed(fresh);
        // complete or absent: a crash while seeding leaves data.new, removed at the next use
        renameSync(fresh, data);
      }
      this.touch(instance, m.id);
      return { path: data, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  private touch(instance: string, id: string): void {
    const meta = readJson<InstanceMeta>(join(instance, 'meta.json'));
    try { writeJsonAtomic(join(instance, 'meta.json'), { ...meta, id, lastUsed: this.now() } satisfies InstanceMeta, { durable: false }); } catch { /* removed meanwhile */ }
  }

  /** Instances, with their size measured now (a walk of each; run after builds, not during). */
  list(): { path: string; id: string; lastUsed: number; size: number; inUse: boolean }[] {
    let names: string[];
    try { names = readdirSync(this.dir); } catch { return []; }
    return names.map((n) => {
      const path = join(this.dir, n);
      const meta = readJson<InstanceMeta>(join(path, 'meta.json'));
      return { path, id: meta?.id ?? '', lastUsed: meta?.lastUsed ?? 0, size: duBytes(path), inUse: (usage.get(path)?.users ?? 0) > 0 };
    });
  }

  /** Removes instances not in use, least recently used first, until the total is at most `max` bytes. */
  bound(max: number): { removed: number; freed: number } {
    const all = this.list().sort((a, b) => a.lastUsed - b.lastUsed);
    let total = all.reduce((s, i) => s + i.size, 0);
    let removed = 0;
    let freed = 0;
    for (const i of all) {
      if (total <= max) break;
      if (i.inUse) continue;
      rmSync(i.path, { recursive: true, force: true });
      total -= i.size;
      freed += i.size;
      removed++;
    }
    return { removed, freed };
  }

  /** Every instance not in use goes (`image prune --all`). */
  clear(): { removed: number; freed: number } {
    return this.bound(-1);
  }
}

/** Bytes in a tree (file sizes; directories count nothing), not following symlinks. */
function duBytes(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    let st;
    try { st = lstatSync(p); } catch { return; }
    if (st.isDirectory()) {
      let names: string[] = [];
      try { names = readdirSync(p); } catch { return; }
      for (const n of names) walk(join(p, n));
    } else {
      total += st.size;
    }
  };
  walk(path);
  return total;
}

/** The cache mounts' bound from the engine's environment (BERTH_BUILD_CACHE_MOUNT_MAX, bytes). */
export function cacheMountMax(env: NodeJS.ProcessEnv): number {
  const v = env['BERTH_BUILD_CACHE_MOUNT_MAX'];
  if (v === undefined || v === '') return DEFAULT_CACHE_MOUNT_MAX;
  if (!/^\d+$/.test(v)) throw new InvalidArgument(`BERTH_BUILD_CACHE_MOUNT_MAX="${v}": expected a number of bytes`);
  return Number(v);
}
