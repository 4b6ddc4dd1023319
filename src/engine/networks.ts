// The network verbs (`network ls|create|rm|inspect|connect|disconnect|prune`) and `port`, as the
// engine implements them: flags in (as the user typed them, checked here as Docker's daemon
// does), the network facility and the engine's networking job underneath, Docker-shaped answers.
import { createHash } from 'node:crypto';
import type { EngineApi } from '../api/engine-api.js';
import type { NetworkConnectOptions, NetworkCreateOptions, NetworkDisconnectOptions, NetworkSummary, PublishedPortRow } from '../api/types.js';
import type { NetworkRecord, IpamEntry } from '../network/facility.js';
import { Conflict, InvalidArgument, NotFound, Unsupported } from '../lib/errors.js';
import type { ContainerRuntime } from '../runtime/container.js';
import { DEFAULT_BRIDGE, type EngineNetworking } from './networking.js';
import { LABEL } from './service-container.js';

export type NetworkVerbs = Pick<EngineApi, 'networkList' | 'networkCreate' | 'networkInspect' | 'networkRemove' | 'networkConnect' | 'networkDisconnect' | 'networkPrune' | 'containerPort'>;

/** The two networks that are modes, not bridges: listed and inspected as Docker shows them, never created or removed. */
const PSEUDO: Readonly<Record<string, string>> = { host: 'host', none: 'null' };

function pseudoId(name: string): string {
  return createHash('sha256').update(`berth-network-${name}`).digest('hex');
}

function labelsOf(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const at = l.indexOf('=');
    out[at < 0 ? l : l.slice(0, at)] = at < 0 ? '' : l.slice(at + 1);
  }
  return out;
}

export function networkVerbs(runtime: ContainerRuntime, networking: EngineNetworking): NetworkVerbs {
  const facility = networking.facility;

  const summary = (n: NetworkRecord): NetworkSummary => ({
    id: n.id, name: n.name, driver: 'bridge', scope: 'local', internal: n.internal, ipv6: n.ipv6 !== undefined, created: n.created, labels: n.labels,
  });

  /** A network by name, id or unique id prefix; NotFound in Docker's words. */
  const find = (ref: string): NetworkRecord => {
    const n = facility.network(ref);
    if (n.removing) throw new NotFound(`network ${ref} not found`);
    return n;
  };

  const usedBy = (n: NetworkRecord): string[] => facility.sandboxes().filter((s) => s.attachments.some((a) => a.networkId === n.id && !a.removing)).map((s) => s.containerId);

  return {
    async networkList() {
      const out = facility.networks().filter((n) => !n.removing).map(summary);
      for (const [name, driver] of Object.entries(PSEUDO)) out.push({ id: pseudoId(name), name, driver, scope: 'local', internal: false, ipv6: false, created: '', labels: {} });
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async networkCreate(o: NetworkCreateOptions) {
      if (o.driver !== undefined && o.driver !== 'bridge') throw new Unsupported(`network driver "${o.driver}" is not supported: berth's networks use the bridge driver`);
      if (Object.hasOwn(PSEUDO, o.name) || o.name === DEFAULT_BRIDGE) throw new Conflict(`network with name ${o.name} already exists`);
      if (o.gateways.length > o.subnets.length || o.ipRanges.length > o.subnets.length) throw new InvalidArgument('every --gateway and --ip-range needs a --subnet it belongs to');
      const ipam: IpamEntry[] = o.subnets.map((subnet) => {
        const v6 = subnet.includes(':');
        const inFamily = (a: string): boolean => a.includes(':') === v6;
        const gateway = o.gateways.find(inFamily);
        const ipRange = o.ipRanges.find(inFamily);
        return { subnet, ...(gateway ? { gateway } : {}), ...(ipRange ? { ipRange } : {}) };
      });
      const options = labelsOf(o.options);
      let mtu: number | undefined;
      for (const [k, v] of Object.entries(options)) {
        if (k === 'com.docker.network.driver.mtu') {
          mtu = Number(v);
          if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidArgument(`invalid MTU "${v}": expected an integer from 68 to 65535`);
        } else {
          throw new Unsupported(`network option "${k}" is not supported (com.docker.network.driver.mtu is)`);
        }
      }
      const n = await facility.createNetwork({
        name: o.name, internal: o.internal, attachable: o.attachable, labels: labelsOf(o.labels),
        ...(ipam.length > 0 ? { ipam } : {}), ...(o.ipv6 ? { enableIpv6: true } : {}), ...(mtu !== undefined ? { mtu } : {}),
      });
      return { id: n.id };
    },

    async networkInspect(ref) {
      if (Object.hasOwn(PSEUDO, ref)) {
        return { Name: ref, Id: pseudoId(ref), Created: '', Scope: 'local', Driver: PSEUDO[ref], EnableIPv6: false, IPAM: { Driver: 'default', Options: null, Config: null }, Internal: false, Attachable: false, Ingress: false, Containers: {}, Options: {}, Labels: {} };
      }
      const n = find(ref);
      const containers: Record<string, unknown> = {};
      for (const s of facility.sandboxes()) {
        const a = s.attachments.find((x) => x.networkId === n.id && !x.removing);
        if (!a) continue;
        let name = '';
        try { name = runtime.find(s.containerId).record.name; } catch { /* being removed */ }
        containers[s.containerId] = { Name: name, EndpointID: `${s.containerId.slice(0, 32)}${n.id.slice(0, 32)}`, MacAddress: a.mac, IPv4Address: a.ipv4, IPv6Address: a.ipv6 ?? '' };
      }
      const config = [n.ipv4, ...(n.ipv6 ? [n.ipv6] : [])].map((p) => ({ Subnet: p.subnet, ...(n.internal ? {} : { Gateway: p.gateway }), ...(p.range !== p.subnet ? { IPRange: p.range } : {}) }));
      return {
        Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: n.ipv6 !== undefined,
        IPAM: { Driver: 'default', Options: {}, Config: config },
        Internal: n.internal, Attachable: n.attachable, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
        Containers: containers,
        Options: { 'com.docker.network.bridge.name': n.bridge, ...(n.mtu ? { 'com.docker.network.driver.mtu': String(n.mtu) } : {}) },
        Labels: n.labels,
      };
    },

    async networkRemove(ref) {
      if (Object.hasOwn(PSEUDO, ref) || ref === DEFAULT_BRIDGE) throw new Conflict(`${ref} is a pre-defined network and cannot be removed`);
      // a damaged record (facility.damagedNetworks) is removed by its name: it cannot be found
      if (facility.damagedNetworks().some((d) => d.name === ref) && !facility.networks().some((n) => n.name === ref)) return facility.removeNetwork(ref);
      const n = find(ref);
      await facility.removeNetwork(n.name);
    },

    async networkPrune() {
      const deleted: string[] = [];
      for (const n of facility.networks()) {
        if (n.removing || n.name === DEFAULT_BRIDGE || usedBy(n).length > 0) continue;
        try {
          await facility.removeNetwork(n.name);
          deleted.push(n.name);
        } catch (err) {
          // a container connected meanwhile: the network is in use, which prune leaves alone
          if (!(err instanceof Conflict) && !(err instanceof NotFound)) throw err;
        }
      }
      return { deleted };
    },

    async networkConnect(ref, o: NetworkConnectOptions) {
      const n = ref === DEFAULT_BRIDGE ? await networking.ensureDefaultBridge() : find(ref);
      const view = runtime.find(o.container);
      const id = view.record.id;
      const intent = view.record.hostConfig.Network;
      if (!intent || intent.mode !== 'bridge') throw new Conflict(`container ${view.record.name} uses network mode ${intent?.mode ?? 'none'}: it cannot be connected to a network`);
      if (n.name === DEFAULT_BRIDGE && (o.aliases.length > 0 || o.ip !== undefined || o.ip6 !== undefined)) throw new InvalidArgument('user specified IP address and aliases are supported only for user defined networks');
      await networking.ensure(id);
      const service = view.record.config.Labels[LABEL.service];
      const names = [...new Set([view.record.name, ...(service ? [service] : []), id.slice(0, 12), ...o.aliases])];
      await facility.connect(id, n.name, { names, ...(o.ip ? { ipv4Address: o.ip } : {}), ...(o.ip6 ? { ipv6Address: o.ip6 } : {}) });
      const endpoint = { network: n.name, names, aliases: [...o.aliases], ...(o.ip ? { ipv4Address: o.ip } : {}), ...(o.ip6 ? { ipv6Address: o.ip6 } : {}) };
      // the record keeps it (a reboot makes it again) and /etc/hosts names the container's first address
      runtime.setNetworkFiles(id, networking.files(id), { ...intent, endpoints: [...intent.endpoints.filter((e) => e.network !== n.name), endpoint] });
    },

    async networkDisconnect(ref, o: NetworkDisconnectOptions) {
      const view = runtime.find(o.container);
      const id = view.record.id;
      const intent = view.record.hostConfig.Network;
      let name = ref;
      try { name = find(ref).name; } catch (err) { if (!(err instanceof NotFound) || !o.force) throw err; }
      if (!intent || !networking.sandboxOf(id)) throw new NotFound(`container ${view.record.name} is not connected to network ${ref}`);
      await facility.disconnect(id, name);
      runtime.setNetworkFiles(id, networking.files(id), { ...intent, endpoints: intent.endpoints.filter((e) => e.network !== name) });
    },

    async containerPort(ref) {
      const view = runtime.find(ref);
      const rows: PublishedPortRow[] = networking.published(view.record.id).map((p) => ({
        containerPort: p.containerPort, protocol: p.protocol, hostIp: p.hostIp === '' ? (p.family === 4 ? '0.0.0.0' : '::') : p.hostIp, hostPort: p.hostPort,
      }));
      return rows.sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol) || Number(a.hostIp.includes(':')) - Number(b.hostIp.includes(':')));
    },
  };
}
