// berth rm: remove containers (running ones only with -f).
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { eachContainer } from './each.js';

export default async function rm(flags: { force?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  const host = await connect(ctx);
  return eachContainer(args, ctx, (ref) => host.runtime.remove(ref, { force: flags.force ?? false }).then(() => undefined));
}
