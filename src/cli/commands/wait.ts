// berth wait CONTAINER…: block until each container stops, then print its exit code, one line per
// container in the order given, as `docker wait` does. A container with a restart policy counts
// as stopped at its exit (the die event), even if it is started again before the next look.
// A name that matches no container prints docker's error line and makes the exit code 1; the
// others are still waited for.
import type { CliContext } from '../context.js';
import type { EngineEvent } from '../../api/types.js';
import { abortOnInterrupt } from '../engine.js';
import { NotFound } from '../../lib/errors.js';

/** How often a container is looked at, besides the die events (which a just-opened feed may miss). */
const POLL_MS = 250;

interface State { readonly id: string; readonly running: boolean; readonly exitCode: number }

function stateOf(doc: Readonly<Record<string, unknown>>): State {
  const s = (doc.State ?? {}) as { Running?: unknown; Paused?: unknown; Restarting?: unknown; ExitCode?: unknown };
  return { id: String(doc.Id ?? ''), running: s.Running === true || s.Paused === true, exitCode: typeof s.ExitCode === 'number' ? s.ExitCode : 0 };
}

export default async function wait(_flags: unknown, args: string[], ctx: CliContext): Promise<number> {
  const api = await ctx.connect();
  const interrupt = abortOnInterrupt(ctx);
  const feed = new AbortController();
  interrupt.signal.addEventListener('abort', () => feed.abort(), { once: true });
  const died = new Map<string, number>();
  // the current nap between looks: a die event or Ctrl-C ends it early
  let nap = new AbortController();
  const wake = (): void => nap.abort();
  interrupt.signal.addEventListener('abort', wake, { once: true });
  const events = api.events((e: EngineEvent) => {
    if (e.kind === 'container' && e.action === 'die' && !died.has(e.containerId)) {
      died.set(e.containerId, Number(e.attributes.exitCode ?? 0));
      wake();
    }
  }, feed.signal).catch(() => { /* a broken feed only costs latency: the poll still sees every exit */ });
  let failed = false;
  try {
    for (const ref of args) {
      let state: State;
      try { state = stateOf(await api.containerInspect(ref)); } catch (err) {
        if (!(err instanceof NotFound)) throw err;
        ctx.stderr.write(`Error response from daemon: No such container: ${ref}\n`);
        failed = true;
        continue;
      }
      for (;;) {
        if (interrupt.signal.aborted) return 130;
        const code = died.get(state.id);
        if (code !== undefined) { ctx.stdout.write(`${code}\n`); break; }
        if (!state.running) { ctx.stdout.write(`${state.exitCode}\n`); break; }
        nap = new AbortController();
        if (interrupt.signal.aborted) return 130;
        await ctx.clock.sleep(POLL_MS, nap.signal).catch(() => undefined);
        if (interrupt.signal.aborted) return 130;
        if (died.has(state.id)) continue;
        try { state = stateOf(await api.containerInspect(state.id)); } catch (err) {
          if (!(err instanceof NotFound)) throw err;
          ctx.stderr.write(`Error response from daemon: container ${ref} was removed while waiting for it\n`);
          failed = true;
          break;
        }
      }
    }
    return failed ? 1 : 0;
  } finally {
    feed.abort();
    await events;
    interrupt.dispose();
    api.close();
  }
}
