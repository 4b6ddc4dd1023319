// What the host's network looks like, read from /proc and /sys (no tool spawned): the routes and
// interface networks IPAM must avoid, the links berth may have left, whether a namespace file
// is still mounted, whether a port can be bound.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { parseCidr, type Cidr } from './ipam.js';

function hexLe32ToDotted(hex: string): string {
  const v = parseInt(hex, 16);
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff].join('.');
}

function maskBits(hex: string): number {
  let v = parseInt(hex, 16) >>> 0;
  let n = 0;
  while (v) { n += v & 1; v >>>= 1; }
  return n;
}

/** The IPv4 routes of the main table with their device (to see who else routes a subnet). */
export function hostRoutes4(procRoot = '/proc'): { dev: string; cidr: Cidr }[] {
  const out: { dev: string; cidr: Cidr }[] = [];
  try {
    for (const line of readFileSync(`${procRoot}/net/route`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8) continue;
      out.push({ dev: f[0]!, cidr: parseCidr(`${hexLe32ToDotted(f[1]!)}/${maskBits(f[7]!)}`) });
    }
  } catch { /* no IPv4 */ }
  return out;
}

/** The IPv4 and IPv6 routes of the main table and every interface's network. */
export function hostNetworks(procRoot = '/proc'): Cidr[] {
  const out: Cidr[] = [];
  try {
    for (const line of readFileSync(`${procRoot}/net/route`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8) continue;
      out.push(parseCidr(`${hexLe32ToDotted(f[1]!)}/${maskBits(f[7]!)}`));
    }
  } catch { /* no IPv4 */ }
  try {
    for (const line of readFileSync(`${procRoot}/net/ipv6_route`, 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const prefix = parseInt(f[1]!, 16);
      if (prefix === 0 || f[9] === 'lo') continue;
      out.push(parseCidr(`${f[0]!.match(/.{4}/g)!.join(':')}/${prefix}`));
    }
  } catch { /* no IPv6 */ }
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.cidr && !a.internal) out.push(parseCidr(a.cidr));
  }
  return out;
}

/** Does the host have a global IPv6 address (so that publishing on [::] means something)? */
export function hostHasIpv6(): boolean {
  return Object.values(networkInterfaces()).some((addrs) => (addrs ?? []).some((a) => a.family === 'IPv6' && !a.internal && !a.address.startsWith('fe80')));
}

/** The names of the host namespace's links. */
export function hostLinks(sysRoot = '/sys'): string[] {
  try { return readdirSync(`${sysRoot}/class/net`); } catch { return []; }
}

/** Mount points of this mount namespace (to tell a live namespace file from a dead one). */
export function mountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp) out.add(mp.replace(/\\040/g, ' '));
  }
  return out;
}

/**
 * Can `port` be bound on `hostIp` ('' = every address) for this protocol? Binding is the only
 * honest test: a port some process listens on, or one another berth root holds, is refused.
 */
export function probePort(protocol: 'tcp' | 'udp', family: 4 | 6, hostIp: string, port: number): Promise<boolean> {
  const host = hostIp !== '' ? hostIp : family === 4 ? '0.0.0.0' : '::';
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = family === 4 ? createSocket('udp4') : createSocket({ type: 'udp6', ipv6Only: true });
      s.once('error', () => { s.close(); resolve(false); });
      s.bind({ port, address: host, exclusive: true }, () => { s.close(() => resolve(true)); });
      return;
    }
    const server: Server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, ipv6Only: family === 6, exclusive: true }, () => { server.close(() => resolve(true)); });
  });
}

/**
 * The process that has `port` bound (for the error that names it), from /proc/net/{tcp,udp}{,6}
 * (the socket's inode) and /proc/<pid>/fd (who holds that inode). Undefined when not found
 * (another namespace's socket, a process we cannot read, or the port is free).
 */
export function portHolder(protocol: 'tcp' | 'udp', port: number, procRoot = '/proc'): { pid: number; command: string } | undefined {
  const inodes = new Set<string>();
  for (const file of [`${procRoot}/net/${protocol}`, `${procRoot}/net/${protocol}6`]) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = f[1]!;
      // TCP: only listening sockets (state 0A) hold a port; UDP: any bound socket
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && (protocol === 'udp' || f[3] === '0A')) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[] = [];
  try { pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n)); } catch { return undefined; }
  for (const pid of pids) {
    let fds: string[] = [];
    try { fds = readdirSync(`${procRoot}/${pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      let target = '';
      try { target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`); } catch { continue; }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        let command = '';
        try { command = readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim(); } catch { /* gone */ }
        return { pid: Number(pid), command };
      }
    }
  }
  return undefined;
}
