// `down`: stop and remove a project's containers, dependents before their dependencies.
//
// Semantics follow docker compose v2 (pkg/compose/down.go):
// - With a project model: the containers of its enabled services (InReverseDependencyOrder over
//   project.services). Containers of services disabled by profiles are neither removed nor
//   orphans (compose's isOrphaned counts disabled services as known; docker/compose#11793).
// - Without one (project undefined: `down -p name`): every container of the project; there is
//   no depends_on to order by, so they all stop in parallel.
// - One-off (`run`) containers are left alone unless removeOrphans. With it, as compose does,
//   the one-off containers of the project's services are removed too, and so are orphans: the
//   containers of services the project does not know, and exited or dead one-off containers.
// - Order: a container's stop comes after the stops of the services that depend on its service
//   (through services with nothing to stop, transitively); its remove after its own stop, or
//   after that same gate when it was not running. Orphans go last, as in compose.
// - The project's networks are removed after every container remove (plan/networks.ts).
import type { Project } from '../spec/model.js';
import { PlanBuilder } from './builder.js';
import { checkProjectName, groupByService, isActive, knownServices, sortContainers } from './containers.js';
import { dependentsOf, reverseOrder } from './graph.js';
import type { ObservedContainer, ObservedState } from './observed.js';
import type { Plan } from './plan.js';
import { planNetworkRemoves } from './networks.js';
import { planVolumeRemovals } from './volumes.js';

/** What `down` asks of the planner (api/types.ts DownOptions is a structural superset). */
export interface DownPlanOptions {
  readonly removeOrphans: boolean;
  /** -v: the project's named volumes and the anonymous volumes of the containers removed (plan/volumes.ts) */
  readonly volumes?: boolean;
}

export function planDown(project: Project | undefined, observed: ObservedState, options: DownPlanOptions): Plan {
  checkProjectName(project, observed.projectName);
  const plan = new PlanBuilder();
  const included = (c: ObservedContainer): boolean => !c.oneoff || options.removeOrphans;

  if (!project) {
    const all = observed.containers.filter(included);
    const byService = groupByService(all);
    stopAndRemove(plan, [...byService.keys()].sort(), byService, () => [], (c) => (c.oneoff ? 'one-off' : 'down'));
    planNetworkRemoves(plan, undefined, observed.projectName, observed, [...removesOf(plan.build()).values()]);
    if (options.volumes) planVolumeRemovals(plan, undefined, observed, removesOf(plan.build()));
    return plan.build();
  }

  const ofProject = observed.containers.filter((c) => Object.hasOwn(project.services, c.service) && included(c));
  const byService = groupByService(ofProject);
  stopAndRemove(plan, reverseOrder(project), byService, (name) => dependentsOf(project, name), (c) => (c.oneoff ? 'one-off' : 'down'));

  if (options.removeOrphans) {
    const known = knownServices(project);
    const taken = new Set(ofProject);
    const orphans = observed.containers.filter((c) => !taken.has(c) &&
      (c.oneoff ? c.status === 'exited' || c.status === 'dead' : !known.has(c.service)));
    const byOrphanService = groupByService(sortContainers(orphans));
    stopAndRemove(plan, [...byOrphanService.keys()].sort(), byOrphanService, () => [], () => 'orphan');
  }
  // the project's networks go once every container on them is gone
  planNetworkRemoves(plan, project, observed.projectName, observed, [...removesOf(plan.build()).values()]);
  if (options.volumes) planVolumeRemovals(plan, project, observed, removesOf(plan.build()));
  return plan.build();
}

/** The remove operation of each container the plan removes, by container id. */
function removesOf(plan: Plan): Map<string, number> {
  const out = new Map<string, number>();
  for (const op of plan.operations) if (op.kind === 'remove' && op.containerId !== undefined) out.set(op.containerId, op.id);
  return out;
}

/**
 * Stops (when active) and, unless `remove` is false, removes the containers of `order`'s
 * services, in that order; a service's stops wait for the stops of `dependents(service)`
 * (transitively through services that had nothing to stop). Returns each service's stop ids.
 */
export function stopAndRemove(
  plan: PlanBuilder,
  order: readonly string[],
  byService: ReadonlyMap<string, readonly ObservedContainer[]>,
  dependents: (service: string) => readonly string[],
  cause: (c: ObservedContainer) => string,
  remove = true,
): Map<string, number[]> {
  // gate: the op ids a service's stops must wait for
  const stopsOf = new Map<string, number[]>();
  const gateOf = new Map<string, number[]>();
  for (const name of order) {
    const gate = [...new Set(dependents(name).flatMap((d) => {
      const stops = stopsOf.get(d) ?? [];
      return stops.length > 0 ? stops : gateOf.get(d) ?? [];
    }))];
    gateOf.set(name, gate);
    const stops: number[] = [];
    const stopOf = new Map<ObservedContainer, number>();
    for (const c of byService.get(name) ?? []) {
      if (!isActive(c.status)) continue;
      const id = plan.add({ kind: 'stop', service: name, number: c.number, containerId: c.id, cause: cause(c), dependsOn: gate });
      stops.push(id);
      stopOf.set(c, id);
    }
    stopsOf.set(name, stops);
    if (!remove) continue;
    for (const c of byService.get(name) ?? []) {
      const stop = stopOf.get(c);
      plan.add({ kind: 'remove', service: name, number: c.number, containerId: c.id, cause: cause(c), dependsOn: stop !== undefined ? [stop] : gate });
    }
  }
  return stopsOf;
}
