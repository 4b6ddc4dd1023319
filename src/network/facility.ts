// The network facility: bridge networks, container sandboxes (a network namespace made before
// the container's process), attachments, published ports, the embedded resolver's records, and
// repair. The engine's executor is its only intended caller (docs/networking.md, "Wiring into the
// engine"); it takes its own narrow request types, never spec models.
//
// State: networks live under `stateDir` (they and their subnets outlive a reboot); sandboxes
// live under `runDir` with the namespace files (both die with the host). Every operation writes
// its intent first and acts second, so repair() can finish or undo whatever a crash interrupted.
import { mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument, NotFound, SysError, Unsupported } from '../lib/errors.js';
import { readJson, writeJsonAtomic, CorruptFile } from '../lib/atomic.js';
import { runCaptured } from '../sys/spawn.js';
import {
  DEFAULT_POOLS, parseCidr, formatCidr, formatAddress, parseAddress, pickSubnet, pickUlaSubnet, planSubnet,
  nextAddress, claimAddress, macFromIpv4, validateMac, overlaps, type Pool, type Cidr, type SubnetPlan,
} from './ipam.js';
import { bridgeSteps, bridgeRemoveSteps, vethSteps, vethRemoveSteps, renderSteps, type Step } from './steps.js';
import { renderRuleset, type RuleNetwork, type RulePort } from './rules.js';
import { hostNetworks, hostRoutes4, hostLinks, mountPoints, hostHasIpv6, probePort, portHolder } from './host.js';
import { expandPorts, choosePorts, type PortRequest, type PortWant, type PublishedPort } from './ports.js';
import { parseResolvConf, upstreams, renderResolvConf, renderHosts, parseExtraHosts } from './resolv.js';
import { Netd, type NetdEndpoint } from './netd.js';
import { SandboxPool, POOL_ENDPOINT_PREFIX, type SandboxPoolStats } from './pool.js';

export interface NetworkFacilityOptions {
  /** persistent: networks/<name>.json (default <BERTH_ROOT>/network) */
  readonly stateDir: string;
  /** dies with the host: netns/<containerId>, sandboxes/<containerId>.json, netd/ (default <BERTH_RUN>/network) */
  readonly runDir: string;
  /** native/build/berth-net and berth-netd */
  readonly netBin: string;
  readonly netdBin: string;
  /** the nft binary (default "nft" on PATH) */
  readonly nftBin?: string;
  /** berth's nftables table (family inet): every rule berth adds is in it */
  readonly table: string;
  /** bridge and host-side veth names start with these (≤ 7 characters each) */
  readonly bridgePrefix: string;
  readonly vethPrefix: string;
  readonly pools?: readonly Pool[];
  /** the host's resolver configuration (default /etc/resolv.conf) */
  readonly hostResolvConf?: string;
  readonly env: NodeJS.ProcessEnv;
  /** [0, 1): port choice; tests may fix it */
  readonly random?: () => number;
  /**
   * how many pre-made sandboxes to keep (pool.ts; default 0: none). The pool warms on the first
   * bridge-mode sandbox or at warmPool(); stopPool() empties it.
   */
  readonly poolSize?: number;
  /** told about a pool refill that failed */
  readonly log?: (line: string) => void;
}

export interface IpamEntry { readonly subnet?: string; readonly gateway?: string; readonly ipRange?: string }

export interface NetworkCreateRequest {
  readonly name: string;
  readonly internal?: boolean;
  readonly attachable?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  /** at most one IPv4 and one IPv6 entry */
  readonly ipam?: readonly IpamEntry[];
  readonly enableIpv6?: boolean;
  readonly mtu?: number;
}

interface StoredPlan { readonly subnet: string; readonly gateway: string; readonly range: string; readonly lastAllocated?: string }

export interface NetworkRecord {
  readonly id: string;
  readonly name: string;
  readonly bridge: string;
  readonly created: string;
  readonly internal: boolean;
  readonly attachable: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly ipv4: StoredPlan;
  readonly ipv6?: StoredPlan;
  readonly mtu?: number;
  /** set before a removal starts, so that repair finishes it rather than recreating the bridge */
  readonly removing?: boolean;
}

/** Which namespace a container's process joins. */
export type NetworkMode =
  | { readonly kind: 'bridge' }
  | { readonly kind: 'none' }
  | { readonly kind: 'host' }
  | { readonly kind: 'container'; readonly containerId: string };

export interface SandboxRequest {
  readonly containerId: string;
  readonly mode: NetworkMode;
  readonly hostname: string;
  readonly domainname?: string;
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOptions?: readonly string[];
  /** "host:ip" entries; ip may be host-gateway */
  readonly extraHosts?: readonly string[];
}

export interface ConnectRequest {
  /** names the embedded resolver answers for this container on this network (service name,
   *  container name, hostname, aliases, links' aliases): the caller decides, the facility records */
  readonly names: readonly string[];
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
  readonly macAddress?: string;
  /** inside the container; default eth<N> in connection order */
  readonly interfaceName?: string;
  /**
   * this network carries the container's default route (compose gw_priority: the caller picks
   * one). Absent: the first non-internal network connected does. Ignored on an internal network.
   */
  readonly defaultRoute?: boolean;
}

export interface Attachment {
  readonly network: string;
  readonly networkId: string;
  readonly ifName: string;
  readonly hostVeth: string;
  /** with prefix, e.g. 172.18.0.2/16 */
  readonly ipv4: string;
  readonly ipv6?: string;
  readonly mac: string;
  readonly gateway4?: string;
  readonly gateway6?: string;
  /** this network carries the container's default route */
  readonly defaultRoute: boolean;
  readonly names: readonly string[];
  readonly removing?: boolean;
}

export interface SandboxRecord {
  readonly containerId: string;
  readonly mode: NetworkMode;
  /** the namespace file the shim joins (launch directive `netns`); undefined: a fresh one (none) */
  readonly netns?: string;
  /** this sandbox made (and removes) the namespace file */
  readonly ownsNetns: boolean;
  readonly request: SandboxRequest;
  readonly attachments: readonly Attachment[];
  readonly ports: readonly PublishedPort[];
  readonly removing?: boolean;
}

/** What the container's process needs: the namespace to join and its two files. */
export interface SandboxView {
  readonly record: SandboxRecord;
  readonly netns?: string;
}

const ID_RE = /^[0-9a-f]{64}$/;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class NetworkFacility {
  private readonly networksDir: string;
  private readonly sandboxesDir: string;
  private readonly netnsDir: string;
  readonly netd: Netd;
  private readonly random: () => number;
  /** the nft run in progress and the one queued behind it (see applyRules) */
  private rulesRunning?: Promise<void>;
  private rulesQueued?: Promise<void>;
  /** port choices are made one at a time: two publishes probing at once could pick one port */
  private portLock: Promise<unknown> = Promise.resolve();
  /** pre-made namespaces for bridge-mode sandboxes (pool.ts) */
  private readonly pool: SandboxPool;
  /** containers' network operations in flight, and who waits for there to be none (netIdle) */
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: NetworkFacilityOptions) {
    for (const p of [opts.bridgePrefix, opts.vethPrefix]) {
      if (!/^[a-z0-9-]{1,7}$/.test(p)) throw new InvalidArgument(`interface name prefix ${JSON.stringify(p)}: 1-7 of a-z 0-9 -`);
    }
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(opts.table)) throw new InvalidArgument(`nftables table name ${JSON.stringify(opts.table)}`);
    this.networksDir = join(opts.stateDir, 'networks');
    this.sandboxesDir = join(opts.runDir, 'sandboxes');
    this.netnsDir = join(opts.runDir, 'netns');
    this.netd = new Netd(join(opts.runDir, 'netd'), opts.netdBin, opts.env);
    this.random = opts.random ?? Math.random;
    this.pool = new SandboxPool({
      size: opts.poolSize ?? 0, netnsDir: this.netnsDir, markerDir: join(opts.runDir, 'pool'), netd: this.netd,
      net: (steps, lenient) => this.net(steps, lenient),
      idle: () => this.netIdle(),
      ...(opts.log ? { log: opts.log } : {}),
    });
  }

  /** The engine is up: keep pre-made sandboxes from now on if any network exists (else from the first bridge-mode sandbox on). */
  warmPool(): void {
    if (this.networks().length > 0) this.pool.warm();
  }

  /** Engine stop: the idle pre-made sandboxes are deleted (a claimed one is its container's). */
  stopPool(): Promise<void> {
    return this.pool.stop();
  }

  poolStats(): SandboxPoolStats {
    return this.pool.stats();
  }

  // ── host tools ──────────────────────────────────────────────────────────────────────────

  private async net(steps: readonly Step[], lenient = false): Promise<void> {
    if (steps.length === 0) return;
    const r = await runCaptured(this.opts.netBin, [], this.opts.env, renderSteps(steps, lenient));
    if (r.code !== 0) throw new SysError('netlink', steps[0]!.join(' '), 'EFAIL', r.stderr.trim() || `berth-net exited ${r.code}`);
  }

  /** A container's network operation: the pool's refills wait until none is in flight (netIdle). */
  private async foreground<T>(op: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await op();
    } finally {
      if (--this.inFlight === 0 && this.idleWaiters.length > 0) this.wakeIfIdle();
    }
  }

  /**
   * Resolves at a turn of the event loop at which no container's network operation is in flight.
   * The pool's refills wait for this: making a namespace takes kernel locks a container's veth and
   * addresses need (a refill beside a connect slowed that connect from 66 to 159 ms under load).
   * Checked in the loop's check phase (setImmediate), not when the count drops: an attach goes
   * from createSandbox to connect in microtasks, and must not let a refill in between.
   */
  private netIdle(): Promise<void> {
    return new Promise((resolve) => { this.idleWaiters.push(resolve); this.wakeIfIdle(); });
  }

  private wakeIfIdle(): void {
    setImmediate(() => { if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake(); });
  }

  /**
   * Replaces berth's nftables table with the rules for the current state. Calls are coalesced:
   * while one `nft` runs, every caller that arrives waits for one more run, which renders the
   * state as it is when it starts — so an `up` of thirty services that publish ports runs nft a
   * handful of times, not thirty, and a slower run can never overwrite a newer state with an
   * older one (runs never overlap).
   */
  applyRules(): Promise<void> {
    if (!this.rulesRunning) {
      const run = this.runRules().finally(() => { if (this.rulesRunning === run) this.rulesRunning = undefined; });
      this.rulesRunning = run;
      return run;
    }
    this.rulesQueued ??= this.rulesRunning.catch(() => undefined).then(() => {
      this.rulesQueued = undefined;
      return this.applyRules();
    });
    return this.rulesQueued;
  }

  private async runRules(): Promise<void> {
    const networks: RuleNetwork[] = this.networks().filter((n) => !n.removing).map((n) => ({
      bridge: n.bridge, subnet: n.ipv4.subnet, subnet6: n.ipv6?.subnet, internal: n.internal,
    }));
    const ports: RulePort[] = [];
    for (const s of this.sandboxes()) {
      if (s.removing) continue;
      const target = s.attachments.find((a) => !a.removing && a.gateway4 !== undefined);
      if (!target) continue;
      for (const p of s.ports) {
        if (p.family !== 4) continue;
        ports.push({ protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: target.ipv4.split('/')[0]!, containerPort: p.containerPort, bridge: this.network(target.network).bridge });
      }
    }
    if (networks.some((n) => !n.internal)) this.enableForwarding();
    const r = await runCaptured(this.opts.nftBin ?? 'nft', ['-f', '-'], this.opts.env, renderRuleset(this.opts.table, networks, ports));
    if (r.code !== 0) throw new SysError('nft', this.opts.table, 'EFAIL', `nft: ${r.stderr.trim()}`);
  }

  /** Routing between a bridge and the outside needs forwarding on (Docker sets it the same way). */
  private enableForwarding(): void {
    try {
      if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1') writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    } catch (err) {
      throw new SysError('write', '/proc/sys/net/ipv4/ip_forward', (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
    }
  }

  // ── networks ────────────────────────────────────────────────────────────────────────────

  /** Every network whose record reads (a damaged one is left out: see damagedNetworks). */
  networks(): NetworkRecord[] {
    return this.readNetworks().good;
  }

  /**
   * The records that cannot be read (garbage, truncated, not a network), by name, with the error
   * that names the file. One damaged record never hides the other networks; naming it (inspect,
   * create, connect) fails with that error; `network rm` removes it.
   */
  damagedNetworks(): { name: string; error: SysError }[] {
    return this.readNetworks().damaged;
  }

  private readNetworks(): { good: NetworkRecord[]; damaged: { name: string; error: SysError }[] } {
    let names: string[];
    try { names = readdirSync(this.networksDir); } catch { return { good: [], damaged: [] }; }
    const good: NetworkRecord[] = [];
    const damaged: { name: string; error: SysError }[] = [];
    for (const f of names.filter((n) => n.endsWith('.json'))) {
      const file = join(this.networksDir, f);
      try {
        const r = readJson<NetworkRecord>(file);
        if (r === undefined) continue;
        if (typeof r !== 'object' || r === null || typeof r.name !== 'string' || typeof r.id !== 'string' || typeof r.bridge !== 'string' || typeof r.ipv4?.subnet !== 'string') throw new CorruptFile(file, 'not a network record');
        good.push(r);
      } catch (err) {
        if (!(err instanceof SysError)) throw err;
        damaged.push({ name: f.slice(0, -5), error: err });
      }
    }
    return { good, damaged };
  }

  /** By name, id or unique id prefix. */
  network(ref: string): NetworkRecord {
    const { good: all, damaged } = this.readNetworks();
    const hit = all.find((n) => n.name === ref) ?? all.find((n) => n.id === ref);
    if (hit) return hit;
    const bad = damaged.find((d) => d.name === ref);
    if (bad) throw bad.error;
    const prefixed = /^[0-9a-f]+$/.test(ref) ? all.filter((n) => n.id.startsWith(ref)) : [];
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) throw new Conflict(`network ${ref} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    throw new NotFound(`network ${ref} not found`);
  }

  private saveNetwork(n: NetworkRecord): void {
    mkdirSync(this.networksDir, { recursive: true, mode: 0o700 });
    writeJsonAtomic(join(this.networksDir, `${n.name}.json`), n);
  }

  /** Subnets the host or another berth network already uses. */
  private subnetsInUse(except?: string): Cidr[] {
    const ours = this.networks().filter((n) => n.name !== except).flatMap((n) => [n.ipv4.subnet, ...(n.ipv6 ? [n.ipv6.subnet] : [])]).map(parseCidr);
    return [...ours, ...hostNetworks()];
  }

  async createNetwork(req: NetworkCreateRequest): Promise<NetworkRecord> {
    if (!NAME_RE.test(req.name) || req.name.length > 128) throw new InvalidArgument(`invalid network name ${JSON.stringify(req.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (this.networks().some((n) => n.name === req.name)) throw new Conflict(`network with name ${req.name} already exists`);
    const bad = this.damagedNetworks().find((d) => d.name === req.name);
    if (bad) throw new Conflict(`network with name ${req.name} already exists and is damaged (${bad.error.message}): remove it with network rm`);
    const entries = req.ipam ?? [];
    const v4Entries = entries.filter((e) => e.subnet === undefined || !e.subnet.includes(':'));
    const v6Entries = entries.filter((e) => e.subnet !== undefined && e.subnet.includes(':'));
    if (v4Entries.length > 1 || v6Entries.length > 1) throw new Unsupported('more than one IPv4 or IPv6 ipam config per network');
    if (v6Entries.length > 0 && !req.enableIpv6) throw new InvalidArgument(`network ${req.name}: an IPv6 subnet needs enable_ipv6: true`);
    // Another berth root (another engine, a test run) may pick the same free subnet at the same
    // moment: after our bridge has its address, nobody else may route the subnet. If someone
    // does, both back off (after a random pause) and pick again without it.
    const avoid: Cidr[] = [];
    for (let attempt = 0; ; attempt++) {
      const record = this.planNetwork(req, v4Entries[0], v6Entries[0], avoid);
      // intent first: a crash from here on is finished by repair()
      this.saveNetwork(record);
      try {
        await this.net(bridgeSteps(this.bridgeSpec(record)));
        const subnet = parseCidr(record.ipv4.subnet);
        const rival = v4Entries[0]?.subnet ? undefined : hostRoutes4().find((r) => r.dev !== record.bridge && r.cidr.prefix > 0 && overlaps(r.cidr, subnet));
        if (rival && attempt < 5) {
          await this.removeNetwork(record.name);
          avoid.push(subnet);
          await new Promise((r) => setTimeout(r, Math.floor(this.random() * 50)));
          continue;
        }
        await this.applyRules();
      } catch (err) {
        await this.removeNetwork(record.name).catch(() => { /* repair will */ });
        throw err;
      }
      return record;
    }
  }

  private planNetwork(req: NetworkCreateRequest, v4: IpamEntry | undefined, v6: IpamEntry | undefined, avoid: readonly Cidr[]): NetworkRecord {
    const inUse = [...this.subnetsInUse(), ...avoid];
    let subnet4: Cidr;
    if (v4?.subnet) {
      subnet4 = parseCidr(v4.subnet);
      const clash = inUse.find((u) => u.prefix > 0 && overlaps(u, subnet4));
      if (clash) throw new Conflict(`invalid pool request: Pool overlaps with other one on this address space (${formatCidr(subnet4)} overlaps ${formatCidr(clash)})`);
    } else {
      const picked = pickSubnet(this.opts.pools ?? DEFAULT_POOLS, inUse);
      if (!picked) throw new Conflict('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
      subnet4 = picked;
    }
    const plan4 = planSubnet(subnet4, v4?.gateway, v4?.ipRange);
    let plan6: SubnetPlan | undefined;
    if (req.enableIpv6) {
      const subnet6 = v6?.subnet ? parseCidr(v6.subnet) : pickUlaSubnet(() => BigInt('0x' + randomBytes(5).toString('hex')), inUse);
      const clash = inUse.find((u) => u.prefix > 0 && overlaps(u, subnet6));
      if (clash) throw new Conflict(`invalid pool request: Pool overlaps with other one on this address space (${formatCidr(subnet6)} overlaps ${formatCidr(clash)})`);
      plan6 = planSubnet(subnet6, v6?.gateway, v6?.ipRange);
    }
    const id = randomBytes(32).toString('hex');
    return {
      id, name: req.name, bridge: this.opts.bridgePrefix + id.slice(0, 15 - this.opts.bridgePrefix.length),
      created: new Date().toISOString(), internal: req.internal ?? false, attachable: req.attachable ?? false,
      labels: req.labels ?? {}, ipv4: storePlan(plan4), ...(plan6 ? { ipv6: storePlan(plan6) } : {}), ...(req.mtu ? { mtu: req.mtu } : {}),
    };
  }

  private bridgeSpec(n: NetworkRecord): Parameters<typeof bridgeSteps>[0] {
    // Every bridge holds its gateway address, an internal network's too: the route it brings
    // claims the subnet on the host, so another IPAM (another engine, Docker) never picks it, and
    // no one else's masquerade rule for the same subnet can catch this bridge's traffic (with
    // br_netfilter loaded, bridged packets pass the nat hooks). The host stays unreachable from
    // an internal network by the input rule, and its containers get no default route.
    const prefix4 = n.ipv4.subnet.split('/')[1];
    const prefix6 = n.ipv6?.subnet.split('/')[1];
    return {
      bridge: n.bridge,
      gateway4: `${n.ipv4.gateway}/${prefix4}`,
      ...(n.ipv6 ? { gateway6: `${n.ipv6.gateway}/${prefix6}` } : {}),
      ...(n.mtu ? { mtu: n.mtu } : {}),
    };
  }

  async removeNetwork(ref: string): Promise<void> {
    const { good, damaged } = this.readNetworks();
    if (!good.some((n) => n.name === ref || n.id === ref) && damaged.some((d) => d.name === ref)) return this.removeDamagedNetwork(ref, good, damaged.length);
    const n = this.network(ref);
    const users = this.sandboxes().filter((s) => s.attachments.some((a) => a.networkId === n.id && !a.removing));
    if (users.length > 0 && !n.removing) {
      throw new Conflict(`error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.map((s) => s.containerId.slice(0, 12)).join(', ')})`);
    }
    this.saveNetwork({ ...n, removing: true });
    await this.net(bridgeRemoveSteps(n.bridge), true);
    rmSync(join(this.networksDir, `${n.name}.json`), { force: true });
    await this.applyRules();
  }

  /**
   * Removes a network whose record cannot be read: refused while a sandbox is attached to it by
   * name; then the record goes, and its bridge with it — the bridge's name was in the record, so
   * it is found as a link with berth's bridge prefix that no good record names (only when no
   * other record is damaged: another damaged network's bridge must not go with it).
   */
  private async removeDamagedNetwork(name: string, good: readonly NetworkRecord[], damagedCount: number): Promise<void> {
    const users = this.sandboxes().filter((s) => s.attachments.some((a) => a.network === name && !a.removing));
    if (users.length > 0) throw new Conflict(`error while removing network: network ${name} has active endpoints (${users.map((s) => s.containerId.slice(0, 12)).join(', ')})`);
    rmSync(join(this.networksDir, `${name}.json`), { force: true });
    if (damagedCount === 1) {
      const bridges = new Set(good.map((n) => n.bridge));
      const stray = hostLinks().filter((l) => l.startsWith(this.opts.bridgePrefix) && !bridges.has(l));
      if (stray.length > 0) await this.net(stray.map((l) => ['del', l]), true);
    }
    await this.applyRules();
  }

  // ── sandboxes ───────────────────────────────────────────────────────────────────────────

  sandboxes(): SandboxRecord[] {
    let names: string[];
    try { names = readdirSync(this.sandboxesDir); } catch { return []; }
    return names.filter((n) => n.endsWith('.json')).map((n) => readJson<SandboxRecord>(join(this.sandboxesDir, n))).filter((r): r is SandboxRecord => r !== undefined);
  }

  sandbox(containerId: string): SandboxRecord {
    const s = readJson<SandboxRecord>(join(this.sandboxesDir, `${containerId}.json`));
    if (!s) throw new NotFound(`no network sandbox for container ${containerId.slice(0, 12)}`);
    return s;
  }

  private saveSandbox(s: SandboxRecord): void {
    mkdirSync(this.sandboxesDir, { recursive: true, mode: 0o700 });
    writeJsonAtomic(join(this.sandboxesDir, `${s.containerId}.json`), s, { durable: false });
  }

  /**
   * Makes the namespace a container will join (bridge mode: a new one, configured by connect()
   * before the container's process starts). `none` gets no file: the shim makes a fresh
   * namespace with lo only. `host` joins the shim's own namespace; `container:` the other's.
   */
  createSandbox(req: SandboxRequest): Promise<SandboxRecord> {
    return this.foreground(() => this.createSandboxNow(req));
  }

  private async createSandboxNow(req: SandboxRequest): Promise<SandboxRecord> {
    if (!ID_RE.test(req.containerId)) throw new InvalidArgument(`malformed container id ${req.containerId}`);
    if (readJson(join(this.sandboxesDir, `${req.containerId}.json`))) throw new Conflict(`container ${req.containerId.slice(0, 12)} already has a network sandbox`);
    if (req.dns) for (const s of req.dns) parseAddress(s);
    let netns: string | undefined;
    let owns = false;
    let pooled: string | undefined;
    switch (req.mode.kind) {
      case 'bridge': {
        // a pre-made namespace when one is ready (never given twice: take() hands each out once)
        const member = this.pool.take();
        this.pool.warm();
        pooled = member?.id;
        netns = member?.path ?? join(this.netnsDir, req.containerId);
        owns = true;
        break;
      }
      case 'host': netns = '/proc/self/ns/net'; break;
      case 'none': netns = undefined; break;
      case 'container': {
        const other = this.sandbox(req.mode.containerId);
        if (!other.netns) throw new Conflict(`cannot join the network of container ${req.mode.containerId.slice(0, 12)}: it has none (network_mode none)`);
        netns = other.netns;
        break;
      }
    }
    const record: SandboxRecord = { containerId: req.containerId, mode: req.mode, ...(netns ? { netns } : {}), ownsNetns: owns, request: req, attachments: [], ports: [] };
    // intent first: from here the namespace file is this sandbox's (a crash leaves it to repair)
    try {
      this.saveSandbox(record);
    } catch (err) {
      // a member taken but not recorded is no one's: deleted now (the pool never gets it back)
      if (pooled !== undefined) {
        this.netd.remove(POOL_ENDPOINT_PREFIX + pooled);
        await this.net([['netns_delete', netns!]], true).then(() => this.pool.unmark(pooled!), () => { /* repair will */ });
      }
      throw err;
    }
    if (pooled !== undefined) {
      // the resolver's sockets in it pass to the container's endpoint in one rename, so the daemon
      // never sees a moment with nothing to serve (it would exit, and connect start it again)
      this.netd.rename(POOL_ENDPOINT_PREFIX + pooled, req.containerId);
      this.pool.unmark(pooled);
    } else if (owns) {
      mkdirSync(this.netnsDir, { recursive: true, mode: 0o700 });
      try {
        await this.net([['netns_create', netns!]]);
      } catch (err) {
        rmSync(join(this.sandboxesDir, `${req.containerId}.json`), { force: true });
        throw err;
      }
    }
    return record;
  }

  connect(containerId: string, networkRef: string, req: ConnectRequest): Promise<Attachment> {
    return this.foreground(() => this.connectNow(containerId, networkRef, req));
  }

  private async connectNow(containerId: string, networkRef: string, req: ConnectRequest): Promise<Attachment> {
    const s = this.sandbox(containerId);
    const n = this.network(networkRef);
    if (s.mode.kind !== 'bridge' || !s.netns) throw new Conflict(`container ${containerId.slice(0, 12)} uses network_mode ${s.mode.kind}: it cannot be connected to a network`);
    if (n.removing) throw new NotFound(`network ${n.name} not found`);
    if (s.attachments.some((a) => a.networkId === n.id)) throw new Conflict(`endpoint with name ${containerId.slice(0, 12)} already exists in network ${n.name}`);
    const used4 = this.usedAddresses(n, 4);
    const plan4 = loadPlan(n.ipv4);
    const addr4 = req.ipv4Address !== undefined ? claimAddress(plan4, used4, req.ipv4Address) : nextAddress(plan4, used4, n.ipv4.lastAllocated !== undefined ? parseAddress(n.ipv4.lastAllocated).value : undefined);
    if (!addr4) throw new Conflict(`no available IPv4 addresses on network ${n.name}`);
    let addr6: string | undefined;
    if (n.ipv6) {
      const plan6 = loadPlan(n.ipv6);
      const used6 = this.usedAddresses(n, 6);
      const a6 = req.ipv6Address !== undefined ? claimAddress(plan6, used6, req.ipv6Address) : nextAddress(plan6, used6, n.ipv6.lastAllocated !== undefined ? parseAddress(n.ipv6.lastAllocated).value : undefined);
      if (!a6) throw new Conflict(`no available IPv6 addresses on network ${n.name}`);
      addr6 = formatAddress(a6);
    } else if (req.ipv6Address !== undefined) {
      throw new InvalidArgument(`network ${n.name} has no IPv6 (enable_ipv6)`);
    }
    const ifName = req.interfaceName ?? this.nextIfName(s);
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(ifName) || ifName === 'lo') throw new InvalidArgument(`invalid interface name ${JSON.stringify(ifName)}`);
    if (s.attachments.some((a) => a.ifName === ifName)) throw new Conflict(`interface name ${ifName} is already in use in container ${containerId.slice(0, 12)}`);
    for (const name of req.names) if (!/^[a-zA-Z0-9_.-]{1,253}$/.test(name)) throw new InvalidArgument(`invalid DNS name ${JSON.stringify(name)}`);
    const prefix4 = n.ipv4.subnet.split('/')[1];
    const hasDefault = s.attachments.some((a) => a.defaultRoute && !a.removing);
    const attachment: Attachment = {
      network: n.name, networkId: n.id, ifName,
      hostVeth: this.opts.vethPrefix + randomBytes(8).toString('hex').slice(0, 15 - this.opts.vethPrefix.length),
      ipv4: `${formatAddress(addr4)}/${prefix4}`,
      ...(addr6 ? { ipv6: `${addr6}/${n.ipv6!.subnet.split('/')[1]}` } : {}),
      mac: req.macAddress !== undefined ? validateMac(req.macAddress) : macFromIpv4(addr4),
      ...(n.internal ? {} : { gateway4: n.ipv4.gateway, ...(n.ipv6 ? { gateway6: n.ipv6.gateway } : {}) }),
      defaultRoute: !n.internal && (req.defaultRoute ?? !hasDefault),
      names: [...new Set(req.names)],
    };
    // intent first: the address is taken once this file is written
    const updated: SandboxRecord = { ...s, attachments: [...s.attachments, attachment] };
    this.saveSandbox(updated);
    this.saveNetwork({ ...n, ipv4: { ...n.ipv4, lastAllocated: formatAddress(addr4) }, ...(n.ipv6 && addr6 ? { ipv6: { ...n.ipv6, lastAllocated: addr6 } } : {}) });
    try {
      await this.net(vethSteps(this.vethSpec(updated, attachment, n)));
    } catch (err) {
      await this.disconnect(containerId, n.name).catch(() => { /* repair will */ });
      throw err;
    }
    await this.publishRecords(updated);
    return attachment;
  }

  private vethSpec(s: SandboxRecord, a: Attachment, n: NetworkRecord): Parameters<typeof vethSteps>[0] {
    return {
      hostVeth: a.hostVeth, bridge: n.bridge, netns: s.netns!, ifName: a.ifName, mac: a.mac, address4: a.ipv4,
      ...(a.ipv6 ? { address6: a.ipv6 } : {}),
      ...(a.defaultRoute && a.gateway4 ? { defaultVia4: a.gateway4 } : {}),
      ...(a.defaultRoute && a.gateway6 ? { defaultVia6: a.gateway6 } : {}),
      ...(n.mtu ? { mtu: n.mtu } : {}),
    };
  }

  private nextIfName(s: SandboxRecord): string {
    for (let i = 0; ; i++) if (!s.attachments.some((a) => a.ifName === `eth${i}`)) return `eth${i}`;
  }

  private usedAddresses(n: NetworkRecord, family: 4 | 6): Set<bigint> {
    const used = new Set<bigint>();
    for (const s of this.sandboxes()) {
      for (const a of s.attachments) {
        if (a.networkId !== n.id) continue;
        const text = family === 4 ? a.ipv4 : a.ipv6;
        if (text) used.add(parseAddress(text.split('/')[0]!).value);
      }
    }
    return used;
  }

  disconnect(containerId: string, networkRef: string): Promise<void> {
    return this.foreground(() => this.disconnectNow(containerId, networkRef));
  }

  private async disconnectNow(containerId: string, networkRef: string): Promise<void> {
    const s = this.sandbox(containerId);
    const n = this.networks().find((x) => x.name === networkRef || x.id === networkRef);
    const a = s.attachments.find((x) => x.network === networkRef || x.networkId === networkRef || (n !== undefined && x.networkId === n.id));
    if (!a) throw new NotFound(`container ${containerId.slice(0, 12)} is not connected to network ${networkRef}`);
    this.saveSandbox({ ...s, attachments: s.attachments.map((x) => (x === a ? { ...x, removing: true } : x)) });
    await this.net(vethRemoveSteps(a.hostVeth), true);
    const after: SandboxRecord = { ...s, attachments: s.attachments.filter((x) => x !== a) };
    this.saveSandbox(after);
    await this.publishRecords(after);
    if (s.ports.length > 0) await this.applyRules();
  }

  /**
   * Publishes ports: host ports are chosen (random ones from the ephemeral range) among those
   * the host can bind and no other mapping holds, then NAT rules are applied and berth-netd
   * holds the ports bound. Returns the decided mappings (what `port` shows).
   */
  publish(containerId: string, requests: readonly PortRequest[]): Promise<PublishedPort[]> {
    return this.foreground(() => this.publishNow(containerId, requests));
  }

  private async publishNow(containerId: string, requests: readonly PortRequest[]): Promise<PublishedPort[]> {
    const chosen = await this.locked(async () => {
      const s = this.sandbox(containerId);
      if (s.mode.kind !== 'bridge') throw new Conflict(`published ports are discarded when using ${s.mode.kind} network mode`);
      if (!s.attachments.some((a) => a.gateway4 !== undefined)) throw new Conflict(`container ${containerId.slice(0, 12)} is on no network with a way out: ports cannot be published`);
      const ports = await this.choose(requests);
      // recorded before the lock is released: the next choice sees these ports as taken
      this.saveSandbox({ ...s, ports: [...s.ports, ...ports] });
      return ports;
    });
    await this.applyRules();
    await this.publishRecords(this.sandbox(containerId));
    return chosen;
  }

  /**
   * Would these ports be free now? For `up`'s check before anything is created: throws the
   * error publish() would, naming the process that holds the port when it can be found. The
   * ports of the containers in `releasing` (those `up` removes before it creates) count as free.
   * Every request is checked together, so two of them asking for one port conflict too.
   */
  async checkPorts(requests: readonly PortRequest[], releasing: readonly string[] = []): Promise<void> {
    await this.locked(() => this.choose(requests, new Set(releasing)));
  }

  private locked<T>(work: () => Promise<T>): Promise<T> {
    const run = this.portLock.then(work, work);
    this.portLock = run.catch(() => undefined);
    return run;
  }

  private async choose(requests: readonly PortRequest[], releasing: ReadonlySet<string> = new Set()): Promise<PublishedPort[]> {
    const key = (protocol: string, family: number, port: number): string => `${protocol}/${family}/${port}`;
    const ours = new Set<string>();
    const released = new Set<string>();
    for (const s of this.sandboxes()) {
      for (const p of s.ports) (releasing.has(s.containerId) ? released : ours).add(key(p.protocol, p.family, p.hostPort));
    }
    const wants = expandPorts(requests, hostHasIpv6());
    // a port berth-netd holds for a container being released cannot be bound now, yet is free
    // once that container is gone: it counts as free without a probe
    const free = async (w: PortWant, port: number): Promise<boolean> => {
      const k = key(w.protocol, w.family, port);
      if (ours.has(k)) return false;
      return released.has(k) || await probePort(w.protocol, w.family, w.hostIp, port);
    };
    try {
      return await choosePorts(wants, free, this.random);
    } catch (err) {
      const m = err instanceof Conflict ? /:(\d+)\/(tcp|udp) failed/.exec(err.message) : null;
      const holder = m ? portHolder(m[2] as 'tcp' | 'udp', Number(m[1])) : undefined;
      if (m && holder) throw new Conflict(`${err instanceof Error ? err.message : String(err)} (held by process ${holder.pid}, ${holder.command})`);
      throw err;
    }
  }

  async unpublish(containerId: string): Promise<void> {
    const s = this.sandbox(containerId);
    if (s.ports.length === 0) return;
    const updated = { ...s, ports: [] };
    this.saveSandbox(updated);
    await this.applyRules();
    await this.publishRecords(updated);
  }

  /** Everything of the sandbox goes: resolver records, veths, ports, the namespace file. */
  removeSandbox(containerId: string): Promise<void> {
    return this.foreground(() => this.removeSandboxNow(containerId));
  }

  private async removeSandboxNow(containerId: string): Promise<void> {
    let s: SandboxRecord;
    try { s = this.sandbox(containerId); } catch (err) { if (err instanceof NotFound) return; throw err; }
    this.saveSandbox({ ...s, removing: true });
    this.netd.remove(containerId);
    const steps: Step[] = s.attachments.flatMap((a) => vethRemoveSteps(a.hostVeth));
    if (s.ownsNetns && s.netns) steps.push(['netns_delete', s.netns]);
    await this.net(steps, true);
    rmSync(join(this.sandboxesDir, `${containerId}.json`), { force: true });
    if (s.ports.length > 0) await this.applyRules();
    // its names stop resolving before this returns (and a daemon left with nothing exits)
    await this.netd.settled({ id: containerId, present: false });
  }

  /** The container's /etc/hosts and /etc/resolv.conf, from its sandbox (after its connects). */
  containerFiles(containerId: string): { hosts: string; resolvConf: string } {
    let s = this.sandbox(containerId);
    if (s.mode.kind === 'container') s = this.sandbox(s.mode.containerId);
    const req = s.request;
    const host = parseResolvConf(this.readHostResolvConf());
    const first = s.attachments.find((a) => !a.removing);
    const gateway = s.attachments.find((a) => a.gateway4 !== undefined)?.gateway4;
    const extra = parseExtraHosts(req.extraHosts ?? [], gateway);
    if (s.mode.kind === 'host') {
      return { hosts: renderHosts({ hostname: req.hostname }, extra), resolvConf: this.readHostResolvConf() };
    }
    const embedded = s.mode.kind === 'bridge';
    return {
      hosts: renderHosts({ ...(first ? { ip: first.ipv4.split('/')[0]! } : {}), hostname: req.hostname, ...(req.domainname ? { domainname: req.domainname } : {}) }, extra),
      resolvConf: renderResolvConf(host, { embedded, ...(req.dns ? { dns: req.dns } : {}), ...(req.dnsSearch ? { dnsSearch: req.dnsSearch } : {}), ...(req.dnsOptions ? { dnsOptions: req.dnsOptions } : {}) }),
    };
  }

  private readHostResolvConf(): string {
    try { return readFileSync(this.opts.hostResolvConf ?? '/etc/resolv.conf', 'utf8'); } catch { return ''; }
  }

  /** Writes the sandbox's endpoint file for berth-netd (or removes it when it has nothing to serve). */
  private async publishRecords(s: SandboxRecord, wait = true): Promise<void> {
    const live = s.attachments.filter((a) => !a.removing);
    const present = !(s.removing || !s.netns || s.mode.kind !== 'bridge' || (live.length === 0 && s.ports.length === 0));
    if (present) this.netd.write(s.containerId, this.endpoint(s));
    else this.netd.remove(s.containerId);
    if (wait) await this.netd.settled({ id: s.containerId, present });
  }

  private endpoint(s: SandboxRecord): NetdEndpoint {
    const live = s.attachments.filter((a) => !a.removing);
    const host = parseResolvConf(this.readHostResolvConf());
    // a container only on internal networks gets no answers from outside (Docker does the same)
    const outside = live.some((a) => a.gateway4 !== undefined);
    const target = live.find((a) => a.gateway4 !== undefined);
    return {
      netns: s.netns!,
      upstreams: outside ? upstreams(host, s.request.dns) : [],
      search: (s.request.dnsSearch ?? host.search).filter((d) => d !== '.' && d !== ''),
      networks: live.map((a) => ({ id: a.networkId, names: a.names, addresses: [a.ipv4.split('/')[0]!, ...(a.ipv6 ? [a.ipv6.split('/')[0]!] : [])] })),
      holds: s.ports.map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, family: p.family, port: p.hostPort })),
      proxies: target ? s.ports.filter((p) => p.family === 6).map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, port: p.hostPort, target: target.ipv4.split('/')[0]!, targetPort: p.containerPort })) : [],
    };
  }

  // ── repair ──────────────────────────────────────────────────────────────────────────────

  /**
   * Brings the host back to the recorded state after a crash at any point, and removes what no
   * record explains: networks being removed are removed; every other network's bridge is made
   * again if missing; sandboxes whose namespace is gone (a reboot, a crash before it was made) or
   * that `keep` rejects are removed; the others' attachments are replayed; links with berth's
   * prefixes and namespace files that no record names are deleted; the rules and the resolver's
   * records are rewritten from the records. Returns what it did, one line per action.
   */
  async repair(keep: (containerId: string) => boolean = () => true): Promise<string[]> {
    const done: string[] = [];
    const links = new Set(hostLinks());
    for (const n of this.networks()) {
      if (n.removing) { await this.removeNetwork(n.name); done.push(`removed network ${n.name}`); continue; }
      // a bridge that exists is left alone (an engine restart costs no process per network);
      // a missing one (a reboot, a crash mid-create) is made again, every step lenient
      if (!links.has(n.bridge)) {
        await this.net(bridgeSteps(this.bridgeSpec(n)), true);
        done.push(`made bridge ${n.bridge} of network ${n.name} again`);
      }
    }
    const mounts = mountPoints();
    for (const s of this.sandboxes()) {
      // a namespace file no longer mounted (a reboot, a crash before it was made) is dead, and so
      // is a sandbox that joined another container's namespace file that is gone
      const dead = s.netns !== undefined && s.netns.startsWith(this.netnsDir) && !mounts.has(s.netns);
      if (s.removing || dead || !keep(s.containerId)) {
        await this.removeSandbox(s.containerId);
        done.push(`removed sandbox ${s.containerId.slice(0, 12)}`);
        continue;
      }
      for (const a of s.attachments) {
        if (a.removing) {
          await this.net(vethRemoveSteps(a.hostVeth), true);
          this.saveSandbox({ ...this.sandbox(s.containerId), attachments: this.sandbox(s.containerId).attachments.filter((x) => x.hostVeth !== a.hostVeth) });
          done.push(`removed attachment ${s.containerId.slice(0, 12)}/${a.network}`);
          continue;
        }
        const n = this.networks().find((x) => x.id === a.networkId);
        if (n && !links.has(a.hostVeth)) {
          await this.net(vethSteps(this.vethSpec(s, a, n)), true);
          done.push(`made attachment ${s.containerId.slice(0, 12)}/${a.network} again`);
        }
      }
    }
    // what no record explains (while a network record is damaged, its bridge cannot be told
    // from a stray one: bridges are left alone then, until `network rm` of the damaged one)
    const bridges = new Set(this.networks().map((n) => n.bridge));
    const keepBridges = this.damagedNetworks().length > 0;
    for (const d of this.damagedNetworks()) done.push(`network ${d.name} is damaged: ${d.error.message} (network rm ${d.name} removes it)`);
    const veths = new Set(this.sandboxes().flatMap((s) => s.attachments.map((a) => a.hostVeth)));
    const stray = hostLinks().filter((l) => (l.startsWith(this.opts.bridgePrefix) && !bridges.has(l) && !keepBridges) || (l.startsWith(this.opts.vethPrefix) && !veths.has(l)));
    if (stray.length > 0) {
      await this.net(stray.flatMap((l) => [['del', l]]), true);
      done.push(...stray.map((l) => `deleted link ${l}`));
    }
    const namespaces = new Set(this.sandboxes().map((s) => s.netns));
    let files: string[] = [];
    try { files = readdirSync(this.netnsDir); } catch { /* none */ }
    for (const f of files) {
      const path = join(this.netnsDir, f);
      if (namespaces.has(path) || this.pool.holds(path)) continue;
      await this.net([['netns_delete', path]], true);
      done.push(`deleted namespace ${f}`);
    }
    // a pre-made sandbox of an engine that died: its namespace went above (no record names it)
    let markers: string[] = [];
    try { markers = readdirSync(join(this.opts.runDir, 'pool')); } catch { /* none */ }
    for (const id of markers) {
      if (this.pool.holds(join(this.netnsDir, id))) continue;
      this.pool.unmark(id);
      done.push(`removed pre-made sandbox ${id.slice(0, 12)}`);
    }
    for (const id of this.netd.list()) {
      if (id.startsWith(POOL_ENDPOINT_PREFIX) && this.pool.holds(join(this.netnsDir, id.slice(POOL_ENDPOINT_PREFIX.length)))) continue;
      if (!this.sandboxes().some((s) => s.containerId === id)) { this.netd.remove(id); done.push(`removed resolver records of ${id.slice(0, 12)}`); }
    }
    // the rules and the resolver's records are rewritten from the records (nothing to do for a
    // host berth never networked: no nft process on such an engine's start)
    if (this.networks().length > 0 || done.length > 0) await this.applyRules();
    const sandboxes = this.sandboxes();
    for (const s of sandboxes) await this.publishRecords(s, false);
    if (sandboxes.length > 0) await this.netd.settled();
    return done;
  }
}


function storePlan(p: SubnetPlan): StoredPlan {
  return { subnet: formatCidr(p.subnet), gateway: formatAddress(p.gateway), range: formatCidr(p.range) };
}

function loadPlan(p: StoredPlan): SubnetPlan {
  return { subnet: parseCidr(p.subnet), gateway: parseAddress(p.gateway), range: parseCidr(p.range) };
}
