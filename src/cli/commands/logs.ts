// berth logs: a container's stdout and stderr from its json-file log, each to its own stream.
import type { CliContext } from '../context.js';
import { InvalidArgument } from '../../lib/errors.js';
import { abortOnInterrupt, withEngine } from '../engine.js';

export default async function logs(flags: { follow?: boolean; tail?: string; timestamps?: boolean; since?: string }, args: string[], ctx: CliContext): Promise<number> {
  let tail: number | undefined;
  if (flags.tail !== undefined && flags.tail !== 'all') {
    if (!/^\d+$/.test(flags.tail)) throw new InvalidArgument(`invalid value for --tail: ${flags.tail}: expected a number or "all"`);
    tail = Number(flags.tail);
  }
  return withEngine(ctx, async (api) => {
    const interrupt = abortOnInterrupt(ctx);
    try {
      await api.containerLogs(args[0]!, { follow: flags.follow ?? false, tail, since: flags.since }, (l) => {
        const out = l.stream === 'stderr' ? ctx.stderr : ctx.stdout;
        // back-pressure: a slow reader of a big log must not make anyone buffer all of it
        if (!out.write(flags.timestamps ? `${l.time} ${l.line}` : l.line)) return new Promise<void>((resolve) => out.once('drain', () => resolve()));
        return undefined;
      }, interrupt.signal);
      return 0;
    } finally {
      interrupt.dispose();
    }
  });
}
