// berth pause | unpause NAME…: freeze or thaw every process of a container (the cgroup freezer).
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';
import { eachContainer } from './each.js';

export const pause = (_f: unknown, args: string[], ctx: CliContext): Promise<number> =>
  withEngine(ctx, (api) => eachContainer(args, ctx, (ref) => api.containerPause(ref)));

export const unpause = (_f: unknown, args: string[], ctx: CliContext): Promise<number> =>
  withEngine(ctx, (api) => eachContainer(args, ctx, (ref) => api.containerUnpause(ref)));
