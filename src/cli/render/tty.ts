// Progress on a terminal: one listr2 task per resource of the plan the engine announced, its title
// following the resource's operations ("Creating" … "Started"), all concurrent. The only importer
// of listr2. Warnings and errors are printed once the tasks are drawn for the last time.
import { DefaultRenderer, Listr, ListrDefaultRendererLogLevels as Level, ListrLogger, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import type { EngineEvent } from '../../api/types.js';
import type { ChalkInstance } from 'chalk';
import { renderEvent, resourceLabel } from './events.js';

/**
 * listr2's default renderer, chosen by what the command's own stdout is (this class is only used
 * on a terminal), never by the process's own: inside the engine (the warm CLI, docs/warm-cli.md)
 * the process's stdout is the engine's log, and listr2 would fall back to its line renderer.
 *
 * The width lines are cut at is the command's terminal's too. listr2's format() reads
 * `process.stdout.columns` (80 when that is no terminal, as in the engine); for the time of that
 * one synchronous call, process.stdout shows the command's own stdout's width, so it is never seen
 * by anything else (no other code runs during it; two warm commands on two terminals each get
 * their own). log-update, which draws the lines, already reads the stream it is given.
 */
function terminalRenderer(out: NodeJS.WritableStream): typeof DefaultRenderer {
  return class TerminalRenderer extends DefaultRenderer {
    static override nonTTY = true;
    override format(message: string, icon: string, level: number): string[] {
      const columns = (out as NodeJS.WriteStream).columns;
      const stdout = process.stdout;
      if (stdout === out || !(columns > 0)) return super.format(message, icon, level);
      const own = Object.getOwnPropertyDescriptor(stdout, 'columns');
      Object.defineProperty(stdout, 'columns', { value: columns, configurable: true, writable: true, enumerable: true });
      try {
        return super.format(message, icon, level);
      } finally {
        if (own) Object.defineProperty(stdout, 'columns', own);
        else delete (stdout as { columns?: number }).columns;
      }
    }
  };
}

/** listr2's icon colours, from the command's chalk (its stream and NO_COLOR), not from this process's stdout. */
function iconColors(chalk: ChalkInstance): Partial<Record<Level, (s?: string) => string>> {
  const c = new Proxy(chalk, { get: (t, name: string) => (s?: string) => (t[name as 'red'] as (x: string) => string)(s ?? '') });
  return {
    [Level.SKIPPED_WITH_COLLAPSE]: c.yellow, [Level.SKIPPED_WITHOUT_COLLAPSE]: c.yellow, [Level.PENDING]: c.yellow,
    [Level.COMPLETED]: c.green, [Level.COMPLETED_WITH_FAILED_SUBTASKS]: c.yellow, [Level.COMPLETED_WITH_FAILED_SISTER_TASKS]: c.red,
    [Level.RETRY]: c.yellowBright, [Level.ROLLING_BACK]: c.redBright, [Level.ROLLED_BACK]: c.redBright,
    [Level.FAILED]: c.red, [Level.FAILED_WITH_FAILED_SUBTASKS]: c.red, [Level.WAITING]: c.dim, [Level.PAUSED]: c.yellowBright,
  };
}

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
        // and no signal handlers of listr2's own: the command's context owns Ctrl-C
        registerSignalListeners: false,
        renderer: terminalRenderer(this.out),
        // the renderer writes through its logger: given ours, it draws on the command's streams
        // (a rendererOptions.processOutput is not read by the default renderer)
        rendererOptions: {
          collapseErrors: false,
          color: iconColors(this.c),
          logger: new ListrLogger<Level>({ useIcons: true, toStderr: [], processOutput: new ProcessOutput(this.out as NodeJS.WriteStream, this.err as NodeJS.WriteStream) }),
        },
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
