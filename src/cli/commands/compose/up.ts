// berth up: bring the project to the state its compose file declares; attached, follow the logs
// until the containers stop (Ctrl-C stops the stack gracefully, a second Ctrl-C kills it).
import type { CliContext } from '../../context.js';
import { loadProjectFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt } from '../../engine.js';
import { colors, type AnsiMode, type Colors } from '../../render/colors.js';
import { renderEvent, LogPrinter } from '../../render/events.js';
import { InvalidArgument } from '../../../lib/errors.js';
import type { EngineEvent, LogLine, PullOverride } from '../../../api/types.js';
import type { EngineConnection } from '../../../api/engine-api.js';
import { registryAuth } from '../../auth.js';
import { imageProgressFor, isImageEvent } from '../../render/image-progress.js';

/**
 * `up`'s events: pulls and builds come first (their own renderer), then the plan's. On a terminal
 * the image drawing is finished before the plan's starts, so the two never draw at once.
 */
export function upEmitter(ctx: CliContext, c: Colors, quietPull: boolean, plain: boolean, next: (e: EngineEvent) => void, out: NodeJS.WritableStream = ctx.stdout): { emit: (e: EngineEvent) => void; done(): Promise<void> } {
  let images: ReturnType<typeof imageProgressFor> | undefined;
  let chain = Promise.resolve();
  let imagesOver = false;
  return {
    emit(e) {
      if (isImageEvent(e) && !imagesOver) {
        if (quietPull) return;
        images ??= imageProgressFor(out, ctx.stderr, c, plain);
        images.emit(e);
        return;
      }
      if (!imagesOver) {
        imagesOver = true;
        if (images) { const drawn = images; chain = drawn.done(); }
      }
      chain = chain.then(() => next(e));
    },
    async done() {
      imagesOver = true;
      await images?.done();
      await chain;
    },
  };
}

export function pullOverride(value: string | undefined): PullOverride | undefined {
  if (value === undefined) return undefined;
  if (value === 'always' || value === 'missing' || value === 'never' || value === 'build') return value;
  if (value === 'policy') return undefined;
  throw new InvalidArgument(`invalid --pull "${value}": expected always, missing, never, build or policy`);
}

interface UpFlags extends ProjectFlags {
  detach?: boolean; wait?: boolean; waitTimeout?: string; deps?: boolean; forceRecreate?: boolean;
  recreate?: boolean; start?: boolean; removeOrphans?: boolean; scale?: string[]; ansi?: AnsiMode;
  abortOnContainerExit?: boolean; exitCodeFrom?: string; attach?: string[]; timestamps?: boolean;
  color?: boolean; build?: boolean; pull?: string; quietPull?: boolean; watch?: boolean;
}

/** listr2 progress on a terminal (unless --ansi never); plain lines otherwise. */
export async function progressFor(projectName: string, ctx: CliContext, c: Colors, ansi?: AnsiMode): Promise<import('../../render/tty.js').TtyProgress | undefined> {
  if ((ctx.stdout as { isTTY?: boolean }).isTTY !== true || ansi === 'never') return undefined;
  const { TtyProgress } = await import('../../render/tty.js');
  return new TtyProgress(projectName, ctx.stdout, ctx.stderr, c);
}

export function parseScale(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new InvalidArgument(`invalid --scale value "${v}": expected SERVICE=NUMBER`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export default async function up(flags: UpFlags, args: string[], ctx: CliContext): Promise<number> {
  // --exit-code-from implies --abort-on-container-exit (docker compose)
  const abortOnExit = flags.abortOnContainerExit === true || flags.exitCodeFrom !== undefined;
  if (abortOnExit && flags.detach) throw new InvalidArgument('--abort-on-container-exit and --exit-code-from cannot be combined with --detach');
  if (flags.watch && flags.start === false) throw new InvalidArgument('--watch cannot be combined with --no-start: there would be no container to sync into');
  const waitTimeout = flags.waitTimeout !== undefined ? Number(flags.waitTimeout) : 0;
  if (!Number.isFinite(waitTimeout) || waitTimeout < 0) throw new InvalidArgument(`invalid --wait-timeout: ${flags.waitTimeout}`);
  const project = await loadProjectFor(flags, ctx);
  for (const s of args) if (!project.services[s]) throw new InvalidArgument(`no such service: ${s}`);
  const api = await ctx.connect();
  const c = colors(ctx.stdout, ctx.env, flags.color === false ? 'never' : flags.ansi);
  const emit = (e: EngineEvent): void => renderEvent(e, project.name, ctx.stdout, ctx.stderr, c);
  const tty = await progressFor(project.name, ctx, c, flags.ansi);
  const pull = pullOverride(flags.pull);
  const events = upEmitter(ctx, c, flags.quietPull ?? false, flags.ansi === 'never', tty?.emit ?? emit);
  // A plain up (no --watch): the first Ctrl-C asks the engine to cancel, and the command waits for
  // its answer: nothing new starts, what is in progress finishes, and only then does this return
  // (docs/architecture.md, "Cancelling a verb"). A second Ctrl-C lets go at once.
  const cancel = new AbortController();
  const interrupt = abortOnInterrupt(ctx, flags.watch ? undefined : () => {
    ctx.stderr.write('Cancelling: nothing more is started; waiting for the operations in progress (Ctrl-C again to leave them to the engine)\n');
    cancel.abort();
  }, () => ctx.stderr.write('Left to the engine: the operations in progress finish without this command (berth ps shows them)\n'));
  const upOptions = {
    services: args,
    noDeps: flags.deps === false,
    forceRecreate: flags.forceRecreate ?? false,
    noRecreate: flags.recreate === false,
    noStart: flags.start === false,
    removeOrphans: flags.removeOrphans ?? false,
    scale: parseScale(flags.scale ?? []),
    wait: flags.wait ?? false,
    waitTimeout,
    // commander: --build sets build, --no-build clears it
    ...(flags.build === true ? { build: true } : {}),
    ...(flags.build === false ? { noBuild: true } : {}),
    ...(pull !== undefined ? { pull } : {}),
  };
  // --abort-on-container-exit / --exit-code-from: the feed of exits is open before the up, so that a
  // service that exits at once (before the logs are followed) is not missed; its exits wait for
  // "Attaching to" (handleExit below)
  const follow = new AbortController();
  const exits: Extract<EngineEvent, { kind: 'container' }>[] = [];
  let handleExit: ((e: Extract<EngineEvent, { kind: 'container' }>) => void) | undefined;
  if (abortOnExit) {
    if (flags.exitCodeFrom !== undefined && !project.services[flags.exitCodeFrom]) throw new InvalidArgument(`no such service: ${flags.exitCodeFrom}`);
    void api.events((e) => {
      if (e.kind !== 'container' || e.action !== 'die') return;
      if (handleExit) handleExit(e);
      else exits.push(e);
    }, follow.signal).catch(() => undefined);
  }
  // --watch: one engine call does the up, then watches (docs/watch.md) until Ctrl-C ends it
  const watchEnd = new AbortController();
  let watching: Promise<number> | undefined;
  let attached = false;
  try {
    if (flags.watch && (flags.detach || flags.wait)) {
      // -d --watch: the engine brings the project up, starts watching and keeps watching after
      // this command returns (berth watch --stop or down ends it); up's progress, then the ready line
      const held: EngineEvent[] = [];
      const code = await api.watch({ project, options: { services: args, up: upOptions, detach: true }, auth: registryAuth(ctx) }, (e) => {
        if (e.kind === 'watch') held.push(e);
        else events.emit(e);
      }, interrupt.signal).finally(() => events.done());
      await tty?.done();
      for (const e of held) emit(e);
      return code;
    }
    if (flags.watch) {
      interrupt.signal.addEventListener('abort', () => watchEnd.abort(interrupt.signal.reason), { once: true });
      // listr2 draws up's progress; the watch's lines (up is done by the first) wait for it to finish
      let phase: 'drawing' | 'held' | 'plain' = tty !== undefined ? 'drawing' : 'plain';
      const held: EngineEvent[] = [];
      let ready!: () => void;
      const isReady = new Promise<undefined>((resolve) => { ready = () => resolve(undefined); });
      watching = api.watch({ project, options: { services: args, up: upOptions }, auth: registryAuth(ctx) }, (e) => {
        if (e.kind === 'watch' && e.action === 'ready') ready();
        if (phase === 'drawing' && e.kind === 'watch') phase = 'held';
        if (phase === 'drawing') events.emit(e);
        else if (phase === 'held') held.push(e);
        else emit(e);
      }, watchEnd.signal);
      const code = await Promise.race([watching, isReady]);
      await events.done();
      await tty?.done();
      for (const e of held.splice(0)) emit(e);
      phase = 'plain';
      if (code !== undefined) return code;
    } else {
      let code: number;
      try {
        code = await api.up({ project, options: upOptions, auth: registryAuth(ctx) }, events.emit, interrupt.signal, cancel.signal).finally(() => events.done());
      } catch (err) {
        await tty?.done();
        // attached, compose stops what it started when interrupted while starting (docker/compose#10479)
        if (cancel.signal.aborted && !interrupt.signal.aborted && !flags.detach) await gracefulStop(api, project.name, ctx, emit);
        throw err;
      }
      await tty?.done();
      if (code !== 0 || flags.detach || flags.wait || flags.start === false) return code;
    }
    attached = true;
  } finally {
    interrupt.dispose();
    if (!attached) follow.abort();
  }

  // Attached: follow the logs of the started services until they all stop.
  const services = flags.attach ?? args;
  const printer = new LogPrinter(ctx.stdout, c, { timestamps: flags.timestamps ?? false, prefix: true });
  ctx.stdout.write('Attaching to ' + (await api.ps(project.name, { all: false, services })).map((s) => s.name.slice(project.name.length + 1)).join(', ') + '\n');
  let stopping = false;
  let exitCode: number | undefined;
  if (abortOnExit) {
    handleExit = (e) => {
      if (stopping) return;
      const name = e.attributes.name ?? '';
      if (!name.startsWith(`${project.name}-`)) return;
      const service = e.resourceId.split(':')[1];
      if (flags.exitCodeFrom !== undefined && service !== flags.exitCodeFrom) return;
      exitCode = Number(e.attributes.exitCode ?? 0);
      stopping = true;
      ctx.stdout.write(`${name.slice(project.name.length + 1)} exited with code ${exitCode}\nAborting on container exit...\n`);
      api.stop(project.name, { services: [] }, emit, new AbortController().signal)
        .catch((err: Error) => ctx.stderr.write(`Error: ${err.message}\n`))
        .finally(() => follow.abort());
    };
    // an exit before now counts when its container is still there: one that a recreate by this up
    // stopped and removed does not
    const present = (await api.ps(project.name, { all: true, services: [] })).map((x) => x.id);
    for (const e of exits.splice(0)) if (present.some((id) => e.containerId.startsWith(id) || id.startsWith(e.containerId))) handleExit(e);
  }
  const stopper = abortOnInterrupt(ctx, () => {
    if (stopping) return;
    stopping = true;
    ctx.stdout.write('Gracefully stopping... (press Ctrl+C again to force)\n');
    watchEnd.abort();
    api.stop(project.name, { services: [] }, emit, new AbortController().signal)
      .catch((err: Error) => ctx.stderr.write(`Error: ${err.message}\n`))
      .finally(() => follow.abort());
  });
  try {
    if (watching === undefined) {
      await api.logs(project.name, { services, follow: true }, (l) => printer.print(l, project.name), follow.signal);
    } else {
      await followWhileWatching(watching, (opts, print) => api.logs(project.name, { services, follow: true, ...opts }, print, follow.signal),
        async () => (await api.ps(project.name, { all: false, services })).length > 0, (l) => printer.print(l, project.name), () => stopping || follow.signal.aborted, ctx);
    }
  } finally {
    stopper.dispose();
    // the watch ends before the connection does (it applies what it gathered)
    watchEnd.abort();
    await watching?.catch(() => undefined);
    api.close();
  }
  if (exitCode !== undefined) return exitCode;
  return stopping ? 130 : 0;
}

/**
 * up --watch: a sync+restart or a recreate stops the followed containers for a moment, which ends
 * a log stream; follow them again once one runs, for as long as the watch lasts. Lines already
 * printed are not printed again (per container: older than its last line, or the same line at
 * the same time).
 */
/** An attached up cancelled while it started things: they are stopped, as its Ctrl-C does once they run. */
async function gracefulStop(api: EngineConnection, projectName: string, ctx: CliContext, emit: (e: EngineEvent) => void): Promise<void> {
  ctx.stdout.write('Gracefully stopping...\n');
  await api.stop(projectName, { services: [] }, emit, new AbortController().signal)
    .catch((err: Error) => ctx.stderr.write(`Error: ${err.message}\n`));
}

async function followWhileWatching(
  watching: Promise<number>,
  follow: (opts: { since?: string }, print: (l: LogLine) => void) => Promise<void>,
  anyRunning: () => Promise<boolean>,
  print: (l: LogLine) => void,
  ended: () => boolean,
  ctx: CliContext,
): Promise<void> {
  let watchAlive = true;
  void watching.then(() => { watchAlive = false; }, () => { watchAlive = false; });
  const last = new Map<string, { time: string; seen: Set<string> }>();
  // RFC3339Nano drops trailing zeros: pad the fraction so that the texts sort as the times do
  const sortable = (t: string): string => t.replace(/(?:\.(\d{1,9}))?Z$/, (_m, f: string | undefined) => `.${(f ?? '').padEnd(9, '0')}Z`);
  const once = (l: LogLine): void => {
    const key = `${l.stream}\0${l.line}`;
    const time = sortable(l.time);
    const at = last.get(l.container);
    if (at !== undefined && time < at.time) return;
    if (at !== undefined && time === at.time) {
      if (at.seen.has(key)) return;
      at.seen.add(key);
    } else {
      last.set(l.container, { time, seen: new Set([key]) });
    }
    print(l);
  };
  for (;;) {
    const times = [...last.values()].map((v) => v.time).sort();
    await follow(times.length > 0 ? { since: times[0]! } : {}, once);
    // wait for a container to run again (a restart takes a moment), unless up or the watch ends
    while (!ended() && watchAlive && !(await anyRunning())) await ctx.clock.sleep(200).catch(() => undefined);
    if (ended() || !watchAlive) return;
  }
}
