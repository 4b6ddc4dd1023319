// What `berth convert` is told: command-line options, what it may ask of the host (file contents,
// variables: the CLI answers, kube/ stays pure), the `x-berth.kubernetes` settings a compose file
// may carry, and the findings it reports (what it could not map, or mapped with a difference).

/** How services with published ports are reached from outside the cluster. */
export type PublishType = 'LoadBalancer' | 'NodePort' | 'ClusterIP';
export type ControllerChoice = 'deployment' | 'statefulset';
export type BindMapping = 'hostPath' | 'emptyDir' | 'persistentVolumeClaim' | 'configMap';

export interface ConvertOptions {
  /** metadata.namespace of every object, and a Namespace object; absent = kubectl's current namespace */
  readonly namespace?: string;
  /** every long-running service as this controller; absent = StatefulSet for services with named volumes, else Deployment */
  readonly controller?: ControllerChoice;
  /** the type of the `<service>-published` Services */
  readonly publishType: PublishType;
  /** NetworkPolicies that reproduce compose's network isolation */
  readonly networkPolicies: boolean;
  /** size of a PersistentVolumeClaim whose volume names none (a Kubernetes quantity) */
  readonly volumeSize: string;
  readonly storageClass?: string;
  /** image of the init containers that wait for a dependency's DNS name or port (needs sh, nslookup, nc) */
  readonly waitImage: string;
  /** image of the init containers that wait for a Job to complete (its entrypoint is kubectl) */
  readonly kubectlImage: string;
  /** the cluster's DNS domain, for the fully qualified names the wait containers look up */
  readonly clusterDomain: string;
}

export const DEFAULT_OPTIONS: ConvertOptions = {
  publishType: 'LoadBalancer',
  networkPolicies: false,
  volumeSize: '1Gi',
  waitImage: 'busybox:1.36',
  kubectlImage: 'registry.k8s.io/kubectl:v1.33.0',
  clusterDomain: 'cluster.local',
};

/** ConfigMap and Secret objects hold at most 1 MiB. */
export const MAX_OBJECT_DATA = 1024 * 1024;

export type HostFile =
  | { readonly kind: 'file'; readonly size: number; /** the content when it is UTF-8 text */ readonly text?: string; /** only when size ≤ MAX_OBJECT_DATA */ readonly base64?: string }
  | { readonly kind: 'directory' }
  | { readonly kind: 'missing' }
  /** a special file, or a file the host will not read (the CLI reads bind-mounted files only inside the project directory) */
  | { readonly kind: 'other'; readonly reason?: string };

/** What the converter may ask of the host. The CLI implements it; tests use an in-memory one. */
export interface Host {
  /** what is at an absolute path (symbolic links followed) */
  file(path: string): HostFile;
  /** the entry names of a directory, or undefined */
  list(path: string): readonly string[] | undefined;
  /** the variables of an env file (parsed as compose does), or undefined when unreadable */
  envFile(path: string): ReadonlyMap<string, string> | undefined;
  /** a variable of the project's environment (shell, then .env): secrets and configs from `environment:` */
  variable(name: string): string | undefined;
}

export interface Finding {
  /** `services.web`, `volumes.data`, `secrets.key`, or `` for the project */
  readonly scope: string;
  /** the compose key it is about, relative to the scope (`ports[0]`, `network_mode`) */
  readonly key: string;
  readonly message: string;
}

export function findingText(f: Finding): string {
  const where = [f.scope, f.key].filter((x) => x !== '').join('.');
  return where ? `${where}: ${f.message}` : f.message;
}

/** A service's `x-berth: {kubernetes: {...}}`. Unknown or ill-typed settings become findings. */
export interface ServiceSettings {
  readonly controller?: 'deployment' | 'statefulset' | 'job' | 'daemonset';
  readonly serviceType?: PublishType;
  readonly bindMounts?: BindMapping;
  /** env files (as written, relative to the project directory, or absolute) whose values go to a Secret */
  readonly secretEnvFiles: readonly string[];
  /** environment variables whose values go to a Secret */
  readonly secretEnvironment: readonly string[];
}

export interface VolumeSettings {
  readonly size?: string;
  readonly storageClass?: string;
  readonly accessModes?: readonly string[];
}

const SERVICE_KEYS = ['controller', 'service_type', 'bind_mounts', 'secret_env_files', 'secret_environment'];
const VOLUME_KEYS = ['size', 'storage_class', 'access_modes'];

function settingsOf(extensions: Readonly<Record<string, unknown>>, known: readonly string[], report: (key: string, message: string) => void): Record<string, unknown> {
  const x = extensions['x-berth'];
  if (x === undefined || x === null) return {};
  if (typeof x !== 'object' || Array.isArray(x)) { report('x-berth', 'expected a mapping; ignored'); return {}; }
  const k = (x as Record<string, unknown>)['kubernetes'];
  if (k === undefined || k === null) return {};
  if (typeof k !== 'object' || Array.isArray(k)) { report('x-berth.kubernetes', 'expected a mapping; ignored'); return {}; }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(k as Record<string, unknown>)) {
    if (known.includes(key)) out[key] = v;
    else report(`x-berth.kubernetes.${key}`, `unknown setting (known: ${known.join(', ')}); ignored`);
  }
  return out;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], key: string, report: (key: string, message: string) => void): T | undefined {
  if (v === undefined || v === null) return undefined;
  const hit = allowed.find((a) => typeof v === 'string' && a.toLowerCase() === v.toLowerCase());
  if (hit === undefined) report(`x-berth.kubernetes.${key}`, `expected one of ${allowed.join(', ')}, found ${JSON.stringify(v)}; ignored`);
  return hit;
}

function stringList(v: unknown, key: string, report: (key: string, message: string) => void): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  report(`x-berth.kubernetes.${key}`, 'expected a list of strings; ignored');
  return [];
}

export function serviceSettings(extensions: Readonly<Record<string, unknown>>, report: (key: string, message: string) => void): ServiceSettings {
  const s = settingsOf(extensions, SERVICE_KEYS, report);
  const controller = oneOf(s['controller'], ['deployment', 'statefulset', 'job', 'daemonset'] as const, 'controller', report);
  const serviceType = oneOf(s['service_type'], ['LoadBalancer', 'NodePort', 'ClusterIP'] as const, 'service_type', report);
  const bindMounts = oneOf(s['bind_mounts'], ['hostPath', 'emptyDir', 'persistentVolumeClaim', 'configMap'] as const, 'bind_mounts', report);
  return {
    ...(controller ? { controller } : {}),
    ...(serviceType ? { serviceType } : {}),
    ...(bindMounts ? { bindMounts } : {}),
    secretEnvFiles: stringList(s['secret_env_files'], 'secret_env_files', report),
    secretEnvironment: stringList(s['secret_environment'], 'secret_environment', report),
  };
}

export function volumeSettings(extensions: Readonly<Record<string, unknown>>, labels: Readonly<Record<string, string>>, report: (key: string, message: string) => void): VolumeSettings {
  const s = settingsOf(extensions, VOLUME_KEYS, report);
  const str = (k: string): string | undefined => {
    const v = s[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    report(`x-berth.kubernetes.${k}`, 'expected a string; ignored');
    return undefined;
  };
  const size = str('size') ?? labels['berth.kubernetes.size'];
  const storageClass = str('storage_class') ?? labels['berth.kubernetes.storage-class'];
  const modes = s['access_modes'] === undefined ? undefined : stringList(s['access_modes'], 'access_modes', report);
  const allowed = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
  const bad = (modes ?? []).filter((m) => !allowed.includes(m));
  if (bad.length > 0) report('x-berth.kubernetes.access_modes', `expected ${allowed.join(', ')}, found ${bad.join(', ')}; ignored`);
  return {
    ...(size !== undefined ? { size } : {}),
    ...(storageClass !== undefined ? { storageClass } : {}),
    ...(modes && modes.length > 0 && bad.length === 0 ? { accessModes: modes } : {}),
  };
}
