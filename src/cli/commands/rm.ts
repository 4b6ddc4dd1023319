// berth rm: remove containers (running ones only with -f; -v: their anonymous volumes too).
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';
import { eachContainer } from './each.js';

export default async function rm(flags: { force?: boolean; volumes?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, (api) => eachContainer(args, ctx, (ref) => api.containerRemove(ref, { force: flags.force ?? false, volumes: flags.volumes ?? false })));
}
