// Project → Kubernetes manifests. Pure: the compose model, the options and what the host answers
// (file contents, variables) go in; objects and findings come out. `docs/kubernetes.md` is the
// mapping table, key by key; each step lives in its own file:
//   pod.ts       container and pod settings          storage.ts   volumes, claims, ConfigMaps, Secrets
//   network.ts   Services and NetworkPolicies        depends.ts   depends_on → init containers
//   names.ts     compose names → DNS labels          render.ts    YAML / JSON / files
import { InvalidArgument } from '../lib/errors.js';
import type { Project, Service as ComposeService } from '../spec/model.js';
import { type Context, annotationsFrom, meta, report, selectorFor } from './context.js';
import { WAIT_ACCOUNT, jobReader, waitsFor } from './depends.js';
import { NameTable, isLabel } from './names.js';
import { aliasService, mainService, networkLabel, networkPolicies, publishedService } from './network.js';
import { type ConvertOptions, DEFAULT_OPTIONS, type Finding, type Host, type ServiceSettings, findingText, serviceSettings } from './options.js';
import { podFor } from './pod.js';
import { makeClaim, namedVolumes, serviceStorage } from './storage.js';
import type { ContainerPort, Kind, KubeObject, PodTemplateSpec, Service, Workload } from './types.js';

export interface Manifest {
  readonly object: KubeObject;
  /** what could not be mapped (or was mapped differently), for a comment above the object */
  readonly comments: readonly string[];
}

export interface Conversion {
  /** in apply order: namespace, access, data, storage, Services, workloads, policies */
  readonly manifests: readonly Manifest[];
  readonly findings: readonly Finding[];
}

const KIND_ORDER: readonly Kind[] = ['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'Secret', 'ConfigMap', 'PersistentVolumeClaim',
  'Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'NetworkPolicy'];

function checkOptions(o: ConvertOptions): void {
  if (o.namespace !== undefined && !isLabel(o.namespace)) {
    throw new InvalidArgument(`--namespace ${JSON.stringify(o.namespace)}: expected a DNS label (lower case letters, digits and '-', starting with a letter, at most 63 characters)`);
  }
  if (!/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(o.volumeSize)) {
    throw new InvalidArgument(`--volume-size ${JSON.stringify(o.volumeSize)}: expected a Kubernetes quantity like 1Gi or 500Mi`);
  }
  if (o.storageClass !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(o.storageClass)) {
    throw new InvalidArgument(`--storage-class ${JSON.stringify(o.storageClass)}: expected a storage class name (lower case DNS subdomain)`);
  }
}

/** The kind of workload a service becomes. */
function kindOf(ctx: Context, s: ComposeService, settings: ServiceSettings, awaitedToComplete: ReadonlySet<string>): Workload['kind'] {
  switch (settings.controller) {
    case 'deployment': return 'Deployment';
    case 'statefulset': return 'StatefulSet';
    case 'job': return 'Job';
    case 'daemonset': return 'DaemonSet';
  }
  if (awaitedToComplete.has(s.name)) return 'Job';
  const mode = s.deploy?.mode;
  if (mode === 'global') return 'DaemonSet';
  if (mode === 'replicated-job' || mode === 'global-job') return 'Job';
  if (ctx.options.controller === 'deployment') return 'Deployment';
  if (ctx.options.controller === 'statefulset') return 'StatefulSet';
  return namedVolumes(ctx, s).length > 0 ? 'StatefulSet' : 'Deployment';
}

function workload(ctx: Context, s: ComposeService, kind: Workload['kind'], template: PodTemplateSpec, serviceName: string, scope: string): Workload {
  const name = ctx.names.services.assign(s.name);
  const selector = selectorFor(ctx, s.name);
  const metadata = meta(ctx, name, s.name, selector, annotationsFrom(ctx, scope, 'deploy.labels', s.deploy?.labels ?? {}));
  const r = s.restart;
  if (kind !== 'Job') {
    if (r.name === 'on-failure') report(ctx, scope, 'restart', `on-failure not mapped: a ${kind} restarts its pods whatever the exit status (make it a Job with x-berth.kubernetes.controller: job)`);
    if (r.delay !== undefined || r.window !== undefined) report(ctx, scope, 'deploy.restart_policy', 'delay and window not mapped (Kubernetes backs off on its own)');
  }
  switch (kind) {
    case 'Deployment': {
      // a claim mounted by the old and the new pod at once fails on ReadWriteOnce storage
      const usesClaim = (template.spec.volumes ?? []).some((v) => v.persistentVolumeClaim !== undefined);
      return { apiVersion: 'apps/v1', kind, metadata, spec: { replicas: s.scale, selector: { matchLabels: selector }, ...(usesClaim ? { strategy: { type: 'Recreate' } } : {}), template } };
    }
    case 'StatefulSet':
      return { apiVersion: 'apps/v1', kind, metadata, spec: { replicas: s.scale, serviceName, selector: { matchLabels: selector }, template } };
    case 'DaemonSet':
      if (s.scale !== 1) report(ctx, scope, 'deploy.replicas', 'not mapped: a DaemonSet runs one pod per node');
      return { apiVersion: 'apps/v1', kind, metadata, spec: { selector: { matchLabels: selector }, template } };
    case 'Job': {
      let restartPolicy = 'Never', backoffLimit = 0;
      if (r.name === 'on-failure') {
        restartPolicy = 'OnFailure';
        backoffLimit = r.max_attempts > 0 ? r.max_attempts : 6;
        if (r.max_attempts === 0) report(ctx, scope, 'restart', 'on-failure without a limit: the Job gives up after Kubernetes\' default of 6 retries');
      } else if (r.name === 'always' || r.name === 'unless-stopped') {
        restartPolicy = 'OnFailure';
        backoffLimit = 6;
        report(ctx, scope, 'restart', `${r.name} cannot be expressed by a Job: it restarts on failure, at most 6 times`);
      }
      return {
        apiVersion: 'batch/v1', kind, metadata,
        spec: {
          ...(s.scale !== 1 ? { completions: s.scale, parallelism: s.scale } : {}),
          backoffLimit,
          template: { ...template, spec: { ...template.spec, restartPolicy } },
        },
      };
    }
  }
}

export function convertProject(project: Project, options: Partial<ConvertOptions>, host: Host): Conversion {
  const opts: ConvertOptions = { ...DEFAULT_OPTIONS, ...options };
  checkOptions(opts);
  const ctx: Context = {
    project, options: opts, host, findings: [],
    names: {
      services: new NameTable().assignAll(Object.keys(project.services)),
      claims: new NameTable().assignAll(Object.entries(project.volumes).map(([k, v]) => (v.external ? v.name : k))),
      configMaps: new NameTable().assignAll(Object.entries(project.configs).map(([k, v]) => (v.external ? v.name : k))),
      secrets: new NameTable().assignAll(Object.entries(project.secrets).map(([k, v]) => (v.external ? v.name : k))),
      networks: new NameTable().assignAll(Object.keys(project.networks)),
      policies: new NameTable(),
    },
    configMaps: new Map(), secrets: new Map(), claims: new Map(), looked: new Set(),
  };
  const services = Object.keys(project.services).sort().map((k) => project.services[k]!);
  const scopeOf = (s: ComposeService): string => `services.${s.name}`;
  for (const s of Object.values(project.disabled_services)) report(ctx, scopeOf(s), '', `not converted: its profiles (${s.profiles.join(', ')}) are not enabled`);
  for (const k of Object.keys(project.unsupported)) report(ctx, '', k, 'not supported by berth; not mapped');

  const settings = new Map(services.map((s) => [s.name, serviceSettings(s.extensions, (k, m) => report(ctx, scopeOf(s), k, m))]));

  // named volumes first: a claim shared by several services asks for ReadWriteMany
  const users = new Map<string, string[]>();
  for (const s of services) for (const v of new Set(namedVolumes(ctx, s))) users.set(v, [...(users.get(v) ?? []), s.name]);
  for (const [key, v] of Object.entries(project.volumes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (v.external) { report(ctx, `volumes.${key}`, 'external', `expects a PersistentVolumeClaim named ${ctx.names.claims.assign(v.name)} to exist in the namespace`); continue; }
    makeClaim(ctx, key, ctx.names.claims.assign(key), users.get(key) ?? []);
  }

  const awaitedToComplete = new Set<string>();
  for (const s of services) for (const [dep, d] of Object.entries(s.depends_on)) if (d.condition === 'service_completed_successfully') awaitedToComplete.add(dep);
  const kinds = new Map<string, Kind>(services.map((s) => [s.name, kindOf(ctx, s, settings.get(s.name)!, awaitedToComplete)]));

  const pods = new Map<string, { template: PodTemplateSpec; ports: readonly ContainerPort[] }>();
  for (const s of services) {
    const storage = serviceStorage(ctx, s, settings.get(s.name)!, scopeOf(s), users);
    pods.set(s.name, podFor(ctx, s, settings.get(s.name)!, storage, scopeOf(s)));
  }
  const portsOf = new Map([...pods].map(([n, p]) => [n, p.ports]));

  // Services: each compose name first, then aliases (which must keep their exact name), then published
  const kubeServices: Service[] = [];
  const mains = new Map<string, Service>();
  for (const s of services) { const m = mainService(ctx, s, pods.get(s.name)!.ports); mains.set(s.name, m); kubeServices.push(m); }
  const aliasTargets = new Map<string, string>();
  const wantAlias = (alias: string, target: string, scope: string, key: string): void => {
    if (alias === target || aliasTargets.get(alias) === target) return;
    if (!isLabel(alias)) { report(ctx, scope, key, `the alias ${JSON.stringify(alias)} is not a DNS label; not mapped`); return; }
    if (ctx.names.services.has(alias) || aliasTargets.has(alias)) { report(ctx, scope, key, `the alias ${alias} is already the name of another Service; not mapped`); return; }
    aliasTargets.set(alias, target);
    ctx.names.services.reserve(alias);
    kubeServices.push(aliasService(ctx, mains.get(target)!, alias, target));
  };
  for (const s of services) {
    for (const [net, cfg] of Object.entries(s.networks)) cfg.aliases.forEach((a, i) => wantAlias(a, s.name, scopeOf(s), `networks.${net}.aliases[${i}]`));
  }
  for (const s of services) {
    s.links.forEach((l, i) => {
      const [target, alias] = l.split(':');
      if (alias !== undefined && mains.has(target!)) wantAlias(alias, target!, scopeOf(s), `links[${i}]`);
    });
  }
  const exposed = new Map<string, Service>();
  for (const s of services) {
    const type = settings.get(s.name)!.serviceType ?? opts.publishType;
    const p = publishedService(ctx, s, type, scopeOf(s));
    if (p) { exposed.set(s.name, p); kubeServices.push(p); }
  }

  // workloads, with their waits and network labels
  const objects: KubeObject[] = [...kubeServices];
  const workloads = new Map<string, Workload>();
  let readsJobs = false;
  for (const s of services) {
    const pod = pods.get(s.name)!;
    const podNames = new NameTable().assignAll(pod.template.spec.containers.map((c) => c.name));
    const waits = waitsFor(ctx, s, kinds, portsOf, podNames, scopeOf(s));
    const spec = { ...pod.template.spec };
    if (waits.initContainers.length > 0) spec.initContainers = waits.initContainers;
    if (waits.readsJobs) { spec.serviceAccountName = WAIT_ACCOUNT; readsJobs = true; }
    const labels = { ...pod.template.metadata.labels };
    if (opts.networkPolicies) for (const n of Object.keys(s.networks)) labels[networkLabel(ctx, n)] = 'true';
    const template: PodTemplateSpec = { metadata: { ...pod.template.metadata, labels }, spec: reorder(spec) };
    const w = workload(ctx, s, kinds.get(s.name) as Workload['kind'], template, mains.get(s.name)!.metadata.name, scopeOf(s));
    workloads.set(s.name, w);
    objects.push(w);
  }
  if (readsJobs) objects.push(...jobReader(ctx));
  if (opts.networkPolicies) objects.push(...networkPolicies(ctx, services, exposed));
  objects.push(...ctx.claims.values(), ...ctx.configMaps.values(), ...ctx.secrets.values());
  if (opts.namespace) objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: opts.namespace, labels: { 'app.kubernetes.io/managed-by': 'berth' } } });

  objects.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));

  // findings become comments: a service's above its workload, a volume's above its claim, a
  // config's or secret's above its object, the rest above the first object
  const owner = new Map<string, KubeObject>();
  for (const s of services) owner.set(scopeOf(s), workloads.get(s.name)!);
  for (const o of objects) {
    const original = o.metadata.annotations?.['berth/compose-name'] ?? o.metadata.name;
    if (o.kind === 'PersistentVolumeClaim' && project.volumes[original]) owner.set(`volumes.${original}`, o);
    if (o.kind === 'ConfigMap' && project.configs[original]) owner.set(`configs.${original}`, o);
    if (o.kind === 'Secret' && project.secrets[original]) owner.set(`secrets.${original}`, o);
  }
  const comments = new Map<KubeObject, string[]>();
  const header: string[] = [];
  for (const f of ctx.findings) {
    const o = owner.get(f.scope);
    if (o) comments.set(o, [...(comments.get(o) ?? []), findingText(f)]);
    else header.push(findingText(f));
  }
  const manifests = objects.map((object, i) => {
    const own = comments.get(object) ?? [];
    const lines = [...(i === 0 ? header : []), ...own];
    return { object, comments: lines.length > 0 ? ['berth convert: not mapped, or mapped differently:', ...lines.map((l) => `  ${l}`)] : [] };
  });
  return { manifests, findings: ctx.findings };
}

/** Init containers before containers, volumes last: the order people read a pod spec in. */
function reorder(spec: PodTemplateSpec['spec']): PodTemplateSpec['spec'] {
  const { initContainers, containers, volumes, ...rest } = spec;
  return { ...rest, ...(initContainers ? { initContainers } : {}), containers, ...(volumes ? { volumes } : {}) };
}
