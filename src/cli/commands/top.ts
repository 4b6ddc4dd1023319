// berth top CONTAINER: the container's processes, as `ps -ef` on the host shows them.
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';
import { hostUsers, processTable } from '../render/top.js';

export default async function top(_flags: unknown, args: string[], ctx: CliContext): Promise<number> {
  const processes = await withEngine(ctx, (api) => api.containerTop(args[0]!));
  ctx.stdout.write(processTable(processes, hostUsers(), ctx.clock.now()));
  return 0;
}
