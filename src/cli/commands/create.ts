// berth create: a container from an image, created and not started; prints its id.
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';
import { createOptions, type CreateFlags } from './run.js';
import { createPulling } from './pull.js';

export default async function create(flags: CreateFlags, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, async (api) => {
    const created = await createPulling(api, ctx, args[0]!, flags.pull, () => api.containerCreate(createOptions(flags, args, ctx)));
    for (const w of created.warnings) ctx.stderr.write(`WARNING: ${w}\n`);
    ctx.stdout.write(`${created.id}\n`);
    return 0;
  });
}
