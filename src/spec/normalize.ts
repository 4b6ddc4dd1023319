// Phases "canonical forms" and "defaults": the merged tree (already validated, paths already
// absolute) becomes the typed, readonly Project. Every short form goes through canonical/.
import type { SpecIssue } from './errors.js';
import type { Device, Deploy, EnvFile, FileGrant, FileObject, Logging, Network, Project, Service, ServiceNetwork, Volume } from './model.js';
import { FormError, Problems, problemsOf } from './canonical/form-error.js';
import { canonicalBuild } from './canonical/build.js';
import { canonicalCommand } from './canonical/command.js';
import { canonicalDependsOn } from './canonical/depends-on.js';
import { canonicalWatch } from './canonical/develop-watch.js';
import { canonicalHooks, type Hook } from './canonical/hooks.js';
import { parseDuration } from './canonical/duration.js';
import { labels, listOrDict, type Resolve } from './canonical/environment.js';
import { canonicalHealthcheck } from './canonical/healthcheck.js';
import { canonicalPort } from './canonical/ports.js';
import { canonicalResources } from './canonical/resources.js';
import { fromDeployPolicy, parseRestart, type RestartPolicy } from './canonical/restart.js';
import { canonicalMount } from './canonical/volumes.js';
import { resolvePath } from './resolve-paths.js';
import { SUPPORTED_DEPLOY_KEYS, SUPPORTED_SERVICE_KEYS, SUPPORTED_TOP_KEYS } from './support.js';
import { isMap, issueAt, type Key, type Sources, type TreeMap } from './tree.js';

export interface NormalizeInput {
  readonly tree: TreeMap;
  readonly name: string;
  readonly projectDir: string;
  readonly files: readonly string[];
  readonly sources: Sources;
  /** interpolation environment: resolves bare KEYs in environment/args */
  readonly resolveEnv: Resolve;
  /** env_file contents by absolute path (undefined = missing) */
  readonly envFiles: ReadonlyMap<string, ReadonlyMap<string, string> | undefined>;
  readonly home?: string;
  /** docker compose's consistency checks (a service needs an image or a build); false = --no-consistency */
  readonly consistency?: boolean;
}

export interface NormalizeOutput { readonly services: Record<string, Service>; readonly project: Omit<Project, 'services' | 'disabled_services' | 'enabled_profiles' | 'all_profiles'>; readonly warnings: string[]; readonly issues: SpecIssue[] }

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strList = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const extensions = (m: TreeMap): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(m)) if (k.startsWith('x-')) out[k] = m[k];
  return out;
};
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isMap(v)) for (const k of Object.keys(v)) out[k] = String(v[k] ?? '');
  return out;
}

export function extraHosts(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    // "host=ip" and "host:ip" are both accepted; normalised to "host=ip" (unambiguous with IPv6)
    const problems = new Problems();
    const out = problems.each(v, (s) => {
      const t = String(s);
      const eq = t.indexOf('=');
      if (eq > 0) return t;
      const c = t.indexOf(':');
      if (c <= 0) throw new FormError('"host=address" or "host:address"', JSON.stringify(t));
      return `${t.slice(0, c)}=${t.slice(c + 1)}`;
    });
    problems.done();
    return [...new Set(out)];
  }
  const out: string[] = [];
  for (const [h, ips] of Object.entries(v as Record<string, unknown>)) for (const ip of strList(ips)) out.push(`${h}=${ip}`);
  // a mapping may give one host the same address twice; the list form must not repeat an entry
  return [...new Set(out)];
}

function grants(v: unknown, kind: 'secrets' | 'configs'): FileGrant[] {
  if (!Array.isArray(v)) return [];
  return v.map((g) => {
    if (typeof g === 'string') return { source: g, target: kind === 'secrets' ? `/run/secrets/${g}` : `/${g}` };
    const o = g as Record<string, unknown>;
    const source = String(o['source'] ?? '');
    let target = str(o['target']) ?? source;
    if (kind === 'secrets' && !target.startsWith('/')) target = `/run/secrets/${target}`;
    if (kind === 'configs' && !target.startsWith('/')) target = `/${target}`;
    const mode = o['mode'];
    return {
      source, target,
      ...(str(o['uid']) ? { uid: str(o['uid'])! } : {}),
      ...(str(o['gid']) ? { gid: str(o['gid'])! } : {}),
      ...(mode !== undefined ? { mode: typeof mode === 'number' ? mode : parseInt(String(mode), 8) } : {}),
    };
  });
}

function devices(v: unknown): Device[] {
  const problems = new Problems();
  const out = problems.each(Array.isArray(v) ? v : [], (d): Device => {
    if (typeof d === 'string') {
      const parts = d.split(':');
      if (parts.length > 3 || parts[0] === '') throw new FormError('a device "host[:container[:permissions]]"', JSON.stringify(d));
      const perms = parts.length === 2 && /^[rwm]+$/.test(parts[1]!) ? parts[1]! : parts[2] ?? 'rwm';
      const target = parts.length === 2 && /^[rwm]+$/.test(parts[1]!) ? parts[0]! : parts[1] ?? parts[0]!;
      return { source: parts[0]!, target, permissions: perms };
    }
    const o = d as Record<string, unknown>;
    return { source: String(o['source']), target: str(o['target']) ?? String(o['source']), permissions: str(o['permissions']) ?? 'rwm' };
  });
  problems.done();
  return out;
}

function serviceNetworks(v: unknown): Record<string, ServiceNetwork> {
  const out: Record<string, ServiceNetwork> = {};
  if (Array.isArray(v)) { for (const n of v) out[String(n)] = { aliases: [] }; return out; }
  if (isMap(v)) {
    for (const k of Object.keys(v)) {
      const o = (v[k] ?? {}) as Record<string, unknown>;
      out[k] = {
        aliases: strList(o['aliases']),
        ...(str(o['ipv4_address']) ? { ipv4_address: str(o['ipv4_address'])! } : {}),
        ...(str(o['ipv6_address']) ? { ipv6_address: str(o['ipv6_address'])! } : {}),
        ...(o['link_local_ips'] ? { link_local_ips: strList(o['link_local_ips']) } : {}),
        ...(str(o['mac_address']) ? { mac_address: str(o['mac_address'])! } : {}),
        ...(str(o['interface_name']) ? { interface_name: str(o['interface_name'])! } : {}),
        ...(o['driver_opts'] ? { driver_opts: stringMap(o['driver_opts']) } : {}),
        ...(typeof o['priority'] === 'number' ? { priority: o['priority'] } : {}),
        ...(typeof o['gw_priority'] === 'number' ? { gw_priority: o['gw_priority'] } : {}),
      };
    }
  }
  return out;
}

export function normalize(input: NormalizeInput): NormalizeOutput {
  const { tree, sources } = input;
  const issues: SpecIssue[] = [];
  const warnings: string[] = [];
  const base = input.projectDir;
  const rp = (p: string): string => resolvePath(base, p, input.home);

  // a short form that fails gives its fallback and one issue per problem found, so one run
  // reports every bad port, volume, size and duration (each located at its own item)
  const guard = <T>(path: Key[], fn: () => T, fallback: T): T => {
    try { return fn(); } catch (e) {
      if (!(e instanceof FormError)) throw e;
      for (const p of problemsOf(e)) issues.push(issueAt(sources, tree, [...path, ...p.subPath], p.expected, p.found, p.note));
      return fallback;
    }
  };

  const services: Record<string, Service> = {};
  const rawServices = isMap(tree['services']) ? tree['services'] : {};
  for (const name of Object.keys(rawServices)) {
    const s = (rawServices[name] ?? {}) as TreeMap;
    const P: Key[] = ['services', name];
    const unsupported: Record<string, unknown> = {};
    for (const k of Object.keys(s)) {
      if (k.startsWith('x-') || SUPPORTED_SERVICE_KEYS.has(k)) continue;
      unsupported[k] = s[k];
      warnings.push(`services.${name}.${k}: not supported by berth yet; kept in the model but ignored`);
    }
    const hooksOf = (key: 'post_start' | 'pre_stop'): { post_start?: Hook[] } | { pre_stop?: Hook[] } => {
      const hooks = guard([...P, key], () => canonicalHooks(s[key], canonicalCommand, (e) => listOrDict(e, '=', input.resolveEnv)), []);
      return hooks.length > 0 ? { [key]: hooks } : {};
    };
    const deployRaw = isMap(s['deploy']) ? s['deploy'] : undefined;
    if (deployRaw) for (const k of Object.keys(deployRaw)) {
      if (!k.startsWith('x-') && !SUPPORTED_DEPLOY_KEYS.has(k)) warnings.push(`services.${name}.deploy.${k}: not supported by berth (swarm only); ignored`);
    }
    if (isMap(deployRaw?.['resources']) && isMap((deployRaw!['resources'] as TreeMap)['reservations'])) {
      const rv = (deployRaw!['resources'] as TreeMap)['reservations'] as TreeMap;
      for (const k of ['cpus', 'generic_resources', 'devices']) if (rv[k] !== undefined) warnings.push(`services.${name}.deploy.resources.reservations.${k}: not supported by berth yet; ignored`);
    }

    // environment: env_file contents first (in order), then `environment`
    const envFiles: EnvFile[] = guard([...P, 'env_file'], () => {
      const ef = s['env_file'];
      const list = ef === undefined || ef === null ? [] : Array.isArray(ef) ? ef : [ef];
      return list.map((e): EnvFile => (typeof e === 'string' ? { path: rp(e), required: true }
        : { path: rp(String((e as TreeMap)['path'])), required: (e as TreeMap)['required'] !== false, ...(str((e as TreeMap)['format']) ? { format: str((e as TreeMap)['format'])! } : {}) }));
    }, []);
    const environment: Record<string, string | null> = {};
    envFiles.forEach((ef, i) => {
      const vars = input.envFiles.get(ef.path);
      if (vars === undefined) {
        if (ef.required) issues.push(issueAt(sources, tree, [...P, 'env_file', ...(Array.isArray(s['env_file']) ? [i] : [])], 'an existing env file (or required: false)', `${ef.path} missing`));
        return;
      }
      for (const [k, v] of vars) environment[k] = v;
    });
    Object.assign(environment, guard([...P, 'environment'], () => listOrDict(s['environment'], '=', input.resolveEnv), {}));

    const ports = guard([...P, 'ports'], () => {
      const problems = new Problems();
      const out = problems.each(Array.isArray(s['ports']) ? s['ports'] : [], (p) => canonicalPort(p)).flat();
      problems.done();
      return out;
    }, []);
    const volumes = guard([...P, 'volumes'], () => {
      const problems = new Problems();
      const out = problems.each(Array.isArray(s['volumes']) ? s['volumes'] : [], (v) => {
        const m = canonicalMount(v);
        if (!m.target.startsWith('/')) throw new FormError('an absolute container path', JSON.stringify(m.target), undefined, typeof v === 'string' ? [] : ['target']);
        return m.type === 'bind' && m.source && !m.source.startsWith('/') ? { ...m, source: rp(m.source) } : m;
      });
      problems.done();
      return out;
    }, []);

    let restart: RestartPolicy = { name: 'no', max_attempts: 0 };
    if (typeof s['restart'] === 'string') restart = guard([...P, 'restart'], () => parseRestart(s['restart'] as string), restart);
    else if (isMap(deployRaw?.['restart_policy'])) restart = guard([...P, 'deploy', 'restart_policy'], () => fromDeployPolicy(deployRaw!['restart_policy'] as TreeMap), restart);

    const replicas = typeof deployRaw?.['replicas'] === 'number' ? deployRaw['replicas'] : undefined;
    const scaleKey = typeof s['scale'] === 'number' ? s['scale'] : undefined;
    if (replicas !== undefined && scaleKey !== undefined && replicas !== scaleKey) {
      issues.push(issueAt(sources, tree, [...P, 'scale'], 'scale equal to deploy.replicas (or only one of them)', `scale ${scaleKey} and deploy.replicas ${replicas}`));
    }
    const deploy: Deploy | undefined = deployRaw ? {
      ...(str(deployRaw['mode']) ? { mode: str(deployRaw['mode'])! } : {}),
      ...(replicas !== undefined ? { replicas } : {}),
      labels: labels(deployRaw['labels']),
      ...(deployRaw['placement'] !== undefined ? { placement: deployRaw['placement'] } : {}),
      ...(deployRaw['update_config'] !== undefined ? { update_config: deployRaw['update_config'] } : {}),
      ...(deployRaw['rollback_config'] !== undefined ? { rollback_config: deployRaw['rollback_config'] } : {}),
      ...(str(deployRaw['endpoint_mode']) ? { endpoint_mode: str(deployRaw['endpoint_mode'])! } : {}),
    } : undefined;

    const logging: Logging | undefined = isMap(s['logging']) ? {
      ...(str(s['logging']['driver']) ? { driver: str(s['logging']['driver'])! } : {}),
      options: stringMap(s['logging']['options']),
    } : undefined;

    const hasImage = typeof s['image'] === 'string' && s['image'] !== '';
    if (input.consistency !== false && !hasImage && s['build'] === undefined && s['provider'] === undefined) {
      issues.push(issueAt(sources, tree, P, 'an image or a build section', 'neither', undefined, true));
    }
    const svc: Service = {
      name,
      ...(hasImage ? { image: s['image'] as string } : {}),
      ...(s['build'] !== undefined && s['build'] !== null ? { build: guard([...P, 'build'], () => canonicalBuild(s['build'], rp, input.resolveEnv, extraHosts), undefined as never) } : {}),
      ...(str(s['pull_policy']) ? { pull_policy: str(s['pull_policy'])! } : {}),
      ...(str(s['platform']) ? { platform: str(s['platform'])! } : {}),
      ...(str(s['container_name']) ? { container_name: str(s['container_name'])! } : {}),
      command: guard([...P, 'command'], () => canonicalCommand(s['command']), null),
      entrypoint: guard([...P, 'entrypoint'], () => canonicalCommand(s['entrypoint']), null),
      environment,
      env_file: envFiles,
      labels: guard([...P, 'labels'], () => labels(s['labels']), {}),
      annotations: guard([...P, 'annotations'], () => labels(s['annotations']), {}),
      ports,
      expose: strList(s['expose']),
      volumes,
      tmpfs: strList(s['tmpfs']),
      volumes_from: strList(s['volumes_from']),
      depends_on: guard([...P, 'depends_on'], () => canonicalDependsOn(s['depends_on']), {}),
      links: strList(s['links']),
      ...(isMap(s['healthcheck']) ? { healthcheck: guard([...P, 'healthcheck'], () => canonicalHealthcheck(s['healthcheck'] as TreeMap), undefined as never) } : {}),
      restart,
      resources: guard(P, () => canonicalResources(s), { ulimits: {} }),
      scale: replicas ?? scaleKey ?? 1,
      ...(deploy ? { deploy } : {}),
      ...(str(s['stop_signal']) ? { stop_signal: str(s['stop_signal'])! } : {}),
      ...(s['stop_grace_period'] !== undefined ? { stop_grace_period: guard([...P, 'stop_grace_period'], () => parseDuration(s['stop_grace_period'] as string), 10_000) } : {}),
      ...(str(s['user']) !== undefined ? { user: str(s['user'])! } : {}),
      ...(str(s['working_dir']) ? { working_dir: str(s['working_dir'])! } : {}),
      ...(str(s['hostname']) ? { hostname: str(s['hostname'])! } : {}),
      ...(str(s['domainname']) ? { domainname: str(s['domainname'])! } : {}),
      ...(str(s['mac_address']) ? { mac_address: str(s['mac_address'])! } : {}),
      ...(typeof s['init'] === 'boolean' ? { init: s['init'] } : {}),
      tty: s['tty'] === true,
      stdin_open: s['stdin_open'] === true,
      privileged: s['privileged'] === true,
      read_only: s['read_only'] === true,
      cap_add: strList(s['cap_add']),
      cap_drop: strList(s['cap_drop']),
      security_opt: strList(s['security_opt']),
      sysctls: guard([...P, 'sysctls'], () => labels(s['sysctls']), {}),
      extra_hosts: guard([...P, 'extra_hosts'], () => extraHosts(s['extra_hosts']), []),
      dns: strList(s['dns']),
      dns_search: strList(s['dns_search']),
      dns_opt: strList(s['dns_opt']),
      devices: guard([...P, 'devices'], () => devices(s['devices']), []),
      group_add: strList(s['group_add']),
      networks: s['network_mode'] !== undefined ? serviceNetworks(s['networks']) : s['networks'] === undefined ? { default: { aliases: [] } } : serviceNetworks(s['networks']),
      ...(str(s['network_mode']) ? { network_mode: str(s['network_mode'])! } : {}),
      ...(str(s['ipc']) ? { ipc: str(s['ipc'])! } : {}),
      ...(str(s['pid']) ? { pid: str(s['pid'])! } : {}),
      ...(str(s['userns_mode']) ? { userns_mode: str(s['userns_mode'])! } : {}),
      ...(logging ? { logging } : {}),
      secrets: guard([...P, 'secrets'], () => grants(s['secrets'], 'secrets'), []),
      configs: guard([...P, 'configs'], () => grants(s['configs'], 'configs'), []),
      profiles: strList(s['profiles']),
      ...(isMap(s['develop']) ? { develop: { watch: guard([...P, 'develop', 'watch'], () => canonicalWatch(Array.isArray((s['develop'] as TreeMap)['watch']) ? ((s['develop'] as TreeMap)['watch'] as unknown[]) : [], (p) => p, canonicalCommand, (e) => listOrDict(e, '=', input.resolveEnv)), []) } } : {}),
      ...hooksOf('post_start'),
      ...hooksOf('pre_stop'),
      extensions: extensions(s),
      unsupported,
    };
    services[name] = svc;
  }

  const top = (k: string): TreeMap => (isMap(tree[k]) ? tree[k] as TreeMap : {} as TreeMap);
  const external = (v: unknown): { external: boolean; name?: string } => {
    if (isMap(v)) return { external: true, ...(str(v['name']) ? { name: str(v['name'])! } : {}) };
    return { external: v === true };
  };
  const networks: Record<string, Network> = {};
  for (const [k, raw] of Object.entries(top('networks'))) {
    const n = (raw ?? {}) as TreeMap;
    const ext = external(n['external']);
    const ipam = isMap(n['ipam']) ? n['ipam'] : undefined;
    networks[k] = {
      name: str(n['name']) ?? ext.name ?? (ext.external ? k : `${input.name}_${k}`),
      ...(str(n['driver']) ? { driver: str(n['driver'])! } : {}),
      driver_opts: stringMap(n['driver_opts']),
      ...(ipam ? { ipam: {
        ...(str(ipam['driver']) ? { driver: str(ipam['driver'])! } : {}),
        config: (Array.isArray(ipam['config']) ? ipam['config'] : []).map((c) => {
          const o = c as TreeMap;
          return { ...(str(o['subnet']) ? { subnet: str(o['subnet'])! } : {}), ...(str(o['ip_range']) ? { ip_range: str(o['ip_range'])! } : {}),
            ...(str(o['gateway']) ? { gateway: str(o['gateway'])! } : {}), ...(o['aux_addresses'] ? { aux_addresses: stringMap(o['aux_addresses']) } : {}) };
        }),
        ...(ipam['options'] ? { options: stringMap(ipam['options']) } : {}),
      } } : {}),
      external: ext.external,
      internal: n['internal'] === true,
      attachable: n['attachable'] === true,
      ...(typeof n['enable_ipv4'] === 'boolean' ? { enable_ipv4: n['enable_ipv4'] } : {}),
      ...(typeof n['enable_ipv6'] === 'boolean' ? { enable_ipv6: n['enable_ipv6'] } : {}),
      labels: guard(['networks', k, 'labels'], () => labels(n['labels']), {}),
      extensions: extensions(n),
    };
  }
  const volumes: Record<string, Volume> = {};
  for (const [k, raw] of Object.entries(top('volumes'))) {
    const n = (raw ?? {}) as TreeMap;
    const ext = external(n['external']);
    volumes[k] = {
      name: str(n['name']) ?? ext.name ?? (ext.external ? k : `${input.name}_${k}`),
      ...(str(n['driver']) ? { driver: str(n['driver'])! } : {}),
      driver_opts: stringMap(n['driver_opts']),
      external: ext.external,
      labels: guard(['volumes', k, 'labels'], () => labels(n['labels']), {}),
      extensions: extensions(n),
    };
  }
  const fileObjects = (kind: 'secrets' | 'configs'): Record<string, FileObject> => {
    const out: Record<string, FileObject> = {};
    for (const [k, raw] of Object.entries(top(kind))) {
      const n = (raw ?? {}) as TreeMap;
      const ext = external(n['external']);
      const sources = ['file', 'environment', 'content'].filter((x) => n[x] !== undefined);
      if (!ext.external && sources.length !== 1) {
        issues.push(issueAt(input.sources, tree, [kind, k], kind === 'secrets' ? 'exactly one of file, environment or external' : 'exactly one of file, environment, content or external',
          sources.length === 0 ? 'none' : sources.join(' and ')));
      }
      out[k] = {
        name: str(n['name']) ?? ext.name ?? (ext.external ? k : `${input.name}_${k}`),
        ...(str(n['file']) ? { file: rp(str(n['file'])!) } : {}),
        ...(str(n['environment']) ? { environment: str(n['environment'])! } : {}),
        // an `environment` source's value is looked up here, by name, in the project's environment
        // (the shell, then the .env files), as compose-go does: the engine never sees that environment
        ...(str(n['content']) !== undefined ? { content: str(n['content'])! }
          : str(n['environment']) && input.resolveEnv(str(n['environment'])!) !== undefined ? { content: input.resolveEnv(str(n['environment'])!)! } : {}),
        external: ext.external,
        labels: labels(n['labels']),
        extensions: extensions(n),
      };
    }
    return out;
  };
  const unsupportedTop: Record<string, unknown> = {};
  for (const k of Object.keys(tree)) {
    if (k.startsWith('x-') || SUPPORTED_TOP_KEYS.has(k)) continue;
    unsupportedTop[k] = tree[k];
    warnings.push(`${k}: not supported by berth yet; kept in the model but ignored`);
  }
  if (tree['version'] !== undefined) warnings.push('version: the top-level "version" is obsolete and ignored');
  return {
    services,
    project: {
      name: input.name,
      working_dir: input.projectDir,
      compose_files: input.files,
      networks, volumes,
      secrets: fileObjects('secrets'),
      configs: fileObjects('configs'),
      extensions: extensions(tree),
      unsupported: unsupportedTop,
    },
    warnings,
    issues,
  };
}
