// berth diff: what a container changed in its filesystem, as `docker diff` prints it
// (A added, C changed, D deleted; sorted by path).
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';

export default async function diff(_flags: object, args: string[], ctx: CliContext): Promise<number> {
  const changes = await withEngine(ctx, (api) => api.containerDiff(args[0]!));
  ctx.stdout.write(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
  return 0;
}
