// berth update [--restart POLICY] [--memory …] [--cpus …] CONTAINER…: a running container's
// restart policy and cgroup limits, changed in place (a stopped one gets them at its next start).
import type { CliContext } from '../context.js';
import type { ContainerUpdateOptions } from '../../api/types.js';
import { withEngine } from '../engine.js';
import { eachContainer } from './each.js';

interface UpdateFlags {
  restart?: string; cpus?: string; cpuShares?: string; cpuPeriod?: string; cpuQuota?: string; cpusetCpus?: string; cpusetMems?: string;
  memory?: string; memorySwap?: string; pidsLimit?: string;
}

export default async function update(flags: UpdateFlags, args: string[], ctx: CliContext): Promise<number> {
  const o: { -readonly [K in keyof ContainerUpdateOptions]: ContainerUpdateOptions[K] } = {};
  for (const key of ['restart', 'cpus', 'cpuShares', 'cpuPeriod', 'cpuQuota', 'cpusetCpus', 'cpusetMems', 'memory', 'memorySwap', 'pidsLimit'] as const) {
    if (flags[key] !== undefined) o[key] = flags[key];
  }
  return withEngine(ctx, (api) => eachContainer(args, ctx, (ref) => api.containerUpdate(ref, o)));
}
