// Service volumes: "./src:/app:ro", "data:/var/lib/x", "/anon", and the long syntax with
// bind/volume/tmpfs options — all as long-form mounts.
import { FormError } from './form-error.js';
import { parseBytes } from './bytes.js';

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'cluster' | 'npipe' | 'image';
export interface ServiceMount {
  readonly type: MountType;
  /** host path (bind, resolved absolute), volume name (volume), image (image); absent = anonymous */
  readonly source?: string;
  readonly target: string;
  readonly read_only: boolean;
  readonly consistency?: string;
  readonly bind?: { readonly propagation?: string; readonly create_host_path: boolean; readonly selinux?: 'z' | 'Z'; readonly recursive?: string };
  readonly volume?: { readonly nocopy: boolean; readonly subpath?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly tmpfs?: { readonly size?: number; readonly mode?: number };
  readonly image?: { readonly subpath?: string };
}

const PROPAGATION = new Set(['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate']);
const CONSISTENCY = new Set(['cached', 'delegated', 'consistent']);
const EXPECT = 'a volume like "./src:/app:ro", "name:/data" or "/anonymous"';

export function isBindSource(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || s.startsWith('$') || /^[A-Za-z]:[\\/]/.test(s) || s.startsWith('\\\\');
}

export function parseVolumeString(spec: string): ServiceMount {
  const parts = spec.split(':');
  if (parts.some((p) => p === '') && !(parts.length === 1)) throw new FormError(EXPECT, JSON.stringify(spec), 'an empty field between colons');
  if (spec === '') throw new FormError(EXPECT, '""');
  if (parts.length === 1) return { type: 'volume', target: spec, read_only: false, volume: { nocopy: false } };
  if (parts.length > 3) throw new FormError(EXPECT, JSON.stringify(spec), 'too many ":" fields');
  const [source, target, modes] = parts as [string, string, string | undefined];
  let readOnly = false, selinux: 'z' | 'Z' | undefined, propagation: string | undefined, nocopy = false, consistency: string | undefined;
  for (const m of modes ? modes.split(',') : []) {
    if (m === 'ro') readOnly = true;
    else if (m === 'rw') readOnly = false;
    else if (m === 'z' || m === 'Z') selinux = m;
    else if (PROPAGATION.has(m)) propagation = m;
    else if (m === 'nocopy') nocopy = true;
    else if (CONSISTENCY.has(m)) consistency = m;
    else throw new FormError('volume options among ro, rw, z, Z, shared, slave, private, rshared, rslave, rprivate, nocopy, cached, delegated, consistent', JSON.stringify(m), `in ${JSON.stringify(spec)}`);
  }
  if (isBindSource(source)) {
    if (nocopy) throw new FormError(EXPECT, JSON.stringify(spec), 'nocopy applies to named volumes, not bind mounts');
    return {
      type: 'bind', source, target, read_only: readOnly, ...(consistency ? { consistency } : {}),
      bind: { create_host_path: true, ...(propagation ? { propagation } : {}), ...(selinux ? { selinux } : {}) },
    };
  }
  if (propagation) throw new FormError(EXPECT, JSON.stringify(spec), 'propagation applies to bind mounts, not named volumes');
  return { type: 'volume', source, target, read_only: readOnly, ...(consistency ? { consistency } : {}), volume: { nocopy, ...(selinux ? {} : {}) } };
}

function tmpfsSize(v: unknown): number {
  try { return parseBytes(v as string | number); } catch (e) { throw e instanceof FormError ? e.under(['tmpfs', 'size']) : e; }
}

export function canonicalMount(v: unknown): ServiceMount {
  if (typeof v === 'string') return parseVolumeString(v);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FormError(EXPECT, typeof v);
  const o = v as Record<string, unknown>;
  const type = String(o['type']) as MountType;
  const target = typeof o['target'] === 'string' ? o['target'] : '';
  if (target === '' && type !== 'npipe') throw new FormError('a target path', 'none', undefined, ['target']);
  const source = typeof o['source'] === 'string' && o['source'] !== '' ? o['source'] : undefined;
  if (type === 'bind' && !source) throw new FormError('a source path for a bind mount', 'none', undefined, ['source']);
  if (type === 'tmpfs' && source) throw new FormError('no source for a tmpfs mount', JSON.stringify(source), undefined, ['source']);
  // an image mount whose source is empty (`source: ${IMAGE}` with IMAGE unset) is valid: docker
  // compose loads it, and the engine reports the missing image when it mounts one
  const bind = o['bind'] as Record<string, unknown> | undefined;
  const vol = o['volume'] as Record<string, unknown> | undefined;
  const tmpfs = o['tmpfs'] as Record<string, unknown> | undefined;
  const image = o['image'] as Record<string, unknown> | undefined;
  if (bind && type !== 'bind') throw new FormError(`no "bind" options on a ${type} mount`, 'bind options', undefined, ['bind']);
  if (vol && type !== 'volume') throw new FormError(`no "volume" options on a ${type} mount`, 'volume options', undefined, ['volume']);
  if (tmpfs && type !== 'tmpfs') throw new FormError(`no "tmpfs" options on a ${type} mount`, 'tmpfs options', undefined, ['tmpfs']);
  let mode: number | undefined;
  if (tmpfs?.['mode'] !== undefined) {
    const m = tmpfs['mode'];
    mode = typeof m === 'number' ? m : /^[0-7]+$/.test(String(m)) ? parseInt(String(m), 8) : NaN;
    if (!Number.isFinite(mode)) throw new FormError('an octal file mode', JSON.stringify(m), undefined, ['tmpfs', 'mode']);
  }
  return {
    type, target, read_only: o['read_only'] === true,
    ...(source ? { source } : {}),
    ...(typeof o['consistency'] === 'string' ? { consistency: o['consistency'] } : {}),
    ...(type === 'bind' ? { bind: {
      create_host_path: bind?.['create_host_path'] !== false,
      ...(typeof bind?.['propagation'] === 'string' ? { propagation: bind['propagation'] } : {}),
      ...(bind?.['selinux'] === 'z' || bind?.['selinux'] === 'Z' ? { selinux: bind['selinux'] } : {}),
      ...(typeof bind?.['recursive'] === 'string' ? { recursive: bind['recursive'] } : {}),
    } } : {}),
    ...(type === 'volume' ? { volume: {
      nocopy: vol?.['nocopy'] === true,
      ...(typeof vol?.['subpath'] === 'string' ? { subpath: vol['subpath'] } : {}),
    } } : {}),
    ...(type === 'tmpfs' ? { tmpfs: {
      ...(tmpfs?.['size'] !== undefined ? { size: tmpfsSize(tmpfs['size']) } : {}),
      ...(mode !== undefined ? { mode } : {}),
    } } : {}),
    ...(type === 'image' ? { image: { ...(typeof image?.['subpath'] === 'string' ? { subpath: image['subpath'] } : {}) } } : {}),
  };
}
