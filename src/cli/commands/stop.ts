// berth stop: the stop signal, a grace period, then SIGKILL; prints each name as given.
import type { CliContext } from '../context.js';
import { InvalidArgument } from '../../lib/errors.js';
import { withEngine } from '../engine.js';
import { eachContainer } from './each.js';

export default async function stop(flags: { time?: string; signal?: string }, args: string[], ctx: CliContext): Promise<number> {
  let timeout: number | undefined;
  if (flags.time !== undefined) {
    if (!/^-?\d+$/.test(flags.time)) throw new InvalidArgument(`invalid argument "${flags.time}" for "-t, --time" flag: expected an integer`);
    timeout = Number(flags.time);
  }
  return withEngine(ctx, (api) => eachContainer(args, ctx, (ref) => api.containerStop(ref, { timeout, signal: flags.signal })));
}
