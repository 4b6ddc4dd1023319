// The facilities of this host, composed for one process. Until the engine daemon lands (issue
// 5), the CLI's single-container verbs run them in-process through this one module: see
// docs/decisions/2026-11-24-single-container-verbs-in-process.md. Everything is built lazily.
import { join } from 'node:path';
import type { Roots } from '../lib/paths.js';
import { nativeDir } from '../lib/paths.js';
import { lazySys } from '../sys/index.js';
import { ContainerRuntime } from '../runtime/container.js';
import { hostCgroupDriver } from '../runtime/cgroups/detect.js';

export interface LocalHost {
  readonly roots: Roots;
  readonly runtime: ContainerRuntime;
  images(): Promise<import('../images/store.js').ImageStore>;
}

export function localHost(roots: Roots, packageRoot: string, env: NodeJS.ProcessEnv): LocalHost {
  const bin = nativeDir(packageRoot);
  const runtime = new ContainerRuntime({
    root: roots.root,
    cgroupParent: roots.cgroupParent,
    cgroups: hostCgroupDriver(),
    shimPath: join(bin, 'berth-shim'),
    initPath: join(bin, 'berth-init'),
    sys: lazySys,
    env,
    autoRemoveCommand: [process.execPath, join(packageRoot, 'bin', 'berth'), 'rm', '-f'],
  });
  let store: import('../images/store.js').ImageStore | undefined;
  return {
    roots,
    runtime,
    async images() {
      if (!store) {
        const { ImageStore } = await import('../images/store.js');
        store = new ImageStore({ root: roots.root, sys: lazySys });
      }
      return store;
    },
  };
}
