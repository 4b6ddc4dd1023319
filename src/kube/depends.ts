// `depends_on` → init containers that hold a pod back until its dependencies are where the
// condition says. Kubernetes starts every pod at once, so compose's start order must become waits:
// - service_healthy: until the dependency has a ready pod. A compose healthcheck is the pod's
//   readiness probe, so "ready" is "healthy". A ClusterIP Service forwards only to ready pods, so
//   a TCP connection to it succeeds only then (`nc -z`); a headless Service's name resolves only
//   to ready pods (`nslookup`).
// - service_started: the same wait. Without API access a pod cannot see "running but not ready";
//   for a dependency without a healthcheck ready is running. (With one, this waits for healthy.)
// - service_completed_successfully: the dependency is a Job; `kubectl wait --for=condition=complete`
//   under a ServiceAccount that may read Jobs (berth-wait: ServiceAccount, Role, RoleBinding).
// The names are fully qualified: busybox's nslookup does not use the resolv.conf search list.
import type { Service } from '../spec/model.js';
import { type Context, meta, report } from './context.js';
import { escapeExpansion } from './escape.js';
import { NameTable } from './names.js';
import type { Container, ContainerPort, Kind, Role, RoleBinding, ServiceAccount } from './types.js';

export const WAIT_ACCOUNT = 'berth-wait';

export interface Waits { readonly initContainers: Container[]; readonly readsJobs: boolean }

export function waitsFor(
  ctx: Context, s: Service, kinds: ReadonlyMap<string, Kind>, portsOf: ReadonlyMap<string, readonly ContainerPort[]>, podNames: NameTable, scope: string,
): Waits {
  const initContainers: Container[] = [];
  let readsJobs = false;
  for (const [dep, d] of Object.entries(s.depends_on)) {
    const target = ctx.project.services[dep];
    const key = `depends_on.${dep}`;
    if (!target) {
      if (d.required) report(ctx, scope, key, `${dep} is not part of the conversion; no wait`);
      continue;
    }
    const depName = ctx.names.services.assign(dep);
    const containerName = podNames.assign(`wait-${depName}`);
    if (d.condition === 'service_completed_successfully' && kinds.get(dep) === 'Job') {
      readsJobs = true;
      initContainers.push({
        name: containerName, image: ctx.options.kubectlImage,
        command: ['kubectl', 'wait', '--for=condition=complete', '--timeout=-1s', `job/${depName}`],
      });
      continue;
    }
    if (d.condition === 'service_completed_successfully') {
      report(ctx, scope, key, `${dep} runs as a ${kinds.get(dep)}, which never completes: waits until it is ready instead`);
    }
    if (d.condition === 'service_healthy' && (!target.healthcheck || target.healthcheck.disable || !target.healthcheck.test)) {
      report(ctx, scope, key, `${dep} has no healthcheck to wait for: waits until it is running`);
    }
    if (d.restart) report(ctx, scope, `${key}.restart`, `not mapped: Kubernetes does not restart ${s.name} when ${dep} is replaced`);
    const fqdn = `${depName}.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.${ctx.options.clusterDomain}`;
    const tcp = (portsOf.get(dep) ?? []).find((p) => (p.protocol ?? 'TCP') === 'TCP');
    const probe = tcp ? `nc -z -w 2 ${fqdn} ${tcp.containerPort}` : `nslookup ${fqdn}`;
    if (!tcp && (portsOf.get(dep) ?? []).length > 0) {
      report(ctx, scope, key, `${dep} has only UDP or SCTP ports: the wait checks its DNS name, which resolves as soon as its Service exists`);
    }
    const script = `until ${probe} >/dev/null 2>&1; do echo waiting for ${depName}; sleep 2; done`;
    initContainers.push({ name: containerName, image: ctx.options.waitImage, command: ['sh', '-c', escapeExpansion(script)] });
  }
  return { initContainers, readsJobs };
}

/** The ServiceAccount, Role and RoleBinding that let init containers wait for Jobs. */
export function jobReader(ctx: Context): [ServiceAccount, Role, RoleBinding] {
  const namespace = ctx.options.namespace;
  if (!namespace) {
    report(ctx, '', 'depends_on', `waiting for a Job needs a RoleBinding that names the namespace: "default" is written; pass --namespace to name yours`);
  }
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(ctx, WAIT_ACCOUNT, undefined) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(ctx, WAIT_ACCOUNT, undefined),
      rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta(ctx, WAIT_ACCOUNT, undefined),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: WAIT_ACCOUNT },
      subjects: [{ kind: 'ServiceAccount', name: WAIT_ACCOUNT, namespace: namespace ?? 'default' }],
    },
  ];
}
