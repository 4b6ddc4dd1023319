// The resolved project: what every later part of berth consumes. Required, readonly, one form.
// Field names are compose's own (snake_case), so `berth config` prints the model as it is.
// Units: durations in milliseconds, sizes in bytes, paths absolute.
import type { Build } from './canonical/build.js';
import type { Dependency } from './canonical/depends-on.js';
import type { Healthcheck } from './canonical/healthcheck.js';
import type { PortMapping } from './canonical/ports.js';
import type { Resources } from './canonical/resources.js';
import type { RestartPolicy } from './canonical/restart.js';
import type { ServiceMount } from './canonical/volumes.js';
import type { WatchRule } from './canonical/develop-watch.js';
import type { Hook } from './canonical/hooks.js';

export type { Build, Dependency, Healthcheck, PortMapping, Resources, RestartPolicy, ServiceMount, WatchRule };
export type { DependsCondition } from './canonical/depends-on.js';
export type { Ulimit } from './canonical/resources.js';
export type { Protocol } from './canonical/ports.js';
export type { MountType } from './canonical/volumes.js';
export type { WatchAction } from './canonical/develop-watch.js';
export type { Hook } from './canonical/hooks.js';

export type Env = Readonly<Record<string, string | null>>;

export interface ServiceNetwork {
  readonly aliases: readonly string[];
  readonly ipv4_address?: string;
  readonly ipv6_address?: string;
  readonly link_local_ips?: readonly string[];
  readonly mac_address?: string;
  readonly interface_name?: string;
  readonly driver_opts?: Readonly<Record<string, string>>;
  readonly priority?: number;
  readonly gw_priority?: number;
}

export interface FileGrant {
  /** name of the top-level secret/config */
  readonly source: string;
  /** path in the container (secrets: /run/secrets/<source> by default; configs: /<source>) */
  readonly target: string;
  readonly uid?: string;
  readonly gid?: string;
  readonly mode?: number;
}

export interface EnvFile { readonly path: string; readonly required: boolean; readonly format?: string }

export interface Device { readonly source: string; readonly target: string; readonly permissions: string }

export interface Logging { readonly driver?: string; readonly options: Readonly<Record<string, string>> }

export interface Deploy {
  readonly mode?: string;
  readonly replicas?: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly placement?: unknown;
  readonly update_config?: unknown;
  readonly rollback_config?: unknown;
  readonly endpoint_mode?: string;
}

export interface Service {
  readonly name: string;
  readonly image?: string;
  readonly build?: Build;
  readonly pull_policy?: string;
  readonly platform?: string;
  readonly container_name?: string;
  /** null = the image's own */
  readonly command: readonly string[] | null;
  readonly entrypoint: readonly string[] | null;
  /** env_file contents, then `environment` on top; null = declared but unset */
  readonly environment: Env;
  readonly env_file: readonly EnvFile[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ports: readonly PortMapping[];
  readonly expose: readonly string[];
  readonly volumes: readonly ServiceMount[];
  readonly tmpfs: readonly string[];
  readonly volumes_from: readonly string[];
  readonly depends_on: Readonly<Record<string, Dependency>>;
  readonly links: readonly string[];
  readonly healthcheck?: Healthcheck;
  readonly restart: RestartPolicy;
  readonly resources: Resources;
  /** number of containers: deploy.replicas / scale, default 1 */
  readonly scale: number;
  readonly deploy?: Deploy;
  readonly stop_signal?: string;
  /** ms */
  readonly stop_grace_period?: number;
  readonly user?: string;
  readonly working_dir?: string;
  readonly hostname?: string;
  readonly domainname?: string;
  /** the MAC address of the container's first network's interface */
  readonly mac_address?: string;
  readonly init?: boolean;
  readonly tty: boolean;
  readonly stdin_open: boolean;
  readonly privileged: boolean;
  readonly read_only: boolean;
  readonly cap_add: readonly string[];
  readonly cap_drop: readonly string[];
  readonly security_opt: readonly string[];
  readonly sysctls: Readonly<Record<string, string>>;
  readonly extra_hosts: readonly string[];
  readonly dns: readonly string[];
  readonly dns_search: readonly string[];
  readonly dns_opt: readonly string[];
  readonly devices: readonly Device[];
  readonly group_add: readonly string[];
  /** absent when network_mode is set */
  readonly networks: Readonly<Record<string, ServiceNetwork>>;
  readonly network_mode?: string;
  readonly ipc?: string;
  readonly pid?: string;
  readonly userns_mode?: string;
  readonly logging?: Logging;
  readonly secrets: readonly FileGrant[];
  readonly configs: readonly FileGrant[];
  readonly profiles: readonly string[];
  readonly develop?: { readonly watch: readonly WatchRule[] };
  /** lifecycle hooks: run in the container after each start by a compose verb (absent: none) */
  readonly post_start?: readonly Hook[];
  /** lifecycle hooks: run in the running container before a compose verb stops it (absent: none) */
  readonly pre_stop?: readonly Hook[];
  /** x-* keys of the service */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** keys berth does not support yet, kept as written (each was named in a warning) */
  readonly unsupported: Readonly<Record<string, unknown>>;
}

export interface Network {
  readonly name: string;
  readonly driver?: string;
  readonly driver_opts: Readonly<Record<string, string>>;
  readonly ipam?: { readonly driver?: string; readonly config: readonly { readonly subnet?: string; readonly ip_range?: string; readonly gateway?: string; readonly aux_addresses?: Readonly<Record<string, string>> }[]; readonly options?: Readonly<Record<string, string>> };
  readonly external: boolean;
  readonly internal: boolean;
  readonly attachable: boolean;
  readonly enable_ipv4?: boolean;
  readonly enable_ipv6?: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface Volume {
  readonly name: string;
  readonly driver?: string;
  readonly driver_opts: Readonly<Record<string, string>>;
  readonly external: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface FileObject {
  readonly name: string;
  /** absolute path */
  readonly file?: string;
  /** the variable of the project's environment holding the content */
  readonly environment?: string;
  /** as written, or the `environment` variable's value (absent when that variable is unset) */
  readonly content?: string;
  readonly external: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface Project {
  readonly name: string;
  /** the project directory (absolute) */
  readonly working_dir: string;
  readonly compose_files: readonly string[];
  /** the active services (profiles applied) */
  readonly services: Readonly<Record<string, Service>>;
  /** services left out because none of their profiles is enabled */
  readonly disabled_services: Readonly<Record<string, Service>>;
  readonly networks: Readonly<Record<string, Network>>;
  readonly volumes: Readonly<Record<string, Volume>>;
  readonly secrets: Readonly<Record<string, FileObject>>;
  readonly configs: Readonly<Record<string, FileObject>>;
  /** every profile named by any service */
  readonly all_profiles: readonly string[];
  readonly enabled_profiles: readonly string[];
  /** x-* top-level keys */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** top-level keys berth does not support yet (e.g. models), kept as written */
  readonly unsupported: Readonly<Record<string, unknown>>;
}
