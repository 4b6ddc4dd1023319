// A container's mounts: from what the service asks for (its own narrow request types, mapped from
// the compose model by the engine's executor) to the ordered list the runtime records and hands to
// the shim. At create time: volumes are ensured (anonymous ones created, image VOLUME entries
// included), referenced by the container, and filled by copy-up; bind sources are checked and
// created; tmpfs and secrets/configs become their mounts. At every start: activateMounts.
// Copy-up is the one long step: the engine passes `copyUp` to run it in a worker process (its
// event loop never blocks); the default runs it here, synchronously.
import { posix } from 'node:path';
import { Conflict, InvalidArgument } from '../lib/errors.js';
import { checkBindSource, numericOwner } from './bind-source.js';
import { copyUp, type CopyUpOutcome, type ImageLayers } from './copy-up.js';
import { fileGrantMounts, grantTarget, type FileGrant } from './file-grants.js';
import type { VolumeStore } from './store.js';

// VolumeMount lives in mount-types.ts, which file-grants.ts imports too (no import cycle)
import type { VolumeMount } from './mount-types.js';
export type { VolumeMount } from './mount-types.js';

export type MountRequest =
  | {
    readonly type: 'volume';
    /** the volume's name; absent: a new anonymous volume */
    readonly source?: string;
    readonly target: string;
    readonly readOnly: boolean;
    readonly nocopy: boolean;
    readonly subpath?: string;
  }
  | {
    readonly type: 'bind';
    readonly source: string;
    readonly target: string;
    readonly readOnly: boolean;
    readonly propagation?: string;
    readonly createHostPath: boolean;
    readonly selinux?: 'z' | 'Z';
    /**
     * compose bind.recursive: enabled (default: submounts bound too, read-only all the way down
     * when read_only), disabled (no submounts), writable (read_only on the top mount only, the
     * submounts stay writable), readonly (read-only all the way down: the default here, as the
     * kernel always supports it)
     */
    readonly recursive?: string;
  }
  | {
    readonly type: 'tmpfs';
    readonly target: string;
    /** bytes; absent = the kernel's default */
    readonly size?: number;
    readonly mode?: number;
    readonly readOnly: boolean;
    /** the short form's `exec` clears the default noexec */
    readonly exec?: boolean;
  };

export interface ContainerMountContext {
  readonly store: VolumeStore;
  readonly containerId: string;
  /** the container's directory (secrets and configs are written under it) */
  readonly bundle: string;
  readonly projectDir: string;
  readonly home?: string;
  /** the service's `user` as written ("1000:1000", "app"): a numeric one owns created bind directories */
  readonly user?: string;
  /** the image's layers: the source of copy-up */
  readonly image: ImageLayers;
  /** the image's VOLUME entries: each becomes an anonymous volume unless a mount covers its target */
  readonly imageVolumes?: readonly string[];
  /** anonymous volumes to reuse by target (a recreate keeps a container's anonymous volumes) */
  readonly reuseAnonymous?: ReadonlyMap<string, string>;
  /** labels for volumes created here (named ones created on demand, as `docker run -v` does) */
  readonly newVolumeLabels?: Readonly<Record<string, string>>;
  /** labels for anonymous volumes created here (compose's project labels) */
  readonly anonymousLabels?: Readonly<Record<string, string>>;
  /** whether the image has a regular file at a path (bind checks: a file is meant there) */
  readonly imageHasFile?: (target: string) => boolean;
  /** fills a volume with the image's content at target (copy-up.ts's contract); default: copyUp here */
  readonly copyUp?: (volume: string, target: string) => Promise<CopyUpOutcome>;
}

export interface ContainerMounts {
  readonly mounts: readonly VolumeMount[];
  readonly warnings: readonly string[];
  /** the volumes the container now references, with what copy-up did */
  readonly volumes: readonly { readonly name: string; readonly target: string; readonly anonymous: boolean; readonly copyUp: CopyUpOutcome['outcome'] | 'nocopy' }[];
}

const PROPAGATIONS = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
/** Docker's tmpfs defaults: no set-id, no devices, no exec; mode 1777. */
const TMPFS_MODE = 0o1777;

export function normalizeTarget(target: string): string {
  if (!target.startsWith('/')) throw new InvalidArgument(`invalid mount target ${JSON.stringify(target)}: it must be an absolute path`);
  if (target.includes('\0')) throw new InvalidArgument('invalid mount target: it holds a NUL byte');
  const t = posix.normalize(target);
  return t.length > 1 && t.endsWith('/') ? t.slice(0, -1) : t;
}

function depth(target: string): number {
  return target === '/' ? 0 : target.split('/').length - 1;
}

/** Mounts in the order the shim makes them: a mount inside another after it (Docker sorts the same way). */
export function sortMounts<T extends { readonly target: string }>(mounts: readonly T[]): T[] {
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.target) - depth(b.m.target) || a.i - b.i).map((x) => x.m);
}

/**
 * The short `tmpfs:` form (`/run`, `/tmp:size=64m,mode=1777,exec`) and `docker run --tmpfs`.
 * Options: size (bytes or k/m/g), mode (octal), ro/rw, exec/noexec (noexec is the default), and
 * the suid/dev flags (nosuid, nodev are the defaults).
 */
export function parseTmpfsShort(spec: string): MountRequest & { readonly type: 'tmpfs' } {
  const colon = spec.indexOf(':');
  const target = colon < 0 ? spec : spec.slice(0, colon);
  let size: number | undefined;
  let mode: number | undefined;
  let readOnly = false;
  let exec = false;
  for (const opt of colon < 0 ? [] : spec.slice(colon + 1).split(',').filter((o) => o !== '')) {
    const [k, v] = opt.split('=', 2) as [string, string | undefined];
    if (k === 'size' && v !== undefined) {
      const m = /^(\d+)([kmg]?)b?$/i.exec(v);
      if (!m) throw new InvalidArgument(`tmpfs ${JSON.stringify(spec)}: invalid size ${JSON.stringify(v)}`);
      size = Number(m[1]) * (({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }) as Record<string, number>)[m[2]!.toLowerCase()]!;
    } else if (k === 'mode' && v !== undefined && /^[0-7]{1,4}$/.test(v)) mode = parseInt(v, 8);
    else if (opt === 'ro') readOnly = true;
    else if (opt === 'rw') readOnly = false;
    else if (opt === 'exec') exec = true;
    else if (opt === 'noexec') exec = false;
    else if (opt === 'nosuid' || opt === 'nodev') { /* the defaults */ } else throw new InvalidArgument(`tmpfs ${JSON.stringify(spec)}: unsupported option ${JSON.stringify(opt)} (size, mode, ro, rw, exec, noexec, nosuid, nodev)`);
  }
  return { type: 'tmpfs', target, readOnly, exec, ...(size !== undefined ? { size } : {}), ...(mode !== undefined ? { mode } : {}) };
}

function checkSubpath(subpath: string | undefined, what: string): string | undefined {
  if (subpath === undefined || subpath === '') return undefined;
  const n = posix.normalize(subpath);
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw new InvalidArgument(`${what}: subpath ${JSON.stringify(subpath)} must stay inside the volume`);
  return n === '.' ? undefined : n;
}

/**
 * Everything a container's create needs from this facility, in one call. On failure nothing is
 * left referenced and no anonymous volume made here is kept.
 */
export async function prepareContainerMounts(ctx: ContainerMountContext, requests: readonly MountRequest[], grants: readonly FileGrant[] = []): Promise<ContainerMounts> {
  const { store } = ctx;
  const warnings: string[] = [];
  const volumes: { name: string; target: string; anonymous: boolean; copyUp: CopyUpOutcome['outcome'] | 'nocopy' }[] = [];
  const mounts: VolumeMount[] = [];
  const acquired: string[] = [];
  const createdAnonymous: string[] = [];
  const seen = new Set<string>();
  const claim = (target: string): string => {
    const t = normalizeTarget(target);
    if (seen.has(t)) throw new InvalidArgument(`duplicate mount point: ${t}`);
    seen.add(t);
    return t;
  };

  // the image's VOLUME entries not covered by a mount of the service become anonymous volumes
  const explicitTargets = new Set([...requests.map((r) => normalizeTarget(r.target)), ...grants.map((g) => normalizeTarget(grantTarget(g)))]);
  const all: MountRequest[] = [...requests];
  for (const v of ctx.imageVolumes ?? []) {
    const t = normalizeTarget(v);
    if (!explicitTargets.has(t)) all.push({ type: 'volume', target: t, readOnly: false, nocopy: false });
  }

  try {
    for (const r of all) {
      const target = claim(r.target);
      if (r.type === 'tmpfs') {
        if (r.size !== undefined && (!Number.isSafeInteger(r.size) || r.size < 0)) throw new InvalidArgument(`tmpfs ${target}: invalid size ${r.size}`);
        mounts.push({ type: 'tmpfs', kind: 'tmpfs', target, size: r.size ?? 0, mode: r.mode ?? TMPFS_MODE, readonly: r.readOnly, nosuid: true, nodev: true, noexec: r.exec !== true });
        continue;
      }
      if (r.type === 'bind') {
        if (r.propagation !== undefined && !PROPAGATIONS.has(r.propagation)) throw new InvalidArgument(`bind ${r.source}: invalid propagation ${JSON.stringify(r.propagation)}`);
        const checked = checkBindSource({
          source: r.source, projectDir: ctx.projectDir, home: ctx.home, createHostPath: r.createHostPath,
          owner: numericOwner(ctx.user), targetIsFile: ctx.imageHasFile?.(target), selinux: r.selinux, label: `${r.source}:${target}`,
        });
        warnings.push(...checked.warnings);
        const recursive = r.recursive ?? 'enabled';
        if (!['enabled', 'disabled', 'writable', 'readonly'].includes(recursive)) throw new InvalidArgument(`bind ${r.source}: invalid recursive ${JSON.stringify(recursive)}`);
        mounts.push({
          type: 'bind', kind: 'bind', source: checked.source, target, readonly: r.readOnly,
          ...(recursive === 'disabled' ? { nonRecursive: true } : {}),
          ...(recursive === 'writable' && r.readOnly ? { readonlyTopOnly: true } : {}),
          ...(r.propagation !== undefined ? { propagation: r.propagation as 'rprivate' } : {}),
        });
        continue;
      }
      // a volume: named (created on demand, as `docker run -v name:/x` does) or anonymous
      const subpath = checkSubpath(r.subpath, `volume ${r.source ?? target}`);
      let name = r.source;
      let anonymous = false;
      if (name === undefined) {
        anonymous = true;
        const reuse = ctx.reuseAnonymous?.get(target);
        if (reuse !== undefined && store.find(reuse)) name = reuse;
        else {
          name = store.create({ labels: ctx.anonymousLabels }).name;
          createdAnonymous.push(name);
        }
      } else if (!store.find(name)) {
        store.create({ name, labels: ctx.newVolumeLabels });
      }
      store.acquire(name, ctx.containerId);
      acquired.push(name);
      const outcome = r.nocopy ? 'nocopy' : (ctx.copyUp ? await ctx.copyUp(name, target) : copyUp(store, name, ctx.image, target)).outcome;
      const data = store.activate(name);
      volumes.push({ name, target, anonymous, copyUp: outcome });
      mounts.push({
        type: 'bind', kind: 'volume', name, source: data.source, target, readonly: r.readOnly || data.readonly,
        ...(subpath !== undefined ? { subpath } : {}),
      });
    }
    for (const m of fileGrantMounts(ctx.bundle, grants)) {
      claim(m.target);
      mounts.push(m);
    }
  } catch (err) {
    for (const name of acquired) store.release(name, ctx.containerId);
    for (const name of createdAnonymous) {
      try { await store.remove(name); } catch { /* in use by another container meanwhile: kept */ }
    }
    throw err;
  }
  return { mounts: sortMounts(mounts), warnings, volumes };
}

/** Before every start: tmpfs-style volumes get their tmpfs (again); a missing volume is a clear error. */
export function activateMounts(store: VolumeStore, mounts: readonly { readonly kind: string; readonly name?: string }[]): void {
  for (const m of mounts) {
    if (m.kind === 'volume' && m.name !== undefined) {
      if (!store.find(m.name)) throw new Conflict(`volume "${m.name}" used by this container no longer exists`);
      store.activate(m.name);
    }
  }
}

/**
 * A container was removed: release its volumes; with `removeAnonymous` (docker rm -v, compose
 * down -v, and always for `run --rm`) its anonymous volumes that nothing else uses are removed.
 */
export async function releaseContainerVolumes(store: VolumeStore, containerId: string, opts: { readonly removeAnonymous: boolean }): Promise<{ released: string[]; removed: string[] }> {
  const released = store.volumesOf(containerId);
  const removed: string[] = [];
  for (const name of released) {
    store.release(name, containerId);
    const v = store.find(name);
    if (opts.removeAnonymous && v?.anonymous && store.users(name).length === 0) {
      try {
        await store.remove(name);
        removed.push(name);
      } catch { /* taken by another container meanwhile: kept */ }
    }
  }
  return { released, removed };
}
