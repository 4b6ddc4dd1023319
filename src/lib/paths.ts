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

/** The names of berth's host network objects: its nftables table and the prefixes of its links. */
export interface NetworkNames {
  /** nftables table (family inet) holding every rule berth adds */
  readonly table: string;
  /** bridge names start with it (≤ 7 characters) */
  readonly bridgePrefix: string;
  /** host-side veth names start with it (≤ 7 characters) */
  readonly vethPrefix: string;
}

/**
 * berth's names, chosen so that repair (which deletes links with these prefixes that no record
 * explains) can never take Docker's `br-…` bridges or `veth…` pairs. BERTH_NET_TAG (4 hex digits)
 * gives a second berth on the same host names of its own: `bt<tag>`, `vt<tag>`, `berth_test_<tag>`
 * (what the tests use, so that concurrent suites never replace each other's table).
 */
export function networkNames(env: NodeJS.ProcessEnv = process.env): NetworkNames {
  const tag = env.BERTH_NET_TAG;
  if (tag !== undefined && /^[0-9a-f]{4}$/.test(tag)) return { table: `berth_test_${tag}`, bridgePrefix: `bt${tag}`, vethPrefix: `vt${tag}` };
  return { table: 'berth', bridgePrefix: 'berth-', vethPrefix: 'bveth' };
}

/** Where the native binaries live: next to the package, built by `npm run build`. */
export function nativeDir(packageRoot: string): string {
  return join(packageRoot, 'native', 'build');
}

/** berth's own engine settings (`insecure-registries`, as dockerd's daemon.json): BERTH_CONFIG, else /etc/berth/daemon.json. */
export function daemonConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_CONFIG && env.BERTH_CONFIG !== '' ? env.BERTH_CONFIG : '/etc/berth/daemon.json';
}
