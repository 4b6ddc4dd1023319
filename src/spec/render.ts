// The normalized project as `berth config` prints it, as docker compose prints its own:
//   - keys in compose-go's order (the order of its Go structs; mappings of names sorted), never
//     the input's order, so that two equivalent files print the same text;
//   - only what is set: defaults compose omits (`scale: 1`, `tty: false`, `restart: "no"`, ...)
//     are left out, and a service's network attachment without options is `null`;
//   - `env_file` is gone once its contents are in `environment` (docker compose's config does
//     the same), durations are written the Go way ("1m30s");
//   - every string value has `$` written as `$$`, because the text is a compose file again: fed
//     back into `berth config` it loads to the same project and prints the same bytes (the
//     fixpoint test, test/conformance/fixpoint.test.ts).
// The only importer of `yaml` for writing.
import { stringify } from 'yaml';
import { formatDuration } from './canonical/duration.js';
import type { Build, FileObject, Healthcheck, Network, PortMapping, Project, Service, ServiceMount, ServiceNetwork, Volume, WatchRule, Hook } from './model.js';


type Plain = null | string | number | boolean | Plain[] | { [key: string]: Plain };
type Obj = { [key: string]: Plain };

/** `$` → `$$` in a string value: the printed file is interpolated again when it is loaded. */
const esc = (s: string): string => s.split('$').join('$$');

/** Any value kept as written (extensions, unsupported keys): strings escaped, keys kept. */
function asWritten(v: unknown): Plain {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return esc(v);
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(asWritten);
  if (typeof v === 'object') {
    const o: Obj = {};
    for (const k of Object.keys(v as object)) o[k] = asWritten((v as Record<string, unknown>)[k]);
    return o;
  }
  return String(v);
}

/** Builds an object from [key, value] pairs in order, leaving out undefined values. */
function obj(pairs: ReadonlyArray<readonly [string, Plain | undefined]>): Obj {
  const o: Obj = {};
  for (const [k, v] of pairs) if (v !== undefined) o[k] = v;
  return o;
}
const nonEmpty = (o: Obj): Obj | undefined => (Object.keys(o).length > 0 ? o : undefined);
const list = (xs: readonly string[] | undefined): Plain[] | undefined => (xs && xs.length > 0 ? xs.map(esc) : undefined);
const flag = (b: boolean | undefined): true | undefined => (b === true ? true : undefined);
const str = (s: string | undefined): string | undefined => (s === undefined ? undefined : esc(s));
/** A mapping of names to strings (labels, sysctls, driver_opts), keys sorted. */
function strMap(m: Readonly<Record<string, string | null>> | undefined): Obj | undefined {
  if (!m) return undefined;
  const keys = Object.keys(m).sort();
  if (keys.length === 0) return undefined;
  const o: Obj = {};
  for (const k of keys) { const v = m[k]; o[k] = v === null || v === undefined ? null : esc(v); }
  return o;
}
/** x-* extensions, sorted, kept as written. */
function extensionPairs(ext: Readonly<Record<string, unknown>> | undefined): [string, Plain][] {
  return Object.keys(ext ?? {}).sort().map((k) => [k, asWritten(ext![k])]);
}
const duration = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : formatDuration(ms));

function buildOut(b: Build): Obj {
  return obj([
    ['context', esc(b.context)],
    ['dockerfile', str(b.dockerfile)],
    ['dockerfile_inline', str(b.dockerfile_inline)],
    ['args', strMap(b.args)],
    ['ssh', list(b.ssh)],
    ['labels', strMap(b.labels)],
    ['cache_from', list(b.cache_from)],
    ['cache_to', list(b.cache_to)],
    ['no_cache', flag(b.no_cache)],
    ['additional_contexts', strMap(b.additional_contexts)],
    ['pull', flag(b.pull)],
    ['extra_hosts', list(b.extra_hosts)],
    ['network', str(b.network)],
    ['target', str(b.target)],
    ['secrets', b.secrets.length > 0 ? (asWritten(b.secrets) as Plain[]) : undefined],
    ['tags', list(b.tags)],
    ['platforms', list(b.platforms)],
    ['privileged', flag(b.privileged)],
    ['shm_size', b.shm_size === undefined ? undefined : typeof b.shm_size === 'string' ? esc(b.shm_size) : b.shm_size],
  ]);
}

function watchOut(r: WatchRule): Obj {
  return obj([
    ['path', esc(r.path)],
    ['action', r.action],
    ['target', str(r.target)],
    ['exec', r.exec ? hookOut(r.exec) : undefined],
    ['ignore', list(r.ignore)],
    ['include', list(r.include)],
    ['initial_sync', flag(r.initial_sync)],
  ]);
}

function hookOut(h: Hook): Obj {
  return obj([
    ['command', h.command.map(esc)],
    ['user', str(h.user)],
    ['privileged', flag(h.privileged)],
    ['working_dir', str(h.working_dir)],
    ['environment', strMap(h.environment)],
  ]);
}

function healthcheckOut(h: Healthcheck): Obj {
  const disabled = h.disable || h.test?.[0] === 'NONE';
  return obj([
    ['test', disabled || h.test === undefined ? undefined : h.test.map(esc)],
    ['timeout', duration(h.timeout)],
    ['interval', duration(h.interval)],
    ['retries', h.retries],
    ['start_period', duration(h.start_period)],
    ['start_interval', duration(h.start_interval)],
    ['disable', disabled ? true : undefined],
  ]);
}

function portOut(p: PortMapping): Obj {
  return obj([
    ['name', str(p.name)],
    ['mode', p.mode],
    ['host_ip', str(p.host_ip)],
    ['target', p.target],
    ['published', str(p.published)],
    ['protocol', p.protocol],
    ['app_protocol', str(p.app_protocol)],
  ]);
}

function mountOut(m: ServiceMount): Obj {
  return obj([
    ['type', m.type],
    ['source', str(m.source)],
    ['target', esc(m.target)],
    ['read_only', flag(m.read_only)],
    ['consistency', str(m.consistency)],
    ['bind', m.bind ? obj([
      ['propagation', str(m.bind.propagation)],
      ['create_host_path', m.bind.create_host_path],
      ['selinux', m.bind.selinux],
      ['recursive', str(m.bind.recursive)],
    ]) : undefined],
    ['volume', m.volume ? nonEmpty(obj([['labels', strMap(m.volume.labels)], ['nocopy', flag(m.volume.nocopy)], ['subpath', str(m.volume.subpath)]])) : undefined],
    ['tmpfs', m.tmpfs ? nonEmpty(obj([['size', m.tmpfs.size], ['mode', m.tmpfs.mode]])) : undefined],
    ['image', m.image ? nonEmpty(obj([['subpath', str(m.image.subpath)]])) : undefined],
  ]);
}

/** A service's attachment to a network: null when it has no options (as compose prints it). */
function attachmentOut(n: ServiceNetwork): Plain {
  const o = obj([
    ['aliases', list(n.aliases)],
    ['driver_opts', strMap(n.driver_opts)],
    ['gw_priority', n.gw_priority],
    ['interface_name', str(n.interface_name)],
    ['ipv4_address', str(n.ipv4_address)],
    ['ipv6_address', str(n.ipv6_address)],
    ['link_local_ips', list(n.link_local_ips)],
    ['mac_address', str(n.mac_address)],
    ['priority', n.priority],
  ]);
  return Object.keys(o).length > 0 ? o : null;
}

/** deploy.restart_policy's condition for a policy: the swarm names. */
const CONDITION: Record<string, string> = { no: 'none', always: 'any', 'on-failure': 'on-failure', 'unless-stopped': 'unless-stopped' };

function serviceOut(s: Service): Obj {
  const r = s.resources;
  // a policy with a delay or window came from deploy.restart_policy and is printed there
  const policyInDeploy = s.restart.delay !== undefined || s.restart.window !== undefined;
  const restart = policyInDeploy || s.restart.name === 'no' ? undefined
    : s.restart.name === 'on-failure' && s.restart.max_attempts > 0 ? `on-failure:${s.restart.max_attempts}` : s.restart.name;
  const deploy = s.deploy || policyInDeploy || r.devices ? nonEmpty(obj([
    ['mode', str(s.deploy?.mode)],
    ['replicas', s.deploy?.replicas],
    ['labels', strMap(s.deploy?.labels)],
    ['update_config', s.deploy?.update_config === undefined ? undefined : asWritten(s.deploy.update_config)],
    ['rollback_config', s.deploy?.rollback_config === undefined ? undefined : asWritten(s.deploy.rollback_config)],
    // the reservation devices (GPUs) are the only part of deploy.resources not folded into the
    // service's own keys (cpus, mem_limit, pids_limit, ...)
    ['resources', r.devices ? { reservations: { devices: asWritten(r.devices) } } : undefined],
    ['restart_policy', policyInDeploy ? obj([
      ['condition', CONDITION[s.restart.name]],
      ['delay', duration(s.restart.delay)],
      ['max_attempts', s.restart.max_attempts > 0 ? s.restart.max_attempts : undefined],
      ['window', duration(s.restart.window)],
    ]) : undefined],
    ['placement', s.deploy?.placement === undefined ? undefined : asWritten(s.deploy.placement)],
    ['endpoint_mode', str(s.deploy?.endpoint_mode)],
  ])) : undefined;
  const ulimits = Object.keys(r.ulimits).length === 0 ? undefined : Object.fromEntries(Object.keys(r.ulimits).sort().map((k) => {
    const u = r.ulimits[k]!;
    return [k, u.soft === u.hard ? u.soft : { soft: u.soft, hard: u.hard }];
  })) as Obj;
  const deps = Object.keys(s.depends_on).sort();
  const nets = Object.keys(s.networks).sort();
  const u = s.unsupported;
  const unsupported = (k: string): Plain | undefined => (k in u ? asWritten(u[k]) : undefined);
  const pairs: [string, Plain | undefined][] = [
    ['profiles', list(s.profiles)],
    ['annotations', strMap(s.annotations)],
    ['attach', unsupported('attach')],
    ['build', s.build ? buildOut(s.build) : undefined],
    ['develop', s.develop ? { watch: s.develop.watch.map(watchOut) } : undefined],
    ['blkio_config', unsupported('blkio_config')],
    ['cap_add', list(s.cap_add)],
    ['cap_drop', list(s.cap_drop)],
    ['cgroup_parent', unsupported('cgroup_parent')],
    ['cgroup', unsupported('cgroup')],
    ['cpu_count', unsupported('cpu_count')],
    ['cpu_percent', unsupported('cpu_percent')],
    ['cpu_period', r.cpu_period],
    ['cpu_quota', r.cpu_quota],
    ['cpu_rt_period', r.cpu_rt_period],
    ['cpu_rt_runtime', r.cpu_rt_runtime],
    ['cpus', r.cpus],
    ['cpuset', str(r.cpuset)],
    ['cpu_shares', r.cpu_shares],
    // an empty list is kept: `command: []` clears the image's command, unlike no command at all
    ['command', s.command === null ? undefined : s.command.map(esc)],
    ['configs', s.configs.length > 0 ? s.configs.map(grantOut) : undefined],
    ['container_name', str(s.container_name)],
    ['credential_spec', unsupported('credential_spec')],
    ['depends_on', deps.length > 0 ? Object.fromEntries(deps.map((d) => {
      const dep = s.depends_on[d]!;
      return [d, obj([['condition', dep.condition], ['restart', flag(dep.restart)], ['required', dep.required]])];
    })) as Obj : undefined],
    ['deploy', deploy],
    ['device_cgroup_rules', unsupported('device_cgroup_rules')],
    ['devices', s.devices.length > 0 ? s.devices.map((d) => obj([['source', esc(d.source)], ['target', esc(d.target)], ['permissions', d.permissions]])) : undefined],
    ['dns', list(s.dns)],
    ['dns_opt', list(s.dns_opt)],
    ['dns_search', list(s.dns_search)],
    ['domainname', str(s.domainname)],
    ['entrypoint', s.entrypoint === null ? undefined : s.entrypoint.map(esc)],
    ['provider', unsupported('provider')],
    ['environment', strMap(s.environment)],
    ['expose', list(s.expose)],
    ['external_links', unsupported('external_links')],
    ['extra_hosts', list(s.extra_hosts)],
    ['group_add', list(s.group_add)],
    ['gpus', unsupported('gpus')],
    ['hostname', str(s.hostname)],
    ['healthcheck', s.healthcheck ? healthcheckOut(s.healthcheck) : undefined],
    ['image', str(s.image)],
    ['init', s.init],
    ['ipc', str(s.ipc)],
    ['isolation', unsupported('isolation')],
    ['labels', strMap(s.labels)],
    ['label_file', unsupported('label_file')],
    ['links', list(s.links)],
    ['logging', s.logging ? obj([['driver', str(s.logging.driver)], ['options', strMap(s.logging.options)]]) : undefined],
    ['mem_limit', r.mem_limit],
    ['mem_reservation', r.mem_reservation],
    ['memswap_limit', r.memswap_limit],
    ['mem_swappiness', r.mem_swappiness],
    ['mac_address', str(s.mac_address)],
    ['models', unsupported('models')],
    ['network_mode', str(s.network_mode)],
    ['networks', nets.length > 0 ? Object.fromEntries(nets.map((n) => [n, attachmentOut(s.networks[n]!)])) as Obj : undefined],
    ['oom_kill_disable', r.oom_kill_disable],
    ['oom_score_adj', r.oom_score_adj],
    ['pid', str(s.pid)],
    ['pids_limit', r.pids_limit],
    ['platform', str(s.platform)],
    ['ports', s.ports.length > 0 ? s.ports.map(portOut) : undefined],
    ['privileged', flag(s.privileged)],
    ['pull_policy', str(s.pull_policy)],
    ['read_only', flag(s.read_only)],
    ['restart', restart],
    ['runtime', unsupported('runtime')],
    // scale only where deploy.replicas does not already say it
    ['scale', s.scale !== 1 && s.deploy?.replicas !== s.scale ? s.scale : undefined],
    ['secrets', s.secrets.length > 0 ? s.secrets.map(grantOut) : undefined],
    ['security_opt', list(s.security_opt)],
    ['shm_size', r.shm_size],
    ['stdin_open', flag(s.stdin_open)],
    ['stop_grace_period', duration(s.stop_grace_period)],
    ['stop_signal', str(s.stop_signal)],
    ['storage_opt', unsupported('storage_opt')],
    ['sysctls', strMap(s.sysctls)],
    ['tmpfs', list(s.tmpfs)],
    ['tty', flag(s.tty)],
    ['ulimits', ulimits],
    ['use_api_socket', unsupported('use_api_socket')],
    ['user', str(s.user)],
    ['userns_mode', str(s.userns_mode)],
    ['uts', unsupported('uts')],
    ['volumes', s.volumes.length > 0 ? s.volumes.map(mountOut) : undefined],
    ['volumes_from', list(s.volumes_from)],
    ['working_dir', str(s.working_dir)],
    ['post_start', s.post_start?.map(hookOut)],
    ['pre_start', unsupported('pre_start')],
    ['pre_stop', s.pre_stop?.map(hookOut)],
  ];
  // unsupported keys this table does not know yet still print (sorted, before the extensions)
  const known = new Set(pairs.map(([k]) => k));
  for (const k of Object.keys(u).sort()) if (!known.has(k)) pairs.push([k, asWritten(u[k])]);
  return obj([...pairs, ...extensionPairs(s.extensions)]);
}

function grantOut(g: Service['secrets'][number]): Obj {
  return obj([
    ['source', esc(g.source)],
    ['target', esc(g.target)],
    ['uid', str(g.uid)],
    ['gid', str(g.gid)],
    // an octal string, as compose prints file modes ("0440")
    ['mode', g.mode === undefined ? undefined : `0${g.mode.toString(8)}`],
  ]);
}

function networkOut(n: Network): Obj {
  return obj([
    ['name', esc(n.name)],
    ['driver', str(n.driver)],
    ['driver_opts', strMap(n.driver_opts)],
    ['ipam', n.ipam ? obj([
      ['driver', str(n.ipam.driver)],
      ['config', n.ipam.config.length > 0 ? n.ipam.config.map((c) => obj([
        ['subnet', str(c.subnet)], ['gateway', str(c.gateway)], ['ip_range', str(c.ip_range)], ['aux_addresses', strMap(c.aux_addresses)],
      ])) : undefined],
      ['options', strMap(n.ipam.options)],
    ]) : undefined],
    ['external', flag(n.external)],
    ['internal', flag(n.internal)],
    ['attachable', flag(n.attachable)],
    ['labels', strMap(n.labels)],
    ['enable_ipv4', n.enable_ipv4],
    ['enable_ipv6', n.enable_ipv6],
    ...extensionPairs(n.extensions),
  ]);
}

function volumeOut(v: Volume): Obj {
  return obj([
    ['name', esc(v.name)],
    ['driver', str(v.driver)],
    ['driver_opts', strMap(v.driver_opts)],
    ['external', flag(v.external)],
    ['labels', strMap(v.labels)],
    ...extensionPairs(v.extensions),
  ]);
}

function fileObjectOut(f: FileObject): Obj {
  return obj([
    ['name', esc(f.name)],
    ['file', str(f.file)],
    ['environment', str(f.environment)],
    // an `environment` source's value is never printed (compose's config hides it too)
    ['content', f.environment === undefined ? str(f.content) : undefined],
    ['external', flag(f.external)],
    ['labels', strMap(f.labels)],
    ...extensionPairs(f.extensions),
  ]);
}

function section<T>(m: Readonly<Record<string, T>>, out: (x: T) => Obj): Obj | undefined {
  const keys = Object.keys(m).sort();
  if (keys.length === 0) return undefined;
  return Object.fromEntries(keys.map((k) => [k, out(m[k]!)])) as Obj;
}

/** The project as the plain object `config` prints (YAML or JSON). */
export function projectToPlain(p: Project): Obj {
  const services: Obj = {};
  for (const n of Object.keys(p.services).sort()) services[n] = serviceOut(p.services[n]!);
  const top = p.unsupported;
  return obj([
    ['name', p.name],
    ['services', services],
    ['networks', section(p.networks, networkOut)],
    ['volumes', section(p.volumes, volumeOut)],
    ['secrets', section(p.secrets, fileObjectOut)],
    ['configs', section(p.configs, fileObjectOut)],
    ...Object.keys(top).sort().map((k): [string, Plain] => [k, asWritten(top[k])]),
    ...extensionPairs(p.extensions),
  ]);
}

export function renderProject(p: Project, format: 'yaml' | 'json'): string {
  const plain = projectToPlain(p);
  // YAML 1.1 output quotes the strings go-yaml and PyYAML would read as something else
  // ("yes", "on", "0644"), so that every compose implementation reads the text the same way
  return format === 'json' ? JSON.stringify(plain, null, 2) + '\n' : stringify(plain, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' });
}
