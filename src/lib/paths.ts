// The only reader of BERTH_ROOT and BERTH_RUN. Everything below receives these roots as
// parameters, so tests run against temporary roots and never touch a user's state.
import { join } from 'node:path';

export interface Roots {
  /** persistent state: images, layers, containers (default /var/lib/berth) */
  readonly root: string;
  /** runtime state that dies with the host: sockets, pid files (default /run/berth) */
  readonly run: string;
  /** the cgroup every container's cgroup is created under, in each hierarchy (default "berth") */
  readonly cgroupParent: string;
}

export function resolveRoots(env: NodeJS.ProcessEnv = process.env): Roots {
  return {
    root: env.BERTH_ROOT && env.BERTH_ROOT !== '' ? env.BERTH_ROOT : '/var/lib/berth',
    run: env.BERTH_RUN && env.BERTH_RUN !== '' ? env.BERTH_RUN : '/run/berth',
    cgroupParent: env.BERTH_CGROUP_PARENT && /^[A-Za-z0-9_.-]+$/.test(env.BERTH_CGROUP_PARENT) ? env.BERTH_CGROUP_PARENT : 'berth',
  };
}

/** Where the native binaries live: next to the package, built by `npm run build`. */
export function nativeDir(packageRoot: string): string {
  return join(packageRoot, 'native', 'build');
}

/** berth's own engine settings (`insecure-registries`, as dockerd's daemon.json): BERTH_CONFIG, else /etc/berth/daemon.json. */
export function daemonConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_CONFIG && env.BERTH_CONFIG !== '' ? env.BERTH_CONFIG : '/etc/berth/daemon.json';
}
