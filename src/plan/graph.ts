// The depends_on DAG over a project's services: which edges count, topological order (for up and
// start), reverse order (for stop and down), the closure of a selection, and dependents (for
// `restart: true`). Pure; every order is deterministic (ties broken by service name), so plans
// and their golden texts are stable.
//
// Which edges count (compose-go's semantics, as `up` applies them):
// - a dependency on an enabled service (Project.services) always counts;
// - a dependency on a service disabled by profiles counts when it is `required` (naming a
//   service as a required dependency enables it, as compose does for targeted services) and is
//   dropped when `required: false`;
// - a dependency on a service that exists nowhere is dropped when `required: false` and is an
//   error otherwise (the loader rejects it first; this is the defensive copy).
import type { Dependency, Project, Service } from '../spec/model.js';
import { InvalidArgument, NotFound } from '../lib/errors.js';

export interface Edge {
  /** the service that waits */
  readonly dependent: string;
  /** the service waited for */
  readonly dependency: string;
  readonly config: Dependency;
}

/** A service of the project, enabled or disabled by profiles; undefined when it does not exist. */
export function lookupService(project: Project, name: string): Service | undefined {
  return Object.hasOwn(project.services, name) ? project.services[name]
    : Object.hasOwn(project.disabled_services, name) ? project.disabled_services[name]
    : undefined;
}

/** The depends_on edges of one service that count (see the header), sorted by dependency name. */
export function dependencyEdges(project: Project, service: Service): Edge[] {
  const edges: Edge[] = [];
  for (const name of Object.keys(service.depends_on).sort()) {
    const config = service.depends_on[name]!;
    const enabled = Object.hasOwn(project.services, name);
    const disabled = !enabled && Object.hasOwn(project.disabled_services, name);
    if (enabled || (disabled && config.required)) {
      edges.push({ dependent: service.name, dependency: name, config });
    } else if (!disabled && config.required) {
      throw new InvalidArgument(`service "${service.name}" depends on undefined service "${name}"`);
    }
  }
  return edges;
}

/** Names in `selection` plus everything they transitively depend on (edges as above). */
export function withDependencies(project: Project, selection: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const visit = (name: string): void => {
    if (out.has(name)) return;
    const service = lookupService(project, name);
    if (!service) throw new NotFound(`no such service: ${name}`);
    out.add(name);
    for (const e of dependencyEdges(project, service)) visit(e.dependency);
  };
  for (const name of selection) visit(name);
  return out;
}

/**
 * The services among `among` (default: every enabled service) that depend directly on
 * `service`, optionally only through edges `filter` accepts (`(d) => d.restart` for
 * `restart: true`). Sorted by name.
 */
export function dependentsOf(
  project: Project,
  service: string,
  filter: (d: Dependency) => boolean = () => true,
  among: Iterable<string> = Object.keys(project.services),
): string[] {
  const out: string[] = [];
  for (const name of [...among].sort()) {
    const s = lookupService(project, name);
    if (!s) continue;
    if (dependencyEdges(project, s).some((e) => e.dependency === service && filter(e.config))) out.push(name);
  }
  return out;
}

/**
 * `names` (default: every enabled service) ordered so that each service comes after the
 * services it depends on. Edges to services outside `names` are ignored. Throws InvalidArgument
 * naming the cycle when there is one (the loader refuses cycles first).
 */
export function topologicalOrder(project: Project, names: Iterable<string> = Object.keys(project.services)): string[] {
  const set = new Set(names);
  const deps = new Map<string, string[]>();
  for (const name of set) {
    const service = lookupService(project, name);
    if (!service) throw new NotFound(`no such service: ${name}`);
    deps.set(name, dependencyEdges(project, service).map((e) => e.dependency).filter((d) => set.has(d)));
  }
  // Depth-first, visiting names and dependencies alphabetically: deterministic, and the stack
  // names the cycle when one is found.
  const done = new Set<string>();
  const onStack: string[] = [];
  const order: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const at = onStack.indexOf(name);
    if (at >= 0) throw new InvalidArgument(`dependency cycle: ${[...onStack.slice(at), name].join(' -> ')}`);
    onStack.push(name);
    for (const d of [...deps.get(name)!].sort()) visit(d);
    onStack.pop();
    done.add(name);
    order.push(name);
  };
  for (const name of [...set].sort()) visit(name);
  return order;
}

/** Dependents before their dependencies: the order to stop in. */
export function reverseOrder(project: Project, names?: Iterable<string>): string[] {
  return topologicalOrder(project, names).reverse();
}
