// `stop`, `start`, `restart`, `kill`, `pause` and `unpause` of existing containers: no create,
// no remove. Same ordering rules as up and down: start in dependency order, stop in reverse.
//
// Semantics follow docker compose v2:
// - stop (pkg/compose/stop.go): the named services only (all when none is named), not their
//   dependents; InReverseDependencyOrder, so a service stops after the services depending on
//   it. One-off containers are not touched.
// - start (pkg/compose/start.go): the named services and their dependencies; each service's
//   created or exited containers start after one wait per depends_on edge (startService →
//   waitDependencies). A service without containers is skipped (compose fails with "service
//   has no container to start"; the engine can say so, the plan has nothing to do).
// - restart (pkg/compose/restart.go): only `restart: true` edges count (compose deletes the
//   others); the named services plus, transitively, the services depending on them through
//   such edges (IncludeDependents); every container of those services is restarted (stop when
//   active, then start), a service after its restart dependencies were restarted and waited for.
// - kill (pkg/compose/kill.go): the running containers of the named services (all when none is
//   named), all at once: a signal has no order. One-off containers are not touched.
// - pause / unpause (pkg/compose/pause.go): the running (paused) containers of the named
//   services, all at once.
import type { Dependency, Project } from '../spec/model.js';
import { PlanBuilder } from './builder.js';
import { checkProjectName, checkServices, groupByService, isActive } from './containers.js';
import { stopAndRemove } from './down.js';
import { dependencyEdges, dependentsOf, lookupService, reverseOrder, topologicalOrder, withDependencies } from './graph.js';
import type { ObservedContainer, ObservedState } from './observed.js';
import type { Plan } from './plan.js';

export function planStop(observed: ObservedState, project: Project | undefined, services: readonly string[]): Plan {
  checkProjectName(project, observed.projectName);
  if (project) checkServices(project, services);
  const byService = selectedContainers(observed, project, services);
  const plan = new PlanBuilder();
  if (!project) {
    stopAndRemove(plan, [...byService.keys()].sort(), byService, () => [], () => 'stop', false);
  } else {
    const names = new Set([...Object.keys(project.services), ...byService.keys()]);
    stopAndRemove(plan, reverseOrder(project, names), byService, (name) => dependentsOf(project, name, () => true, names), () => 'stop', false);
  }
  return plan.build();
}

export function planStart(observed: ObservedState, project: Project | undefined, services: readonly string[]): Plan {
  checkProjectName(project, observed.projectName);
  const plan = new PlanBuilder();
  if (!project) {
    for (const [name, list] of [...selectedContainers(observed, undefined, services)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const c of list) if (c.status === 'created' || c.status === 'exited') plan.add({ kind: 'start', service: name, number: c.number, containerId: c.id, cause: 'not running' });
    }
    return plan.build();
  }
  checkServices(project, services);
  const scope = withDependencies(project, services.length > 0 ? services : Object.keys(project.services));
  const byService = groupByService(observed.containers.filter((c) => !c.oneoff && scope.has(c.service)));
  startInOrder(plan, project, topologicalOrder(project, scope), scope, byService, () => true,
    (c) => (c.status === 'created' || c.status === 'exited'), 'not running');
  return plan.build();
}

export function planRestart(observed: ObservedState, project: Project | undefined, services: readonly string[]): Plan {
  checkProjectName(project, observed.projectName);
  const restartable = (c: ObservedContainer): boolean => c.status !== 'dead' && c.status !== 'removing';
  const plan = new PlanBuilder();
  if (!project) {
    for (const [name, list] of [...selectedContainers(observed, undefined, services)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const c of list.filter(restartable)) restartOne(plan, name, c, []);
    }
    return plan.build();
  }
  checkServices(project, services);
  const onlyRestartEdges = (d: Dependency): boolean => d.restart;
  let scope: Set<string>;
  if (services.length === 0) {
    scope = new Set(Object.keys(project.services));
  } else {
    // the named services and, transitively, whoever depends on them with restart: true
    scope = new Set<string>();
    const visit = (name: string): void => {
      if (scope.has(name)) return;
      scope.add(name);
      for (const d of dependentsOf(project, name, onlyRestartEdges)) visit(d);
    };
    for (const name of services) visit(name);
  }
  const byService = groupByService(observed.containers.filter((c) => !c.oneoff && scope.has(c.service)));
  startInOrder(plan, project, topologicalOrder(project, scope), scope, byService, onlyRestartEdges, restartable, 'restart');
  return plan.build();
}

export function planKill(observed: ObservedState, project: Project | undefined, services: readonly string[], signal: string): Plan {
  return eachContainer(observed, project, services, (c) => c.status === 'running', 'kill', 'kill', signal);
}

export function planPause(observed: ObservedState, project: Project | undefined, services: readonly string[]): Plan {
  return eachContainer(observed, project, services, (c) => c.status === 'running', 'pause', 'pause');
}

export function planUnpause(observed: ObservedState, project: Project | undefined, services: readonly string[]): Plan {
  return eachContainer(observed, project, services, (c) => c.status === 'paused', 'unpause', 'unpause');
}

/** One independent operation per selected container, in service and number order. */
function eachContainer(observed: ObservedState, project: Project | undefined, services: readonly string[],
  selected: (c: ObservedContainer) => boolean, kind: 'kill' | 'pause' | 'unpause', cause: string, signal?: string): Plan {
  checkProjectName(project, observed.projectName);
  if (project) checkServices(project, services);
  const plan = new PlanBuilder();
  for (const [name, list] of [...selectedContainers(observed, project, services)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const c of list.filter(selected)) plan.add({ kind, service: name, number: c.number, containerId: c.id, cause, ...(signal !== undefined ? { signal } : {}) });
  }
  return plan.build();
}

/** Non-one-off containers of the named services (all when none is named), by service. */
function selectedContainers(observed: ObservedState, project: Project | undefined, services: readonly string[]): Map<string, ObservedContainer[]> {
  const wanted = services.length > 0 ? new Set(services) : project ? new Set(Object.keys(project.services)) : undefined;
  return groupByService(observed.containers.filter((c) => !c.oneoff && (wanted === undefined || wanted.has(c.service))));
}

/** Stop when active, then start: one container's restart; returns the start's id. */
function restartOne(plan: PlanBuilder, service: string, c: ObservedContainer, after: readonly number[]): number {
  const stop = isActive(c.status) ? [plan.add({ kind: 'stop', service, number: c.number, containerId: c.id, cause: 'restart', dependsOn: after })] : [];
  return plan.add({ kind: 'start', service, number: c.number, containerId: c.id, cause: 'restart', dependsOn: [...stop, ...after] });
}

/**
 * Services in dependency order: each one's selected containers are started (or, for cause
 * "restart", restarted) after one wait per counted edge to a dependency in scope, each wait after
 * that dependency's starts. A dependency with scale 0 is not waited for (compose).
 */
function startInOrder(plan: PlanBuilder, project: Project, order: readonly string[], scope: ReadonlySet<string>,
  byService: ReadonlyMap<string, readonly ObservedContainer[]>, countEdge: (d: Dependency) => boolean,
  selected: (c: ObservedContainer) => boolean, cause: 'not running' | 'restart'): void {
  const startOps = new Map<string, number[]>();
  for (const name of order) {
    const starts: number[] = [];
    startOps.set(name, starts);
    const targets = (byService.get(name) ?? []).filter(selected);
    if (targets.length === 0) continue;
    const waits: number[] = [];
    for (const e of dependencyEdges(project, lookupService(project, name)!)) {
      if (!scope.has(e.dependency) || !countEdge(e.config) || lookupService(project, e.dependency)!.scale === 0) continue;
      waits.push(plan.add({
        kind: 'wait', service: e.dependency, number: 0, cause: `dependency of ${name}`,
        condition: e.config.condition, required: e.config.required, dependsOn: startOps.get(e.dependency) ?? [],
      }));
    }
    for (const c of targets) {
      starts.push(cause === 'restart'
        ? restartOne(plan, name, c, waits)
        : plan.add({ kind: 'start', service: name, number: c.number, containerId: c.id, cause, dependsOn: waits }));
    }
  }
}
