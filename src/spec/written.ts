// Compose files as written (STYLE principle 4): every field optional, values as the short forms
// and unions a user may write, before interpolation's type casts ("true", "3" are still strings
// here). The resolved, one-form shapes are in model.ts. The source of truth is
// schemas/compose.schema.json: each mapping type below has a key table next to it, the compiler
// checks that table against the type (no key missing, none extra), and written.test.ts checks it
// against the schema's properties, so that the types cannot drift from the schema.

/** x- extensions are allowed in every mapping and kept as written. */
export interface Extensions { [key: `x-${string}`]: unknown }

// ── value forms shared by many keys (schemas: definitions.*) ──────────────────────────────
/** boolish: a boolean, or a string that interpolation casts ("true", "false", ...) */
export type Boolish = boolean | string;
/** intish / numish: a number, or a string that interpolation casts */
export type Numberish = number | string;
/** listOrDict: {KEY: value} or ["KEY=value", "KEY"] */
export type ListOrDict = { readonly [key: string]: string | number | boolean | null } | readonly string[];
export type StrOrList = string | readonly string[];
/** command / entrypoint: a shell string, an argv list, or null for the image's own */
export type Command = null | string | readonly string[];
/** options: driver options as strings or numbers */
export type Options = { readonly [key: string]: string | number };
/** extraHosts: {host: address | [address]} or ["host:address", "host=address"] */
export type ExtraHosts = { readonly [host: string]: string | readonly string[] } | readonly string[];
export type External = boolean | string | (Extensions & { readonly name?: string });
export type Ulimits = { readonly [name: string]: Numberish | WrittenUlimit };
export type Grants = readonly (string | WrittenGrant)[];

/** The keys of T other than x- extensions, each exactly once: the compiler enforces the table. */
type KeyTable<T> = { readonly [K in Exclude<keyof T, `x-${string}`>]: true };
const keysOf = <T>(table: KeyTable<T>): readonly string[] => Object.keys(table);

// ── top level ────────────────────────────────────────────────────────────────────────────
export interface WrittenProject extends Extensions {
  readonly version?: string;
  readonly name?: string;
  readonly include?: readonly WrittenInclude[];
  readonly services?: { readonly [name: string]: WrittenService };
  readonly networks?: { readonly [name: string]: WrittenNetwork | null };
  readonly volumes?: { readonly [name: string]: WrittenVolume | null };
  readonly secrets?: { readonly [name: string]: WrittenSecret };
  readonly configs?: { readonly [name: string]: WrittenConfig };
  readonly models?: { readonly [name: string]: WrittenModel };
}
const PROJECT_KEYS = keysOf<WrittenProject>({ version: true, name: true, include: true, services: true, networks: true, volumes: true, secrets: true, configs: true, models: true });

export type WrittenInclude = string | WrittenIncludeEntry;
export interface WrittenIncludeEntry { readonly path?: StrOrList; readonly env_file?: StrOrList; readonly project_directory?: string }
const INCLUDE_KEYS = keysOf<WrittenIncludeEntry>({ path: true, env_file: true, project_directory: true });

// ── services ─────────────────────────────────────────────────────────────────────────────
export interface WrittenService extends Extensions {
  readonly annotations?: ListOrDict;
  readonly attach?: Boolish;
  readonly blkio_config?: WrittenBlkioConfig;
  readonly build?: string | WrittenBuild;
  readonly cap_add?: readonly string[];
  readonly cap_drop?: readonly string[];
  readonly cgroup?: 'host' | 'private';
  readonly cgroup_parent?: string;
  readonly command?: Command;
  readonly configs?: Grants;
  readonly container_name?: string;
  readonly cpu_count?: Numberish;
  readonly cpu_percent?: Numberish;
  readonly cpu_period?: Numberish;
  readonly cpu_quota?: Numberish;
  readonly cpu_rt_period?: Numberish;
  readonly cpu_rt_runtime?: Numberish;
  readonly cpu_shares?: Numberish;
  readonly cpus?: Numberish;
  readonly cpuset?: string;
  readonly credential_spec?: Extensions & { readonly config?: string; readonly file?: string; readonly registry?: string };
  readonly depends_on?: readonly string[] | { readonly [service: string]: WrittenDependency };
  readonly deploy?: WrittenDeploy | null;
  readonly develop?: WrittenDevelop | null;
  readonly device_cgroup_rules?: readonly string[];
  readonly devices?: readonly (string | WrittenDevice)[];
  readonly dns?: StrOrList;
  readonly dns_opt?: readonly string[];
  readonly dns_search?: StrOrList;
  readonly domainname?: string;
  readonly entrypoint?: Command;
  readonly env_file?: string | readonly (string | WrittenEnvFile)[];
  readonly environment?: ListOrDict;
  readonly expose?: readonly (string | number)[];
  readonly extends?: string | WrittenExtends;
  readonly external_links?: readonly string[];
  readonly extra_hosts?: ExtraHosts;
  readonly gpus?: 'all' | readonly WrittenDeviceRequest[];
  readonly group_add?: readonly (string | number)[];
  readonly healthcheck?: WrittenHealthcheck;
  readonly hostname?: string;
  readonly image?: string;
  readonly init?: Boolish;
  readonly ipc?: string;
  readonly isolation?: string;
  readonly label_file?: StrOrList;
  readonly labels?: ListOrDict;
  readonly links?: readonly string[];
  readonly logging?: Extensions & { readonly driver?: string; readonly options?: { readonly [key: string]: string | number | null } | null };
  readonly mac_address?: string;
  readonly mem_limit?: Numberish;
  readonly mem_reservation?: Numberish;
  readonly mem_swappiness?: Numberish;
  readonly memswap_limit?: Numberish;
  readonly models?: readonly string[] | { readonly [model: string]: (Extensions & { readonly endpoint_var?: string; readonly model_var?: string }) | null };
  readonly network_mode?: string;
  readonly networks?: readonly string[] | { readonly [network: string]: WrittenServiceNetwork | null };
  readonly oom_kill_disable?: Boolish;
  readonly oom_score_adj?: Numberish;
  readonly pid?: string | null;
  readonly pids_limit?: Numberish;
  readonly platform?: string;
  readonly ports?: readonly (number | string | WrittenPort)[];
  readonly post_start?: readonly WrittenHook[];
  readonly pre_start?: readonly (WrittenHook & { readonly image?: string; readonly per_replica?: Boolish })[];
  readonly pre_stop?: readonly WrittenHook[];
  readonly privileged?: Boolish;
  readonly profiles?: readonly string[];
  readonly provider?: Extensions & { readonly type: string; readonly options?: { readonly [key: string]: string | number | boolean | readonly (string | number | boolean)[] } | null };
  readonly pull_policy?: string;
  readonly pull_refresh_after?: string;
  readonly read_only?: Boolish;
  readonly restart?: string;
  readonly runtime?: string;
  readonly scale?: Numberish;
  readonly secrets?: Grants;
  readonly security_opt?: readonly string[];
  readonly shm_size?: Numberish;
  readonly stdin_open?: Boolish;
  readonly stop_grace_period?: string;
  readonly stop_signal?: string;
  readonly storage_opt?: { readonly [key: string]: unknown };
  readonly sysctls?: ListOrDict;
  readonly tmpfs?: StrOrList;
  readonly tty?: Boolish;
  readonly ulimits?: Ulimits;
  readonly use_api_socket?: boolean;
  readonly user?: string;
  readonly userns_mode?: string;
  readonly uts?: string;
  readonly volumes?: readonly (string | WrittenMount)[];
  readonly volumes_from?: readonly string[];
  readonly working_dir?: string;
}
const SERVICE_KEYS = keysOf<WrittenService>({
  annotations: true, attach: true, blkio_config: true, build: true, cap_add: true, cap_drop: true, cgroup: true, cgroup_parent: true, command: true,
  configs: true, container_name: true, cpu_count: true, cpu_percent: true, cpu_period: true, cpu_quota: true, cpu_rt_period: true, cpu_rt_runtime: true,
  cpu_shares: true, cpus: true, cpuset: true, credential_spec: true, depends_on: true, deploy: true, develop: true, device_cgroup_rules: true, devices: true,
  dns: true, dns_opt: true, dns_search: true, domainname: true, entrypoint: true, env_file: true, environment: true, expose: true, extends: true,
  external_links: true, extra_hosts: true, gpus: true, group_add: true, healthcheck: true, hostname: true, image: true, init: true, ipc: true,
  isolation: true, label_file: true, labels: true, links: true, logging: true, mac_address: true, mem_limit: true, mem_reservation: true,
  mem_swappiness: true, memswap_limit: true, models: true, network_mode: true, networks: true, oom_kill_disable: true, oom_score_adj: true, pid: true,
  pids_limit: true, platform: true, ports: true, post_start: true, pre_start: true, pre_stop: true, privileged: true, profiles: true, provider: true,
  pull_policy: true, pull_refresh_after: true, read_only: true, restart: true, runtime: true, scale: true, secrets: true, security_opt: true,
  shm_size: true, stdin_open: true, stop_grace_period: true, stop_signal: true, storage_opt: true, sysctls: true, tmpfs: true, tty: true, ulimits: true,
  use_api_socket: true, user: true, userns_mode: true, uts: true, volumes: true, volumes_from: true, working_dir: true,
});

export interface WrittenBuild extends Extensions {
  readonly context?: string;
  readonly dockerfile?: string;
  readonly dockerfile_inline?: string;
  readonly entitlements?: readonly string[];
  readonly args?: ListOrDict;
  readonly ssh?: ListOrDict;
  readonly labels?: ListOrDict;
  readonly cache_from?: readonly string[];
  readonly cache_to?: readonly string[];
  readonly no_cache?: Boolish;
  readonly no_cache_filter?: StrOrList;
  readonly additional_contexts?: ListOrDict;
  readonly network?: string;
  readonly provenance?: string | boolean;
  readonly sbom?: string | boolean;
  readonly pull?: Boolish;
  readonly target?: string;
  readonly shm_size?: Numberish;
  readonly extra_hosts?: ExtraHosts;
  readonly isolation?: string;
  readonly privileged?: Boolish;
  readonly secrets?: Grants;
  readonly tags?: readonly string[];
  readonly ulimits?: Ulimits;
  readonly platforms?: readonly string[];
}
const BUILD_KEYS = keysOf<WrittenBuild>({
  context: true, dockerfile: true, dockerfile_inline: true, entitlements: true, args: true, ssh: true, labels: true, cache_from: true, cache_to: true,
  no_cache: true, no_cache_filter: true, additional_contexts: true, network: true, provenance: true, sbom: true, pull: true, target: true, shm_size: true,
  extra_hosts: true, isolation: true, privileged: true, secrets: true, tags: true, ulimits: true, platforms: true,
});

export interface WrittenPort extends Extensions {
  readonly name?: string;
  readonly mode?: string;
  readonly host_ip?: string;
  readonly target?: Numberish;
  readonly published?: string | number;
  readonly protocol?: string;
  readonly app_protocol?: string;
}
const PORT_KEYS = keysOf<WrittenPort>({ name: true, mode: true, host_ip: true, target: true, published: true, protocol: true, app_protocol: true });

export interface WrittenMount extends Extensions {
  readonly type: 'bind' | 'volume' | 'tmpfs' | 'cluster' | 'npipe' | 'image';
  readonly source?: string;
  readonly target?: string;
  readonly read_only?: Boolish;
  readonly consistency?: string;
  readonly bind?: Extensions & { readonly propagation?: string; readonly create_host_path?: Boolish; readonly recursive?: 'enabled' | 'disabled' | 'writable' | 'readonly'; readonly selinux?: 'z' | 'Z' };
  readonly volume?: Extensions & { readonly labels?: ListOrDict; readonly nocopy?: Boolish; readonly subpath?: string };
  readonly tmpfs?: Extensions & { readonly size?: Numberish; readonly mode?: Numberish };
  readonly image?: Extensions & { readonly subpath?: string };
}
const MOUNT_KEYS = keysOf<WrittenMount>({ type: true, source: true, target: true, read_only: true, consistency: true, bind: true, volume: true, tmpfs: true, image: true });

export interface WrittenHealthcheck extends Extensions {
  readonly disable?: Boolish;
  readonly interval?: string;
  readonly retries?: Numberish;
  readonly test?: string | readonly string[];
  readonly timeout?: string;
  readonly start_period?: string;
  readonly start_interval?: string;
}
const HEALTHCHECK_KEYS = keysOf<WrittenHealthcheck>({ disable: true, interval: true, retries: true, test: true, timeout: true, start_period: true, start_interval: true });

export interface WrittenDeploy extends Extensions {
  readonly mode?: string;
  readonly endpoint_mode?: string;
  readonly replicas?: Numberish;
  readonly labels?: ListOrDict;
  readonly rollback_config?: WrittenUpdateConfig;
  readonly update_config?: WrittenUpdateConfig;
  readonly resources?: Extensions & {
    readonly limits?: Extensions & { readonly cpus?: Numberish; readonly memory?: string; readonly pids?: Numberish };
    readonly reservations?: Extensions & {
      readonly cpus?: Numberish; readonly memory?: string;
      readonly generic_resources?: readonly (Extensions & { readonly discrete_resource_spec?: Extensions & { readonly kind?: string; readonly value?: Numberish } })[];
      readonly devices?: readonly WrittenDeviceRequest[];
    };
  };
  readonly restart_policy?: Extensions & { readonly condition?: string; readonly delay?: string; readonly max_attempts?: Numberish; readonly window?: string };
  readonly placement?: Extensions & { readonly constraints?: readonly string[]; readonly preferences?: readonly (Extensions & { readonly spread?: string })[]; readonly max_replicas_per_node?: Numberish };
}
const DEPLOY_KEYS = keysOf<WrittenDeploy>({ mode: true, endpoint_mode: true, replicas: true, labels: true, rollback_config: true, update_config: true, resources: true, restart_policy: true, placement: true });

export interface WrittenUpdateConfig extends Extensions {
  readonly parallelism?: Numberish; readonly delay?: string; readonly failure_action?: string; readonly monitor?: string;
  readonly max_failure_ratio?: Numberish; readonly order?: 'start-first' | 'stop-first';
}
export interface WrittenDeviceRequest extends Extensions {
  readonly capabilities?: readonly string[]; readonly count?: Numberish; readonly device_ids?: readonly string[]; readonly driver?: string; readonly options?: ListOrDict;
}
export interface WrittenDevelop extends Extensions { readonly watch?: readonly WrittenWatchRule[] }
const DEVELOP_KEYS = keysOf<WrittenDevelop>({ watch: true });
export interface WrittenWatchRule extends Extensions {
  readonly path: string;
  readonly action: 'rebuild' | 'sync' | 'restart' | 'sync+restart' | 'sync+exec';
  readonly ignore?: StrOrList;
  readonly include?: StrOrList;
  readonly target?: string;
  readonly exec?: WrittenHook;
  readonly initial_sync?: boolean;
}
const WATCH_KEYS = keysOf<WrittenWatchRule>({ path: true, action: true, ignore: true, include: true, target: true, exec: true, initial_sync: true });
export interface WrittenHook extends Extensions {
  readonly command?: Command; readonly user?: string; readonly privileged?: Boolish; readonly working_dir?: string; readonly environment?: ListOrDict;
}
const HOOK_KEYS = keysOf<WrittenHook>({ command: true, user: true, privileged: true, working_dir: true, environment: true });
export interface WrittenBlkioConfig {
  readonly device_read_bps?: readonly { readonly path?: string; readonly rate?: Numberish }[];
  readonly device_read_iops?: readonly { readonly path?: string; readonly rate?: Numberish }[];
  readonly device_write_bps?: readonly { readonly path?: string; readonly rate?: Numberish }[];
  readonly device_write_iops?: readonly { readonly path?: string; readonly rate?: Numberish }[];
  readonly weight?: Numberish;
  readonly weight_device?: readonly { readonly path?: string; readonly weight?: Numberish }[];
}
export interface WrittenDependency extends Extensions { readonly condition: 'service_started' | 'service_healthy' | 'service_completed_successfully'; readonly restart?: Boolish; readonly required?: boolean }
export interface WrittenDevice extends Extensions { readonly source: string; readonly target?: string; readonly permissions?: string }
export interface WrittenEnvFile { readonly path: string; readonly format?: string; readonly required?: Boolish }
export interface WrittenExtends { readonly service: string; readonly file?: string }
export interface WrittenGrant extends Extensions { readonly source?: string; readonly target?: string; readonly uid?: string; readonly gid?: string; readonly mode?: Numberish }
export interface WrittenUlimit extends Extensions { readonly soft: Numberish; readonly hard: Numberish }
export interface WrittenServiceNetwork extends Extensions {
  readonly aliases?: readonly string[]; readonly interface_name?: string; readonly ipv4_address?: string; readonly ipv6_address?: string;
  readonly link_local_ips?: readonly string[]; readonly mac_address?: string; readonly driver_opts?: Options; readonly priority?: number; readonly gw_priority?: number;
}
const SERVICE_NETWORK_KEYS = keysOf<WrittenServiceNetwork>({ aliases: true, interface_name: true, ipv4_address: true, ipv6_address: true, link_local_ips: true, mac_address: true, driver_opts: true, priority: true, gw_priority: true });

// ── top-level resources ──────────────────────────────────────────────────────────────────
export interface WrittenNetwork extends Extensions {
  readonly name?: string;
  readonly driver?: string;
  readonly driver_opts?: Options;
  readonly ipam?: Extensions & {
    readonly driver?: string;
    readonly config?: readonly (Extensions & { readonly subnet?: string; readonly ip_range?: string; readonly gateway?: string; readonly aux_addresses?: { readonly [host: string]: string } })[];
    readonly options?: { readonly [key: string]: string };
  };
  readonly external?: External;
  readonly internal?: Boolish;
  readonly enable_ipv4?: Boolish;
  readonly enable_ipv6?: Boolish;
  readonly attachable?: Boolish;
  readonly labels?: ListOrDict;
}
const NETWORK_KEYS = keysOf<WrittenNetwork>({ name: true, driver: true, driver_opts: true, ipam: true, external: true, internal: true, enable_ipv4: true, enable_ipv6: true, attachable: true, labels: true });
export interface WrittenVolume extends Extensions { readonly name?: string; readonly driver?: string; readonly driver_opts?: Options; readonly external?: External; readonly labels?: ListOrDict }
const VOLUME_KEYS = keysOf<WrittenVolume>({ name: true, driver: true, driver_opts: true, external: true, labels: true });
export interface WrittenSecret extends Extensions {
  readonly name?: string; readonly environment?: string; readonly file?: string; readonly external?: External; readonly labels?: ListOrDict;
  readonly driver?: string; readonly driver_opts?: Options; readonly template_driver?: string;
}
const SECRET_KEYS = keysOf<WrittenSecret>({ name: true, environment: true, file: true, external: true, labels: true, driver: true, driver_opts: true, template_driver: true });
export interface WrittenConfig extends Extensions {
  readonly name?: string; readonly content?: string; readonly environment?: string; readonly file?: string; readonly external?: External;
  readonly labels?: ListOrDict; readonly template_driver?: string;
}
const CONFIG_KEYS = keysOf<WrittenConfig>({ name: true, content: true, environment: true, file: true, external: true, labels: true, template_driver: true });
export interface WrittenModel extends Extensions { readonly name?: string; readonly model?: string; readonly context_size?: number; readonly runtime_flags?: readonly string[] }
const MODEL_KEYS = keysOf<WrittenModel>({ name: true, model: true, context_size: true, runtime_flags: true });

/**
 * Each as-written mapping type's keys, by where the schema defines it: a JSON pointer into
 * schemas/compose.schema.json to the object schema whose `properties` must be exactly these keys
 * (a `oneOf` is searched for its object branch). Checked by written.test.ts.
 */
export const WRITTEN_KEYS: ReadonlyArray<{ readonly type: string; readonly schema: string; readonly keys: readonly string[] }> = [
  { type: 'WrittenProject', schema: '#', keys: PROJECT_KEYS },
  { type: 'WrittenIncludeEntry', schema: '#/definitions/includeItem', keys: INCLUDE_KEYS },
  { type: 'WrittenService', schema: '#/definitions/service', keys: SERVICE_KEYS },
  { type: 'WrittenBuild', schema: '#/definitions/build', keys: BUILD_KEYS },
  { type: 'WrittenPort', schema: '#/definitions/port', keys: PORT_KEYS },
  { type: 'WrittenMount', schema: '#/definitions/mount', keys: MOUNT_KEYS },
  { type: 'WrittenHealthcheck', schema: '#/definitions/healthcheck', keys: HEALTHCHECK_KEYS },
  { type: 'WrittenDeploy', schema: '#/definitions/deploy', keys: DEPLOY_KEYS },
  { type: 'WrittenDevelop', schema: '#/definitions/develop', keys: DEVELOP_KEYS },
  { type: 'WrittenWatchRule', schema: '#/definitions/develop/properties/watch/items', keys: WATCH_KEYS },
  { type: 'WrittenHook', schema: '#/definitions/hook', keys: HOOK_KEYS },
  { type: 'WrittenServiceNetwork', schema: '#/definitions/service/properties/networks', keys: SERVICE_NETWORK_KEYS },
  { type: 'WrittenNetwork', schema: '#/definitions/network', keys: NETWORK_KEYS },
  { type: 'WrittenVolume', schema: '#/definitions/volume', keys: VOLUME_KEYS },
  { type: 'WrittenSecret', schema: '#/definitions/secret', keys: SECRET_KEYS },
  { type: 'WrittenConfig', schema: '#/definitions/config', keys: CONFIG_KEYS },
  { type: 'WrittenModel', schema: '#/definitions/model', keys: MODEL_KEYS },
];
