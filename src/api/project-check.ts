// The check of a resolved Project (spec/model.ts) that crosses the socket in `up`, `down` and
// `compose run`. Every key of every model type has its check here (Shape<T> makes the compiler
// insist), so a project the engine receives has exactly the model's types, whatever a client
// sent. test: project-check.test.ts round-trips projects the loader produced.
import type {
  Build, Dependency, Device, EnvFile, FileGrant, FileObject, Healthcheck, Logging, Network, PortMapping, Project, Resources,
  RestartPolicy, Service, ServiceMount, ServiceNetwork, Volume, WatchRule, Deploy, Ulimit, Hook,
} from '../spec/model.js';
import {
  array, bool, count, either, json, literal, nonNegative, nullable, num, object, optional, record, str, int, type Check,
} from './check.js';
import { InvalidArgument } from '../lib/errors.js';

const strings = array(str);
const stringMap = record(str);
const extensions = record(json);

const dependency = object<Dependency>({
  condition: literal('service_started', 'service_healthy', 'service_completed_successfully'),
  restart: bool,
  required: bool,
});

const healthcheck = object<Healthcheck>({
  test: optional(strings),
  interval: optional(nonNegative),
  timeout: optional(nonNegative),
  start_period: optional(nonNegative),
  start_interval: optional(nonNegative),
  retries: optional(count),
  disable: bool,
});

const port = object<PortMapping>({
  target: count,
  published: optional(str),
  host_ip: optional(str),
  protocol: literal('tcp', 'udp', 'sctp'),
  mode: literal('ingress', 'host'),
  name: optional(str),
  app_protocol: optional(str),
});

const mount = object<ServiceMount>({
  type: literal('bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image'),
  source: optional(str),
  target: str,
  read_only: bool,
  consistency: optional(str),
  bind: optional(object<NonNullable<ServiceMount['bind']>>({
    propagation: optional(str), create_host_path: bool, selinux: optional(literal('z', 'Z')), recursive: optional(str),
  })),
  volume: optional(object<NonNullable<ServiceMount['volume']>>({ nocopy: bool, subpath: optional(str), labels: optional(stringMap) })),
  tmpfs: optional(object<NonNullable<ServiceMount['tmpfs']>>({ size: optional(nonNegative), mode: optional(count) })),
  image: optional(object<NonNullable<ServiceMount['image']>>({ subpath: optional(str) })),
});

const ulimit = object<Ulimit>({ soft: int, hard: int });

const resources = object<Resources>({
  cpus: optional(nonNegative),
  cpu_shares: optional(int),
  cpu_quota: optional(int),
  cpu_period: optional(int),
  cpu_rt_runtime: optional(int),
  cpu_rt_period: optional(int),
  cpuset: optional(str),
  mem_limit: optional(int),
  mem_reservation: optional(int),
  memswap_limit: optional(int),
  mem_swappiness: optional(int),
  shm_size: optional(count),
  pids_limit: optional(int),
  oom_kill_disable: optional(bool),
  oom_score_adj: optional(int),
  ulimits: record(ulimit),
  devices: optional(array(json)),
});

const restart = object<RestartPolicy>({
  name: literal('no', 'always', 'on-failure', 'unless-stopped'),
  max_attempts: count,
  delay: optional(nonNegative),
  window: optional(nonNegative),
});

const build = object<Build>({
  context: str,
  dockerfile: optional(str),
  dockerfile_inline: optional(str),
  args: record(nullable(str)),
  target: optional(str),
  labels: stringMap,
  network: optional(str),
  shm_size: optional(either<number, string>(count, str, 'a size')),
  extra_hosts: strings,
  platforms: strings,
  tags: strings,
  cache_from: strings,
  cache_to: strings,
  no_cache: bool,
  pull: bool,
  additional_contexts: stringMap,
  secrets: array(json),
  ssh: strings,
  privileged: bool,
  entitlements: optional(strings),
});

const serviceNetwork = object<ServiceNetwork>({
  aliases: strings,
  ipv4_address: optional(str),
  ipv6_address: optional(str),
  link_local_ips: optional(strings),
  mac_address: optional(str),
  interface_name: optional(str),
  driver_opts: optional(stringMap),
  priority: optional(num),
  gw_priority: optional(num),
});

const grant = object<FileGrant>({ source: str, target: str, uid: optional(str), gid: optional(str), mode: optional(count) });
const envFile = object<EnvFile>({ path: str, required: bool, format: optional(str) });
const device = object<Device>({ source: str, target: str, permissions: str });
const logging = object<Logging>({ driver: optional(str), options: stringMap });
const deploy = object<Deploy>({
  mode: optional(str), replicas: optional(count), labels: stringMap, placement: json, update_config: json, rollback_config: json, endpoint_mode: optional(str),
});
const hook = object<Hook>({
  command: strings, user: optional(str), privileged: bool, working_dir: optional(str), environment: record(nullable(str)),
});
const watchRule = object<WatchRule>({
  path: str,
  action: literal('rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec'),
  target: optional(str),
  ignore: strings,
  include: strings,
  exec: optional(hook),
  initial_sync: bool,
});

export const checkService: Check<Service> = object<Service>({
  name: str,
  image: optional(str),
  build: optional(build),
  pull_policy: optional(str),
  platform: optional(str),
  container_name: optional(str),
  command: nullable(strings),
  entrypoint: nullable(strings),
  environment: record(nullable(str)),
  env_file: array(envFile),
  labels: stringMap,
  annotations: stringMap,
  ports: array(port),
  expose: strings,
  volumes: array(mount),
  tmpfs: strings,
  volumes_from: strings,
  depends_on: record(dependency),
  links: strings,
  healthcheck: optional(healthcheck),
  restart,
  resources,
  scale: count,
  deploy: optional(deploy),
  stop_signal: optional(str),
  stop_grace_period: optional(nonNegative),
  user: optional(str),
  working_dir: optional(str),
  hostname: optional(str),
  domainname: optional(str),
  mac_address: optional(str),
  init: optional(bool),
  tty: bool,
  stdin_open: bool,
  privileged: bool,
  read_only: bool,
  cap_add: strings,
  cap_drop: strings,
  security_opt: strings,
  sysctls: stringMap,
  extra_hosts: strings,
  dns: strings,
  dns_search: strings,
  dns_opt: strings,
  devices: array(device),
  group_add: strings,
  networks: record(serviceNetwork),
  network_mode: optional(str),
  ipc: optional(str),
  pid: optional(str),
  userns_mode: optional(str),
  logging: optional(logging),
  secrets: array(grant),
  configs: array(grant),
  profiles: strings,
  develop: optional(object<NonNullable<Service['develop']>>({ watch: array(watchRule) })),
  post_start: optional(array(hook)),
  pre_stop: optional(array(hook)),
  extensions,
  unsupported: extensions,
});

const network = object<Network>({
  name: str,
  driver: optional(str),
  driver_opts: stringMap,
  ipam: optional(object<NonNullable<Network['ipam']>>({
    driver: optional(str),
    config: array(object<NonNullable<Network['ipam']>['config'][number]>({
      subnet: optional(str), ip_range: optional(str), gateway: optional(str), aux_addresses: optional(stringMap),
    })),
    options: optional(stringMap),
  })),
  external: bool,
  internal: bool,
  attachable: bool,
  enable_ipv4: optional(bool),
  enable_ipv6: optional(bool),
  labels: stringMap,
  extensions,
});

const volume = object<Volume>({ name: str, driver: optional(str), driver_opts: stringMap, external: bool, labels: stringMap, extensions });

const fileObject = object<FileObject>({
  name: str, file: optional(str), environment: optional(str), content: optional(str), external: bool, labels: stringMap, extensions,
});

/** A service map: each key must name its service (the engine looks services up by either). */
function services(): Check<Record<string, Service>> {
  const each = record(checkService);
  return (v, p) => {
    const out = each(v, p);
    for (const [key, service] of Object.entries(out)) {
      if (service.name !== key) throw new InvalidArgument(`${p}.${key}.name: expected "${key}" (the key it is under), got "${service.name}"`, { path: `${p}.${key}.name` });
    }
    return out;
  };
}

export const checkProject: Check<Project> = object<Project>({
  name: str,
  working_dir: str,
  compose_files: strings,
  services: services(),
  disabled_services: services(),
  networks: record(network),
  volumes: record(volume),
  secrets: record(fileObject),
  configs: record(fileObject),
  all_profiles: strings,
  enabled_profiles: strings,
  extensions,
  unsupported: extensions,
});
