// berth update --restart POLICY CONTAINER…: change what the engine does after the next exit.
import type { CliContext } from '../context.js';
import { InvalidArgument } from '../../lib/errors.js';
import { withEngine } from '../engine.js';
import { eachContainer } from './each.js';

export default async function update(flags: { restart?: string }, args: string[], ctx: CliContext): Promise<number> {
  if (flags.restart === undefined) throw new InvalidArgument('nothing to update: give --restart (cpu, memory and pids limits come with the images work)');
  return withEngine(ctx, (api) => eachContainer(args, ctx, (ref) => api.containerUpdate(ref, { restart: flags.restart })));
}
