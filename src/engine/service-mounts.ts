// What a container mounts, in the volumes facility's terms (volumes/mounts.ts MountRequest and
// volumes/file-grants.ts FileGrant), from the compose model or from `run`'s flags. The one place
// that maps between the two, as compose's create.go buildContainerVolumes does; it decides
// nothing about whether to create. Pure, except for the look-up `volumes_from` needs.
import { isAbsolute, resolve } from 'node:path';
import type { FileGrant as ModelGrant, Project, Service, ServiceMount } from '../spec/model.js';
import { parseVolumeString } from '../spec/canonical/volumes.js';
import { FormError } from '../spec/canonical/form-error.js';
import { InvalidArgument, NotFound, Unsupported } from '../lib/errors.js';
import { parseBytes } from '../lib/units.js';
import { normalizeTarget, parseTmpfsShort, type MountRequest } from '../volumes/mounts.js';
import type { FileGrant } from '../volumes/file-grants.js';
import type { RecordedMount } from '../runtime/container.js';

export interface ContainerMountPlan {
  readonly requests: readonly MountRequest[];
  readonly grants: readonly FileGrant[];
}

/** A service's `volumes`, `tmpfs`, `secrets` and `configs` (volumes_from: volumesFromRequests). */
export function serviceMounts(project: Project, service: Service): ContainerMountPlan {
  const requests: MountRequest[] = service.volumes.map((m) => mountRequest(project, service, m));
  for (const t of service.tmpfs) {
    try { requests.push(parseTmpfsShort(t)); } catch (err) {
      throw new InvalidArgument(`service "${service.name}": tmpfs: ${(err as Error).message}`);
    }
  }
  const grants = [
    ...service.secrets.map((g) => fileGrant(project, service, 'secret', g)),
    ...service.configs.map((g) => fileGrant(project, service, 'config', g)),
  ];
  return { requests, grants };
}

function mountRequest(project: Project, service: Service, m: ServiceMount): MountRequest {
  switch (m.type) {
    case 'volume': {
      // a key of the top-level volumes names its volume on this host (`<project>_<key>` or `name:`)
      const name = m.source !== undefined ? project.volumes[m.source]?.name ?? m.source : undefined;
      return {
        type: 'volume', target: m.target, readOnly: m.read_only, nocopy: m.volume?.nocopy ?? false,
        ...(name !== undefined ? { source: name } : {}),
        ...(m.volume?.subpath !== undefined ? { subpath: m.volume.subpath } : {}),
      };
    }
    case 'bind':
      return {
        type: 'bind', source: m.source!, target: m.target, readOnly: m.read_only,
        createHostPath: m.bind?.create_host_path ?? true,
        ...(m.bind?.propagation !== undefined ? { propagation: m.bind.propagation } : {}),
        ...(m.bind?.selinux !== undefined ? { selinux: m.bind.selinux } : {}),
        ...(m.bind?.recursive !== undefined ? { recursive: m.bind.recursive } : {}),
      };
    case 'tmpfs':
      return {
        type: 'tmpfs', target: m.target, readOnly: m.read_only,
        ...(m.tmpfs?.size !== undefined ? { size: m.tmpfs.size } : {}),
        ...(m.tmpfs?.mode !== undefined ? { mode: m.tmpfs.mode } : {}),
      };
    default:
      throw new Unsupported(`service "${service.name}": a mount of type "${m.type}" (${m.target}) is not supported by berth (bind, volume and tmpfs are)`);
  }
}

function numericId(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new InvalidArgument(`${what}: "${value}" must be a numeric id (the container's names are not known to the engine)`);
  return Number(value);
}

function fileGrant(project: Project, service: Service, kind: 'secret' | 'config', g: ModelGrant): FileGrant {
  const what = `service "${service.name}": ${kind} "${g.source}"`;
  const def = (kind === 'secret' ? project.secrets : project.configs)[g.source];
  if (!def) throw new NotFound(`${what} is not declared under the top-level ${kind}s`);
  if (def.external) throw new Unsupported(`${what} is external: external ${kind}s are a swarm's, and berth has none (use file, environment${kind === 'config' ? ' or content' : ''})`);
  let content: FileGrant['content'];
  if (def.file !== undefined) content = { file: def.file };
  else if (def.content !== undefined) content = { data: def.content };
  else if (def.environment !== undefined) throw new InvalidArgument(`${what}: the variable "${def.environment}" is not set in the project's environment`);
  else throw new InvalidArgument(`${what} has no file, environment or content`);
  const uid = numericId(g.uid, `${what}: uid`);
  const gid = numericId(g.gid, `${what}: gid`);
  return {
    kind, name: g.source, target: g.target, content,
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
    ...(g.mode !== undefined ? { mode: g.mode } : {}),
  };
}

/** `volumes_from` / `--volumes-from` entries: a reference and whether it is read-only. */
export function parseVolumesFrom(entry: string, compose: boolean): { ref: string; service?: string; readOnly?: boolean } {
  let rest = entry;
  let readOnly: boolean | undefined;
  const m = /^(.*):(ro|rw)$/.exec(rest);
  if (m) { rest = m[1]!; readOnly = m[2] === 'ro'; }
  if (rest === '') throw new InvalidArgument(`invalid volumes_from ${JSON.stringify(entry)}: expected ${compose ? 'SERVICE or container:NAME' : 'CONTAINER'}[:ro|rw]`);
  if (compose && !rest.startsWith('container:')) return { ref: rest, service: rest, ...(readOnly !== undefined ? { readOnly } : {}) };
  return { ref: compose ? rest.slice('container:'.length) : rest, ...(readOnly !== undefined ? { readOnly } : {}) };
}

/**
 * The mounts another container shares through volumes_from: its volumes and bind mounts (never its
 * tmpfs, which hold nothing to share, nor its secrets and configs, which are its own), read-only
 * with `:ro`, each kept as the other has it otherwise (Docker's rule). Targets the container
 * mounts something of its own at are left out: its own mount wins.
 */
export function volumesFromRequests(source: { readonly bundle: string; readonly mounts: readonly RecordedMount[] }, readOnly: boolean | undefined, own: ReadonlySet<string>): MountRequest[] {
  const out: MountRequest[] = [];
  for (const m of source.mounts) {
    if (m.type !== 'bind' || own.has(normalizeTarget(m.target))) continue;
    if (m.source.startsWith(`${source.bundle}/`)) continue; // its secrets and configs
    const ro = readOnly ?? m.readonly;
    if (m.kind === 'volume' && m.name !== undefined) {
      out.push({ type: 'volume', source: m.name, target: m.target, readOnly: ro, nocopy: true, ...(m.subpath !== undefined ? { subpath: m.subpath } : {}) });
    } else {
      out.push({
        type: 'bind', source: m.source, target: m.target, readOnly: ro, createHostPath: false,
        ...(m.propagation !== undefined ? { propagation: m.propagation } : {}),
        ...(m.nonRecursive ? { recursive: 'disabled' } : m.readonlyTopOnly ? { recursive: 'writable' } : {}),
      });
    }
  }
  return out;
}

/** What `run`'s -v, --mount and --tmpfs ask for, and the driver options of volumes --mount creates. */
export interface FlagMounts {
  readonly requests: readonly MountRequest[];
  /** volume-opt of --mount: options of a named volume created by this run */
  readonly volumeOptions: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** `-v`, `--mount` and `--tmpfs`, as Docker's daemon reads them. `cwd`/`home` resolve relative bind sources. */
export function flagMounts(o: { readonly volumes?: readonly string[]; readonly mounts?: readonly string[]; readonly tmpfs?: readonly string[] }, cwd: string, home: string | undefined): FlagMounts {
  const requests: MountRequest[] = [];
  const volumeOptions = new Map<string, Record<string, string>>();
  for (const v of o.volumes ?? []) requests.push(volumeFlag(v, cwd, home));
  for (const spec of o.mounts ?? []) {
    const r = mountFlag(spec, cwd, home);
    requests.push(r.request);
    if (r.volumeOptions && r.request.type === 'volume' && r.request.source !== undefined) volumeOptions.set(r.request.source, r.volumeOptions);
  }
  for (const t of o.tmpfs ?? []) {
    try { requests.push(parseTmpfsShort(t)); } catch (err) { throw new InvalidArgument(`invalid --tmpfs ${JSON.stringify(t)}: ${(err as Error).message}`); }
  }
  return { requests, volumeOptions };
}

function hostPath(source: string, cwd: string, home: string | undefined, flag: string): string {
  if (source === '~' || source.startsWith('~/')) {
    if (home === undefined) throw new InvalidArgument(`${flag} ${JSON.stringify(source)}: "~" needs a home directory`);
    return resolve(home, source.slice(2));
  }
  return isAbsolute(source) ? source : resolve(cwd, source);
}

/** `-v [SOURCE:]TARGET[:OPTIONS]`: a SOURCE that is a path binds it (created when missing, as Docker's -v does). */
function volumeFlag(spec: string, cwd: string, home: string | undefined): MountRequest {
  let m: ServiceMount;
  try { m = parseVolumeString(spec); } catch (err) {
    throw new InvalidArgument(`invalid -v ${JSON.stringify(spec)}: ${err instanceof FormError ? `${err.message}${err.note ? ` (${err.note})` : ''}` : (err as Error).message}`);
  }
  if (m.type === 'bind') {
    return {
      type: 'bind', source: hostPath(m.source!, cwd, home, '-v'), target: m.target, readOnly: m.read_only, createHostPath: true,
      ...(m.bind?.propagation !== undefined ? { propagation: m.bind.propagation } : {}),
      ...(m.bind?.selinux !== undefined ? { selinux: m.bind.selinux } : {}),
    };
  }
  return { type: 'volume', target: m.target, readOnly: m.read_only, nocopy: m.volume?.nocopy ?? false, ...(m.source !== undefined ? { source: m.source } : {}) };
}

/** Docker's --mount value: comma-separated key=value, a field in double quotes may hold commas. */
export function splitCsv(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      if (quoted && text[i + 1] === '"') { cur += '"'; i++; } else quoted = !quoted;
    } else if (c === ',' && !quoted) { out.push(cur); cur = ''; } else cur += c;
  }
  if (quoted) throw new InvalidArgument(`invalid --mount ${JSON.stringify(text)}: an unterminated quote`);
  out.push(cur);
  return out.map((f) => f.trim()).filter((f) => f !== '');
}

const BOOL = (v: string | undefined, key: string, spec: string): boolean => {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidArgument(`invalid --mount ${JSON.stringify(spec)}: ${key} must be true or false, not ${JSON.stringify(v)}`);
};

/** `--mount type=bind|volume|tmpfs,source=…,target=…,…` (Docker's keys). */
function mountFlag(spec: string, cwd: string, home: string | undefined): { request: MountRequest; volumeOptions?: Record<string, string> } {
  const bad = (why: string): never => { throw new InvalidArgument(`invalid --mount ${JSON.stringify(spec)}: ${why}`); };
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let propagation: string | undefined;
  let recursive: string | undefined;
  let nocopy = false;
  let subpath: string | undefined;
  let size: number | undefined;
  let mode: number | undefined;
  const opts: Record<string, string> = {};
  for (const field of splitCsv(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const need = (): string => value ?? bad(`${key} needs a value`);
    switch (key) {
      case 'type': type = need(); break;
      case 'source': case 'src': source = need(); break;
      case 'target': case 'destination': case 'dst': target = need(); break;
      case 'readonly': case 'ro': readOnly = BOOL(value, key, spec); break;
      case 'bind-propagation': propagation = need(); break;
      case 'bind-recursive': recursive = need(); break;
      case 'bind-nonrecursive': if (BOOL(value, key, spec)) recursive = 'disabled'; break;
      case 'volume-nocopy': nocopy = BOOL(value, key, spec); break;
      case 'volume-subpath': subpath = need(); break;
      case 'volume-driver': if (need() !== 'local') throw new Unsupported(`--mount volume-driver=${value}: berth has the "local" driver only`); break;
      case 'volume-opt': {
        const v = need();
        const at = v.indexOf('=');
        if (at <= 0) bad('volume-opt must be KEY=VALUE');
        opts[v.slice(0, at)] = v.slice(at + 1);
        break;
      }
      case 'tmpfs-size':
        try { size = parseBytes(need(), 'tmpfs size'); } catch { bad(`invalid tmpfs-size ${JSON.stringify(value)}`); }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]{1,4}$/.test(need())) bad(`tmpfs-mode must be octal, not ${JSON.stringify(value)}`);
        mode = parseInt(value!, 8);
        break;
      case 'consistency': break; // macOS's; nothing to do on Linux, as Docker ignores it there
      default: bad(`unknown key ${JSON.stringify(key)}`);
    }
  }
  if (target === undefined) return bad('target is required');
  if (type === 'bind') {
    if (source === undefined) return bad('a bind mount needs a source');
    // Docker's --mount never creates a missing bind source (only -v does)
    return { request: { type: 'bind', source: hostPath(source, cwd, home, '--mount'), target, readOnly, createHostPath: false, ...(propagation !== undefined ? { propagation } : {}), ...(recursive !== undefined ? { recursive } : {}) } };
  }
  if (type === 'volume') {
    return {
      request: { type: 'volume', target, readOnly, nocopy, ...(source !== undefined ? { source } : {}), ...(subpath !== undefined ? { subpath } : {}) },
      ...(Object.keys(opts).length > 0 ? { volumeOptions: opts } : {}),
    };
  }
  if (type === 'tmpfs') {
    if (source !== undefined) bad('a tmpfs mount has no source');
    return { request: { type: 'tmpfs', target, readOnly, ...(size !== undefined ? { size } : {}), ...(mode !== undefined ? { mode } : {}) } };
  }
  return bad(`type must be bind, volume or tmpfs, not ${JSON.stringify(type)}`);
}
