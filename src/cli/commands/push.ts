// berth push IMAGE: the engine uploads the layers the registry lacks, then the manifest.
import type { CliContext } from '../context.js';
import { abortOnInterrupt, withEngine } from '../engine.js';
import { registryAuth } from '../auth.js';
import { colors } from '../render/colors.js';
import { imageProgressFor } from '../render/image-progress.js';
import { imageEmit } from './pull.js';

export default async function push(flags: { quiet?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  const progress = flags.quiet ? undefined : imageProgressFor(ctx.stdout, ctx.stderr, colors(ctx.stdout, ctx.env));
  const interrupt = abortOnInterrupt(ctx);
  try {
    const { digest } = await withEngine(ctx, (api) => api.imagePush(args[0]!, { auth: registryAuth(ctx) }, imageEmit(progress, ctx), interrupt.signal))
      .finally(() => progress?.done());
    if (flags.quiet) ctx.stdout.write(`${args[0]}@${digest}\n`);
    return 0;
  } finally {
    interrupt.dispose();
  }
}
