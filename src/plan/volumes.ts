// Volumes as resources of the plan (`volume:<name>`, the volume's name on this host):
//   - `up` creates the project's named volumes that the services in scope use and that do not
//     exist yet ("not found"), before the containers that mount them (compose's
//     ensureProjectVolumes, limited as WithoutUnnecessaryResources limits it). External volumes
//     are never created: the engine checks they exist before anything is touched.
//   - `down -v` removes, after the containers it removes, the project's named volumes (label
//     com.docker.compose.project, never an external one) and the anonymous volumes of the project
//     whose every user is among the containers removed ("anonymous"). A volume another container
//     still uses is left to the engine, which keeps it and says so (compose's "still in use").
// Anonymous volumes are made with their container (engine, src/volumes/mounts.ts), not planned.
import type { Project, Service } from '../spec/model.js';
import type { PlanBuilder } from './builder.js';
import type { ObservedState, ObservedVolume } from './observed.js';

/** The keys of top-level volumes a service mounts (type volume with a source), in order. */
export function volumeKeysOf(service: Service): string[] {
  const out: string[] = [];
  for (const m of service.volumes) if (m.type === 'volume' && m.source !== undefined && !out.includes(m.source)) out.push(m.source);
  return out;
}

/**
 * Adds a create for each non-external project volume used by the services of `scope` that the
 * host does not have; returns the create's id by volume key (only for the ones planned).
 */
export function planVolumeCreates(plan: PlanBuilder, project: Project, scope: Iterable<string>, observed: ObservedState): Map<string, number> {
  const existing = new Set((observed.volumes ?? []).map((v) => v.name));
  const keys = new Set<string>();
  for (const name of scope) {
    const service = project.services[name] ?? project.disabled_services[name];
    if (service) for (const k of volumeKeysOf(service)) keys.add(k);
  }
  const out = new Map<string, number>();
  for (const key of [...keys].sort()) {
    const def = project.volumes[key];
    if (!def || def.external || existing.has(def.name)) continue;
    out.set(key, plan.add({ kind: 'create', resource: { kind: 'volume', name: def.name }, service: '', number: 0, cause: 'not found' }));
  }
  return out;
}

/** The creates a service's containers wait for. */
export function volumeCreatesOf(service: Service, creates: ReadonlyMap<string, number>): number[] {
  return volumeKeysOf(service).flatMap((k) => (creates.has(k) ? [creates.get(k)!] : []));
}

/**
 * `down -v`: removes of the project's volumes, each after the removes of the containers it knows
 * of (`removeOf` gives the op removing a container, by id). `project` (when known) names the
 * external volumes, which are never removed.
 */
export function planVolumeRemovals(plan: PlanBuilder, project: Project | undefined, observed: ObservedState, removeOf: ReadonlyMap<string, number>): void {
  const external = new Set(Object.values(project?.volumes ?? {}).filter((v) => v.external).map((v) => v.name));
  const ours = (v: ObservedVolume): boolean => v.project === observed.projectName && !external.has(v.name);
  const sorted = [...(observed.volumes ?? [])].filter(ours).sort((a, b) => Number(a.anonymous) - Number(b.anonymous) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const v of sorted) {
    if (v.anonymous) {
      // kept while a container this plan leaves (a one-off, another project's) still uses it
      if (!v.users.every((id) => removeOf.has(id))) continue;
      plan.add({ kind: 'remove', resource: { kind: 'volume', name: v.name }, service: '', number: 0, cause: 'anonymous', dependsOn: v.users.map((id) => removeOf.get(id)!) });
    } else {
      // after its users' removes; one that is not in this plan keeps it, and the engine says so
      plan.add({ kind: 'remove', resource: { kind: 'volume', name: v.name }, service: '', number: 0, cause: 'down -v', dependsOn: v.users.flatMap((id) => (removeOf.has(id) ? [removeOf.get(id)!] : [])) });
    }
  }
}
