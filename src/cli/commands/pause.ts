// berth pause | unpause NAME…: freeze or thaw every process of a container (the cgroup freezer).
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { eachContainer } from './each.js';

export const pause = async (_f: unknown, args: string[], ctx: CliContext): Promise<number> => {
  const host = await connect(ctx);
  return eachContainer(args, ctx, async (ref) => { host.runtime.pause(ref); });
};

export const unpause = async (_f: unknown, args: string[], ctx: CliContext): Promise<number> => {
  const host = await connect(ctx);
  return eachContainer(args, ctx, async (ref) => { host.runtime.unpause(ref); });
};
