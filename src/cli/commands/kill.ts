// berth kill: send a signal (SIGKILL by default) to the container's main process.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { eachContainer } from './each.js';

export default async function kill(flags: { signal?: string }, args: string[], ctx: CliContext): Promise<number> {
  const host = await connect(ctx);
  return eachContainer(args, ctx, (ref) => host.runtime.kill(ref, flags.signal ?? 'KILL'));
}
