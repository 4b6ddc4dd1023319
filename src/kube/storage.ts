// A service's mounts → pod volumes and volume mounts, and the objects behind them:
// PersistentVolumeClaims for named volumes, ConfigMaps for configs and bind-mounted single files,
// Secrets for secrets. Host directories have no cluster equivalent: they are reported, unless the
// service says what to use instead (`x-berth.kubernetes.bind_mounts`).
import type { FileGrant, Service, ServiceMount } from '../spec/model.js';
import { base64Text } from './base64.js';
import { type Context, annotationsFrom, basename, meta, report } from './context.js';
import { NameTable, dataKey } from './names.js';
import { MAX_OBJECT_DATA, type BindMapping, type HostFile, type ServiceSettings, volumeSettings } from './options.js';
import { bytesQuantity, storageQuantity } from './quantity.js';
import type { ConfigMap, Secret, Volume, VolumeMount } from './types.js';

export interface PodStorage { readonly volumes: Volume[]; readonly mounts: VolumeMount[] }

/** Named volumes a service mounts (its own and through volumes_from): what makes it stateful. */
export function namedVolumes(ctx: Context, s: Service): string[] {
  return mountsOf(ctx, s, () => undefined).filter((m) => m.type === 'volume' && m.source !== undefined).map((m) => m.source!);
}

/** The service's own mounts, then those it takes from `volumes_from` (not already mounted). */
function mountsOf(ctx: Context, s: Service, warn: (key: string, message: string) => void): ServiceMount[] {
  const own = [...s.volumes];
  s.volumes_from.forEach((entry, i) => {
    const parts = entry.split(':');
    if (parts[0] === 'container') { warn(`volumes_from[${i}]`, `${JSON.stringify(entry)}: a container outside the project has no cluster equivalent; not mapped`); return; }
    if (parts[0] === 'service') parts.shift();
    const from = ctx.project.services[parts[0]!];
    if (!from) { warn(`volumes_from[${i}]`, `${JSON.stringify(entry)}: the service is not part of the conversion; not mapped`); return; }
    const readOnly = parts[1] === 'ro';
    for (const m of from.volumes) {
      if (own.some((o) => o.target === m.target)) continue;
      if (m.type === 'volume' && m.source === undefined) { warn(`volumes_from[${i}]`, `the anonymous volume at ${m.target} of ${from.name} cannot be shared between pods; not mapped`); continue; }
      own.push(readOnly ? { ...m, read_only: true } : m);
    }
  });
  return own;
}

function claimFor(ctx: Context, key: string): string {
  const v = ctx.project.volumes[key];
  if (v?.external) return ctx.names.claims.assign(v.name);
  const name = ctx.names.claims.assign(key);
  if (!ctx.claims.has(name)) {
    // made on first use; convert.ts also makes the ones no service mounts
    makeClaim(ctx, key, name, []);
  }
  return name;
}

/** The PersistentVolumeClaim of a named volume (size and class from x-berth, labels or options). */
export function makeClaim(ctx: Context, key: string, name: string, users: readonly string[]): void {
  const v = ctx.project.volumes[key];
  const scope = `volumes.${key}`;
  const settings = volumeSettings(v?.extensions ?? {}, v?.labels ?? {}, (k, m) => report(ctx, scope, k, m));
  let size = ctx.options.volumeSize;
  if (settings.size !== undefined) {
    const q = storageQuantity(settings.size);
    if (q) size = q; else report(ctx, scope, 'x-berth.kubernetes.size', `expected a size like 10Gi, found ${JSON.stringify(settings.size)}; ${size} used`);
  }
  if (v?.driver !== undefined && v.driver !== 'local') report(ctx, scope, 'driver', `the volume driver ${JSON.stringify(v.driver)} has no cluster equivalent; the claim uses ${settings.storageClass ?? ctx.options.storageClass ?? 'the default storage class'}`);
  if (v && Object.keys(v.driver_opts).length > 0) report(ctx, scope, 'driver_opts', 'not mapped (a storage class carries a cluster\'s volume options)');
  const storageClass = settings.storageClass ?? ctx.options.storageClass;
  const accessModes = settings.accessModes ?? (users.length > 1 ? ['ReadWriteMany'] : ['ReadWriteOnce']);
  if (settings.accessModes === undefined && users.length > 1) {
    report(ctx, scope, '', `mounted by ${users.join(', ')}: the claim asks for ReadWriteMany, which the storage class must support (or set x-berth.kubernetes.access_modes)`);
  }
  ctx.claims.set(name, {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: meta(ctx, name, key, {}, annotationsFrom(ctx, scope, 'labels', v?.labels ?? {})),
    spec: { accessModes: [...accessModes], resources: { requests: { storage: size } }, ...(storageClass ? { storageClassName: storageClass } : {}) },
  });
}

function fileData(file: HostFile & { kind: 'file' }): { data?: Record<string, string>; binaryData?: Record<string, string> } | undefined {
  if (file.size > MAX_OBJECT_DATA) return undefined;
  if (file.text !== undefined) return { data: { '': file.text } };
  if (file.base64 !== undefined) return { binaryData: { '': file.base64 } };
  return undefined;
}

function putConfigMap(ctx: Context, name: string, original: string | undefined, entries: Record<string, { text?: string; base64?: string }>): void {
  const data: Record<string, string> = {}, binaryData: Record<string, string> = {};
  for (const [k, e] of Object.entries(entries)) {
    if (e.text !== undefined) data[k] = e.text; else if (e.base64 !== undefined) binaryData[k] = e.base64;
  }
  const cm: ConfigMap = {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(ctx, name, original),
    ...(Object.keys(data).length > 0 ? { data } : {}),
    ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}),
  };
  ctx.configMaps.set(name, cm);
}

/** What a finding says when a config's or secret's object cannot be written: the user makes it. */
function missing(kind: 'configs' | 'secrets', name: string, key: string): string {
  return `not written: create the ${kind === 'configs' ? 'ConfigMap' : 'Secret'} ${name} (key ${key}) yourself`;
}

/** The ConfigMap (configs) or Secret (secrets) behind a grant, made once; undefined when it cannot be. */
function fileObject(ctx: Context, kind: 'configs' | 'secrets', key: string, scope: string, grantKey: string): { name: string; dataKey: string } | undefined {
  const top = (kind === 'configs' ? ctx.project.configs : ctx.project.secrets)[key];
  if (!top) { report(ctx, scope, grantKey, `${JSON.stringify(key)} is not defined at the top level; not mapped`); return undefined; }
  const table = kind === 'configs' ? ctx.names.configMaps : ctx.names.secrets;
  const k = dataKey(key);
  if (top.external) {
    const name = table.assign(top.name);
    if (ctx.looked.has(`${kind}:${key}`)) return { name, dataKey: k };
    ctx.looked.add(`${kind}:${key}`);
    report(ctx, `${kind}.${key}`, 'external', `expects a ${kind === 'configs' ? 'ConfigMap' : 'Secret'} named ${name} with the key ${k} to exist in the namespace`);
    return { name, dataKey: k };
  }
  const name = table.assign(key);
  if (ctx.looked.has(`${kind}:${key}`)) return { name, dataKey: k };
  ctx.looked.add(`${kind}:${key}`);
  let text: string | undefined, b64: string | undefined;
  if (top.content !== undefined) text = top.content;
  else if (top.environment !== undefined) {
    text = ctx.host.variable(top.environment);
    if (text === undefined) { report(ctx, `${kind}.${key}`, 'environment', `the variable ${top.environment} is not set; ${missing(kind, name, k)}`); return { name, dataKey: k }; }
  } else if (top.file !== undefined) {
    const f = ctx.host.file(top.file);
    if (f.kind !== 'file') { report(ctx, `${kind}.${key}`, 'file', `${top.file} ${f.kind === 'missing' ? 'does not exist' : f.kind === 'directory' ? 'is a directory' : `is not read${f.kind === 'other' && f.reason ? ` (${f.reason})` : ''}`}; ${missing(kind, name, k)}`); return { name, dataKey: k }; }
    if (f.size > MAX_OBJECT_DATA) { report(ctx, `${kind}.${key}`, 'file', `${top.file} is ${f.size} bytes, above the 1 MiB a ${kind === 'configs' ? 'ConfigMap' : 'Secret'} holds; ${missing(kind, name, k)}`); return { name, dataKey: k }; }
    text = f.text; b64 = f.base64;
  }
  if (kind === 'configs') putConfigMap(ctx, name, key, { [k]: { ...(text !== undefined ? { text } : {}), ...(b64 !== undefined ? { base64: b64 } : {}) } });
  else {
    const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: meta(ctx, name, key), type: 'Opaque', data: { [k]: text !== undefined ? base64Text(text) : b64 ?? '' } };
    ctx.secrets.set(name, secret);
  }
  return { name, dataKey: k };
}

export function serviceStorage(ctx: Context, s: Service, settings: ServiceSettings, scope: string, users: ReadonlyMap<string, readonly string[]>): PodStorage {
  const warn = (key: string, message: string): void => report(ctx, scope, key, message);
  const podNames = new NameTable();
  const volumes: Volume[] = [], mounts: VolumeMount[] = [];
  const byKey = new Map<string, string>();
  const volume = (key: string, preferred: string, make: (name: string) => Volume): string => {
    const known = byKey.get(key);
    if (known) return known;
    const name = podNames.assign(preferred);
    byKey.set(key, name);
    volumes.push(make(name));
    return name;
  };

  // one mount per path: a later mount at a path already mounted is reported, not written
  const targets = new Set<string>();
  const claimTarget = (target: string, key: string): boolean => {
    if (targets.has(target)) { warn(key, `${target} is already mounted; not mapped`); return false; }
    targets.add(target);
    return true;
  };
  mountsOf(ctx, s, warn).forEach((m, i) => {
    const key = s.volumes.includes(m) ? `volumes[${s.volumes.indexOf(m)}]` : `volumes_from (${m.target})`;
    if (!claimTarget(m.target, key)) return;
    const mount = (name: string, extra: Partial<VolumeMount> = {}): void => {
      mounts.push({ name, mountPath: m.target, ...(m.read_only ? { readOnly: true } : {}), ...extra });
    };
    switch (m.type) {
      case 'volume': {
        if (m.source === undefined) {
          mount(volume(`anon:${i}`, `anonymous-${i}`, (name) => ({ name, emptyDir: {} })));
          warn(key, `the anonymous volume at ${m.target} becomes an emptyDir: it lives as long as the pod, not until \`down -v\``);
          break;
        }
        const claimName = claimFor(ctx, m.source);
        const name = volume(`volume:${m.source}`, m.source, (n) => ({ name: n, persistentVolumeClaim: { claimName } }));
        mount(name, m.volume?.subpath ? { subPath: m.volume.subpath } : {});
        if ((users.get(m.source)?.length ?? 0) <= 1 && s.scale > 1) warn(key, `${s.scale} replicas share the claim ${claimName}: give it ReadWriteMany or run one replica`);
        break;
      }
      case 'tmpfs': {
        const size = m.tmpfs?.size;
        mount(volume(`tmpfs:${i}`, `tmpfs-${i}`, (name) => ({ name, emptyDir: { medium: 'Memory', ...(size !== undefined ? { sizeLimit: bytesQuantity(size) } : {}) } })));
        break;
      }
      case 'bind':
        bindMount(ctx, s, m, i, key, settings.bindMounts, volume, mount, warn);
        break;
      default:
        warn(key, `a ${m.type} mount at ${m.target} has no cluster equivalent; not mapped`);
    }
  });

  s.tmpfs.forEach((t, i) => {
    const [target, ...opts] = t.split(':');
    if (!claimTarget(target!, `tmpfs[${i}]`)) return;
    const sizeOpt = opts.join(':').split(',').find((o) => o.startsWith('size='));
    const size = sizeOpt ? storageQuantity(sizeOpt.slice(5)) : undefined;
    const name = volume(`tmpfs-list:${i}`, `tmpfs-${s.volumes.length + i}`, (n) => ({ name: n, emptyDir: { medium: 'Memory', ...(size ? { sizeLimit: size } : {}) } }));
    mounts.push({ name, mountPath: target! });
  });

  if (s.resources.shm_size !== undefined && claimTarget('/dev/shm', 'shm_size')) {
    const name = volume('shm', 'dshm', (n) => ({ name: n, emptyDir: { medium: 'Memory', sizeLimit: bytesQuantity(s.resources.shm_size!) } }));
    mounts.push({ name, mountPath: '/dev/shm' });
  }

  const grants = (kind: 'configs' | 'secrets', list: readonly FileGrant[]): void => {
    list.forEach((g, i) => {
      const grantKey = `${kind}[${i}]`;
      if (!claimTarget(g.target, grantKey)) return;
      const obj = fileObject(ctx, kind, g.source, scope, grantKey);
      if (!obj) return;
      if (g.uid !== undefined || g.gid !== undefined) warn(grantKey, 'uid and gid cannot be set per file in Kubernetes; not mapped (a pod securityContext.fsGroup sets the group of every mounted file)');
      const name = volume(`${kind}:${g.source}:${g.mode ?? ''}`, `${kind === 'configs' ? 'config' : 'secret'}-${g.source}`, (n) => (kind === 'configs'
        ? { name: n, configMap: { name: obj.name, ...(g.mode !== undefined ? { defaultMode: g.mode } : {}) } }
        : { name: n, secret: { secretName: obj.name, ...(g.mode !== undefined ? { defaultMode: g.mode } : {}) } }));
      mounts.push({ name, mountPath: g.target, subPath: obj.dataKey, readOnly: true });
    });
  };
  grants('configs', s.configs);
  grants('secrets', s.secrets);
  return { volumes, mounts };
}

function bindMount(
  ctx: Context, s: Service, m: ServiceMount, i: number, key: string, mapping: BindMapping | undefined,
  volume: (key: string, preferred: string, make: (name: string) => Volume) => string,
  mount: (name: string, extra?: Partial<VolumeMount>) => void,
  warn: (key: string, message: string) => void,
): void {
  const source = m.source ?? '';
  if (/(^|\/)docker\.sock$/.test(source)) {
    warn(key, `${source}: the Docker socket does not exist on a cluster node; not mapped`);
    return;
  }
  const file = ctx.host.file(source);
  const kind = mapping ?? (file.kind === 'file' ? 'configMap' : undefined);
  if (kind === undefined) {
    const what = file.kind === 'missing' ? `the host path ${source} does not exist (compose would create a directory there)`
      : file.kind === 'directory' ? `the host directory ${source} has no cluster equivalent`
      : `${source} is not read${file.kind === 'other' && file.reason ? ` (${file.reason})` : ''}`;
    warn(key, `${what}; not mapped (set x-berth.kubernetes.bind_mounts to hostPath, emptyDir, persistentVolumeClaim or configMap)`);
    return;
  }
  switch (kind) {
    case 'hostPath': {
      const type = file.kind === 'file' ? 'File' : file.kind === 'directory' ? 'Directory' : 'DirectoryOrCreate';
      mount(volume(`bind:${source}`, `bind-${i}`, (name) => ({ name, hostPath: { path: source, type } })));
      warn(key, `${source} becomes a hostPath volume: the pod sees that path on whichever node runs it`);
      return;
    }
    case 'emptyDir':
      mount(volume(`bind:${source}`, `bind-${i}`, (name) => ({ name, emptyDir: {} })));
      warn(key, `${source} becomes an emptyDir: the pod starts with an empty ${m.target}`);
      return;
    case 'persistentVolumeClaim': {
      const claimName = ctx.names.claims.assign(`${s.name}-${m.target}`);
      if (!ctx.claims.has(claimName)) {
        ctx.claims.set(claimName, {
          apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(ctx, claimName, undefined, {}, { 'berth/bind-source': source }),
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: ctx.options.volumeSize } }, ...(ctx.options.storageClass ? { storageClassName: ctx.options.storageClass } : {}) },
        });
      }
      mount(volume(`bind:${source}`, `bind-${i}`, (name) => ({ name, persistentVolumeClaim: { claimName } })));
      warn(key, `${source} becomes the claim ${claimName}, which starts empty: copy the files into it`);
      return;
    }
    case 'configMap': {
      const cmName = ctx.names.configMaps.assign(`${s.name}-${basename(source)}`);
      if (file.kind === 'file') {
        const k = dataKey(basename(source));
        const d = fileData(file);
        if (!d) { warn(key, `${source} is ${file.size} bytes, above the 1 MiB a ConfigMap holds; not mapped`); return; }
        putConfigMap(ctx, cmName, undefined, { [k]: { ...(d.data ? { text: d.data[''] } : {}), ...(d.binaryData ? { base64: d.binaryData[''] } : {}) } });
        mount(volume(`bind:${source}`, `bind-${i}`, (name) => ({ name, configMap: { name: cmName } })), { subPath: k, readOnly: true });
        if (!m.read_only) warn(key, `${source} is mounted read-only from the ConfigMap ${cmName} (ConfigMap volumes cannot be written)`);
        return;
      }
      if (file.kind !== 'directory') { warn(key, `${source} ${file.kind === 'missing' ? 'does not exist' : `is not read${file.reason ? ` (${file.reason})` : ''}`}; not mapped`); return; }
      const entries: Record<string, { text?: string; base64?: string }> = {};
      let total = 0;
      const skipped: string[] = [];
      for (const entry of [...(ctx.host.list(source) ?? [])].sort()) {
        const f = ctx.host.file(`${source}/${entry}`);
        if (f.kind !== 'file') { skipped.push(entry); continue; }
        total += f.size;
        if (total > MAX_OBJECT_DATA) break;
        entries[dataKey(entry)] = { ...(f.text !== undefined ? { text: f.text } : {}), ...(f.base64 !== undefined ? { base64: f.base64 } : {}) };
      }
      if (total > MAX_OBJECT_DATA) { warn(key, `the files of ${source} add up to more than the 1 MiB a ConfigMap holds; not mapped`); return; }
      if (skipped.length > 0) warn(key, `${source}: only regular files go into a ConfigMap; ${skipped.join(', ')} left out`);
      putConfigMap(ctx, cmName, undefined, entries);
      mount(volume(`bind:${source}`, `bind-${i}`, (name) => ({ name, configMap: { name: cmName } })), { readOnly: true });
      warn(key, `the files of ${source} are copied into the ConfigMap ${cmName}, mounted read-only at ${m.target}`);
    }
  }
}
