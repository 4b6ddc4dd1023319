// berth compose wait SERVICE… [--down-project]: block until the running containers of the services
// have stopped, printing a line for each as it exits, as docker compose does:
//   container "<id>" exited with status code 3
// and exit with the code of the container that stopped first. --down-project then runs `down`.
import type { CliContext } from '../../context.js';
import type { ContainerSummary, EngineEvent } from '../../../api/types.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt } from '../../engine.js';
import { colors } from '../../render/colors.js';
import { renderEvent } from '../../render/events.js';
import { NotFound } from '../../../lib/errors.js';

interface WaitFlags extends ProjectFlags { downProject?: boolean }

/** How often ps is asked, besides the die events (which a just-opened event feed may miss). */
const POLL_MS = 250;

export default async function wait(flags: WaitFlags, args: string[], ctx: CliContext): Promise<number> {
  const projectName = await projectNameFor(flags, ctx);
  const api = await ctx.connect();
  const interrupt = abortOnInterrupt(ctx);
  // ends the event feed once every container has stopped (or on Ctrl-C)
  const feed = new AbortController();
  interrupt.signal.addEventListener('abort', () => feed.abort(), { once: true });
  try {
    // docker compose waits for the containers running now; none is an error
    const running = await api.ps(projectName, { all: false, services: args });
    if (running.length === 0) throw new NotFound(`no containers for project "${projectName}"`);
    const pending = new Map(running.map((c) => [c.id, c]));
    let first: number | undefined;
    const exited = (id: string, exitCode: number): void => {
      if (!pending.delete(id)) return;
      ctx.stdout.write(`container "${id}" exited with status code ${exitCode}\n`);
      first ??= exitCode;
      if (pending.size === 0) feed.abort();
    };
    // A die event is the exit itself, even when a restart policy starts the container again
    // before the next ps could see it stopped.
    const events = api.events((e: EngineEvent) => {
      if (e.kind === 'container' && e.action === 'die') exited(e.containerId, Number(e.attributes.exitCode ?? 0));
    }, feed.signal).catch(() => { /* a broken feed only costs latency: the ps poll still sees every exit */ });
    while (!feed.signal.aborted) {
      const now = new Map<string, ContainerSummary>((await api.ps(projectName, { all: true, services: args })).map((c) => [c.id, c]));
      for (const [id, c] of pending) {
        const row = now.get(id);
        if (!row) {
          feed.abort();
          throw new NotFound(`container ${c.name} was removed while waiting for it`);
        }
        if (row.state !== 'running' && row.state !== 'paused') exited(id, row.exitCode);
      }
      await ctx.clock.sleep(POLL_MS, feed.signal).catch(() => undefined);
    }
    await events;
    if (interrupt.signal.aborted) return 130;
    const code = first ?? 0;
    if (!flags.downProject) return code;
    const c = colors(ctx.stdout, ctx.env);
    const downCode = await api.down(projectName, { options: { removeOrphans: true, volumes: false } },
      (e) => renderEvent(e, projectName, ctx.stdout, ctx.stderr, c), interrupt.signal);
    return downCode !== 0 ? downCode : code;
  } finally {
    feed.abort();
    interrupt.dispose();
    api.close();
  }
}
