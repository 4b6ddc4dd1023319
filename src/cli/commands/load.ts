// berth load -i FILE: images from a docker-archive or OCI-layout tarball (the engine reads the file).
import { resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';

export default async function load(flags: { input: string; quiet?: boolean }, _args: string[], ctx: CliContext): Promise<number> {
  const { messages } = await withEngine(ctx, (api) => api.imageLoad({ path: resolve(ctx.cwd, flags.input) }));
  if (!flags.quiet) for (const m of messages) ctx.stdout.write(`${m}\n`);
  return 0;
}
