// Networks as resources of a plan (docker compose v2's ensureNetworks and down's network removal):
// - `up` creates each network the services in scope attach to that does not exist yet, before
//   the creates of their containers ("network:<key>", cause "not found"). An external network is
//   never created (the engine checks before the plan runs that it exists).
// - A project network whose config changed since it was created (its config-hash label differs
//   from the hash of the model's network, as compose 2.32+ compares them) is recreated: every
//   container of the services on it is removed first, the network removed and created again, and
//   the containers created anew on it (staleNetworks below; the ordering is in reconcile.ts).
//   A network created without the label (by an older berth, or by hand) is used as it is.
// - `down` removes the project's own networks that exist, after every container remove of the
//   plan: with a project, its non-external networks; without one (`down -p name`), the networks
//   labelled with the project.
// A service under a network_mode (none, host, service:X, container:X, bridge) joins no project
// network. Resource names are the project's keys ("network:backend"); the engine maps a key to
// the network's name on the host.
import type { Project, Service } from '../spec/model.js';
import type { PlanBuilder } from './builder.js';
import type { ObservedState } from './observed.js';

/** The project networks a service's containers attach to (keys, sorted). */
export function serviceNetworks(service: Service): string[] {
  return service.network_mode === undefined ? Object.keys(service.networks).sort() : [];
}

/** A network's name on the host: its `name:`, else "<project>_<key>". */
export function hostNetworkName(project: Project, key: string): string {
  return project.networks[key]?.name ?? `${project.name}_${key}`;
}

/**
 * Adds the creates of the networks the services in `scope` need and lack. Returns, per key, the
 * id of its create (only for networks created by this plan). Nothing when the caller did not
 * observe networks.
 */
export function planNetworkCreates(plan: PlanBuilder, project: Project, scope: Iterable<string>, observed: ObservedState): Map<string, number> {
  const out = new Map<string, number>();
  if (!observed.networks) return out;
  const existing = new Set(observed.networks.map((n) => n.name));
  const keys = new Set<string>();
  for (const name of scope) {
    const service = project.services[name];
    if (service) for (const k of serviceNetworks(service)) keys.add(k);
  }
  for (const key of [...keys].sort()) {
    if (project.networks[key]?.external) continue;
    if (existing.has(hostNetworkName(project, key))) continue;
    out.set(key, plan.add({ kind: 'create', resource: { kind: 'network', name: key }, service: '', number: 0, cause: 'not found' }));
  }
  return out;
}

/**
 * The project's networks whose config changed: they exist, were made for this project and key,
 * carry a config hash, and `hashes` (the engine's hash of each network's current config) says
 * another. External networks are never recreated.
 */
export function staleNetworks(project: Project, observed: ObservedState, hashes: Readonly<Record<string, string>> | undefined): string[] {
  if (!observed.networks || !hashes) return [];
  const out: string[] = [];
  for (const key of Object.keys(project.networks).sort()) {
    if (project.networks[key]!.external) continue;
    const want = hashes[key];
    const n = observed.networks.find((x) => x.name === hostNetworkName(project, key));
    if (want === undefined || !n || n.project !== project.name || n.key !== key || !n.configHash) continue;
    if (n.configHash !== want) out.push(key);
  }
  return out;
}

/** The services of the project whose containers attach to one of `keys`. */
export function servicesOn(project: Project, keys: readonly string[]): string[] {
  if (keys.length === 0) return [];
  return Object.values(project.services).filter((s) => serviceNetworks(s).some((k) => keys.includes(k))).map((s) => s.name).sort();
}

/** The creates a service's container creates must wait for. */
export function networkCreatesOf(service: Service, creates: ReadonlyMap<string, number>): number[] {
  return serviceNetworks(service).flatMap((k) => (creates.has(k) ? [creates.get(k)!] : []));
}

/** Adds the removes of the project's networks that exist, each after `after` (the plan's container removes). */
export function planNetworkRemoves(plan: PlanBuilder, project: Project | undefined, projectName: string, observed: ObservedState, after: readonly number[]): void {
  if (!observed.networks) return;
  const keys: string[] = [];
  if (project) {
    const existing = new Set(observed.networks.map((n) => n.name));
    for (const key of Object.keys(project.networks).sort()) {
      if (project.networks[key]!.external) continue;
      if (existing.has(hostNetworkName(project, key))) keys.push(key);
    }
  } else {
    for (const n of observed.networks) if (n.project === projectName && n.key !== '') keys.push(n.key);
    keys.sort();
  }
  for (const key of keys) plan.add({ kind: 'remove', resource: { kind: 'network', name: key }, service: '', number: 0, cause: 'down', dependsOn: after });
}
