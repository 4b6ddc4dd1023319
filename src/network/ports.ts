// Published ports: the facility's own narrow request type, its expansion into one mapping per
// container port, and the choice of a host port. Pure: which ports are free is a parameter.
import { InvalidArgument, Conflict } from '../lib/errors.js';
import { parseAddress, formatAddress } from './ipam.js';

export type Protocol = 'tcp' | 'udp';

export interface PortRange { readonly start: number; readonly end: number }

/** One `ports:` entry in resolved form (compose's long syntax, after the spec normalized it). */
export interface PortRequest {
  readonly protocol: Protocol;
  /** host address to listen on; absent: every address (IPv4, and IPv6 where the host has it) */
  readonly hostIp?: string;
  /** absent: a random free host port per container port (Docker's ephemeral range) */
  readonly hostPort?: PortRange;
  readonly containerPort: PortRange;
}

/** One container port, with the host ports it may take. */
export interface PortWant {
  readonly protocol: Protocol;
  /** '' = every address of the family `family` */
  readonly hostIp: string;
  readonly family: 4 | 6;
  readonly containerPort: number;
  /** candidates in order of preference; undefined = any ephemeral port */
  readonly hostPorts?: PortRange;
}

/** A decided mapping. */
export interface PublishedPort {
  readonly protocol: Protocol;
  readonly hostIp: string;
  readonly family: 4 | 6;
  readonly hostPort: number;
  readonly containerPort: number;
}

function checkRange(r: PortRange, what: string, allowZero = false): void {
  const lo = allowZero ? 0 : 1;
  if (!Number.isInteger(r.start) || !Number.isInteger(r.end) || r.start < lo || r.end > 65535 || r.start > r.end) {
    throw new InvalidArgument(`invalid ${what} ${r.start}${r.end !== r.start ? `-${r.end}` : ''}: expected ${lo}-65535`);
  }
}

/**
 * Expands requests into one want per container port and family. A host range as long as the
 * container range maps one to one; a host range with one container port means "any free port of
 * the range"; other shapes are Docker's error.
 */
export function expandPorts(requests: readonly PortRequest[], hostHasIpv6: boolean): PortWant[] {
  const out: PortWant[] = [];
  for (const r of requests) {
    checkRange(r.containerPort, 'container port');
    if (r.hostPort) checkRange(r.hostPort, 'host port');
    const count = r.containerPort.end - r.containerPort.start + 1;
    const hostCount = r.hostPort ? r.hostPort.end - r.hostPort.start + 1 : 0;
    if (r.hostPort && count > 1 && hostCount !== count) {
      throw new InvalidArgument(`port ranges don't match in length: host ${r.hostPort.start}-${r.hostPort.end}, container ${r.containerPort.start}-${r.containerPort.end}`);
    }
    const targets: { hostIp: string; family: 4 | 6 }[] = [];
    if (r.hostIp === undefined || r.hostIp === '') {
      targets.push({ hostIp: '', family: 4 });
      if (hostHasIpv6) targets.push({ hostIp: '', family: 6 });
    } else {
      const a = parseAddress(r.hostIp.replace(/^\[(.*)\]$/, '$1'));
      const text = formatAddress(a);
      targets.push({ hostIp: text === '0.0.0.0' || text === '::' ? '' : text, family: a.family });
    }
    for (const t of targets) {
      for (let i = 0; i < count; i++) {
        const hostPorts = !r.hostPort ? undefined : count > 1 ? { start: r.hostPort.start + i, end: r.hostPort.start + i } : r.hostPort;
        out.push({ protocol: r.protocol, hostIp: t.hostIp, family: t.family, containerPort: r.containerPort.start + i, hostPorts });
      }
    }
  }
  return out;
}

/** Docker's default ephemeral range for random host ports (the kernel's ip_local_port_range). */
export const EPHEMERAL: PortRange = { start: 32768, end: 60999 };

/**
 * Picks host ports. `free(protocol, family, hostIp, port)` says whether the host can give that
 * port (the facility probes by binding). The same host port serves both families of one request,
 * as Docker does, when it is free in both. `random` picks the starting point in a range.
 */
export async function choosePorts(wants: readonly PortWant[], free: (w: PortWant, port: number) => boolean | Promise<boolean>, random: () => number, ephemeral: PortRange = EPHEMERAL): Promise<PublishedPort[]> {
  const taken = new Set<string>();
  const key = (w: PortWant, port: number): string => `${w.protocol}/${w.family}/${w.hostIp}/${port}`;
  const clash = (w: PortWant, port: number): boolean =>
    taken.has(key(w, port)) || (w.hostIp !== '' && taken.has(key({ ...w, hostIp: '' }, port))) ||
    (w.hostIp === '' && [...taken].some((k) => k.startsWith(`${w.protocol}/${w.family}/`) && k.endsWith(`/${port}`)));
  const out: PublishedPort[] = [];
  let previous: { want: PortWant; port: number } | undefined;
  for (const w of wants) {
    const range = w.hostPorts ?? ephemeral;
    const n = range.end - range.start + 1;
    let port: number | undefined;
    // the IPv6 twin of an all-addresses IPv4 mapping takes the same port when it can
    if (previous && w.family === 6 && previous.want.family === 4 && previous.want.containerPort === w.containerPort &&
        previous.want.protocol === w.protocol && previous.want.hostPorts === w.hostPorts &&
        !clash(w, previous.port) && await free(w, previous.port)) {
      port = previous.port;
    }
    const offset = n === 1 ? 0 : Math.floor(random() * n);
    for (let i = 0; port === undefined && i < n; i++) {
      const p = range.start + ((offset + i) % n);
      if (!clash(w, p) && await free(w, p)) port = p;
    }
    if (port === undefined) {
      const where = `${w.hostIp === '' ? (w.family === 4 ? '0.0.0.0' : '[::]') : w.hostIp}:${range.start}${n > 1 ? `-${range.end}` : ''}`;
      throw new Conflict(`Bind for ${where}/${w.protocol} failed: port is already allocated`);
    }
    taken.add(key(w, port));
    out.push({ protocol: w.protocol, hostIp: w.hostIp, family: w.family, hostPort: port, containerPort: w.containerPort });
    previous = { want: w, port };
  }
  return out;
}
