// The plan's network operations ("network:<key>", plan/networks.ts): create and remove one
// project network through the network facility. The compose model is mapped here onto the
// facility's request (driver, internal, attachable, ipam, enable_ipv6, labels, the MTU driver
// option); what cannot be honoured is refused with a clear error — by preflight, before the plan
// runs, since it calls the same mapping.
import type { Network, Project, Service } from '../spec/model.js';
import type { ObservedNetwork } from '../plan/observed.js';
import { hostNetworkName, serviceNetworks } from '../plan/networks.js';
import type { NetworkCreateRequest, NetworkFacility, NetworkRecord } from '../network/facility.js';
import { Conflict, InvalidArgument, NotFound, Unsupported } from '../lib/errors.js';
import type { ResourceRunner } from './executor.js';
import { LABEL } from './service-container.js';
import { canonicalJson } from '../plan/config-hash.js';
import { createHash } from 'node:crypto';

/** compose's network labels (docker compose writes the same). */
export const NETWORK_LABEL = { project: LABEL.project, network: 'com.docker.compose.network', version: LABEL.version, hash: LABEL.hash } as const;

const MTU_OPTION = 'com.docker.network.driver.mtu';

/** The facility's request for a project network; throws for what berth cannot do. */
export function networkCreateRequest(project: Project, key: string): NetworkCreateRequest {
  const n: Network = project.networks[key] ?? { name: hostNetworkName(project, key), driver_opts: {}, external: false, internal: false, attachable: false, labels: {}, extensions: {} };
  if (n.driver !== undefined && n.driver !== 'bridge') throw new Unsupported(`network "${key}": driver "${n.driver}" is not supported (berth's networks use the bridge driver)`);
  if (n.enable_ipv4 === false) throw new Unsupported(`network "${key}": enable_ipv4: false is not supported (every berth network has IPv4)`);
  if (n.ipam?.driver !== undefined && n.ipam.driver !== 'default') throw new Unsupported(`network "${key}": ipam driver "${n.ipam.driver}" is not supported (default is)`);
  for (const k of Object.keys(n.driver_opts)) {
    if (k !== MTU_OPTION) throw new Unsupported(`network "${key}": driver_opts "${k}" is not supported (${MTU_OPTION} is)`);
  }
  if (n.ipam?.options && Object.keys(n.ipam.options).length > 0) throw new Unsupported(`network "${key}": ipam.options are not supported`);
  if (n.ipam?.config.some((c) => c.aux_addresses && Object.keys(c.aux_addresses).length > 0)) throw new Unsupported(`network "${key}": ipam.config.aux_addresses is not supported`);
  const mtuText = n.driver_opts[MTU_OPTION];
  let mtu: number | undefined;
  if (mtuText !== undefined) {
    mtu = Number(mtuText);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidArgument(`network "${key}": ${MTU_OPTION} must be an integer from 68 to 65535, got "${mtuText}"`);
  }
  const req: NetworkCreateRequest = {
    name: n.name,
    internal: n.internal,
    attachable: n.attachable,
    labels: { ...n.labels, [NETWORK_LABEL.project]: project.name, [NETWORK_LABEL.network]: key },
    ...(n.ipam && n.ipam.config.length > 0 ? { ipam: n.ipam.config.map((c) => ({ ...(c.subnet ? { subnet: c.subnet } : {}), ...(c.gateway ? { gateway: c.gateway } : {}), ...(c.ip_range ? { ipRange: c.ip_range } : {}) })) } : {}),
    ...(n.enable_ipv6 ? { enableIpv6: true } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
  };
  // what it is made from, hashed: `up` recreates the network when this changes (plan/networks.ts)
  return { ...req, labels: { ...req.labels, [NETWORK_LABEL.hash]: networkHash(req) } };
}

/** The config hash of a network request (made before the hash label is added to it). */
function networkHash(req: NetworkCreateRequest): string {
  return createHash('sha256').update(canonicalJson(req)).digest('hex');
}

/** Each project network's config hash, by key, as `up` compares them; a network berth cannot make is left out. */
export function networkHashes(project: Project): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(project.networks)) {
    if (project.networks[key]!.external) continue;
    try { out[key] = networkCreateRequest(project, key).labels?.[NETWORK_LABEL.hash] ?? ''; } catch { /* refused by preflight */ }
  }
  return out;
}

/** Every network on the host, as the planner sees it. */
export function observedNetworks(facility: NetworkFacility): ObservedNetwork[] {
  return facility.networks().filter((n) => !n.removing).map((n) => ({
    name: n.name, project: n.labels[NETWORK_LABEL.project] ?? '', key: n.labels[NETWORK_LABEL.network] ?? '', configHash: n.labels[NETWORK_LABEL.hash] ?? '',
  }));
}

/** Creates the project's network `key` (its create request from the model); one made meanwhile by another verb is what was asked. */
async function createNetwork(facility: NetworkFacility, project: Project, key: string): Promise<void> {
  const req = networkCreateRequest(project, key);
  try {
    await facility.createNetwork(req);
  } catch (err) {
    // another `up` of the same project made it meanwhile: it is there, which is what was asked
    if (!(err instanceof Conflict) || !facility.networks().some((n) => n.name === req.name && !n.removing)) throw err;
  }
}

/**
 * The project networks a service attaches to, made when missing: `compose run` before any `up`
 * (compose makes them too: docker/compose#2287). External ones are never made.
 */
export async function ensureServiceNetworks(facility: NetworkFacility, project: Project, service: Service): Promise<void> {
  for (const key of serviceNetworks(service)) {
    if (project.networks[key]?.external) continue;
    const name = hostNetworkName(project, key);
    if (!facility.networks().some((n) => n.name === name && !n.removing)) await createNetwork(facility, project, key);
  }
}

/**
 * The runner of a plan's network operations. `project` is the model the plan was made from (an
 * empty one for `down -p NAME`: a key it does not know is found among the networks labelled with
 * the project).
 */
export function networkRunner(facility: NetworkFacility, project: Project): ResourceRunner {
  const keyOf = (resourceId: string): string => resourceId.slice('network:'.length);
  const nameOf = (key: string): string | undefined => {
    if (project.networks[key]) return hostNetworkName(project, key);
    return facility.networks().find((n: NetworkRecord) => n.labels[NETWORK_LABEL.project] === project.name && n.labels[NETWORK_LABEL.network] === key)?.name
      ?? (key === 'default' ? hostNetworkName(project, key) : undefined);
  };
  return {
    async create(op) {
      await createNetwork(facility, project, keyOf(op.resourceId));
    },
    async remove(op) {
      const name = nameOf(keyOf(op.resourceId));
      if (name === undefined) return;
      try {
        await facility.removeNetwork(name);
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
      }
    },
  };
}
