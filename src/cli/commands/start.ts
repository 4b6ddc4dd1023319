// berth start [-a] [-i] CONTAINER…: start created or stopped containers in the background,
// printing each name; with -a, start one attached and exit with its code (docker start -a).
import type { CliContext } from '../context.js';
import { InvalidArgument } from '../../lib/errors.js';
import { attachTo } from '../attach.js';
import { withEngine } from '../engine.js';
import { eachContainer } from './each.js';

export default async function start(flags: { attach?: boolean; interactive?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, async (api) => {
    if (!flags.attach && !flags.interactive) return eachContainer(args, ctx, (ref) => api.containerStart(ref));
    if (args.length !== 1) throw new InvalidArgument('you cannot start and attach multiple containers at once');
    const details = await api.containerInspect(args[0]!) as { Config?: { Tty?: boolean; OpenStdin?: boolean } };
    const tty = details.Config?.Tty === true;
    const attached = attachTo(ctx, { stdin: (flags.interactive ?? false) && details.Config?.OpenStdin === true, tty });
    try {
      return await api.containerStartAttached(args[0]!, attached.io, new AbortController().signal);
    } finally {
      attached.dispose();
    }
  });
}
