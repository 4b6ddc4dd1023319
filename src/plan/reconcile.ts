// `up`: desired state (the project) × observed state (containers) → a plan. Pure: it reads no
// file, clock or process table; the executor carries the plan out and makes no decisions.
//
// Semantics follow docker compose v2 (pkg/compose/create.go, convergence.go):
// - Scope: the named services (all when none is named) plus their dependencies, unless noDeps.
//   Dependencies outside the scope are neither touched nor waited for (compose disables them).
// - Recreate policy per service: noRecreate → never; forceRecreate → force for the named
//   services (all when none is named) and "diverged" for the dependencies pulled in
//   (compose's Recreate vs RecreateDependencies); otherwise diverged = recreate when the
//   container's config-hash label differs from the service's hash, or its image label from the
//   id of the image the service now names (a pull or a build made a new one).
// - Per service, the containers kept are chosen as compose does when scaling down: up-to-date
//   ones first, then by number, lowest first; the rest are stopped and removed ("scaled down").
//   A kept container is recreated (stop, remove, create, start) when obsolete; started when
//   created or exited ("not running": `up` starts again what the user stopped, as compose
//   does); left alone when running, restarting (its restart policy owns it) or paused (berth
//   does not unpause behind the user's back; compose would fail to start it). A dead or
//   half-removed container is replaced (remove, create, start).
// - Missing replicas are created and started ("not found"), numbered from 1 filling gaps
//   (compose numbers new replicas max+1; filling gaps keeps names dense after a crash).
// - container_name with a scale above 1 is an error, as in compose.
// - Orphans (a non-one-off container whose service the project does not know, enabled or
//   disabled) are stopped and removed only with removeOrphans; otherwise the engine warns.
// - Ordering: a service's creates come after its dependencies' creates (compose creates in
//   dependency order, then starts); its starts come after one `wait` per depends_on edge, and
//   each wait comes after the dependency's starts. A dependency with scale 0 is not waited
//   for (compose's shouldWaitForDependency). Services with no path between them share no edge.
// - Networks (plan/networks.ts): the ones the services in scope attach to and that do not exist
//   are created first; each container create comes after the creates of its networks.
// - restart: true: when a service's container is recreated (config change or forced), the
//   running containers of the services that depend on it with `restart: true` are stopped
//   before the recreation and started after it (compose's stopDependentContainers followed by
//   the start phase). Not transitive, as in compose. Skipped under noStart (compose would leave
//   them stopped).
// - Volumes (plan/volumes.ts): the project's named volumes the services in scope use are created
//   first when missing, and a container's create waits for the creates of its volumes.
import type { Project, Service } from '../spec/model.js';
import { PlanBuilder } from './builder.js';
import { checkProjectName, checkServices, groupByService, isActive, knownServices, sortContainers } from './containers.js';
import { dependencyEdges, dependentsOf, lookupService, topologicalOrder, withDependencies } from './graph.js';
import { planVolumeCreates, volumeCreatesOf } from './volumes.js';
import type { ObservedContainer, ObservedState } from './observed.js';
import type { Plan } from './plan.js';
import { networkCreatesOf, planNetworkCreates, serviceNetworks, servicesOn, staleNetworks } from './networks.js';
import { InternalError, InvalidArgument } from '../lib/errors.js';

export { planDown } from './down.js';
export { planKill, planPause, planRestart, planStart, planStop, planUnpause } from './lifecycle.js';

/**
 * What `up` asks of the planner: the planning fields of api/types.ts UpOptions, declared here so
 * plan/ depends on spec/ only (UpOptions is structurally a superset; pass it as is).
 */
export interface ReconcileOptions {
  /** services named on the command line (with their dependencies unless noDeps); empty = all */
  readonly services: readonly string[];
  readonly noDeps: boolean;
  readonly forceRecreate: boolean;
  readonly noRecreate: boolean;
  readonly noStart: boolean;
  readonly removeOrphans: boolean;
  /** --scale svc=N, overriding the model's scale */
  readonly scale: Readonly<Record<string, number>>;
  /**
   * The id of the image each service runs now (after pulls and builds): a container created
   * from another image is recreated ("image changed"), as compose does after a pull or a build.
   * Absent (or a service absent from it): images are not compared.
   */
  readonly images?: Readonly<Record<string, string>>;
  /**
   * The hash of each project network's current config (by key), computed by the engine: a
   * project network created from another config is recreated with the containers on it.
   * Absent: networks are not compared.
   */
  readonly networkHashes?: Readonly<Record<string, string>>;
}

type RecreatePolicy = 'force' | 'never' | 'diverged';

/** What happens to one replica slot of a service. */
type ReplicaAction =
  | { readonly kind: 'keep'; readonly number: number; readonly container: ObservedContainer }
  | { readonly kind: 'start'; readonly number: number; readonly container: ObservedContainer; readonly cause: string }
  | { readonly kind: 'create'; readonly number: number; readonly cause: string }
  /** `configChange`: obsolete config (or forced), as opposed to replacing a dead container */
  | { readonly kind: 'recreate'; readonly number: number; readonly container: ObservedContainer; readonly cause: string; readonly configChange: boolean }
  | { readonly kind: 'restart'; readonly number: number; readonly container: ObservedContainer; readonly cause: string };

interface ServiceDecision {
  readonly service: Service;
  readonly scale: number;
  /** sorted by number */
  replicas: ReplicaAction[];
  readonly removals: readonly { readonly container: ObservedContainer; readonly cause: string }[];
}

/**
 * The plan `up` carries out. `hashes` maps each service name to the sha256 of
 * serviceConfigForHash(service), computed by the engine (plan/ cannot hash).
 */
export function reconcile(project: Project, observed: ObservedState, hashes: Readonly<Record<string, string>>, options: ReconcileOptions): Plan {
  checkProjectName(project, observed.projectName);
  if (options.forceRecreate && options.noRecreate) throw new InvalidArgument('--force-recreate and --no-recreate are incompatible');
  checkServices(project, options.services);
  checkServices(project, Object.keys(options.scale));

  const named = options.services.length > 0 ? [...options.services] : Object.keys(project.services);
  const scope = options.noDeps ? new Set(named) : withDependencies(project, named);
  // Networks whose config changed: every service on them is in scope, since its containers go
  // with the network (--no-recreate keeps networks as they are, as it keeps containers).
  const stale = options.noRecreate ? [] : staleNetworks(project, observed, options.networkHashes);
  const onStale = new Set(servicesOn(project, stale));
  for (const name of withDependencies(project, onStale)) scope.add(name);
  const order = topologicalOrder(project, scope);
  const namedSet = new Set(named);

  const containers = observed.containers.filter((c) => !c.oneoff);
  const byService = groupByService(containers);

  // Decide per service, in dependency order.
  const decisions = new Map<string, ServiceDecision>();
  for (const name of order) {
    const service = lookupService(project, name)!;
    const policy: RecreatePolicy = options.noRecreate ? 'never' : options.forceRecreate && namedSet.has(name) ? 'force' : 'diverged';
    const decision = decide(service, byService.get(name) ?? [], hashes, policy, scaleOf(service, options), options.images?.[name]);
    if (onStale.has(name)) {
      const changed = stale.filter((k) => serviceNetworks(service).includes(k));
      const cause = `network ${changed.join(', ')} changed`;
      decision.replicas = decision.replicas.map((r): ReplicaAction => (r.kind === 'create' ? r : { kind: 'recreate', number: r.number, container: r.container, cause: r.kind === 'recreate' && !r.configChange ? r.cause : cause, configChange: true }));
    }
    decisions.set(name, decision);
  }

  // restart: true — the dependents of a recreated service are restarted with it.
  if (!options.noStart) {
    for (const name of order) {
      const recreated = decisions.get(name)!.replicas.some((r) => r.kind === 'recreate' && r.configChange);
      if (!recreated) continue;
      for (const dependent of dependentsOf(project, name, (d) => d.restart, scope)) {
        const d = decisions.get(dependent)!;
        d.replicas = d.replicas.map((r) =>
          r.kind === 'keep' && (r.container.status === 'running' || r.container.status === 'restarting')
            ? { kind: 'restart', number: r.number, container: r.container, cause: `dependency ${name} recreated` }
            : r);
      }
    }
  }

  const plan = new PlanBuilder();

  // Orphans first, as compose removes them before converging the services.
  if (options.removeOrphans) {
    const known = knownServices(project);
    for (const c of sortContainers(containers.filter((c) => !known.has(c.service)))) {
      const stop = isActive(c.status) ? [plan.add({ kind: 'stop', service: c.service, number: c.number, containerId: c.id, cause: 'orphan' })] : [];
      plan.add({ kind: 'remove', service: c.service, number: c.number, containerId: c.id, cause: 'orphan', dependsOn: stop });
    }
  }

  // The networks the services need, before any container is created (plan/networks.ts).
  const networkCreates = planNetworkCreates(plan, project, order, observed);

  // Stops of the restart: true dependents, dependents of dependents first.
  // service → replica number → id of its stop
  const restartStops = new Map<string, Map<number, number>>();
  const restartStopsOf = (name: string): number[] => [...(restartStops.get(name)?.values() ?? [])];
  for (const name of [...order].reverse()) {
    const after = dependentsOf(project, name, () => true, scope).flatMap(restartStopsOf);
    for (const r of decisions.get(name)!.replicas) {
      if (r.kind !== 'restart') continue;
      const stops = restartStops.get(name) ?? new Map<number, number>();
      restartStops.set(name, stops);
      stops.set(r.number, plan.add({ kind: 'stop', service: name, number: r.number, containerId: r.container.id, cause: r.cause, dependsOn: after }));
    }
  }

  // Networks to recreate: the containers on them removed (their removes reused below), then the
  // network removed and created again; the new containers wait for the create as for any other.
  const removedEarly = new Map<string, number>();
  if (stale.length > 0) {
    const removesOn = new Map<string, number[]>(stale.map((k) => [k, []]));
    for (const name of order) {
      if (!onStale.has(name)) continue;
      const decision = decisions.get(name)!;
      const beforeRecreate = dependentsOf(project, name, (d) => d.restart, scope).flatMap(restartStopsOf);
      const gone = [
        ...decision.replicas.flatMap((r) => (r.kind === 'recreate' ? [{ container: r.container, cause: r.cause }] : [])),
        ...decision.removals,
      ];
      for (const { container: c, cause } of gone) {
        const stop = isActive(c.status) ? [plan.add({ kind: 'stop', service: name, number: c.number, containerId: c.id, cause, dependsOn: beforeRecreate })] : [];
        const remove = plan.add({ kind: 'remove', service: name, number: c.number, containerId: c.id, cause, dependsOn: stop.length > 0 ? stop : beforeRecreate });
        removedEarly.set(c.id, remove);
        for (const k of serviceNetworks(decision.service)) removesOn.get(k)?.push(remove);
      }
    }
    for (const key of stale) {
      const removed = plan.add({ kind: 'remove', resource: { kind: 'network', name: key }, service: '', number: 0, cause: 'config changed', dependsOn: removesOn.get(key)! });
      networkCreates.set(key, plan.add({ kind: 'create', resource: { kind: 'network', name: key }, service: '', number: 0, cause: 'config changed', dependsOn: [removed] }));
    }
  }

  const volumeCreates = planVolumeCreates(plan, project, order, observed);
  const createOps = new Map<string, number[]>();
  const startOps = new Map<string, number[]>();
  for (const name of order) {
    const decision = decisions.get(name)!;
    const edges = dependencyEdges(project, decision.service).filter((e) => scope.has(e.dependency));
    const creates: number[] = [];
    const starts: number[] = [];
    createOps.set(name, creates);
    startOps.set(name, starts);

    for (const { container: c, cause } of decision.removals) {
      if (removedEarly.has(c.id)) continue;
      const stop = isActive(c.status) ? [plan.add({ kind: 'stop', service: name, number: c.number, containerId: c.id, cause })] : [];
      plan.add({ kind: 'remove', service: name, number: c.number, containerId: c.id, cause, dependsOn: stop });
    }

    const afterCreates = [...edges.flatMap((e) => createOps.get(e.dependency) ?? []), ...networkCreatesOf(decision.service, networkCreates), ...volumeCreatesOf(decision.service, volumeCreates)];
    const beforeRecreate = dependentsOf(project, name, (d) => d.restart, scope).flatMap(restartStopsOf);
    const createdBy = new Map<number, number>();
    for (const r of decision.replicas) {
      if (r.kind === 'create') {
        createdBy.set(r.number, plan.add({ kind: 'create', service: name, number: r.number, cause: r.cause, dependsOn: afterCreates }));
      } else if (r.kind === 'recreate') {
        const c = r.container;
        let remove = removedEarly.get(c.id);
        if (remove === undefined) {
          const stop = isActive(c.status) ? [plan.add({ kind: 'stop', service: name, number: r.number, containerId: c.id, cause: r.cause, dependsOn: beforeRecreate })] : [];
          remove = plan.add({ kind: 'remove', service: name, number: r.number, containerId: c.id, cause: r.cause, dependsOn: stop.length > 0 ? stop : beforeRecreate });
        }
        createdBy.set(r.number, plan.add({ kind: 'create', service: name, number: r.number, cause: r.cause, dependsOn: [remove, ...afterCreates] }));
      }
    }
    creates.push(...createdBy.values());
    if (options.noStart) continue;

    const startWork = decision.replicas.filter((r) => r.kind !== 'keep');
    if (startWork.length === 0) continue;
    const waits: number[] = [];
    for (const e of edges) {
      // compose does not wait for a dependency configured to run no container
      if (decisions.get(e.dependency)!.scale === 0) continue;
      waits.push(plan.add({
        kind: 'wait', service: e.dependency, number: 0, cause: `dependency of ${name}`,
        condition: e.config.condition, required: e.config.required, dependsOn: startOps.get(e.dependency) ?? [],
      }));
    }
    for (const r of startWork) {
      switch (r.kind) {
        case 'create':
        case 'recreate':
          starts.push(plan.add({ kind: 'start', service: name, number: r.number, cause: r.cause, dependsOn: [createdBy.get(r.number)!, ...waits] }));
          break;
        case 'start':
          starts.push(plan.add({ kind: 'start', service: name, number: r.number, containerId: r.container.id, cause: r.cause, dependsOn: waits }));
          break;
        case 'restart':
          starts.push(plan.add({ kind: 'start', service: name, number: r.number, containerId: r.container.id, cause: r.cause, dependsOn: [restartStops.get(name)!.get(r.number)!, ...waits] }));
          break;
      }
    }
  }
  return plan.build();
}

/** The desired number of containers: --scale, else the model's scale (deploy.replicas / scale). */
function scaleOf(service: Service, options: ReconcileOptions): number {
  const scale = Object.hasOwn(options.scale, service.name) ? options.scale[service.name]! : service.scale;
  if (!Number.isInteger(scale) || scale < 0) throw new InvalidArgument(`invalid scale ${scale} for service "${service.name}"`);
  if (scale > 1 && service.container_name !== undefined) {
    // compose's getScale(): the message docker compose prints
    throw new InvalidArgument(`the "${service.name}" service is using the custom container name "${service.container_name}"; ` +
      'Docker requires each container to have a unique name; remove the custom name to scale the service');
  }
  return scale;
}

function decide(service: Service, containers: readonly ObservedContainer[], hashes: Readonly<Record<string, string>>,
  policy: RecreatePolicy, scale: number, imageId: string | undefined): ServiceDecision {
  let hash: string | undefined;
  if (policy === 'diverged') {
    if (!Object.hasOwn(hashes, service.name)) throw new InternalError(`no config hash for service "${service.name}"`);
    hash = hashes[service.name];
  }
  const broken = (c: ObservedContainer): boolean => c.status === 'dead' || c.status === 'removing';
  const imageChanged = (c: ObservedContainer): boolean => imageId !== undefined && c.imageId !== undefined && c.imageId !== imageId;
  const obsolete = (c: ObservedContainer): boolean => policy === 'force' || (policy === 'diverged' && (c.configHash !== hash || imageChanged(c)));
  // Keep the healthiest containers: usable and up to date first, then lowest number, then a
  // running one over a stopped one (two containers with one number: a leftover).
  const rank = (c: ObservedContainer): number => (broken(c) ? 2 : obsolete(c) ? 1 : 0);
  const candidates = [...containers].sort((a, b) =>
    rank(a) - rank(b) || a.number - b.number || Number(isActive(b.status)) - Number(isActive(a.status)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const kept: ObservedContainer[] = [];
  const removals: { container: ObservedContainer; cause: string }[] = [];
  const taken = new Set<number>();
  for (const c of candidates) {
    if (kept.length < scale && Number.isInteger(c.number) && c.number >= 1 && !taken.has(c.number)) {
      kept.push(c);
      taken.add(c.number);
    } else {
      removals.push({ container: c, cause: kept.length < scale ? 'duplicate container number' : 'scaled down' });
    }
  }

  const replicas: ReplicaAction[] = kept.map((c): ReplicaAction => {
    if (broken(c)) return { kind: 'recreate', number: c.number, container: c, cause: c.status, configChange: false };
    if (obsolete(c)) return { kind: 'recreate', number: c.number, container: c, cause: policy === 'force' ? 'forced' : c.configHash !== hash ? 'config hash changed' : 'image changed', configChange: true };
    if (c.status === 'created' || c.status === 'exited') return { kind: 'start', number: c.number, container: c, cause: 'not running' };
    return { kind: 'keep', number: c.number, container: c };
  });
  for (let n = 1; replicas.length < scale; n++) {
    if (!taken.has(n)) replicas.push({ kind: 'create', number: n, cause: 'not found' });
  }
  replicas.sort((a, b) => a.number - b.number);
  removals.sort((a, b) => a.container.number - b.container.number || (a.container.id < b.container.id ? -1 : 1));
  return { service, scale, replicas, removals };
}
