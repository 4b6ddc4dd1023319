// The facilities of this host, composed once for the engine: the container runtime (with the
// cgroup driver detected from the host and the native binaries of this package), the image
// store (loaded on first use), the network facility, raw syscalls, and the clock every wait
// sleeps on.
import { join } from 'node:path';
import type { Roots } from '../lib/paths.js';
import { nativeDir, networkNames } from '../lib/paths.js';
import { NetworkFacility } from '../network/facility.js';
import { poolSizeFromEnv } from '../network/pool.js';
import type { Clock } from '../lib/clock.js';
import { lazySys } from '../sys/index.js';
import type { Sys } from '../sys/sys.js';
import { ContainerRuntime } from '../runtime/container.js';
import { hostCgroupDriver } from '../runtime/cgroups/detect.js';
import { SlotPool, slotsFromEnv } from '../runtime/slots.js';
import type { ImageStore } from '../images/store.js';

export interface EngineHost {
  readonly roots: Roots;
  readonly runtime: ContainerRuntime;
  readonly sys: Sys;
  readonly clock: Clock;
  /** bridges, sandboxes, ports, the embedded resolver (src/network) */
  readonly network: NetworkFacility;
  images(): Promise<ImageStore>;
}

export function engineHost(roots: Roots, packageRoot: string, env: NodeJS.ProcessEnv, clock: Clock, log?: (line: string) => void): EngineHost {
  const bin = nativeDir(packageRoot);
  const shimPath = join(bin, 'berth-shim');
  // BERTH_SLOTS=0: every start spawns its shim (no pool)
  const slotCount = slotsFromEnv(env['BERTH_SLOTS']);
  const slots = slotCount > 0 ? new SlotPool({ shimPath, env, size: slotCount, root: roots.root, ...(log ? { log } : {}) }) : undefined;
  const runtime = new ContainerRuntime({
    root: roots.root,
    cgroupParent: roots.cgroupParent,
    cgroups: hostCgroupDriver(),
    shimPath,
    initPath: join(bin, 'berth-init'),
    ...(slots ? { slots } : {}),
    sys: lazySys,
    env,
    clock,
  });
  let store: Promise<ImageStore> | undefined;
  const names = networkNames(env);
  const network = new NetworkFacility({
    stateDir: join(roots.root, 'network'), runDir: join(roots.run, 'network'),
    netBin: join(bin, 'berth-net'), netdBin: join(bin, 'berth-netd'),
    table: names.table, bridgePrefix: names.bridgePrefix, vethPrefix: names.vethPrefix,
    env,
    // pre-made network sandboxes (network/pool.ts): BERTH_NETNS_POOL, else as many as warm slots
    poolSize: poolSizeFromEnv(env['BERTH_NETNS_POOL'], slotCount),
    ...(log ? { log } : {}),
  });
  return {
    roots,
    runtime,
    sys: lazySys,
    clock,
    network,
    images() {
      store ??= import('../images/store.js').then(({ ImageStore }) => new ImageStore({ root: roots.root, sys: lazySys }));
      return store;
    },
  };
}
