// Walks a Plan: runs every operation whose dependencies are done, as many at once as the DAG
// allows, and reports each step as an event. It makes no decisions: what to do is in the plan,
// how to do one operation is in the `ops` callbacks the verb passes (engine/projects.ts). An
// operation whose dependency failed is skipped. A cancelled walk (the client cancelled, or went
// away) starts nothing more: what has not begun is left (counted in `notStarted`, no event), what
// is in progress finishes (a create half made is worse than one made), and the walk resolves only
// then, so that whoever waits for it knows nothing more will change.
import { resourceKindOf, type Operation, type Plan, type ResourceKind } from '../plan/plan.js';
import type { EngineEvent } from '../api/types.js';
import { InternalError, cancelledBy } from '../lib/errors.js';

/**
 * How to create and remove one kind of non-container resource (the networking and volumes issues
 * add them). A string result is the text of the operation's done event, when "Created" or
 * "Removed" would not be true (a volume still in use is kept: "In use, kept").
 */
export interface ResourceRunner {
  create(op: Operation, signal: AbortSignal): Promise<void | string>;
  remove(op: Operation, signal: AbortSignal): Promise<void | string>;
}

export interface OperationRunner {
  /** the runners of network and volume operations (resourceId "network:…", "volume:…") */
  readonly resources?: Partial<Record<Exclude<ResourceKind, 'service'>, ResourceRunner>>;
  /** returns the id of the container created (create) or acted on */
  create(op: Operation): Promise<string>;
  start(op: Operation, containerId: string): Promise<void>;
  stop(op: Operation, containerId: string): Promise<void>;
  remove(op: Operation, containerId: string): Promise<void>;
  kill(op: Operation, containerId: string): Promise<void>;
  pause(op: Operation, containerId: string): Promise<void>;
  unpause(op: Operation, containerId: string): Promise<void>;
  /** resolves when the condition holds; throws when it can no longer hold */
  wait(op: Operation, signal: AbortSignal): Promise<void>;
}

export interface ExecutionResult {
  readonly failed: readonly { readonly op: Operation; readonly error: Error }[];
  /** container ids by resource id, for operations that made or touched one */
  readonly containers: ReadonlyMap<string, string>;
  /** operations left unbegun because the walk was cancelled */
  readonly notStarted: number;
  /** operations that were in progress when it was cancelled (they finished, or failed, before the walk resolved) */
  readonly inProgressAtCancel: number;
}

/** docker compose's words for each step, as its progress display shows them */
const PAST: Readonly<Record<Operation['kind'], string>> = {
  create: 'Created', start: 'Started', stop: 'Stopped', remove: 'Removed', kill: 'Killed', pause: 'Paused', unpause: 'Unpaused', wait: 'Healthy',
};
const PRESENT: Readonly<Record<Operation['kind'], string>> = {
  create: 'Creating', start: 'Starting', stop: 'Stopping', remove: 'Removing', kill: 'Killing', pause: 'Pausing', unpause: 'Unpausing', wait: 'Waiting',
};

/**
 * Operations begin one per turn of the event loop, in the order they became ready, across every
 * walk of this engine. A setImmediate each is not enough: Node runs every immediate queued before
 * a turn's check phase in that one phase, so 30 creates made ready at once would all run their
 * synchronous part (records, cgroup directories, the launch file) back to back and hold timers,
 * I/O and every other request up for the sum of them (the event-loop stalls of `up -d`).
 */
const waitingForTurn: (() => void)[] = [];
let turning = false;
function giveTurn(): void {
  waitingForTurn.shift()?.();
  // queued from inside an immediate: it runs on the next turn, after timers and I/O
  if (waitingForTurn.length > 0) setImmediate(giveTurn);
  else turning = false;
}
export function ownTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waitingForTurn.push(resolve);
    if (!turning) {
      turning = true;
      setImmediate(giveTurn);
    }
  });
}

/** Operations begun and not finished, in every walk of this engine (engine status: a cancelled walk's proof of being over). */
let inProgressEverywhere = 0;
export const operationsInProgress = (): number => inProgressEverywhere;

export async function execute(plan: Plan, ops: OperationRunner, emit: (e: EngineEvent) => void, signal: AbortSignal, clock: { now(): number } = Date): Promise<ExecutionResult> {
  const now = (): string => new Date(clock.now()).toISOString();
  const containers = new Map<string, string>();
  for (const op of plan.operations) if (op.containerId) containers.set(op.resourceId, op.containerId);
  const state = new Map<number, 'pending' | 'running' | 'done' | 'failed' | 'skipped'>();
  for (const op of plan.operations) state.set(op.id, 'pending');
  const failed: { op: Operation; error: Error }[] = [];
  let notStarted = 0;
  let inProgressAtCancel = -1;

  return new Promise((resolve) => {
    /** operations begun or waiting for their turn */
    let running = 0;
    /** operations begun (past their turn) and not finished */
    let inProgress = 0;
    const finish = (): void => resolve({ failed, containers, notStarted, inProgressAtCancel: Math.max(0, inProgressAtCancel) });
    const onAbort = (): void => {
      inProgressAtCancel = inProgress;
      schedule();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const runOne = async (op: Operation): Promise<void> => {
      running++;
      state.set(op.id, 'running');
      // each operation begins on a turn of its own (ownTurn): the synchronous part of 30 creates
      // or starts made ready at once never holds the engine's other requests up for all 30
      await ownTurn();
      if (signal.aborted) {
        state.set(op.id, 'skipped');
        notStarted++;
        running--;
        schedule();
        return;
      }
      inProgress++;
      inProgressEverywhere++;
      emit({ kind: 'operation', resourceId: op.resourceId, status: op.kind === 'wait' ? 'waiting' : 'started', text: PRESENT[op.kind], time: now() });
      try {
        if (signal.aborted) throw cancelledBy(signal);
        const resource = resourceKindOf(op.resourceId);
        let said: string | void = undefined;
        if (resource !== 'service') {
          const r = ops.resources?.[resource];
          if (!r) throw new InternalError(`the engine has no runner for ${resource} operations (${op.resourceId})`);
          if (op.kind === 'create') said = await r.create(op, signal);
          else if (op.kind === 'remove') said = await r.remove(op, signal);
          else throw new InternalError(`${op.kind} of ${op.resourceId}`);
        } else switch (op.kind) {
          case 'create': containers.set(op.resourceId, await ops.create(op)); break;
          case 'start': await ops.start(op, containerOf(op)); break;
          case 'stop': await ops.stop(op, containerOf(op)); break;
          case 'remove': await ops.remove(op, containerOf(op)); break;
          case 'kill': await ops.kill(op, containerOf(op)); break;
          case 'pause': await ops.pause(op, containerOf(op)); break;
          case 'unpause': await ops.unpause(op, containerOf(op)); break;
          case 'wait': await ops.wait(op, signal); break;
        }
        state.set(op.id, 'done');
        const text = typeof said === 'string' ? said : op.kind !== 'wait' ? PAST[op.kind] : op.condition === 'service_completed_successfully' ? 'Exited' : op.condition === 'service_started' ? 'Started' : 'Healthy';
        emit({ kind: 'operation', resourceId: op.resourceId, status: 'done', text, time: now() });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (op.kind === 'wait' && op.required === false) {
          // an optional dependency that failed: a warning, and its dependents go on
          state.set(op.id, 'done');
          emit({ kind: 'warning', text: `${op.resourceId}: optional dependency not met: ${error.message}`, time: now() });
        } else {
          state.set(op.id, 'failed');
          failed.push({ op, error });
          emit({ kind: 'operation', resourceId: op.resourceId, status: 'failed', text: error.message, time: now() });
        }
      } finally {
        running--;
        inProgress--;
        inProgressEverywhere--;
        schedule();
      }
    };

    const containerOf = (op: Operation): string => {
      const id = op.containerId ?? containers.get(op.resourceId);
      if (!id) throw new InternalError(`no container for ${op.resourceId}`);
      return id;
    };

    const schedule = (): void => {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const op of plan.operations) {
          if (state.get(op.id) !== 'pending') continue;
          if (signal.aborted) {
            if (inProgressAtCancel < 0) inProgressAtCancel = inProgress;
            state.set(op.id, 'skipped');
            notStarted++;
            continue;
          }
          const deps = op.dependsOn.map((d) => state.get(d));
          if (deps.some((s) => s === 'failed' || s === 'skipped')) {
            state.set(op.id, 'skipped');
            progressed = true;
            continue;
          }
          if (deps.every((s) => s === 'done')) void runOne(op);
        }
      }
      if (running === 0 && [...state.values()].every((s) => s !== 'pending' && s !== 'running')) {
        signal.removeEventListener('abort', onAbort);
        finish();
      }
    };
    schedule();
  });
}
