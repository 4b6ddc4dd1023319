// berth stop: the stop signal, a grace period, then SIGKILL; prints each name as given.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { InvalidArgument } from '../../lib/errors.js';
import { eachContainer } from './each.js';

export default async function stop(flags: { time?: string; signal?: string }, args: string[], ctx: CliContext): Promise<number> {
  let seconds: number | undefined;
  if (flags.time !== undefined) {
    if (!/^-?\d+$/.test(flags.time)) throw new InvalidArgument(`invalid argument "${flags.time}" for "-t, --time" flag: expected an integer`);
    seconds = Number(flags.time);
  }
  const host = await connect(ctx);
  return eachContainer(args, ctx, (ref) => host.runtime.stop(ref, seconds, flags.signal).then(() => undefined));
}
