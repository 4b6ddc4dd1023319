// IP address management, pure: no files, no host. The facility feeds it what is in use (other
// berth networks' subnets, the host's routes and interface addresses) and persists what it picks.
// Addresses are bigints so that IPv4 and IPv6 share one arithmetic.
import { InvalidArgument, Conflict } from '../lib/errors.js';

export type Family = 4 | 6;

export interface Cidr {
  readonly family: Family;
  /** the network address (host bits zero) */
  readonly base: bigint;
  readonly prefix: number;
}

export interface Address {
  readonly family: Family;
  readonly value: bigint;
}

const bits = (f: Family): number => (f === 4 ? 32 : 128);

export function parseAddress(text: string): Address {
  if (text.includes(':')) return { family: 6, value: parseIpv6(text) };
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new InvalidArgument(`invalid IPv4 address: ${JSON.stringify(text)}`);
  }
  return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
}

function parseIpv6(text: string): bigint {
  const bad = (): never => { throw new InvalidArgument(`invalid IPv6 address: ${JSON.stringify(text)}`); };
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) bad();
  const expand = (s: string): string[] => {
    if (s === '') return [];
    const groups = s.split(':');
    const last = groups[groups.length - 1]!;
    if (last.includes('.')) {
      // an embedded IPv4 tail (::ffff:1.2.3.4) is two groups
      const v4 = parseAddress(last).value;
      groups.splice(groups.length - 1, 1, (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
    }
    return groups;
  };
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = expand(head);
  const t = tail === undefined ? [] : expand(tail);
  const fill = 8 - h.length - t.length;
  if ((tail === undefined && fill !== 0) || (tail !== undefined && fill < 1)) bad();
  const groups = [...h, ...Array<string>(tail === undefined ? 0 : fill).fill('0'), ...t];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) bad();
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

export function formatAddress(a: Address): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join('.');
  const groups = [...Array(8).keys()].map((i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: the longest run (length ≥ 2, first wins) of zero groups becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new InvalidArgument(`invalid CIDR ${JSON.stringify(text)}: expected address/prefix`);
  const addr = parseAddress(text.slice(0, slash));
  const p = text.slice(slash + 1);
  const prefix = Number(p);
  if (!/^\d{1,3}$/.test(p) || prefix > bits(addr.family)) throw new InvalidArgument(`invalid CIDR ${JSON.stringify(text)}: bad prefix length`);
  return { family: addr.family, base: addr.value & mask(addr.family, prefix), prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatAddress({ family: c.family, value: c.base })}/${c.prefix}`;
}

function mask(f: Family, prefix: number): bigint {
  const all = (1n << BigInt(bits(f))) - 1n;
  return all ^ ((1n << BigInt(bits(f) - prefix)) - 1n);
}

export function size(c: Cidr): bigint {
  return 1n << BigInt(bits(c.family) - c.prefix);
}

export function last(c: Cidr): bigint {
  return c.base + size(c) - 1n;
}

export function contains(c: Cidr, a: Address): boolean {
  return c.family === a.family && a.value >= c.base && a.value <= last(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base <= last(b) && b.base <= last(a);
}

/** Is `inner` entirely inside `outer`? */
export function within(inner: Cidr, outer: Cidr): boolean {
  return inner.family === outer.family && inner.base >= outer.base && last(inner) <= last(outer);
}

/** Where berth looks for free subnets, in order (Docker's default address pools). */
export interface Pool { readonly base: string; readonly size: number }
export const DEFAULT_POOLS: readonly Pool[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/15', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/13', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/**
 * The first subnet of the pools that overlaps nothing in `inUse` (other berth networks, host
 * routes other than default routes, host interface networks). Undefined when the pools are full.
 */
export function pickSubnet(pools: readonly Pool[], inUse: readonly Cidr[]): Cidr | undefined {
  for (const pool of pools) {
    const range = parseCidr(pool.base);
    const step = 1n << BigInt(bits(range.family) - pool.size);
    for (let base = range.base; base + step - 1n <= last(range); base += step) {
      const candidate: Cidr = { family: range.family, base, prefix: pool.size };
      // a default route (prefix 0) overlaps everything and says nothing about what is taken
      if (!inUse.some((u) => u.prefix > 0 && overlaps(u, candidate))) return candidate;
    }
  }
  return undefined;
}

/** A random IPv6 unique local /64 (RFC 4193: fd + 40 random bits + a subnet id) free of inUse. */
export function pickUlaSubnet(random: () => bigint, inUse: readonly Cidr[]): Cidr {
  for (let attempt = 0; attempt < 16; attempt++) {
    const global = random() & ((1n << 40n) - 1n);
    const candidate: Cidr = { family: 6, base: (0xfdn << 120n) | (global << 80n), prefix: 64 };
    if (!inUse.some((u) => u.prefix > 0 && overlaps(u, candidate))) return candidate;
  }
  throw new Conflict('could not find a free IPv6 unique local subnet');
}

/** What a network's addresses are drawn from, as resolved at network creation. */
export interface SubnetPlan {
  readonly subnet: Cidr;
  readonly gateway: Address;
  /** addresses for containers come from here (the whole subnet when no ip_range was given) */
  readonly range: Cidr;
}

/**
 * Validates a user's ipam entry (subnet, gateway, ip_range) or completes a picked subnet: the
 * gateway defaults to the first host address, the range to the whole subnet.
 */
export function planSubnet(subnet: Cidr, gateway?: string, ipRange?: string): SubnetPlan {
  const minPrefix = subnet.family === 4 ? 30 : 126;
  if (subnet.prefix > minPrefix) throw new InvalidArgument(`subnet ${formatCidr(subnet)} is too small: it leaves no address for containers`);
  let gw: Address = { family: subnet.family, value: subnet.base + 1n };
  if (gateway !== undefined) {
    gw = parseAddress(gateway);
    if (!contains(subnet, gw) || !usable(subnet, gw.value)) throw new InvalidArgument(`gateway ${gateway} is not a usable address of subnet ${formatCidr(subnet)}`);
  }
  let range = subnet;
  if (ipRange !== undefined) {
    range = parseCidr(ipRange);
    if (!within(range, subnet)) throw new InvalidArgument(`ip_range ${ipRange} is not inside subnet ${formatCidr(subnet)}`);
  }
  return { subnet, gateway: gw, range };
}

/** The network and (IPv4) broadcast addresses are never given out. */
function usable(subnet: Cidr, v: bigint): boolean {
  if (v === subnet.base) return false;
  if (subnet.family === 4 && v === last(subnet)) return false;
  return true;
}

/**
 * The next free address of the range after `after` (Docker's serial allocation: a released
 * address is not handed out again until the range wraps, so a recreated container gets a new one
 * and stale caches fail loudly rather than reach another container). Undefined when full.
 */
export function nextAddress(plan: SubnetPlan, used: ReadonlySet<bigint>, after?: bigint): Address | undefined {
  const lo = plan.range.base;
  const hi = last(plan.range);
  const n = hi - lo + 1n;
  const start = after !== undefined && after >= lo && after < hi ? after + 1n : lo;
  for (let i = 0n; i < n; i++) {
    const v = lo + ((start - lo + i) % n);
    if (v === plan.gateway.value || used.has(v) || !usable(plan.subnet, v)) continue;
    return { family: plan.subnet.family, value: v };
  }
  return undefined;
}

/** A requested address (`ipv4_address`): inside the subnet, not the gateway, not in use. */
export function claimAddress(plan: SubnetPlan, used: ReadonlySet<bigint>, text: string): Address {
  const a = parseAddress(text);
  if (!contains(plan.subnet, a) || !usable(plan.subnet, a.value)) throw new InvalidArgument(`address ${text} is not a usable address of subnet ${formatCidr(plan.subnet)}`);
  if (a.value === plan.gateway.value) throw new Conflict(`address ${text} is the network's gateway`);
  if (used.has(a.value)) throw new Conflict(`address ${text} is already in use`);
  return a;
}

/** Docker's MAC for an IPv4 address: 02:42 followed by the four address bytes. */
export function macFromIpv4(a: Address): string {
  const bytes = [0x02n, 0x42n, (a.value >> 24n) & 0xffn, (a.value >> 16n) & 0xffn, (a.value >> 8n) & 0xffn, a.value & 0xffn];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function validateMac(mac: string): string {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) throw new InvalidArgument(`invalid MAC address ${JSON.stringify(mac)}`);
  if ((parseInt(mac.slice(0, 2), 16) & 1) === 1) throw new InvalidArgument(`MAC address ${mac} is a multicast address`);
  return mac.toLowerCase();
}
