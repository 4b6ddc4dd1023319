// berth rmi: untag or delete images not used by a container.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { BerthError } from '../../lib/errors.js';

export default async function rmi(flags: { force?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  const host = await connect(ctx);
  const store = await host.images();
  let failed = false;
  for (const ref of args) {
    try {
      for (const line of store.remove(ref, { force: flags.force ?? false, inUse: (id) => host.runtime.imageInUse(id) })) ctx.stdout.write(`${line}\n`);
    } catch (err) {
      if (!(err instanceof BerthError) || err.code === 'INTERNAL') throw err;
      ctx.stderr.write(`Error: ${err.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
