// A plan is printable data: a DAG of operations, each with a closed kind, a resource id, a cause
// and its dependencies. `planToString` is the golden format of the unit tests, `up --dry-run`'s
// output and the debug log line.
import type { DependsCondition } from '../spec/model.js';

export type OperationKind =
  /** create container <service>-<number> from the service's config (not started) */
  | 'create'
  /** start an existing (created or exited) container */
  | 'start'
  /** stop a running container (stop signal, grace period, SIGKILL) */
  | 'stop'
  /** remove a container (stopped first by a `stop` it depends on, when running) */
  | 'remove'
  /** send a signal to a running container's PID 1 (`kill`; the operation carries the signal) */
  | 'kill'
  /** freeze a running container's processes (the cgroup freezer) */
  | 'pause'
  /** thaw a paused container */
  | 'unpause'
  /** block until a dependency's containers meet a depends_on condition */
  | 'wait';

/**
 * What an operation acts on, the first part of its resource id: a service replica or a whole
 * service ("service:web:1", "service:db"), a network ("network:backend"), a volume
 * ("volume:db-data"). Networks and volumes are created and removed like containers; the plan
 * orders them (a network before the containers on it, a volume removed after its last user).
 */
export type ResourceKind = 'service' | 'network' | 'volume';

export function resourceKindOf(resourceId: string): ResourceKind {
  const kind = resourceId.slice(0, resourceId.indexOf(':'));
  return kind === 'network' || kind === 'volume' ? kind : 'service';
}

export interface Operation {
  /** index in Plan.operations; dependencies refer to it */
  readonly id: number;
  readonly kind: OperationKind;
  /** "service:web:1" for a replica, "service:db" for a whole service (wait), "network:backend", "volume:db-data" */
  readonly resourceId: string;
  /** the service ('' for a network or volume operation) */
  readonly service: string;
  /** the replica number; 0 for service-wide, network and volume operations */
  readonly number: number;
  /** the existing container acted on (start, stop, remove) */
  readonly containerId?: string;
  /** why: "not found", "config hash changed", "scaled down", "orphan", "forced", "stopped" … */
  readonly cause: string;
  /** operation ids that must complete first */
  readonly dependsOn: readonly number[];
  /** wait only */
  readonly condition?: DependsCondition;
  /** wait only: false = a `required: false` dependency (a failure is a warning, not an error) */
  readonly required?: boolean;
  /** kill only: the signal, as the user named it ("SIGTERM", "HUP", "9") */
  readonly signal?: string;
}

export interface Plan {
  readonly operations: readonly Operation[];
}

/** The operation kinds, in the order an executor's runner declares them. */
export const OPERATION_KINDS: readonly OperationKind[] = ['create', 'start', 'stop', 'remove', 'kill', 'pause', 'unpause', 'wait'];

/** One line per operation: "#3 start service:web:1 (not running) after #1,#2". */
export function planToString(plan: Plan): string {
  return plan.operations
    .map((op) => {
      const extra = op.kind === 'wait' ? ` ${op.condition}${op.required === false ? ' (optional)' : ''}` : op.kind === 'kill' ? ` ${op.signal}` : '';
      const after = op.dependsOn.length > 0 ? ` after ${op.dependsOn.map((d) => `#${d}`).join(',')}` : '';
      return `#${op.id} ${op.kind} ${op.resourceId}${extra} (${op.cause})${after}`;
    })
    .join('\n') + (plan.operations.length > 0 ? '\n' : '');
}
