// The engine's networking job: it maps what a container asked for (RecordedNetwork, kept in the
// container's record) onto the network facility (src/network: sandboxes, attachments, ports,
// the embedded resolver) and back into what docker shows (inspect's NetworkSettings, ps's
// PORTS). The facility decides nothing about compose; this file decides nothing about kernels.
//
// A container's network lives as long as the container: attach() before runtime.create (the
// namespace, its veths, addresses, routes and names exist before the process does, so the
// command starts with its network in place), detach() after runtime.remove. Stop and start keep
// it (addresses stay). ensure() before every start makes it again when it is gone: a reboot
// empties BERTH_RUN, and a container that joined another's namespace (network_mode service:X)
// follows X when X was recreated.
import type { ContainerNetworkFiles, ContainerRuntime, ContainerView, RecordedNetwork, RecordedPort } from '../runtime/container.js';
import type { NetworkFacility, NetworkRecord, SandboxRecord, NetworkMode, Attachment } from '../network/facility.js';
import type { PortRequest, PublishedPort } from '../network/ports.js';
import { basename } from 'node:path';
import { Conflict, InvalidArgument, NotFound } from '../lib/errors.js';
import type { PortPublisher } from '../api/types.js';

/** The network `run` and `create` attach to without --network (Docker's default bridge). */
export const DEFAULT_BRIDGE = 'bridge';

/** Names docker reserves for network modes: never a network of their own. */
export const RESERVED_NETWORKS: ReadonlySet<string> = new Set(['bridge', 'host', 'none', 'default']);

export interface AttachResult {
  readonly files: ContainerNetworkFiles;
  /** said to the user, never fatal ("published ports are discarded when using host network mode") */
  readonly warnings: readonly string[];
}

/** What the job needs of the runtime: the records and a way to rewrite a container's network files. */
export type NetworkedRuntime = Pick<ContainerRuntime, 'find' | 'list' | 'setNetworkFiles'>;

export class EngineNetworking {
  /** the default bridge's creation, shared by every `run` that needs it meanwhile */
  private defaultBridge?: Promise<NetworkRecord>;

  constructor(readonly facility: NetworkFacility, private readonly runtime: NetworkedRuntime) {}

  /**
   * Makes the container's network before the container exists: its sandbox, one attachment per
   * endpoint (in order: the first is eth0), its published ports; returns the namespace and the
   * two files the runtime writes. Undone entirely when a step fails.
   */
  async attach(containerId: string, intent: RecordedNetwork, identity: { readonly hostname: string; readonly domainname?: string }): Promise<AttachResult> {
    const warnings: string[] = [];
    const mode = this.modeOf(intent);
    if (mode.kind === 'bridge') {
      if (intent.endpoints.length === 0) throw new InvalidArgument('a container on the bridge driver needs at least one network');
      for (const e of intent.endpoints) if (e.network === DEFAULT_BRIDGE) await this.ensureDefaultBridge();
    } else if (intent.ports.length > 0) {
      warnings.push(`Published ports are discarded when using ${mode.kind === 'container' ? 'container' : mode.kind} network mode`);
    }
    await this.facility.createSandbox({
      containerId, mode, hostname: identity.hostname,
      ...(identity.domainname ? { domainname: identity.domainname } : {}),
      ...(intent.dns.length > 0 ? { dns: intent.dns } : {}),
      ...(intent.dnsSearch.length > 0 ? { dnsSearch: intent.dnsSearch } : {}),
      ...(intent.dnsOptions.length > 0 ? { dnsOptions: intent.dnsOptions } : {}),
      ...(intent.extraHosts.length > 0 ? { extraHosts: intent.extraHosts } : {}),
    });
    try {
      if (mode.kind === 'bridge') {
        for (const e of intent.endpoints) {
          await this.facility.connect(containerId, e.network, {
            names: e.names,
            ...(e.ipv4Address ? { ipv4Address: e.ipv4Address } : {}),
            ...(e.ipv6Address ? { ipv6Address: e.ipv6Address } : {}),
            ...(e.macAddress ? { macAddress: e.macAddress } : {}),
            ...(e.interfaceName ? { interfaceName: e.interfaceName } : {}),
            ...(e.defaultRoute !== undefined ? { defaultRoute: e.defaultRoute } : {}),
          });
        }
        if (intent.ports.length > 0) await this.facility.publish(containerId, intent.ports.map(portRequest));
      }
      return { files: this.files(containerId), warnings };
    } catch (err) {
      await this.facility.removeSandbox(containerId).catch(() => { /* repair at the next engine start will */ });
      throw err;
    }
  }

  /** The namespace and files of a container whose sandbox exists. */
  files(containerId: string): ContainerNetworkFiles {
    const s = this.facility.sandbox(containerId);
    const { hosts, resolvConf } = this.facility.containerFiles(containerId);
    return { ...(s.netns !== undefined ? { netns: s.netns } : {}), hosts, resolvConf };
  }

  /** After the container was removed: its sandbox goes (veths, namespace, ports, names). */
  async detach(containerId: string): Promise<void> {
    await this.facility.removeSandbox(containerId);
  }

  /**
   * Before a start: the container's network is there, or is made again from its record. A
   * container that joined another's namespace follows it (network_mode service:X re-resolves X).
   */
  async ensure(containerId: string): Promise<void> {
    const view = this.runtime.find(containerId);
    let intent = view.record.hostConfig.Network;
    if (!intent) return;
    let sandbox: SandboxRecord | undefined = this.sandboxOf(containerId);
    if (intent.joinedService !== undefined) {
      const project = view.record.config.Labels['com.docker.compose.project'] ?? '';
      const target = this.serviceContainer(project, intent.joinedService);
      if (`container:${target}` !== intent.mode) intent = { ...intent, mode: `container:${target}` };
    }
    if (sandbox && intent.mode.startsWith('container:')) {
      const joined = intent.mode.slice('container:'.length);
      const other = this.sandboxOf(joined);
      const stale = sandbox.mode.kind !== 'container' || sandbox.mode.containerId !== joined || !other || other.netns !== sandbox.netns;
      if (stale) {
        await this.facility.removeSandbox(containerId);
        sandbox = undefined;
      }
    }
    if (sandbox) return;
    if (intent.mode.startsWith('container:')) await this.ensure(intent.mode.slice('container:'.length));
    const { files } = await this.attach(containerId, intent, { hostname: view.record.config.Hostname, ...(view.record.config.Domainname ? { domainname: view.record.config.Domainname } : {}) });
    this.runtime.setNetworkFiles(containerId, files, intent);
  }

  /** The container of a project's service another one joins (compose: its first replica). */
  serviceContainer(projectName: string, service: string): string {
    const views = this.runtime.list().filter((v) => v.record.config.Labels['com.docker.compose.project'] === projectName &&
      v.record.config.Labels['com.docker.compose.service'] === service && v.record.config.Labels['com.docker.compose.oneoff'] !== 'True');
    const rank = (v: ContainerView): number => (v.observed.status === 'running' ? 0 : 1);
    views.sort((a, b) => rank(a) - rank(b) || Number(a.record.config.Labels['com.docker.compose.container-number'] ?? 0) - Number(b.record.config.Labels['com.docker.compose.container-number'] ?? 0));
    const hit = views[0];
    if (!hit) throw new NotFound(`service "${service}" has no container to share its network namespace with (network_mode: service:${service})`);
    return hit.record.id;
  }

  sandboxOf(containerId: string): SandboxRecord | undefined {
    try { return this.facility.sandbox(containerId); } catch (err) { if (err instanceof NotFound) return undefined; throw err; }
  }

  private modeOf(intent: RecordedNetwork): NetworkMode {
    if (intent.mode === 'bridge') return { kind: 'bridge' };
    if (intent.mode === 'none') return { kind: 'none' };
    if (intent.mode === 'host') return { kind: 'host' };
    if (intent.mode.startsWith('container:')) {
      const id = intent.mode.slice('container:'.length);
      if (!this.sandboxOf(id)) throw new Conflict(`cannot join the network namespace of container ${id.slice(0, 12)}: it has no network (is it removed?)`);
      return { kind: 'container', containerId: id };
    }
    throw new InvalidArgument(`unknown network mode "${intent.mode}"`);
  }

  /** The default bridge network, made on first use (Docker's `bridge`, with embedded DNS as berth gives every network). */
  ensureDefaultBridge(): Promise<NetworkRecord> {
    try { return Promise.resolve(this.facility.network(DEFAULT_BRIDGE)); } catch (err) { if (!(err instanceof NotFound)) throw err; }
    this.defaultBridge ??= this.facility.createNetwork({ name: DEFAULT_BRIDGE, labels: {} }).finally(() => { this.defaultBridge = undefined; });
    return this.defaultBridge;
  }

  /** At the engine's stop: the default bridge goes when no container uses it (it comes back with the next `run`). */
  async removeIdleDefaultBridge(): Promise<void> {
    let n: NetworkRecord;
    try { n = this.facility.network(DEFAULT_BRIDGE); } catch { return; }
    if (this.facility.sandboxes().some((s) => s.attachments.some((a) => a.networkId === n.id))) return;
    await this.facility.removeNetwork(n.name);
  }

  /** `up`'s check: every port the plan's new containers publish is free (those of containers it removes count as free). */
  async checkPorts(ports: readonly RecordedPort[], releasing: readonly string[]): Promise<void> {
    if (ports.length === 0) return;
    await this.facility.checkPorts(ports.map(portRequest), releasing);
  }

  /** The container's published ports, as the facility decided them. */
  published(containerId: string): readonly PublishedPort[] {
    return this.sandboxOf(containerId)?.ports ?? [];
  }

  /** docker ps's PORTS: "0.0.0.0:8080->80/tcp, :::8080->80/tcp, 443/tcp". */
  portsText(view: ContainerView): string {
    const intent = view.record.hostConfig.Network;
    if (!intent) return '';
    const published = this.published(view.record.id);
    const parts = published.map((p) => `${formatHostIp(p.hostIp, p.family)}:${p.hostPort}->${p.containerPort}/${p.protocol}`);
    const shown = new Set(published.map((p) => `${p.containerPort}/${p.protocol}`));
    for (const e of exposedPorts(intent)) if (!shown.has(e)) { parts.push(e); shown.add(e); }
    return parts.join(', ');
  }

  /** docker compose ps --format json's Publishers: each published port, then exposed ones with no host port. */
  publishers(view: ContainerView): PortPublisher[] {
    const intent = view.record.hostConfig.Network;
    if (!intent) return [];
    const published = this.published(view.record.id);
    const out: PortPublisher[] = published.map((p) => ({ URL: p.hostIp === '' ? (p.family === 4 ? '0.0.0.0' : '::') : p.hostIp, TargetPort: p.containerPort, PublishedPort: p.hostPort, Protocol: p.protocol }));
    const shown = new Set(published.map((p) => `${p.containerPort}/${p.protocol}`));
    for (const e of exposedPorts(intent)) {
      if (shown.has(e)) continue;
      const [port, protocol] = e.split('/');
      out.push({ URL: '', TargetPort: Number(port), PublishedPort: 0, Protocol: protocol ?? 'tcp' });
    }
    return out;
  }

  /** What inspect shows of a container's network, merged into the runtime's document. */
  inspect(doc: Readonly<Record<string, unknown>>, view: ContainerView): Record<string, unknown> {
    const intent = view.record.hostConfig.Network;
    const hostConfig = (doc['HostConfig'] ?? {}) as Record<string, unknown>;
    const config = (doc['Config'] ?? {}) as Record<string, unknown>;
    if (!intent) return { ...doc, NetworkSettings: emptySettings() };
    const sandbox = this.sandboxOf(view.record.id);
    const published = sandbox?.ports ?? [];
    const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
    for (const e of exposedPorts(intent)) ports[e] = null;
    for (const p of published) {
      const key = `${p.containerPort}/${p.protocol}`;
      (ports[key] ??= []).push({ HostIp: p.hostIp === '' ? (p.family === 4 ? '0.0.0.0' : '::') : p.hostIp, HostPort: String(p.hostPort) });
    }
    for (const [k, v] of Object.entries(ports)) if (v === null || v.length === 0) ports[k] = null;
    const networks: Record<string, unknown> = {};
    const attachments = sandbox?.attachments.filter((a) => !a.removing) ?? [];
    for (const a of attachments) {
      const e = intent.endpoints.find((x) => x.network === a.network);
      networks[a.network] = endpointDocument(a, e?.aliases ?? [], e, view.record.id);
    }
    const primary = attachments.find((a) => a.network === DEFAULT_BRIDGE);
    const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of intent.ports) {
      for (let i = 0; i <= p.containerPort.end - p.containerPort.start; i++) {
        const host = p.hostPort ? (p.hostPort.end - p.hostPort.start === p.containerPort.end - p.containerPort.start ? String(p.hostPort.start + i) : `${p.hostPort.start}-${p.hostPort.end}`) : '';
        (portBindings[`${p.containerPort.start + i}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: host });
      }
    }
    const exposed: Record<string, Record<string, never>> = {};
    for (const e of exposedPorts(intent)) exposed[e] = {};
    return {
      ...doc,
      HostConfig: {
        ...hostConfig,
        NetworkMode: networkModeText(intent),
        PortBindings: portBindings,
        Dns: [...intent.dns],
        DnsSearch: [...intent.dnsSearch],
        DnsOptions: [...intent.dnsOptions],
        ExtraHosts: intent.extraHosts.length > 0 ? [...intent.extraHosts] : null,
      },
      Config: {
        ...config,
        Domainname: view.record.config.Domainname ?? '',
        ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
      },
      NetworkSettings: {
        Bridge: '',
        // the namespace file's name: the container's id, or a pre-made sandbox's own (as Docker's, random)
        SandboxID: sandbox?.netns !== undefined && sandbox.ownsNetns ? basename(sandbox.netns) : '',
        SandboxKey: sandbox?.netns ?? '',
        Ports: ports,
        // Docker fills these for the default bridge only (user networks are under Networks)
        Gateway: primary?.gateway4 ?? '',
        IPAddress: primary ? primary.ipv4.split('/')[0]! : '',
        IPPrefixLen: primary ? Number(primary.ipv4.split('/')[1]) : 0,
        MacAddress: primary?.mac ?? '',
        GlobalIPv6Address: primary?.ipv6 ? primary.ipv6.split('/')[0]! : '',
        GlobalIPv6PrefixLen: primary?.ipv6 ? Number(primary.ipv6.split('/')[1]) : 0,
        IPv6Gateway: primary?.gateway6 ?? '',
        Networks: networks,
      },
    };
  }

  /** Engine start: what a crash or a reboot left is finished or undone; sandboxes of unknown containers go. */
  async repair(): Promise<string[]> {
    const known = new Set(this.runtime.list().map((v) => v.record.id));
    return this.facility.repair((id) => known.has(id));
  }
}

function emptySettings(): Record<string, unknown> {
  return { Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', Networks: {} };
}

function endpointDocument(a: Attachment, aliases: readonly string[], e: RecordedNetwork['endpoints'][number] | undefined, containerId: string): Record<string, unknown> {
  return {
    IPAMConfig: e && (e.ipv4Address || e.ipv6Address) ? { ...(e.ipv4Address ? { IPv4Address: e.ipv4Address } : {}), ...(e.ipv6Address ? { IPv6Address: e.ipv6Address } : {}) } : null,
    Links: null,
    Aliases: aliases.length > 0 ? [...aliases] : null,
    MacAddress: a.mac,
    DriverOpts: null,
    GwPriority: a.defaultRoute ? 1 : 0,
    NetworkID: a.networkId,
    EndpointID: `${containerId.slice(0, 32)}${a.networkId.slice(0, 32)}`,
    Gateway: a.gateway4 ?? '',
    IPAddress: a.ipv4.split('/')[0]!,
    IPPrefixLen: Number(a.ipv4.split('/')[1]),
    IPv6Gateway: a.gateway6 ?? '',
    GlobalIPv6Address: a.ipv6 ? a.ipv6.split('/')[0]! : '',
    GlobalIPv6PrefixLen: a.ipv6 ? Number(a.ipv6.split('/')[1]) : 0,
    DNSNames: [...a.names],
  };
}

/** inspect's HostConfig.NetworkMode: the first network's name, or the mode. */
export function networkModeText(intent: RecordedNetwork): string {
  if (intent.mode !== 'bridge') return intent.mode;
  return intent.endpoints[0]?.network ?? DEFAULT_BRIDGE;
}

/** Every container port the container exposes or publishes, as "80/tcp". */
export function exposedPorts(intent: RecordedNetwork): string[] {
  const out = new Set<string>();
  for (const p of intent.ports) for (let port = p.containerPort.start; port <= p.containerPort.end; port++) out.add(`${port}/${p.protocol}`);
  for (const e of intent.expose) out.add(e);
  return [...out];
}

export function portRequest(p: RecordedPort): PortRequest {
  return {
    protocol: p.protocol,
    ...(p.hostIp !== undefined && p.hostIp !== '' ? { hostIp: p.hostIp } : {}),
    ...(p.hostPort ? { hostPort: p.hostPort } : {}),
    containerPort: p.containerPort,
  };
}

/** A host address as docker prints it in PORTS and `port`: "0.0.0.0", "::", "127.0.0.1", "[::1]" for a v6 address of its own. */
export function formatHostIp(hostIp: string, family: 4 | 6): string {
  if (hostIp === '') return family === 4 ? '0.0.0.0' : '::';
  return hostIp.includes(':') ? `[${hostIp}]` : hostIp;
}
