// Progress on a terminal: one listr2 task per resource of the plan the engine announced, its title
// following the resource's operations ("Creating" … "Started"), all concurrent. The only importer
// of listr2. Warnings and errors are printed once the tasks are drawn for the last time.
import { Listr, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import type { EngineEvent } from '../../api/types.js';
import type { ChalkInstance } from 'chalk';
import { renderEvent, resourceLabel } from './events.js';

interface Slot {
  task?: ListrTaskWrapper<unknown, any, any>;
  remaining: number;
  title: string;
  settle?: { resolve: () => void; reject: (e: Error) => void };
  outcome?: { ok: boolean; text: string };
}

export class TtyProgress {
  private readonly slots = new Map<string, Slot>();
  private readonly later: EngineEvent[] = [];
  private running: Promise<unknown> | undefined;

  constructor(private readonly projectName: string, private readonly out: NodeJS.WritableStream, private readonly err: NodeJS.WritableStream, private readonly c: ChalkInstance) {}

  emit = (e: EngineEvent): void => {
    if (e.kind === 'plan') return this.begin(e.resources);
    if (e.kind === 'operation') {
      const slot = this.slots.get(e.resourceId);
      if (!slot) return renderEvent(e, this.projectName, this.out, this.err, this.c);
      slot.title = `${resourceLabel(this.projectName, e.resourceId)}  ${e.text}`;
      if (slot.task) slot.task.title = slot.title;
      if (e.status === 'failed') this.settle(slot, false, e.text);
      else if (e.status === 'done' && --slot.remaining <= 0) this.settle(slot, true, e.text);
      return;
    }
    if (e.kind === 'warning' || e.kind === 'error') {
      if (this.running) this.later.push(e); else renderEvent(e, this.projectName, this.out, this.err, this.c);
    }
  };

  private settle(slot: Slot, ok: boolean, text: string): void {
    slot.outcome = { ok, text };
    if (slot.settle) ok ? slot.settle.resolve() : slot.settle.reject(new Error(text));
  }

  private begin(resources: readonly { resourceId: string; operations: number }[]): void {
    for (const r of resources) this.slots.set(r.resourceId, { remaining: r.operations, title: resourceLabel(this.projectName, r.resourceId) });
    const list = new Listr(
      resources.map((r) => ({
        title: this.slots.get(r.resourceId)!.title,
        task: (_ctx: unknown, task: ListrTaskWrapper<unknown, any, any>) => new Promise<void>((resolve, reject) => {
          const slot = this.slots.get(r.resourceId)!;
          slot.task = task;
          task.title = slot.title;
          slot.settle = { resolve, reject };
          if (slot.outcome) this.settle(slot, slot.outcome.ok, slot.outcome.text);
        }),
      })),
      {
        concurrent: true,
        exitOnError: false,
        // the command's own streams (a warm client's, inside the engine, are not this process's)
        // and no signal handlers of listr2's own: the command's context owns Ctrl-C
        registerSignalListeners: false,
        rendererOptions: { collapseErrors: false, processOutput: new ProcessOutput(this.out as NodeJS.WriteStream, this.err as NodeJS.WriteStream) },
      },
    );
    this.running = list.run().catch(() => undefined);
  }

  /** Waits for the last drawing, then prints what was held back. Call when the verb returns. */
  async done(): Promise<void> {
    for (const slot of this.slots.values()) if (!slot.outcome) this.settle(slot, false, 'not finished');
    if (this.running) await this.running;
    this.running = undefined;
    for (const e of this.later) renderEvent(e, this.projectName, this.out, this.err, this.c);
  }
}
