// Compose's networking keys of a service (networks, network_mode, ports, expose, dns*,
// extra_hosts, links, hostname, mac_address) → the RecordedNetwork of one of its containers, and
// `run`'s flags (--network, -p, --add-host, --dns…) → the same. Pure: the engine's networking
// job (networking.ts) does the work; this only decides what is asked for.
import type { Project, Service, PortMapping } from '../spec/model.js';
import type { ContainerNetworkFlags } from '../api/types.js';
import type { RecordedEndpoint, RecordedNetwork, RecordedPort } from '../runtime/container.js';
import { InvalidArgument, Unsupported } from '../lib/errors.js';
import { DEFAULT_BRIDGE } from './networking.js';

export interface ReplicaIdentity {
  readonly containerId: string;
  readonly containerName: string;
  /** set only when the service sets `hostname` (the default, the short id, is a name already) */
  readonly hostname?: string;
}

/**
 * The networks a service's containers attach to, in compose's order: highest `priority` first,
 * then by key. Keys of the project (`default`, `backend`); empty under a network_mode.
 */
export function serviceNetworkKeys(service: Service): string[] {
  if (service.network_mode !== undefined) return [];
  return Object.keys(service.networks).sort((a, b) => (service.networks[b]!.priority ?? 0) - (service.networks[a]!.priority ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The host name of a project network (`<project>_<key>`, or its `name:`). */
export function networkName(project: Project, key: string): string {
  const n = project.networks[key];
  if (n) return n.name;
  if (key === 'default') return `${project.name}_default`;
  throw new InvalidArgument(`service refers to undefined network ${key}: invalid compose project`);
}

/**
 * Aliases other services give this one through `links: ["svc:alias"]`. berth answers them on the
 * shared networks for everyone (Docker scopes a link alias to the linking container; being
 * answered more widely breaks nothing a link was for).
 */
function linkAliases(project: Project, service: string): string[] {
  const out: string[] = [];
  for (const s of Object.values(project.services)) {
    for (const l of s.links) {
      const [target, alias] = l.split(':') as [string, string | undefined];
      if (target === service && alias !== undefined && alias !== '' && alias !== target) out.push(alias);
    }
  }
  return out;
}

/**
 * What berth cannot honour of a service's networking, refused before anything is created
 * (preflight): per-network link_local_ips and driver_opts, a network_mode it does not know,
 * sctp ports, an undefined network.
 */
export function checkServiceNetworking(project: Project, service: Service): void {
  const nm = service.network_mode;
  if (nm !== undefined && !['none', 'host', 'bridge'].includes(nm) && !nm.startsWith('service:') && !nm.startsWith('container:')) {
    throw new InvalidArgument(`service "${service.name}": unsupported network_mode "${nm}" (use none, host, bridge, service:NAME or container:NAME)`);
  }
  for (const key of serviceNetworkKeys(service)) {
    const n = service.networks[key]!;
    if ((n.link_local_ips?.length ?? 0) > 0) throw new Unsupported(`service "${service.name}": networks.${key}.link_local_ips is not supported`);
    if (n.driver_opts && Object.keys(n.driver_opts).length > 0) throw new Unsupported(`service "${service.name}": networks.${key}.driver_opts is not supported`);
    networkName(project, key);
  }
  servicePorts(service);
}

/** compose `ports` entries → the container's port requests (sctp is refused with a clear error). */
export function servicePorts(service: Service): RecordedPort[] {
  return service.ports.map((p) => portOf(p, service.name));
}

function portOf(p: PortMapping, service: string): RecordedPort {
  if (p.protocol === 'sctp') throw new Unsupported(`service "${service}": sctp ports are not supported (tcp and udp are)`);
  if (p.target < 1) throw new InvalidArgument(`service "${service}": invalid container port ${p.target}`);
  let hostPort: RecordedPort['hostPort'];
  if (p.published !== undefined && p.published !== '') {
    const m = /^(\d+)(?:-(\d+))?$/.exec(p.published);
    if (!m) throw new InvalidArgument(`service "${service}": invalid published port "${p.published}"`);
    const start = Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : start;
    // published "0" is docker's "any free port"
    if (!(start === 0 && end === 0)) hostPort = { start, end };
  }
  return {
    protocol: p.protocol,
    ...(p.host_ip !== undefined && p.host_ip !== '' ? { hostIp: p.host_ip.replace(/^\[(.*)\]$/, '$1') } : {}),
    ...(hostPort ? { hostPort } : {}),
    containerPort: { start: p.target, end: p.target },
  };
}

/** `expose` entries ("80", "8000-8002", "53/udp") → "80/tcp" strings. */
export function exposeList(entries: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(String(e).trim());
    if (!m) throw new InvalidArgument(`invalid expose entry "${e}": expected PORT[-PORT][/PROTOCOL]`);
    const start = Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : start;
    if (start < 1 || end > 65535 || end < start) throw new InvalidArgument(`invalid expose entry "${e}": ports are 1-65535`);
    for (let p = start; p <= end; p++) out.push(`${p}/${(m[3] ?? 'tcp').toLowerCase()}`);
  }
  return out;
}

/**
 * The network of one replica of a service. `joined` resolves the container a `service:X` or
 * `container:X` network_mode names (the engine looks it up); it is only called for those modes.
 */
export function serviceNetworkIntent(project: Project, service: Service, who: ReplicaIdentity, joined: (mode: string) => string): RecordedNetwork {
  const base = {
    dns: [...service.dns], dnsSearch: [...service.dns_search], dnsOptions: [...service.dns_opt], extraHosts: [...service.extra_hosts],
    ports: servicePorts(service),
    expose: exposeList(service.expose),
  };
  const nm = service.network_mode;
  if (nm !== undefined && nm !== 'bridge') {
    if (nm === 'none' || nm === 'host') return { ...base, mode: nm, endpoints: [] };
    if (nm.startsWith('service:')) return { ...base, mode: `container:${joined(nm)}`, joinedService: nm.slice('service:'.length), endpoints: [] };
    if (nm.startsWith('container:')) return { ...base, mode: `container:${joined(nm)}`, endpoints: [] };
    throw new InvalidArgument(`service "${service.name}": unsupported network_mode "${nm}" (use none, host, bridge, service:NAME or container:NAME)`);
  }
  if (nm === 'bridge') {
    // docker compose's network_mode: bridge is the engine's default bridge network
    return { ...base, mode: 'bridge', endpoints: [endpoint(DEFAULT_BRIDGE, who, service, [], {})] };
  }
  const keys = serviceNetworkKeys(service);
  const links = linkAliases(project, service.name);
  // gw_priority: the highest among the networks with a way out carries the default route
  // (ties: the first in connection order); without any, the first such network does
  const withPriority = keys.some((k) => service.networks[k]!.gw_priority !== undefined);
  let gateway: string | undefined;
  if (withPriority) {
    let best = -Infinity;
    for (const k of keys) {
      if (project.networks[k]?.internal) continue;
      const p = service.networks[k]!.gw_priority ?? 0;
      if (p > best) { best = p; gateway = k; }
    }
  }
  const endpoints = keys.map((k) => endpoint(networkName(project, k), who, service, [...service.networks[k]!.aliases, ...links], service.networks[k]!,
    withPriority ? k === gateway : undefined));
  // a service-level mac_address applies to its first network (Docker's)
  const mac = service.mac_address;
  if (mac !== undefined && endpoints[0] && endpoints[0].macAddress === undefined) endpoints[0] = { ...endpoints[0], macAddress: mac };
  return { ...base, mode: 'bridge', endpoints };
}

function endpoint(network: string, who: ReplicaIdentity, service: Service, aliases: readonly string[],
  n: { readonly ipv4_address?: string; readonly ipv6_address?: string; readonly mac_address?: string; readonly interface_name?: string }, defaultRoute?: boolean): RecordedEndpoint {
  // the container name first: the resolver's PTR answer for the container's address
  const names = [who.containerName, service.name, who.containerId.slice(0, 12), ...(who.hostname ? [who.hostname] : []), ...aliases];
  return {
    network,
    names: [...new Set(names)],
    aliases: [...new Set(aliases)],
    ...(n.ipv4_address ? { ipv4Address: n.ipv4_address } : {}),
    ...(n.ipv6_address ? { ipv6Address: n.ipv6_address } : {}),
    ...(n.mac_address ? { macAddress: n.mac_address } : {}),
    ...(n.interface_name ? { interfaceName: n.interface_name } : {}),
    ...(defaultRoute !== undefined ? { defaultRoute } : {}),
  };
}

/** `run`/`create`'s network flags, as the user typed them. */
export type NetworkFlags = ContainerNetworkFlags;

/** `run`'s flags → the container's network. `parsePort` is the spec's short-form port parser. */
export function flagsNetworkIntent(f: NetworkFlags, who: ReplicaIdentity, imageExposed: readonly string[],
  parsePort: (spec: string) => readonly PortMapping[], joined: (ref: string) => string): RecordedNetwork {
  const expose = [...exposeList(f.expose ?? []), ...imageExposed];
  const ports: RecordedPort[] = [];
  for (const spec of f.publish ?? []) {
    let mappings: readonly PortMapping[];
    try { mappings = parsePort(spec); } catch (err) { throw new InvalidArgument(`invalid argument "${spec}" for "-p, --publish" flag: ${err instanceof Error ? err.message : String(err)}`); }
    ports.push(...mappings.map((m) => portOf(m, 'run')));
  }
  if (f.publishAll) {
    for (const e of expose) {
      const [port, protocol] = e.split('/') as [string, string];
      if (protocol !== 'tcp' && protocol !== 'udp') continue;
      if (ports.some((p) => p.protocol === protocol && p.containerPort.start <= Number(port) && Number(port) <= p.containerPort.end)) continue;
      ports.push({ protocol, containerPort: { start: Number(port), end: Number(port) } });
    }
  }
  const base = {
    dns: [...(f.dns ?? [])], dnsSearch: [...(f.dnsSearch ?? [])], dnsOptions: [...(f.dnsOption ?? [])], extraHosts: [...(f.addHost ?? [])],
    ports, expose,
  };
  const mode = f.network ?? DEFAULT_BRIDGE;
  const endpointOnly = f.ip !== undefined || f.ip6 !== undefined || (f.networkAliases?.length ?? 0) > 0;
  if (mode === 'none' || mode === 'host' || mode.startsWith('container:')) {
    if (endpointOnly || f.macAddress !== undefined) throw new InvalidArgument(`--ip, --ip6, --mac-address and --network-alias need a network (not --network ${mode})`);
    return { ...base, mode: mode.startsWith('container:') ? `container:${joined(mode.slice('container:'.length))}` : mode, endpoints: [] };
  }
  if (mode === DEFAULT_BRIDGE && ((f.networkAliases?.length ?? 0) > 0 || f.ip !== undefined || f.ip6 !== undefined)) {
    // Docker's rule: the default bridge takes no user-chosen address or alias
    throw new InvalidArgument('user specified IP address and aliases are supported only for user defined networks');
  }
  const aliases = [...(f.networkAliases ?? [])];
  const names = [...new Set([who.containerName, who.containerId.slice(0, 12), ...(who.hostname ? [who.hostname] : []), ...aliases])];
  return {
    ...base,
    mode: 'bridge',
    endpoints: [{
      network: mode, names, aliases,
      ...(f.ip ? { ipv4Address: f.ip } : {}), ...(f.ip6 ? { ipv6Address: f.ip6 } : {}), ...(f.macAddress ? { macAddress: f.macAddress } : {}),
    }],
  };
}
