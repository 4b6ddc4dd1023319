// Compose networking → Services and NetworkPolicies.
// - Every compose service gets a Service with its own name, so the DNS names containers use in
//   compose (`db`, `redis`) resolve the same way in the cluster. With ports (`ports` targets and
//   `expose`) it is a ClusterIP Service on the container ports; without any, a headless Service
//   (clusterIP: None), whose name resolves to the pods themselves, so every port works as in compose.
// - Published ports get a second Service, `<service>-published`, of the type asked for
//   (LoadBalancer by default, as compose bridge does), on the published port numbers.
// - Network aliases and `links` aliases get Services of their own with the same selector.
// - With --network-policies, pods carry one label per compose network and one NetworkPolicy per
//   network admits traffic only from pods on that network: services that share a network may
//   talk, others may not, as in compose. Published ports are opened to everyone.
import type { Service as ComposeService } from '../spec/model.js';
import { type Context, NETWORK_LABEL_PREFIX, PART_OF_LABEL, meta, report, selectorFor } from './context.js';
import { NAME_ANNOTATION, labelValue } from './names.js';
import type { PublishType } from './options.js';
import type { ContainerPort, NetworkPolicy, Service, ServicePort } from './types.js';

const LOOPBACK = /^(127\.|::1$|\[::1\]$|localhost$)/;
const ANY_ADDRESS = /^(0\.0\.0\.0|::|\[::\])$/;

function servicePorts(ports: readonly ContainerPort[]): ServicePort[] {
  const many = ports.length > 1;
  const used = new Set<string>();
  return ports.map((p) => {
    const protocol = p.protocol ?? 'TCP';
    let name = p.name ?? `${protocol.toLowerCase()}-${p.containerPort}`;
    if (used.has(name)) name = `${protocol.toLowerCase()}-${p.containerPort}`;
    used.add(name);
    return { ...(many ? { name } : {}), port: p.containerPort, targetPort: p.containerPort, protocol };
  });
}

/** The Service that carries a compose service's DNS name (also the spec of its alias Services). */
export function mainService(ctx: Context, s: ComposeService, ports: readonly ContainerPort[]): Service {
  const name = ctx.names.services.assign(s.name);
  const selector = selectorFor(ctx, s.name);
  const spec: Service['spec'] = ports.length > 0
    ? { type: 'ClusterIP', selector, ports: servicePorts(ports) }
    : { clusterIP: 'None', selector };
  return { apiVersion: 'v1', kind: 'Service', metadata: meta(ctx, name, s.name, selector), spec };
}

export function aliasService(ctx: Context, main: Service, alias: string, target: string): Service {
  return {
    ...main,
    metadata: meta(ctx, alias, undefined, main.spec.selector, { 'berth/alias-of': target }),
    spec: { ...main.spec, ...(main.spec.ports ? { ports: main.spec.ports.map((p) => ({ ...p })) } : {}) },
  };
}

/** The Service of a compose service's published ports, or undefined when it publishes none. */
export function publishedService(ctx: Context, s: ComposeService, type: PublishType, scope: string): Service | undefined {
  const warn = (key: string, message: string): void => report(ctx, scope, key, message);
  const ports: ServicePort[] = [];
  const seen = new Set<string>();
  s.ports.forEach((p, i) => {
    const key = `ports[${i}]`;
    if (p.host_ip !== undefined && LOOPBACK.test(p.host_ip)) {
      warn(key, `published on the host's loopback (${p.host_ip}) only: not exposed outside the cluster (kubectl port-forward reaches it)`);
      return;
    }
    if (p.host_ip !== undefined && !ANY_ADDRESS.test(p.host_ip)) warn(key, `the host address ${p.host_ip} is not mapped: the Service listens on every address`);
    if (p.mode === 'host') warn(key, 'mode: host (swarm) not mapped');
    let port = p.target;
    if (p.published !== undefined) {
      const [first, last] = p.published.split('-').map(Number);
      port = first!;
      if (last !== undefined && last !== first) warn(key, `the host port range ${p.published} becomes its first port, ${first}`);
    }
    const protocol = p.protocol.toUpperCase();
    const k = `${port}/${protocol}`;
    if (seen.has(k)) return;
    seen.add(k);
    const sp: ServicePort = { name: `${p.protocol}-${port}`, port, targetPort: p.target, protocol, ...(p.app_protocol ? { appProtocol: p.app_protocol } : {}) };
    if (type === 'NodePort') {
      if (port >= 30000 && port <= 32767) sp.nodePort = port;
      else warn(key, `${port} is outside the NodePort range 30000-32767: Kubernetes picks the node port`);
    }
    ports.push(sp);
  });
  if (ports.length === 0) return undefined;
  if (type === 'ClusterIP') {
    warn('ports', 'published ports are not exposed outside the cluster (service type ClusterIP); kubectl port-forward reaches them');
    return undefined;
  }
  if (ports.length === 1) delete ports[0]!.name;
  const name = ctx.names.services.assign(`${s.name}-published`);
  const selector = selectorFor(ctx, s.name);
  return { apiVersion: 'v1', kind: 'Service', metadata: meta(ctx, name, undefined, selector, { [NAME_ANNOTATION]: s.name }), spec: { type, selector, ports } };
}

/** The label that marks a pod as attached to a compose network. */
export function networkLabel(ctx: Context, network: string): string {
  return NETWORK_LABEL_PREFIX + ctx.names.networks.assign(network);
}

/** One NetworkPolicy per compose network, and one per service whose published ports are exposed. */
export function networkPolicies(ctx: Context, services: readonly ComposeService[], exposed: ReadonlyMap<string, Service>): NetworkPolicy[] {
  const project = labelValue(ctx.project.name);
  const out: NetworkPolicy[] = [];
  const used = new Set<string>();
  for (const s of services) {
    if (s.network_mode !== undefined) {
      report(ctx, `services.${s.name}`, 'network_mode', 'its pods are on no compose network, so no NetworkPolicy selects them: they accept traffic from any pod');
    }
    for (const n of Object.keys(s.networks)) used.add(n);
  }
  for (const n of [...used].sort()) {
    const label = networkLabel(ctx, n);
    const members = { matchLabels: { [label]: 'true', [PART_OF_LABEL]: project } };
    const net = ctx.project.networks[n];
    const name = ctx.names.policies.assign(`network-${n}`);
    const policy: NetworkPolicy = {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(ctx, name, undefined, {}, { 'berth/network': n }),
      spec: { podSelector: members, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: members }] }] },
    };
    if (net?.internal) {
      // an internal network has no way out: egress only to the network's own pods, and DNS
      policy.spec.policyTypes.push('Egress');
      policy.spec.egress = [{ to: [{ podSelector: members }] }, { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }];
    }
    out.push(policy);
  }
  for (const s of services) {
    const svc = exposed.get(s.name);
    if (!svc?.spec.ports) continue;
    const name = ctx.names.policies.assign(`${s.name}-published`);
    out.push({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(ctx, name, undefined, {}, { [NAME_ANNOTATION]: s.name }),
      spec: {
        podSelector: { matchLabels: selectorFor(ctx, s.name) }, policyTypes: ['Ingress'],
        ingress: [{ ports: svc.spec.ports.map((p) => ({ port: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' })) }],
      },
    });
  }
  return out;
}
