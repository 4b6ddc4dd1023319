// berth's packet filter and NAT rules, rendered as one nftables table from the facility's state.
// Pure: the same state always gives the same text (the golden form of the unit tests), and the
// whole table is replaced in one `nft -f` transaction, so there is never a half-applied rule set
// and repair is "render from state, apply" (docs/networking.md).

export interface RuleNetwork {
  /** the Linux bridge */
  readonly bridge: string;
  readonly subnet: string;
  readonly subnet6?: string;
  /** no way out: no masquerade, nothing forwarded out of the bridge, nothing to the host */
  readonly internal: boolean;
}

export interface RulePort {
  readonly protocol: 'tcp' | 'udp';
  /** an IPv4 host address, or '' for every local address */
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerIp: string;
  readonly containerPort: number;
  /** the bridge the container address is on */
  readonly bridge: string;
}

const q = (name: string): string => JSON.stringify(name);

/**
 * The nft script that replaces table `inet <table>` with the rules for these networks and ports
 * (or removes it when there are none). Creating the table empty first makes `delete` succeed
 * whether or not it existed; the three statements are one transaction.
 */
export function renderRuleset(table: string, networks: readonly RuleNetwork[], ports: readonly RulePort[]): string {
  const head = `table inet ${table}\ndelete table inet ${table}\n`;
  if (networks.length === 0) return head;
  const sorted = [...networks].sort((a, b) => (a.bridge < b.bridge ? -1 : a.bridge > b.bridge ? 1 : 0));
  const L: string[] = [`table inet ${table} {`];

  // ── filter: what may cross a berth bridge ──
  L.push('\tchain forward {', '\t\ttype filter hook forward priority filter; policy accept;');
  // Order matters across networks, not only within one: every rule about what may *enter* a
  // bridge comes before any rule that lets traffic *leave* one, or a packet from network b to
  // network a would be accepted by b's "out" rule before a's "in" drop is reached.
  for (const n of sorted) L.push(`\t\tiifname ${q(n.bridge)} oifname ${q(n.bridge)} accept`);
  for (const n of sorted) {
    if (n.internal) continue;
    L.push(`\t\toifname ${q(n.bridge)} ct state established,related accept`);
    L.push(`\t\toifname ${q(n.bridge)} ct status dnat accept`);
  }
  // isolation: nothing else enters a network (other berth networks, the outside)
  for (const n of sorted) L.push(`\t\toifname ${q(n.bridge)} drop`);
  for (const n of sorted) L.push(n.internal ? `\t\tiifname ${q(n.bridge)} drop` : `\t\tiifname ${q(n.bridge)} accept`);
  L.push('\t}');
  const internal = sorted.filter((n) => n.internal);
  if (internal.length > 0) {
    // an internal network's containers cannot reach the host either: not its bridge's address,
    // nor any of the host's other addresses
    L.push('\tchain input {', '\t\ttype filter hook input priority filter; policy accept;');
    for (const n of internal) L.push(`\t\tiifname ${q(n.bridge)} drop`);
    L.push('\t}');
  }

  // ── nat: published ports (DNAT) and the way out (masquerade) ──
  const byHostPort = [...ports].sort((a, b) => a.hostPort - b.hostPort || a.protocol.localeCompare(b.protocol) || a.hostIp.localeCompare(b.hostIp));
  L.push('\tchain ports {');
  for (const p of byHostPort) {
    const dst = p.hostIp === '' || p.hostIp === '0.0.0.0' ? '' : `ip daddr ${p.hostIp} `;
    L.push(`\t\t${dst}${p.protocol} dport ${p.hostPort} dnat ip to ${p.containerIp}:${p.containerPort}`);
  }
  L.push('\t}');
  L.push('\tchain prerouting {', '\t\ttype nat hook prerouting priority dstnat; policy accept;', '\t\tfib daddr type local jump ports', '\t}');
  // locally generated connections (the host's own loopback included) meet the same map
  L.push('\tchain output {', '\t\ttype nat hook output priority -100; policy accept;', '\t\tfib daddr type local jump ports', '\t}');
  L.push('\tchain postrouting {', '\t\ttype nat hook postrouting priority srcnat; policy accept;');
  for (const n of sorted) {
    if (n.internal) continue;
    const br = q(n.bridge);
    L.push(`\t\tip saddr ${n.subnet} oifname != ${br} masquerade`);
    if (n.subnet6) L.push(`\t\tip6 saddr ${n.subnet6} oifname != ${br} masquerade`);
    // a connection to a published port on the host's loopback: the container must see a source
    // it can answer (the bridge's address), not 127.0.0.1 (route_localnet lets it leave lo)
    L.push(`\t\toifname ${br} ip saddr 127.0.0.0/8 masquerade`);
  }
  const hairpins = new Set(byHostPort.map((p) => `ip saddr ${p.containerIp} ip daddr ${p.containerIp} ${p.protocol} dport ${p.containerPort} masquerade`));
  // hairpin: a container reaching its own published port through a host address
  for (const h of hairpins) L.push(`\t\t${h}`);
  L.push('\t}', '}');
  return head + L.join('\n') + '\n';
}
