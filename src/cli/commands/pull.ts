// berth pull IMAGE: the engine pulls from the registry; layers as they go, then the reference.
import type { CliContext } from '../context.js';
import { abortOnInterrupt, withEngine } from '../engine.js';
import { registryAuth } from '../auth.js';
import { colors } from '../render/colors.js';
import { imageProgressFor, isImageEvent, type ImageRenderer } from '../render/image-progress.js';
import { renderEvent } from '../render/events.js';
import type { EngineEvent } from '../../api/types.js';

/** Image events to the renderer, warnings and errors as every verb prints them. */
export function imageEmit(progress: ImageRenderer | undefined, ctx: CliContext): (e: EngineEvent) => void {
  const c = colors(ctx.stdout, ctx.env);
  return (e) => {
    if (isImageEvent(e)) progress?.emit(e);
    else renderEvent(e, '', ctx.stdout, ctx.stderr, c);
  };
}

export default async function pull(flags: { quiet?: boolean; platform?: string }, args: string[], ctx: CliContext): Promise<number> {
  const progress = flags.quiet ? undefined : imageProgressFor(ctx.stdout, ctx.stderr, colors(ctx.stdout, ctx.env));
  const interrupt = abortOnInterrupt(ctx);
  try {
    const result = await withEngine(ctx, (api) => api.imagePull({
      reference: args[0]!, auth: registryAuth(ctx), ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
    }, imageEmit(progress, ctx), interrupt.signal)).finally(() => progress?.done());
    ctx.stdout.write(`${result.canonical}\n`);
    return 0;
  } finally {
    interrupt.dispose();
  }
}
