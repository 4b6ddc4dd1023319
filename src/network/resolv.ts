// A container's /etc/resolv.conf and /etc/hosts, and the host's resolver configuration, as
// Docker writes and reads them. Pure: file contents in, file contents out.
import { InvalidArgument } from '../lib/errors.js';
import { parseAddress, formatAddress } from './ipam.js';
import { BASE_HOSTS } from '../lib/hosts.js';

/** The embedded resolver's address inside every container on a berth network (Docker's). */
export const EMBEDDED_DNS = '127.0.0.11';

export interface ResolverConfig {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly options: readonly string[];
}

/** Reads resolv.conf text: nameserver, search (the last of search/domain wins), options. */
export function parseResolvConf(text: string): ResolverConfig {
  const nameservers: string[] = [];
  let search: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...values] = line.split(/\s+/);
    if (key === 'nameserver' && values[0]) nameservers.push(values[0].replace(/%.*$/, ''));
    else if (key === 'search') search = values;
    else if (key === 'domain' && values[0]) search = [values[0]];
    else if (key === 'options') options.push(...values);
  }
  return { nameservers, search, options };
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1';
}

/**
 * Where the embedded resolver forwards names that are not berth's. It forwards from the host's
 * network namespace, so a loopback resolver of the host (systemd-resolved's 127.0.0.53, dnsmasq)
 * is reachable from it: unlike a container, it can use the host's resolver as the host does.
 * `dns:` from the compose file replaces the host's servers.
 */
export function upstreams(host: ResolverConfig, dns: readonly string[] | undefined): string[] {
  const list = dns !== undefined && dns.length > 0 ? dns : host.nameservers;
  for (const s of list) parseAddress(s); // a malformed dns entry is the user's mistake: say so
  return [...list];
}

export interface ContainerResolv {
  /** the container uses the embedded resolver (it is on at least one berth network) */
  readonly embedded: boolean;
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOptions?: readonly string[];
}

/**
 * The container's resolv.conf. With the embedded resolver: `nameserver 127.0.0.11`, the search
 * domains (dns_search, else the host's), the options (dns_opt, else the host's) and `ndots:0`
 * unless an ndots was given, as Docker writes it. Without (network_mode none): the host's servers
 * minus loopback ones, which point nowhere from inside the container.
 */
export function renderResolvConf(host: ResolverConfig, c: ContainerResolv): string {
  const search = c.dnsSearch ?? host.search;
  const options = [...(c.dnsOptions ?? host.options)];
  const lines: string[] = [];
  if (c.embedded) {
    lines.push(`nameserver ${EMBEDDED_DNS}`);
    if (!options.some((o) => o.startsWith('ndots:'))) options.push('ndots:0');
  } else {
    const servers = (c.dns && c.dns.length > 0 ? c.dns : host.nameservers).filter((s) => !isLoopback(s));
    for (const s of servers) lines.push(`nameserver ${s}`);
  }
  // a search list of "." means none (Docker's convention)
  const realSearch = search.filter((s) => s !== '.' && s !== '');
  if (realSearch.length > 0) lines.push(`search ${realSearch.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

export interface HostEntry { readonly host: string; readonly ip: string }

/**
 * `extra_hosts` entries ("name:ip", "name=ip", IPv6 in brackets or bare) into host/ip pairs;
 * `host-gateway` becomes `gateway` (the host's address on the container's network).
 */
export function parseExtraHosts(entries: readonly string[], gateway: string | undefined): HostEntry[] {
  return entries.map((e) => {
    const sep = e.includes('=') ? e.indexOf('=') : e.indexOf(':');
    if (sep <= 0) throw new InvalidArgument(`invalid extra host ${JSON.stringify(e)}: expected host:ip`);
    const host = e.slice(0, sep);
    let ip = e.slice(sep + 1).replace(/^\[(.*)\]$/, '$1');
    if (ip === 'host-gateway') {
      if (gateway === undefined) throw new InvalidArgument(`extra host ${host}: host-gateway needs a network with a gateway (not internal, not none)`);
      ip = gateway;
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(host)) throw new InvalidArgument(`invalid extra host name ${JSON.stringify(host)}`);
    return { host, ip: formatAddress(parseAddress(ip)) };
  });
}


/**
 * The container's /etc/hosts: Docker's base lines, the container's own address with its
 * hostname (and FQDN with the domainname), then extra_hosts in the given order.
 */
export function renderHosts(own: { ip?: string; hostname: string; domainname?: string }, extra: readonly HostEntry[]): string {
  const lines = [...BASE_HOSTS];
  if (own.ip !== undefined) {
    const names = own.domainname ? `${own.hostname}.${own.domainname} ${own.hostname}` : own.hostname;
    lines.push(`${own.ip}\t${names}`);
  }
  for (const e of extra) lines.push(`${e.ip}\t${e.host}`);
  return lines.join('\n') + '\n';
}
