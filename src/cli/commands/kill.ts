// berth kill: send a signal (SIGKILL by default) to the container's main process.
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';
import { eachContainer } from './each.js';

export default async function kill(flags: { signal?: string }, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, (api) => eachContainer(args, ctx, (ref) => api.containerKill(ref, { signal: flags.signal ?? 'KILL' })));
}
