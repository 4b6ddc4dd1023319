// berth rmi: untag or delete images not used by a container.
import type { CliContext } from '../context.js';
import { BerthError } from '../../lib/errors.js';
import { withEngine } from '../engine.js';

export default async function rmi(flags: { force?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, async (api) => {
    let failed = false;
    for (const ref of args) {
      try {
        for (const line of (await api.imageRemove(ref, { force: flags.force ?? false })).lines) ctx.stdout.write(`${line}\n`);
      } catch (err) {
        if (!(err instanceof BerthError) || err.code === 'INTERNAL') throw err;
        ctx.stderr.write(`Error: ${err.message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  });
}
