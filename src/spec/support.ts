// What berth implements today. Keys the compose spec defines but berth does not support yet are
// not dropped silently: the loader names each one in a warning and keeps it in `unsupported`.
export const SUPPORTED_SERVICE_KEYS: ReadonlySet<string> = new Set([
  'image', 'build', 'pull_policy', 'platform', 'container_name', 'command', 'entrypoint', 'environment', 'env_file',
  'labels', 'annotations', 'ports', 'expose', 'volumes', 'tmpfs', 'volumes_from', 'depends_on', 'links', 'healthcheck',
  'restart', 'deploy', 'scale', 'cpus', 'cpu_shares', 'cpu_quota', 'cpu_period', 'cpuset', 'mem_limit', 'mem_reservation',
  'memswap_limit', 'mem_swappiness', 'shm_size', 'pids_limit', 'oom_kill_disable', 'oom_score_adj', 'ulimits',
  'stop_signal', 'stop_grace_period', 'user', 'working_dir', 'hostname', 'domainname', 'init', 'tty', 'stdin_open',
  'privileged', 'read_only', 'cap_add', 'cap_drop', 'security_opt', 'sysctls', 'extra_hosts', 'dns', 'dns_search',
  'dns_opt', 'devices', 'group_add', 'networks', 'network_mode', 'ipc', 'pid', 'userns_mode', 'logging', 'secrets',
  'configs', 'profiles', 'develop', 'extends', 'cpu_rt_runtime', 'cpu_rt_period', 'mac_address', 'post_start', 'pre_stop',
]);

/** deploy sub-keys berth honours; the rest (placement, update_config, ...) are swarm-only. */
export const SUPPORTED_DEPLOY_KEYS: ReadonlySet<string> = new Set(['replicas', 'resources', 'restart_policy', 'labels', 'mode']);

export const SUPPORTED_TOP_KEYS: ReadonlySet<string> = new Set(['version', 'name', 'include', 'services', 'networks', 'volumes', 'secrets', 'configs']);
