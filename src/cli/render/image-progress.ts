// Progress of pulls, pushes and builds (the engine's `layer`, `message`, `step` and `output`
// events). Plain lines otherwise, in docker's words ("a1b2c3d4e5f6: Pull complete", "#3 [app 2/4]
// RUN make", "#3 DONE 0.4s"); on a terminal one listr2 task per image being pulled or pushed
// (its layers drawn under it, one bar each, with bytes and speed) and per build step (its output
// under it, collapsed when the step is done). Messages about a whole image are printed once the
// drawing is over, so they stay on screen in order.
import type { EngineEvent } from '../../api/types.js';
import type { ChalkInstance } from 'chalk';
import { formatSize } from '../../lib/units.js';

export type ImageProgressEvent = Extract<EngineEvent, { kind: 'layer' | 'message' | 'step' | 'output' }>;

export function isImageEvent(e: EngineEvent): e is ImageProgressEvent {
  return e.kind === 'layer' || e.kind === 'message' || e.kind === 'step' || e.kind === 'output';
}

const LAYER_WORDS: Record<string, string> = {
  waiting: 'Waiting', 'already exists': 'Already exists', downloading: 'Downloading', retrying: 'Retrying', verifying: 'Verifying Checksum',
  extracting: 'Extracting', 'pull complete': 'Pull complete', preparing: 'Preparing', pushing: 'Pushing', pushed: 'Pushed',
  'layer already exists': 'Layer already exists', mounted: 'Mounted',
};

export interface ImageRenderer {
  emit(e: ImageProgressEvent): void;
  /** the last drawing done and held-back lines printed; call once the verb returns or fails */
  done(): Promise<void>;
}

/** Plain lines: one per change of a layer's state (not per chunk), one per step, its output prefixed "#n". */
export class PlainImageProgress implements ImageRenderer {
  private readonly layerState = new Map<string, string>();
  private readonly stepNumber = new Map<string, number>();

  constructor(private readonly out: NodeJS.WritableStream, private readonly c: ChalkInstance) {}

  emit(e: ImageProgressEvent): void {
    switch (e.kind) {
      case 'message':
        this.out.write(`${e.text}\n`);
        return;
      case 'layer': {
        const key = `${e.resourceId} ${e.id}`;
        if (this.layerState.get(key) === e.status) return;
        this.layerState.set(key, e.status);
        this.out.write(`${e.id}: ${LAYER_WORDS[e.status] ?? e.status}${e.text ? ` ${e.text}` : ''}\n`);
        return;
      }
      case 'step': {
        let n = this.stepNumber.get(e.resourceId);
        if (n === undefined) { n = this.stepNumber.size + 1; this.stepNumber.set(e.resourceId, n); }
        if (e.status === 'started' || e.status === 'skipped') this.out.write(`#${n} ${e.name}\n`);
        else if (e.status === 'cached') this.out.write(`#${n} ${e.name}\n#${n} ${this.c.blue('CACHED')}\n`);
        else if (e.status === 'done') this.out.write(`#${n} DONE ${(e.seconds ?? 0).toFixed(1)}s\n`);
        else this.out.write(`#${n} ${this.c.red('ERROR')}\n`);
        return;
      }
      case 'output': {
        const n = this.stepNumber.get(e.resourceId) ?? 0;
        for (const line of e.text.replace(/\n$/, '').split('\n')) this.out.write(`#${n} ${line}\n`);
        return;
      }
    }
  }

  async done(): Promise<void> {}
}

interface Bar { status: string; current: number; total: number; text: string; since: number; startBytes: number }

interface Group {
  title: string;
  lines: string[];
  bars: Map<string, Bar>;
  finished?: { ok: boolean };
}

/**
 * A terminal: one listr2 task drawing every image being pulled or pushed (a bar per layer) and
 * every build step (its last lines of output), each collapsed to one line with its mark when done.
 */
export class TtyImageProgress implements ImageRenderer {
  private readonly groups = new Map<string, Group>();
  private readonly held: string[] = [];
  private running: Promise<unknown> | undefined;
  private task: { title: string; output: string } | undefined;
  private settle: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private taskStarted: Promise<void> | undefined;

  constructor(private readonly out: NodeJS.WritableStream, private readonly err: NodeJS.WritableStream, private readonly c: ChalkInstance, private readonly now: () => number = Date.now) {}

  emit(e: ImageProgressEvent): void {
    if (e.kind === 'message') { this.held.push(e.text); return; }
    if (e.kind === 'layer') {
      const g = this.group(e.resourceId, titleOf(e.resourceId));
      let bar = g.bars.get(e.id);
      if (!bar) { bar = { status: e.status, current: 0, total: 0, text: '', since: this.now(), startBytes: 0 }; g.bars.set(e.id, bar); }
      if (bar.status !== e.status) { bar.since = this.now(); bar.startBytes = e.current ?? 0; }
      bar.status = e.status;
      bar.current = e.current ?? bar.current;
      bar.total = e.total ?? bar.total;
      bar.text = e.text ?? '';
      if ([...g.bars.values()].every((b) => DONE_STATES.has(b.status))) g.finished = { ok: true };
    } else if (e.kind === 'step') {
      const g = this.group(e.resourceId, e.name);
      g.title = e.status === 'cached' ? `${e.name} ${this.c.blue('CACHED')}` : e.status === 'done' ? `${e.name} ${this.c.dim(`${(e.seconds ?? 0).toFixed(1)}s`)}` : e.name;
      if (e.status !== 'started') g.finished = { ok: e.status !== 'failed' };
    } else {
      const g = this.group(e.resourceId, e.resourceId);
      g.lines.push(...e.text.replace(/\n$/, '').split('\n'));
      if (g.lines.length > 50) g.lines.splice(0, g.lines.length - 50);
    }
    this.draw();
  }

  private group(key: string, title: string): Group {
    let g = this.groups.get(key);
    if (g) return g;
    g = { title, lines: [], bars: new Map() };
    this.groups.set(key, g);
    this.start();
    return g;
  }

  private barRow(id: string, bar: Bar): string {
    let row = `${id}: ${LAYER_WORDS[bar.status] ?? bar.status}`;
    if ((bar.status === 'downloading' || bar.status === 'pushing') && bar.total > 0) {
      const width = 24;
      const filled = Math.min(width, Math.round((bar.current / bar.total) * width));
      const seconds = (this.now() - bar.since) / 1000;
      const speed = seconds > 0.2 ? `  ${formatSize((bar.current - bar.startBytes) / seconds)}/s` : '';
      row += ` [${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] ${formatSize(bar.current)}/${formatSize(bar.total)}${speed}`;
    }
    return bar.text ? `${row} ${this.c.dim(bar.text)}` : row;
  }

  private draw(): void {
    if (!this.task) return;
    const rows: string[] = [];
    for (const g of this.groups.values()) {
      const mark = !g.finished ? this.c.yellow('…') : g.finished.ok ? this.c.green('✔') : this.c.red('✖');
      rows.push(`${mark} ${g.title}`);
      if (g.finished?.ok) continue;
      for (const [id, bar] of g.bars) rows.push(`    ${this.barRow(id, bar)}`);
      for (const line of g.lines.slice(-6)) rows.push(`    ${this.c.dim(line)}`);
    }
    this.task.output = rows.join('\n');
  }

  private start(): void {
    if (this.running) return;
    let started: () => void = () => undefined;
    this.taskStarted = new Promise<void>((r) => { started = r; });
    this.running = (async () => {
      const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
      await new Listr<unknown, 'default', 'simple'>([{
        title: 'Images',
        task: (_, task) => new Promise<void>((resolve) => {
          this.task = task;
          this.settle = resolve;
          started();
          this.draw();
        }),
        rendererOptions: { outputBar: Infinity, persistentOutput: false },
      }], {
        exitOnError: false,
        // no signal handlers of listr2's own: the context owns Ctrl-C
        registerSignalListeners: false,
        // the command's own streams (the default renderer writes through its logger's, not rendererOptions.processOutput)
        rendererOptions: { collapseErrors: false, logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(this.out as NodeJS.WriteStream, this.err as NodeJS.WriteStream) }) },
      }).run().catch(() => undefined);
    })();
    // speeds move even between events
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  /** The collapsed task's title: what was pulled, pushed and built. */
  private summary(): string {
    const all = [...this.groups.values()];
    const steps = all.filter((g) => g.bars.size === 0);
    const images = all.filter((g) => g.bars.size > 0).map((g) => g.title);
    const failed = all.filter((g) => g.finished && !g.finished.ok).length;
    const parts = [...images];
    if (steps.length > 0) parts.push(`${steps.length} build step${steps.length === 1 ? '' : 's'}`);
    return `${parts.join(', ')}${failed > 0 ? ` ${this.c.red(`(${failed} failed)`)}` : ''}`;
  }

  async done(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.running) {
      for (const g of this.groups.values()) if (!g.finished) g.finished = { ok: false };
      // the task may not have started yet when everything happened at once
      await Promise.race([this.taskStarted, this.running]);
      this.draw();
      if (this.task) this.task.title = this.summary();
      this.settle?.();
      await this.running;
    }
    this.running = undefined;
    // a failed step's output stays on screen: it is what the user needs to read
    for (const g of this.groups.values()) {
      if (g.finished?.ok !== false || g.lines.length === 0) continue;
      this.err.write(`${this.c.red('✖')} ${g.title}\n${g.lines.map((l) => `    ${l}\n`).join('')}`);
    }
    for (const line of this.held) this.out.write(`${line}\n`);
    this.held.length = 0;
  }
}

const DONE_STATES = new Set(['already exists', 'pull complete', 'pushed', 'layer already exists', 'mounted']);

/** "pull:busybox:latest" → "Pulling busybox:latest"; "push:…" → "Pushing …". */
function titleOf(resourceId: string): string {
  const colon = resourceId.indexOf(':');
  const [kind, what] = colon < 0 ? ['', resourceId] : [resourceId.slice(0, colon), resourceId.slice(colon + 1)];
  return kind === 'pull' ? `Pulling ${what}` : kind === 'push' ? `Pushing ${what}` : resourceId;
}

/** The renderer a command's streams call for: listr2 on a terminal (unless --ansi never / --progress plain), lines otherwise. */
export function imageProgressFor(out: NodeJS.WritableStream, err: NodeJS.WritableStream, c: ChalkInstance, plain = false): ImageRenderer {
  // a terminal of no width (a pty nobody sized) would wrap every character: plain lines there
  const tty = out as { isTTY?: boolean; columns?: number };
  if (!plain && tty.isTTY === true && (tty.columns ?? 0) > 0) return new TtyImageProgress(out, err, c);
  return new PlainImageProgress(out, c);
}
