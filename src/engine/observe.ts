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

/** The containers of one project (by the compose project label). */
export function projectViews(runtime: ContainerRuntime, projectName: string): ContainerView[] {
  return runtime.list().filter((v) => v.record.config.Labels[LABEL.project] === projectName);
}

export function observe(runtime: ContainerRuntime, projectName: string): ObservedState {
  return { projectName, containers: projectViews(runtime, projectName).map((v) => observedContainer(runtime, v)) };
}
