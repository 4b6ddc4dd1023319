// berth pull IMAGE: the engine pulls from the registry; layers as they go, then the reference.
import type { CliContext } from '../context.js';
import { abortOnInterrupt, withEngine } from '../engine.js';
import { registryAuth } from '../auth.js';
import { colors } from '../render/colors.js';
import { imageProgressFor, isImageEvent, type ImageRenderer } from '../render/image-progress.js';
import { renderEvent } from '../render/events.js';
import type { EngineEvent } from '../../api/types.js';
import type { EngineConnection } from '../../api/engine-api.js';
import { InvalidArgument, NotFound } from '../../lib/errors.js';

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

/**
 * docker run/create's --pull: `missing` (the default) pulls an image the store lacks, then
 * creates; `always` pulls first; `never` leaves the engine's "no such image" as it is. Progress
 * goes to stderr (stdout is the container's).
 */
export async function createPulling<T>(api: EngineConnection, ctx: CliContext, image: string, policy: string | undefined, create: () => Promise<T>): Promise<T> {
  if (policy !== undefined && policy !== 'missing' && policy !== 'always' && policy !== 'never') throw new InvalidArgument(`invalid --pull "${policy}": expected always, missing or never`);
  const fetch = async (): Promise<void> => {
    const progress = imageProgressFor(ctx.stderr, ctx.stderr, colors(ctx.stderr, ctx.env));
    const interrupt = abortOnInterrupt(ctx);
    try {
      await api.imagePull({ reference: image, auth: registryAuth(ctx) }, imageEmit(progress, ctx), interrupt.signal).finally(() => progress.done());
    } finally {
      interrupt.dispose();
    }
  };
  if (policy === 'always') await fetch();
  try {
    return await create();
  } catch (err) {
    const missing = err instanceof NotFound && Array.isArray((err.details as { images?: unknown } | undefined)?.images);
    if (!missing || policy === 'never' || policy === 'always') throw err;
  }
  ctx.stderr.write(`Unable to find image '${image}' locally\n`);
  await fetch();
  return create();
}
