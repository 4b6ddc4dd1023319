// berth stats [--no-stream] [CONTAINER…]: CPU, memory and pids of running containers (all when
// none is named), as docker stats prints them.
import type { CliContext } from '../context.js';
import { abortOnInterrupt, withEngine } from '../engine.js';
import { statsLoop } from '../render/stats.js';
import { Conflict, NotFound } from '../../lib/errors.js';

export default async function stats(flags: { stream?: boolean; trunc?: boolean; format?: string }, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, async (api) => {
    const interrupt = abortOnInterrupt(ctx);
    try {
      return await statsLoop(ctx, { stream: flags.stream !== false, format: flags.format ?? 'table', trunc: flags.trunc !== false, signal: interrupt.signal },
        async () => {
          const running = await api.containerList({ all: false });
          if (args.length === 0) return running.map((c) => ({ id: c.id, name: c.name }));
          return args.map((ref) => running.find((c) => c.name === ref || c.id.startsWith(ref))).filter((c) => c !== undefined).map((c) => ({ id: c!.id, name: c!.name }));
        },
        (id) => api.containerStats(id).catch((err: unknown) => {
          if (err instanceof Conflict || err instanceof NotFound) return undefined;
          throw err;
        }));
    } finally {
      interrupt.dispose();
    }
  });
}
