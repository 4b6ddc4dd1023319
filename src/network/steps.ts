// The berth-net step lists (native/cmd/net.c) for each facility operation. Pure: records in,
// text out, so the sequence is unit-tested and the same list serves creation and repair (repair
// runs it with every step lenient: what a crash already did is "already so").

export type Step = readonly string[];

export interface BridgeSpec {
  readonly bridge: string;
  /** the gateway with its prefix ("172.18.0.1/16"); absent for an internal network */
  readonly gateway4?: string;
  readonly gateway6?: string;
  readonly mtu?: number;
}

export interface VethSpec {
  readonly hostVeth: string;
  readonly bridge: string;
  /** the namespace file the container side is created in */
  readonly netns: string;
  /** the interface name inside the container (eth0…) */
  readonly ifName: string;
  readonly mac: string;
  /** with prefix: "172.18.0.2/16" */
  readonly address4: string;
  readonly address6?: string;
  /** default routes through this network's gateways (only the first network with one gets them) */
  readonly defaultVia4?: string;
  readonly defaultVia6?: string;
  readonly mtu?: number;
}

export function bridgeSteps(b: BridgeSpec): Step[] {
  const s: Step[] = [['bridge', b.bridge, String(b.mtu ?? 0)]];
  if (b.gateway4) {
    s.push(['addr', b.bridge, b.gateway4]);
    // published ports on the host's loopback are DNATed to this bridge: the kernel must accept
    // 127.0.0.0/8 sources leaving through it (rules.ts masquerades them right after)
    s.push(['write', `/proc/sys/net/ipv4/conf/${b.bridge}/route_localnet`, '1']);
  }
  if (b.gateway6) s.push(['addr', b.bridge, b.gateway6]);
  s.push(['up', b.bridge]);
  return s;
}

export function bridgeRemoveSteps(bridge: string): Step[] {
  return [['del', bridge]];
}

export function vethSteps(v: VethSpec): Step[] {
  const s: Step[] = [
    ['veth', v.hostVeth, v.ifName, v.netns, String(v.mtu ?? 0), v.mac],
    ['master', v.hostVeth, v.bridge],
    // hairpin: with br_netfilter, a container's connection to its own published port is DNATed
    // while being bridged and must go back out of the port it came in by (Docker does the same)
    ['write', `/sys/class/net/${v.hostVeth}/brport/hairpin_mode`, '1'],
    ['up', v.hostVeth],
    ['ns', v.netns],
  ];
  if (v.address6 === undefined) {
    // no IPv6 on this network: no link-local address and no router solicitations either
    // (lenient: a host without IPv6 has no such file)
    s.push(['?write', `/proc/sys/net/ipv6/conf/${v.ifName}/disable_ipv6`, '1']);
  }
  s.push(['addr', v.ifName, v.address4]);
  if (v.address6) s.push(['addr', v.ifName, v.address6]);
  s.push(['up', v.ifName]);
  if (v.defaultVia4) s.push(['route', 'default', v.defaultVia4, v.ifName]);
  if (v.defaultVia6) s.push(['route', 'default', v.defaultVia6, v.ifName]);
  s.push(['ns', '-']);
  return s;
}

/** Deleting the host end deletes the pair (the container end with it). */
export function vethRemoveSteps(hostVeth: string): Step[] {
  return [['del', hostVeth]];
}

/**
 * The text berth-net reads. `lenient` prefixes every step that changes something with `?`
 * (ns switches stay strict: acting in the wrong namespace must never be tolerated).
 */
export function renderSteps(steps: readonly Step[], lenient = false): string {
  return steps.map((s) => {
    for (const f of s) if (/[\t\n]/.test(f)) throw new Error(`a berth-net field holds a TAB or newline: ${JSON.stringify(f)}`);
    return (lenient && s[0] !== 'ns' && !s[0]!.startsWith('?') ? '?' : '') + s.join('\t');
  }).join('\n') + '\n';
}
