// One compose service → the pod template of its workload: the container (image, command, env,
// ports, probes, resources, security) and the pod-level settings (hostname, DNS, hosts, sysctls,
// grace period). Whatever has no equivalent is reported, key by key.
import type { Service } from '../spec/model.js';
import { base64Text } from './base64.js';
import { type Context, annotationsFrom, meta, projectPath, report, selectorFor } from './context.js';
import { escapeExpansion } from './escape.js';
import { dataKey } from './names.js';
import type { ServiceSettings } from './options.js';
import { bytesQuantity, cpuQuantity, seconds } from './quantity.js';
import type { Container, ContainerPort, EnvVar, PodSpec, PodTemplateSpec, Probe, SecurityContext } from './types.js';
import type { PodStorage } from './storage.js';

/** Docker's healthcheck defaults (ms), used when the compose file leaves one out. */
const HEALTH_DEFAULTS = { interval: 30_000, timeout: 30_000, retries: 3, start_interval: 5_000 };

/** Sysctls Kubernetes allows without the kubelet's --allowed-unsafe-sysctls. */
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);

const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

export interface PodParts {
  readonly template: PodTemplateSpec;
  /** the container ports, for the Services */
  readonly ports: readonly ContainerPort[];
}

/** `expose` entries ("80", "8000-8010/udp") → ports. Ranges beyond 100 ports are reported. */
export function exposedPorts(s: Service, warn: (key: string, message: string) => void): ContainerPort[] {
  const out: ContainerPort[] = [];
  s.expose.forEach((e, i) => {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(e.trim());
    if (!m) { warn(`expose[${i}]`, `${JSON.stringify(e)} is not a port or port range; not mapped`); return; }
    const a = Number(m[1]), b = m[2] ? Number(m[2]) : a;
    if (a < 1 || b > 65535 || b < a) { warn(`expose[${i}]`, `${JSON.stringify(e)} is out of range; not mapped`); return; }
    if (b - a >= 100) { warn(`expose[${i}]`, `${JSON.stringify(e)}: only the first 100 ports of the range are mapped`); }
    for (let p = a; p <= Math.min(b, a + 99); p++) out.push({ containerPort: p, protocol: (m[3] ?? 'tcp').toUpperCase() });
  });
  return out;
}

export function containerPorts(s: Service, warn: (key: string, message: string) => void): ContainerPort[] {
  const seen = new Set<string>();
  const out: ContainerPort[] = [];
  const add = (p: ContainerPort): void => {
    const k = `${p.containerPort}/${p.protocol}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(p);
  };
  for (const p of s.ports) {
    add({ containerPort: p.target, protocol: p.protocol.toUpperCase(), ...(p.name && IANA_SVC_NAME.test(p.name) ? { name: p.name } : {}) });
  }
  for (const p of exposedPorts(s, warn)) add(p);
  // container port names must be unique in the pod
  const names = new Set<string>();
  return out.map((p) => {
    if (p.name === undefined) return p;
    if (names.has(p.name)) { const { name: _n, ...rest } = p; void _n; return rest; }
    names.add(p.name);
    return p;
  });
}

function probes(s: Service, warn: (key: string, message: string) => void): { readinessProbe?: Probe; startupProbe?: Probe } {
  const h = s.healthcheck;
  if (!h || h.disable) return {};
  if (!h.test || h.test.length < 2) {
    warn('healthcheck', "has no test: it inherits the image's HEALTHCHECK, which Kubernetes does not run; no probe written (add a test)");
    return {};
  }
  const command = h.test[0] === 'CMD' ? [...h.test.slice(1)] : ['/bin/sh', '-c', h.test.slice(1).join(' ')];
  const interval = h.interval ?? HEALTH_DEFAULTS.interval;
  const timeout = h.timeout ?? HEALTH_DEFAULTS.timeout;
  const retries = Math.max(1, h.retries ?? HEALTH_DEFAULTS.retries);
  const readinessProbe: Probe = { exec: { command }, periodSeconds: seconds(interval), timeoutSeconds: seconds(timeout), failureThreshold: retries };
  if (!h.start_period) return { readinessProbe };
  // Docker probes every start_interval during start_period without counting failures, then
  // counts `retries` failures at `interval`. A startup probe that allows that long is the closest
  // Kubernetes has; unlike Docker, Kubernetes restarts a container whose startup probe gives up.
  const period = seconds(h.start_interval ?? HEALTH_DEFAULTS.start_interval);
  const startupProbe: Probe = {
    exec: { command }, periodSeconds: period, timeoutSeconds: seconds(timeout),
    failureThreshold: Math.max(1, Math.ceil((h.start_period + retries * interval) / (period * 1000))),
  };
  return { readinessProbe, startupProbe };
}

function resources(s: Service, warn: (key: string, message: string) => void): Container['resources'] {
  const r = s.resources;
  const limits: Record<string, string> = {}, requests: Record<string, string> = {};
  let cpus = r.cpus;
  if (cpus === undefined && r.cpu_quota !== undefined && r.cpu_quota > 0) cpus = r.cpu_quota / (r.cpu_period ?? 100_000);
  if (cpus !== undefined && cpus > 0) limits['cpu'] = cpuQuantity(cpus);
  if (r.cpu_shares !== undefined && r.cpu_shares > 0) {
    // Docker's shares are a weight out of 1024 per CPU; a CPU request is what Kubernetes turns into the same weight
    const shareCpus = r.cpu_shares / 1024;
    requests['cpu'] = cpuQuantity(cpus !== undefined && cpus > 0 ? Math.min(shareCpus, cpus) : shareCpus);
  }
  if (r.mem_limit !== undefined && r.mem_limit > 0) limits['memory'] = bytesQuantity(r.mem_limit);
  if (r.mem_reservation !== undefined && r.mem_reservation > 0) {
    const reservation = r.mem_limit !== undefined && r.mem_limit > 0 && r.mem_reservation > r.mem_limit ? r.mem_limit : r.mem_reservation;
    if (reservation !== r.mem_reservation) warn('mem_reservation', 'is above mem_limit; the request is lowered to the limit');
    requests['memory'] = bytesQuantity(reservation);
  }
  const unmapped: [keyof typeof r, string][] = [
    ['pids_limit', 'Kubernetes sets pid limits per node, not per container'],
    ['cpuset', 'CPU pinning is the kubelet\'s CPU manager policy'],
    ['memswap_limit', 'swap is a node setting'], ['mem_swappiness', 'swap is a node setting'],
    ['oom_kill_disable', 'no per-container equivalent'], ['oom_score_adj', 'Kubernetes derives it from the QoS class'],
    ['cpu_rt_runtime', 'no real-time CPU scheduling in Kubernetes'], ['cpu_rt_period', 'no real-time CPU scheduling in Kubernetes'],
  ];
  for (const [k, why] of unmapped) if (r[k] !== undefined) warn(k, `not mapped (${why})`);
  if (Object.keys(r.ulimits).length > 0) warn('ulimits', 'not mapped (Kubernetes has no per-container rlimits; they come from the container runtime)');
  if (r.devices && r.devices.length > 0) warn('deploy.resources.reservations.devices', 'not mapped (request a device plugin resource such as nvidia.com/gpu in the limits)');
  if (Object.keys(limits).length === 0 && Object.keys(requests).length === 0) return undefined;
  return { ...(Object.keys(limits).length > 0 ? { limits } : {}), ...(Object.keys(requests).length > 0 ? { requests } : {}) };
}

function securityContext(s: Service, warn: (key: string, message: string) => void): SecurityContext | undefined {
  const sc: SecurityContext = {};
  if (s.user !== undefined && s.user !== '') {
    const [user, group] = s.user.split(':');
    if (/^\d+$/.test(user!)) sc.runAsUser = Number(user);
    else warn('user', `${JSON.stringify(user)}: Kubernetes runs as a numeric uid; not mapped (write the uid)`);
    if (group !== undefined) {
      if (/^\d+$/.test(group)) sc.runAsGroup = Number(group);
      else warn('user', `the group ${JSON.stringify(group)}: Kubernetes takes a numeric gid; not mapped`);
    }
  }
  if (s.privileged) sc.privileged = true;
  if (s.read_only) sc.readOnlyRootFilesystem = true;
  const cap = (c: string): string => c.toUpperCase().replace(/^CAP_/, '');
  if (s.cap_add.length > 0 || s.cap_drop.length > 0) {
    sc.capabilities = {
      ...(s.cap_add.length > 0 ? { add: s.cap_add.map(cap) } : {}),
      ...(s.cap_drop.length > 0 ? { drop: s.cap_drop.map(cap) } : {}),
    };
  }
  s.security_opt.forEach((opt, i) => {
    const m = /^([a-z-]+)(?:[:=](.*))?$/.exec(opt);
    const [name, value] = m ? [m[1]!, m[2]] : ['', undefined];
    if (name === 'no-new-privileges') {
      if (value === undefined || value === 'true') sc.allowPrivilegeEscalation = false;
    } else if (name === 'seccomp' && value === 'unconfined') sc.seccompProfile = { type: 'Unconfined' };
    else if (name === 'apparmor' && value === 'unconfined') sc.appArmorProfile = { type: 'Unconfined' };
    else if (name === 'apparmor' && value) sc.appArmorProfile = { type: 'Localhost', localhostProfile: value };
    else if (name === 'label' && value && /^(user|role|type|level):/.test(value)) {
      const [field, ...rest] = value.split(':');
      sc.seLinuxOptions = { ...sc.seLinuxOptions, [field!]: rest.join(':') };
    } else {
      warn(`security_opt[${i}]`, `${JSON.stringify(opt)} not mapped${name === 'seccomp' ? ' (a seccomp profile file must be installed on the nodes: securityContext.seccompProfile type Localhost)' : ''}`);
    }
  });
  return Object.keys(sc).length > 0 ? sc : undefined;
}

function environment(ctx: Context, s: Service, settings: ServiceSettings, warn: (key: string, message: string) => void): EnvVar[] {
  // values that go to the service's Secret: from env files marked secret (unless `environment`
  // changed them), and variables named in secret_environment
  const secretKeys = new Set<string>();
  for (const marked of settings.secretEnvFiles) {
    const path = projectPath(ctx, marked);
    const ef = s.env_file.find((e) => e.path === path);
    if (!ef) { warn('x-berth.kubernetes.secret_env_files', `${marked} is not one of the service's env_file entries; ignored`); continue; }
    const vars = ctx.host.envFile(ef.path);
    if (!vars) { warn('x-berth.kubernetes.secret_env_files', `${ef.path} cannot be read; its values stay plain`); continue; }
    for (const [k, v] of vars) {
      if (s.environment[k] === v) secretKeys.add(k);
      else warn('environment', `${k} from the secret env file is overridden in environment; the overriding value stays plain`);
    }
  }
  for (const k of settings.secretEnvironment) {
    if (s.environment[k] === undefined || s.environment[k] === null) warn('x-berth.kubernetes.secret_environment', `${k} is not set in the service's environment; ignored`);
    else secretKeys.add(k);
  }
  const secretName = secretKeys.size > 0 ? ctx.names.secrets.assign(`${s.name}-env`) : '';
  const secretData: Record<string, string> = {};
  const env: EnvVar[] = [];
  for (const [name, value] of Object.entries(s.environment)) {
    if (value === null) continue; // declared without a value: unset in the container, as compose does
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) warn('environment', `${JSON.stringify(name)} is a valid variable name only on Kubernetes 1.32 and later (relaxed environment variable validation)`);
    if (secretKeys.has(name)) {
      const key = dataKey(name);
      secretData[key] = value;
      env.push({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });
    } else {
      env.push({ name, value: escapeExpansion(value) });
    }
  }
  if (secretKeys.size > 0) {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(secretData)) data[k] = base64Text(v);
    ctx.secrets.set(secretName, { apiVersion: 'v1', kind: 'Secret', metadata: meta(ctx, secretName, undefined, selectorFor(ctx, s.name)), type: 'Opaque', data });
  }
  return env;
}

export function podFor(ctx: Context, s: Service, settings: ServiceSettings, storage: PodStorage, scope: string): PodParts {
  const warn = (key: string, message: string): void => report(ctx, scope, key, message);
  const name = ctx.names.services.assign(s.name);
  const ports = containerPorts(s, warn);
  let image = s.image;
  if (image === undefined) {
    image = `${ctx.project.name}-${s.name}`;
    warn('build', `no image name: the container uses ${image}, the name compose gives the image it builds; build it, push it to a registry the cluster pulls from, and set image:`);
  } else if (s.build !== undefined) {
    warn('build', `not run by convert: build ${image} and push it to a registry the cluster pulls from`);
  }
  const pullPolicy = s.pull_policy === undefined ? undefined : ({ always: 'Always', never: 'Never', missing: 'IfNotPresent', if_not_present: 'IfNotPresent' } as Record<string, string>)[s.pull_policy];
  if (s.pull_policy !== undefined && pullPolicy === undefined) warn('pull_policy', `${JSON.stringify(s.pull_policy)} has no Kubernetes equivalent; not mapped`);
  if (s.entrypoint !== null && s.entrypoint.length === 0) warn('entrypoint', 'an empty entrypoint cannot be written in Kubernetes (an empty command means the image\'s own); not mapped');

  const container: Container = {
    name,
    image,
    ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}),
    ...(s.entrypoint !== null && s.entrypoint.length > 0 ? { command: s.entrypoint.map(escapeExpansion) } : {}),
    ...(s.command !== null && s.command.length > 0 ? { args: s.command.map(escapeExpansion) } : {}),
    ...(s.working_dir ? { workingDir: s.working_dir } : {}),
  };
  const env = environment(ctx, s, settings, warn);
  if (env.length > 0) container.env = env;
  if (ports.length > 0) container.ports = [...ports];
  if (storage.mounts.length > 0) container.volumeMounts = storage.mounts;
  const res = resources(s, warn);
  if (res) container.resources = res;
  Object.assign(container, probes(s, warn));
  const sc = securityContext(s, warn);
  if (sc) container.securityContext = sc;
  if (s.tty) container.tty = true;
  if (s.stdin_open) container.stdin = true;

  const spec: PodSpec = { containers: [container] };
  if (storage.volumes.length > 0) spec.volumes = storage.volumes;
  if (s.stop_grace_period !== undefined) spec.terminationGracePeriodSeconds = seconds(s.stop_grace_period, 0);
  if (s.stop_signal !== undefined && !/^(SIG)?TERM$|^15$/i.test(s.stop_signal)) {
    warn('stop_signal', `${s.stop_signal} not mapped: Kubernetes stops containers with SIGTERM (container stop signals are alpha in Kubernetes 1.33); make the image's STOPSIGNAL ${s.stop_signal}`);
  }
  if (s.hostname !== undefined) {
    if (/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(s.hostname)) spec.hostname = s.hostname;
    else warn('hostname', `${JSON.stringify(s.hostname)} is not a DNS label (lower case, ≤ 63 characters); not mapped`);
  }
  if (s.domainname !== undefined) warn('domainname', 'not mapped (a pod\'s domain comes from its subdomain and the cluster domain)');
  hosts(s, spec, warn);
  dns(s, spec);
  if (s.pid === 'host') spec.hostPID = true; else if (s.pid !== undefined) warn('pid', `${JSON.stringify(s.pid)} not mapped (only "host" has an equivalent: hostPID)`);
  if (s.ipc === 'host') spec.hostIPC = true; else if (s.ipc !== undefined && s.ipc !== 'private' && s.ipc !== 'shareable') warn('ipc', `${JSON.stringify(s.ipc)} not mapped (only "host" has an equivalent: hostIPC)`);
  if (s.userns_mode !== undefined && s.userns_mode !== 'host') warn('userns_mode', `${JSON.stringify(s.userns_mode)} not mapped (a pod gets its own user namespace with hostUsers: false)`);
  // a shared process namespace makes the pod's pause container PID 1: it reaps zombies and the
  // app no longer runs as PID 1, which is what `init: true` is for
  if (s.init === true) spec.shareProcessNamespace = true;
  const sysctls = Object.entries(s.sysctls);
  if (sysctls.length > 0) {
    spec.securityContext = { sysctls: sysctls.map(([n, v]) => ({ name: n, value: v })) };
    const unsafe = sysctls.map(([n]) => n).filter((n) => !SAFE_SYSCTLS.has(n));
    if (unsafe.length > 0) warn('sysctls', `${unsafe.join(', ')} must be allowed by the kubelet (--allowed-unsafe-sysctls) or the pod will not start`);
  }
  const groups = s.group_add.filter((g) => /^\d+$/.test(g)).map(Number);
  if (groups.length > 0) spec.securityContext = { ...spec.securityContext, supplementalGroups: groups };
  if (groups.length < s.group_add.length) warn('group_add', `group names (${s.group_add.filter((g) => !/^\d+$/.test(g)).join(', ')}) not mapped: Kubernetes takes numeric gids`);
  if (s.platform !== undefined) {
    const [os, arch] = s.platform.split('/');
    spec.nodeSelector = { 'kubernetes.io/os': os!, ...(arch ? { 'kubernetes.io/arch': arch } : {}) };
  }
  podWarnings(s, warn);

  const annotations = annotationsFrom(ctx, scope, 'labels', s.labels, s.annotations);
  return {
    template: { metadata: { labels: selectorFor(ctx, s.name), ...(Object.keys(annotations).length > 0 ? { annotations } : {}) }, spec },
    ports,
  };
}

function hosts(s: Service, spec: PodSpec, warn: (key: string, message: string) => void): void {
  const byIp = new Map<string, string[]>();
  s.extra_hosts.forEach((h, i) => {
    const eq = h.indexOf('=');
    const host = h.slice(0, eq), ip = h.slice(eq + 1).replace(/^\[|\]$/g, '');
    if (ip === 'host-gateway') { warn(`extra_hosts[${i}]`, `${host}=host-gateway: a pod has no Docker host gateway; not mapped`); return; }
    byIp.set(ip, [...(byIp.get(ip) ?? []), host]);
  });
  if (byIp.size > 0) spec.hostAliases = [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
}

function dns(s: Service, spec: PodSpec): void {
  if (s.dns.length === 0 && s.dns_search.length === 0 && s.dns_opt.length === 0) return;
  // kept with the default dnsPolicy (ClusterFirst): the cluster's resolver stays first, so service
  // names still resolve; Kubernetes appends these
  spec.dnsConfig = {
    ...(s.dns.length > 0 ? { nameservers: [...s.dns] } : {}),
    ...(s.dns_search.length > 0 ? { searches: [...s.dns_search] } : {}),
    ...(s.dns_opt.length > 0 ? { options: s.dns_opt.map((o) => { const [n, ...v] = o.split(':'); return { name: n!, ...(v.length > 0 ? { value: v.join(':') } : {}) }; }) } : {}),
  };
}

/** Keys of a service that have no place in a pod at all. */
function podWarnings(s: Service, warn: (key: string, message: string) => void): void {
  if (s.container_name !== undefined) warn('container_name', 'not mapped: pods are named by their controller (the Service keeps the compose service name)');
  if (s.network_mode !== undefined && s.network_mode !== 'bridge' && s.network_mode !== 'default') {
    warn('network_mode', `${JSON.stringify(s.network_mode)} has no cluster equivalent; not mapped (the pod gets the cluster network${s.network_mode === 'host' ? '; hostNetwork: true would put it on the node\'s network' : ''})`);
  }
  for (const [net, cfg] of Object.entries(s.networks)) {
    for (const k of ['ipv4_address', 'ipv6_address', 'link_local_ips', 'mac_address', 'interface_name', 'driver_opts', 'priority', 'gw_priority'] as const) {
      if (cfg[k] !== undefined) warn(`networks.${net}.${k}`, 'not mapped (pod addresses and interfaces belong to the cluster network)');
    }
  }
  if (s.devices.length > 0) warn('devices', `${s.devices.map((d) => d.source).join(', ')}: host devices have no cluster equivalent; not mapped (a device plugin exposes devices as resources)`);
  if (s.logging !== undefined) warn('logging', 'not mapped (logs go to the cluster\'s logging: kubectl logs)');
  if (s.develop !== undefined) warn('develop', 'development only; not converted');
  if (s.deploy) {
    for (const k of ['placement', 'update_config', 'rollback_config', 'endpoint_mode'] as const) {
      if (s.deploy[k] !== undefined) warn(`deploy.${k}`, 'swarm only; not mapped');
    }
  }
  for (const k of Object.keys(s.unsupported)) warn(k, 'not supported by berth; not mapped');
}
