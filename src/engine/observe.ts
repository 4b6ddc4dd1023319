// Observed state: one snapshot of a project's containers, as data for the planner. Built from the
// container records (labels), the shim files (status, exit code, times) and the engine's state
// file (restart count, health).
import type { ObservedContainer, ObservedState } from '../plan/observed.js';
import type { ContainerRuntime, ContainerView } from '../runtime/container.js';
import { LABEL } from './service-container.js';

export function observedContainer(runtime: ContainerRuntime, view: ContainerView): ObservedContainer {
  const { record, observed } = view;
  const labels = record.config.Labels;
  const state = runtime.runtimeState(record.id);
  const time = (s: string | undefined): number | undefined => {
    if (!s) return undefined;
    const t = Date.parse(s);
    return Number.isNaN(t) ? undefined : t;
  };
  return {
    id: record.id,
    name: record.name,
    service: labels[LABEL.service] ?? '',
    number: Number(labels[LABEL.number] ?? 0),
    configHash: labels[LABEL.hash] ?? '',
    ...(labels[LABEL.image] ? { imageId: labels[LABEL.image] } : {}),
    oneoff: labels[LABEL.oneoff] === 'True',
    status: observed.status,
    exitCode: observed.exited?.exitCode,
    health: state.health?.status ?? (hasHealthcheck(record.config.Healthcheck?.Test) && observed.status === 'running' ? 'starting' : undefined),
    startedAt: time(observed.started?.startedAt),
    finishedAt: time(observed.exited?.finishedAt),
    restartCount: state.restartCount ?? 0,
    stoppedByUser: record.stoppedByUser ?? false,
  };
}

/**
 * A container created with a health check is "starting" from the moment it runs, before its
 * monitor (started asynchronously by the supervisor) has written a state: a dependent waiting
 * for service_healthy must wait, not conclude there is no check.
 */
function hasHealthcheck(test: readonly string[] | undefined): boolean {
  return test !== undefined && test.length > 0 && test[0] !== 'NONE';
}

/**
 * The project of each container seen (its compose project label; '' for none), by full id. A
 * record's labels never change after create and ids are never reused, so a container once seen
 * to be of another project is not read again by a look at this one: a no-op `up` reads its own
 * project's records, not every record on the host. Placeholders (a corrupt or missing record)
 * and containers being removed are not remembered; ids whose directory is gone are forgotten.
 */
const projectOfId = new WeakMap<ContainerRuntime, Map<string, string>>();

/** The containers of one project (by the compose project label), newest first as runtime.list(). */
export function projectViews(runtime: ContainerRuntime, projectName: string): ContainerView[] {
  let known = projectOfId.get(runtime);
  if (!known) projectOfId.set(runtime, known = new Map());
  const ids = runtime.ids();
  if (known.size > ids.length) {
    const present = new Set(ids);
    for (const id of known.keys()) if (!present.has(id)) known.delete(id);
  }
  const out: ContainerView[] = [];
  for (const id of ids) {
    const project = known.get(id);
    if (project !== undefined && project !== projectName) continue;
    const view = runtime.view(id);
    if (!view) continue;
    const label = view.record.config.Labels[LABEL.project] ?? '';
    if (view.problem === undefined && view.observed.status !== 'removing') known.set(id, label);
    if (label === projectName) out.push(view);
  }
  return out.sort((a, b) => (a.record.created < b.record.created ? 1 : -1));
}

export function observe(runtime: ContainerRuntime, projectName: string): ObservedState {
  return { projectName, containers: projectViews(runtime, projectName).map((v) => observedContainer(runtime, v)) };
}
