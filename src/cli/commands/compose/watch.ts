// berth compose watch [SERVICE…] [--no-up] [--quiet] [-d] [--no-prune] | --stop: bring the services up (with their
// dependencies), then let the engine watch their develop.watch paths and sync, restart or exec in
// the containers on change, printing what it did, until Ctrl-C — the containers keep running, as
// with docker compose. With -d the command returns once the watch is ready and the engine keeps
// watching (also after its own restart) until `watch --stop` or `down`. The watch lives in the
// engine (docs/watch.md); this command only asks for it and renders its events:
//   ⦿ Watch enabled for "web" (1 directory)
//   ⦿ Syncing service "web" after 3 changed files (1 container: 3 written, 21 ms)
//   ⦿ Restarted service "web" (85 ms)
import type { CliContext } from '../../context.js';
import type { EngineEvent, UpOptions } from '../../../api/types.js';
import { loadProjectFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt } from '../../engine.js';
import { colors } from '../../render/colors.js';
import { renderEvent } from '../../render/events.js';
import { progressFor } from './up.js';
import { projectNameFor } from '../../project.js';
import { registryAuth } from '../../auth.js';
import { InvalidArgument } from '../../../lib/errors.js';

interface WatchFlags extends ProjectFlags { up?: boolean; quiet?: boolean; detach?: boolean; stop?: boolean; prune?: boolean }

/** What `compose watch` brings up: the named services and their dependencies, as `up` would. */
export function watchUpOptions(services: readonly string[]): UpOptions {
  return { services, noDeps: false, forceRecreate: false, noRecreate: false, noStart: false, removeOrphans: false, scale: {}, wait: false, waitTimeout: 0 };
}

export default async function watch(flags: WatchFlags, args: string[], ctx: CliContext): Promise<number> {
  if (flags.stop === true) {
    if (flags.detach === true || args.length > 0) throw new InvalidArgument('--stop ends the whole project\'s watch: it takes no service and no --detach');
    return stop(flags, ctx);
  }
  const project = await loadProjectFor(flags, ctx);
  const api = await ctx.connect();
  const c = colors(ctx.stdout, ctx.env);
  const plain = (e: EngineEvent): void => {
    if (flags.quiet === true && e.kind === 'watch' && e.action !== 'error' && e.action !== 'warning') return;
    renderEvent(e, project.name, ctx.stdout, ctx.stderr, c);
  };
  // listr2 draws `up`'s progress on a terminal; the watch's own lines are plain, in order, once it is done
  let tty = flags.up === false ? undefined : await progressFor(project.name, ctx, c);
  let printed = Promise.resolve();
  const emit = (e: EngineEvent): void => {
    if (tty !== undefined && e.kind === 'watch') {
      printed = tty.done();
      tty = undefined;
    }
    if (tty !== undefined) tty.emit(e);
    else printed = printed.then(() => plain(e));
  };
  const interrupt = abortOnInterrupt(ctx);
  try {
    return await api.watch({
      project,
      options: { services: args, ...(flags.up === false ? {} : { up: watchUpOptions(args) }), ...(flags.detach === true ? { detach: true } : {}), prune: flags.prune !== false },
      auth: registryAuth(ctx),
    }, emit, interrupt.signal);
  } catch (err) {
    // Ctrl-C: the engine stops the watch when the stream closes; the containers keep running
    if (interrupt.signal.aborted) return 0;
    throw err;
  } finally {
    await tty?.done();
    await printed;
    interrupt.dispose();
    api.close();
  }
}

/** watch --stop: the project's watch ends (a detached one is forgotten); its containers keep running. */
async function stop(flags: WatchFlags, ctx: CliContext): Promise<number> {
  const name = await projectNameFor(flags, ctx);
  const api = await ctx.connect();
  try {
    const r = await api.watchStop(name);
    if (r.stopped) ctx.stdout.write(`Watch stopped for project "${name}"\n`);
    else ctx.stderr.write(`project "${name}" is not being watched\n`);
    return 0;
  } finally {
    api.close();
  }
}
