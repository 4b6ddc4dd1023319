// Small questions the planners ask of observed containers, answered one way for every verb.
import type { Project } from '../spec/model.js';
import { lookupService } from './graph.js';
import type { ObservedContainer, ObservedStatus } from './observed.js';
import { InternalError, NotFound } from '../lib/errors.js';

/** A container with a process a `stop` must end: running, restarting (between two runs of its
 * restart policy) or paused (docker stop unpauses after signalling). */
export function isActive(status: ObservedStatus): boolean {
  return status === 'running' || status === 'restarting' || status === 'paused';
}

/** Sorted by service name, then replica number, then id: the order operations are listed in. */
export function sortContainers(containers: Iterable<ObservedContainer>): ObservedContainer[] {
  return [...containers].sort((a, b) =>
    a.service < b.service ? -1 : a.service > b.service ? 1
      : a.number !== b.number ? a.number - b.number
        : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Containers grouped by their service label, each group sorted by number. */
export function groupByService(containers: Iterable<ObservedContainer>): Map<string, ObservedContainer[]> {
  const out = new Map<string, ObservedContainer[]>();
  for (const c of sortContainers(containers)) {
    const list = out.get(c.service);
    if (list) list.push(c); else out.set(c.service, [c]);
  }
  return out;
}

/** Every service name the project knows, enabled or disabled by profiles: a container whose
 * service is not among them is an orphan (compose's isOrphaned counts disabled services as
 * known). */
export function knownServices(project: Project): Set<string> {
  return new Set([...Object.keys(project.services), ...Object.keys(project.disabled_services)]);
}

/** Checks that every named service exists (enabled or not); throws NotFound "no such service: x". */
export function checkServices(project: Project, names: readonly string[]): void {
  for (const name of names) if (!lookupService(project, name)) throw new NotFound(`no such service: ${name}`);
}

/** The observed state must be of the project being planned: a guard against a wiring bug. */
export function checkProjectName(project: Project | undefined, projectName: string): void {
  if (project && project.name !== projectName) {
    throw new InternalError(`observed state of project "${projectName}" given for project "${project.name}"`);
  }
}
