// berth up: bring the project to the state its compose file declares; attached, follow the logs
// until the containers stop (Ctrl-C stops the stack gracefully, a second Ctrl-C kills it).
import type { CliContext } from '../../context.js';
import { loadProjectFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt } from '../../engine.js';
import { colors, type AnsiMode, type Colors } from '../../render/colors.js';
import { renderEvent, LogPrinter } from '../../render/events.js';
import { InvalidArgument } from '../../../lib/errors.js';
import type { EngineEvent, PullOverride } from '../../../api/types.js';
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
  color?: boolean; build?: boolean; pull?: string; quietPull?: boolean;
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
  const interrupt = abortOnInterrupt(ctx);
  try {
    const code = await api.up({
      project,
      options: {
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
      },
      auth: registryAuth(ctx),
    }, events.emit, interrupt.signal).finally(() => events.done());
    await tty?.done();
    if (code !== 0 || flags.detach || flags.wait || flags.start === false) return code;
  } finally {
    interrupt.dispose();
  }

  // Attached: follow the logs of the started services until they all stop.
  const services = flags.attach ?? args;
  const printer = new LogPrinter(ctx.stdout, c, { timestamps: flags.timestamps ?? false, prefix: true });
  ctx.stdout.write('Attaching to ' + (await api.ps(project.name, { all: false, services })).map((s) => s.name.slice(project.name.length + 1)).join(', ') + '\n');
  const follow = new AbortController();
  let stopping = false;
  let exitCode: number | undefined;
  if (abortOnExit) {
    if (flags.exitCodeFrom !== undefined && !project.services[flags.exitCodeFrom]) throw new InvalidArgument(`no such service: ${flags.exitCodeFrom}`);
    void api.events((e) => {
      if (e.kind !== 'container' || e.action !== 'die' || stopping) return;
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
    }, follow.signal).catch(() => undefined);
  }
  const stopper = abortOnInterrupt(ctx, () => {
    if (stopping) return;
    stopping = true;
    ctx.stdout.write('Gracefully stopping... (press Ctrl+C again to force)\n');
    api.stop(project.name, { services: [] }, emit, new AbortController().signal)
      .catch((err: Error) => ctx.stderr.write(`Error: ${err.message}\n`))
      .finally(() => follow.abort());
  });
  try {
    await api.logs(project.name, { services, follow: true }, (l) => printer.print(l, project.name), follow.signal);
  } finally {
    stopper.dispose();
    api.close();
  }
  if (exitCode !== undefined) return exitCode;
  return stopping ? 130 : 0;
}
