// berth import FILE [REF]: a rootfs tarball becomes a one-layer image (in the engine); prints its id.
import { resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';

export default async function importCommand(flags: { change?: string[] }, args: string[], ctx: CliContext): Promise<number> {
  const [file, reference] = args;
  const { id } = await withEngine(ctx, (api) => api.imageImport({ path: resolve(ctx.cwd, file!), ...(reference !== undefined ? { reference } : {}), changes: flags.change ?? [] }));
  ctx.stdout.write(`${id}\n`);
  return 0;
}
