// Appends operations to a plan, numbering them in order. An operation may only depend on
// operations added before it, so ids always point backwards and the plan is a DAG by
// construction (the builder checks it).
import type { DependsCondition } from '../spec/model.js';
import type { Operation, OperationKind, Plan } from './plan.js';
import { InternalError } from '../lib/errors.js';

export interface OperationInput {
  readonly kind: OperationKind;
  /** a network or volume operation (create, remove): its resource; service and number are then '' and 0 */
  readonly resource?: { readonly kind: 'network' | 'volume'; readonly name: string };
  readonly service: string;
  /** replica number; 0 for a wait (service-wide) */
  readonly number: number;
  readonly cause: string;
  readonly containerId?: string | undefined;
  readonly dependsOn?: Iterable<number>;
  readonly condition?: DependsCondition;
  readonly required?: boolean;
  readonly signal?: string;
}

export class PlanBuilder {
  private readonly operations: Operation[] = [];

  /** Adds one operation and returns its id. */
  add(input: OperationInput): number {
    const id = this.operations.length;
    const dependsOn = [...new Set(input.dependsOn ?? [])].sort((a, b) => a - b);
    for (const d of dependsOn) {
      if (!Number.isInteger(d) || d < 0 || d >= id) throw new InternalError(`operation #${id} cannot depend on #${d}`);
    }
    if (input.resource && input.kind !== 'create' && input.kind !== 'remove') throw new InternalError(`a ${input.resource.kind} can only be created or removed, not ${input.kind}`);
    // a wait concerns a whole service; a network or volume is one resource; every other kind acts on one container
    const resourceId = input.resource ? `${input.resource.kind}:${input.resource.name}`
      : input.kind === 'wait' ? `service:${input.service}` : `service:${input.service}:${input.number}`;
    this.operations.push({
      id,
      kind: input.kind,
      resourceId,
      service: input.service,
      number: input.number,
      ...(input.containerId !== undefined ? { containerId: input.containerId } : {}),
      cause: input.cause,
      dependsOn,
      ...(input.condition !== undefined ? { condition: input.condition } : {}),
      ...(input.required !== undefined ? { required: input.required } : {}),
      ...(input.signal !== undefined ? { signal: input.signal } : {}),
    });
    return id;
  }

  build(): Plan {
    return { operations: [...this.operations] };
  }
}
