// ports: "8080:80", "127.0.0.1:8080:80/udp", "[::1]:8080:80", "9000-9005:9000-9005", 80, or the
// long form — all as long-form entries, ranges expanded one entry per container port.
import { FormError } from './form-error.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';
export interface PortMapping {
  readonly target: number;
  /** host port or host range ("8000-8010"); absent = random host port (or not published) */
  readonly published?: string;
  readonly host_ip?: string;
  readonly protocol: Protocol;
  readonly mode: 'ingress' | 'host';
  readonly name?: string;
  readonly app_protocol?: string;
}

const EXPECT = 'a port like "80", "8080:80", "127.0.0.1:8080:80/udp" or "9000-9005:9000-9005"';

function range(s: string, what: string, whole: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new FormError(EXPECT, JSON.stringify(whole), `the ${what} port ${JSON.stringify(s)} is not a number or range`);
  const a = Number(m[1]), b = m[2] ? Number(m[2]) : a;
  if (a > 65535 || b > 65535 || b < a) throw new FormError(EXPECT, JSON.stringify(whole), `the ${what} port range ${s} is out of order or above 65535`);
  return [a, b];
}

function protocolOf(p: string, whole: string): Protocol {
  const l = p.toLowerCase();
  if (l === 'tcp' || l === 'udp' || l === 'sctp') return l;
  throw new FormError('protocol tcp, udp or sctp', JSON.stringify(p), `in ${JSON.stringify(whole)}`);
}

/** protocol of the long form, located at its own key */
function protocolAt(p: string): Protocol {
  try { return protocolOf(p, p); } catch (e) { throw e instanceof FormError ? e.under(['protocol']) : e; }
}

function isIPv6(s: string): boolean {
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? groups.length < 8 : groups.length === 8;
}

export function parsePortString(spec: string): PortMapping[] {
  let rest = spec.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) { protocol = protocolOf(rest.slice(slash + 1), spec); rest = rest.slice(0, slash); }
  let ip: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0 || rest[end + 1] !== ':') throw new FormError(EXPECT, JSON.stringify(spec), 'an IPv6 address needs "[addr]:" brackets');
    ip = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  const parts = rest.split(':');
  let hostPart: string | undefined, containerPart: string;
  if (ip !== undefined) {
    if (parts.length === 1) { hostPart = ''; containerPart = parts[0]!; }
    else if (parts.length === 2) { hostPart = parts[0]; containerPart = parts[1]!; }
    else throw new FormError(EXPECT, JSON.stringify(spec));
  } else if (parts.length === 1) containerPart = parts[0]!;
  else if (parts.length === 2) { hostPart = parts[0]; containerPart = parts[1]!; }
  else if (parts.length === 3) { ip = parts[0]; hostPart = parts[1]; containerPart = parts[2]!; }
  else {
    // bare IPv6 address without brackets: everything before the last two fields
    ip = parts.slice(0, -2).join(':'); hostPart = parts[parts.length - 2]; containerPart = parts[parts.length - 1]!;
    if (!isIPv6(ip)) throw new FormError(EXPECT, JSON.stringify(spec), `${JSON.stringify(ip)} is not an IP address`);
  }
  const [c0, c1] = range(containerPart, 'container', spec);
  const base = { protocol, mode: 'ingress' as const, ...(ip ? { host_ip: ip } : {}) };
  if (hostPart === undefined || hostPart === '') {
    const out: PortMapping[] = [];
    for (let p = c0; p <= c1; p++) out.push({ target: p, ...base });
    return out;
  }
  const [h0, h1] = range(hostPart, 'host', spec);
  if (c0 === c1) return [{ target: c0, published: h0 === h1 ? String(h0) : `${h0}-${h1}`, ...base }];
  if (h1 - h0 !== c1 - c0) throw new FormError(EXPECT, JSON.stringify(spec), 'the host and container ranges differ in length');
  const out: PortMapping[] = [];
  for (let i = 0; i <= c1 - c0; i++) out.push({ target: c0 + i, published: String(h0 + i), ...base });
  return out;
}

export function canonicalPort(v: unknown): PortMapping[] {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 65535) throw new FormError('a port number 0-65535', String(v));
    return [{ target: v, protocol: 'tcp', mode: 'ingress' }];
  }
  if (typeof v === 'string') return parsePortString(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const t = typeof o['target'] === 'string' ? Number(o['target']) : o['target'];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 65535) throw new FormError('a container port number 0-65535', String(o['target']), undefined, ['target']);
    const pub = o['published'];
    if (pub !== undefined && pub !== null) {
      try { range(String(pub), 'published', String(pub)); } catch (e) { throw e instanceof FormError ? e.under(['published']) : e; }
    }
    const mode = o['mode'] === undefined ? 'ingress' : String(o['mode']);
    if (mode !== 'ingress' && mode !== 'host') throw new FormError('mode ingress or host', JSON.stringify(mode), undefined, ['mode']);
    return [{
      target: t,
      ...(pub !== undefined && pub !== null && pub !== '' ? { published: String(pub) } : {}),
      ...(typeof o['host_ip'] === 'string' && o['host_ip'] !== '' ? { host_ip: o['host_ip'] } : {}),
      protocol: o['protocol'] === undefined ? 'tcp' : protocolAt(String(o['protocol'])),
      mode,
      ...(typeof o['name'] === 'string' ? { name: o['name'] } : {}),
      ...(typeof o['app_protocol'] === 'string' ? { app_protocol: o['app_protocol'] } : {}),
    }];
  }
  throw new FormError(EXPECT, typeof v);
}

/** The merge key the compose spec gives ports: {ip, target, published, protocol}. */
export function portKey(p: PortMapping): string {
  return `${p.host_ip ?? ''}|${p.target}|${p.published ?? ''}|${p.protocol}`;
}
