// berth compose stats [--no-stream] [--format json] [SERVICE…]: CPU, memory and pids of each
// running container of the project (render/stats.ts draws them).
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt, withEngine } from '../../engine.js';
import { statsLoop } from '../../render/stats.js';
import { Conflict, NotFound } from '../../../lib/errors.js';

/** commander turns --no-stream / --no-trunc into stream: false / trunc: false */
interface StatsFlags extends ProjectFlags { stream?: boolean; trunc?: boolean; format?: string }

export default async function stats(flags: StatsFlags, args: string[], ctx: CliContext): Promise<number> {
  const projectName = await projectNameFor(flags, ctx);
  return withEngine(ctx, async (api) => {
    const interrupt = abortOnInterrupt(ctx);
    try {
      return await statsLoop(ctx, { stream: flags.stream !== false, format: flags.format ?? 'table', trunc: flags.trunc !== false, signal: interrupt.signal },
        async () => (await api.ps(projectName, { all: false, services: args })).map((c) => ({ id: c.id, name: c.name })),
        (id) => api.containerStats(id).catch((err: unknown) => {
          if (err instanceof Conflict || err instanceof NotFound) return undefined; // stopped or removed since ps
          throw err;
        }));
    } finally {
      interrupt.dispose();
    }
  });
}
