// Validates Kubernetes objects the way an API server would, as far as a test can:
// 1. the OpenAPI schema of each kind, through the precompiled validators of `kubernetes-models`
//    (types, required fields, enums);
// 2. what the schema does not say and the API server's validation does: name formats per kind,
//    label keys and values, selectors that match their template, unique container, port and
//    volume names, mounts of declared volumes, Service port rules, data keys and sizes, probe and
//    grace-period bounds, restart policies per controller, requests ≤ limits;
// 3. references between the objects written: claims, ConfigMaps, Secrets, serviceName,
//    serviceAccountName exist in the set (or are named in `external`).
// Returns one line per problem; an empty list means valid.
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Service } from 'kubernetes-models/v1/Service';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const MODELS: Record<string, new (data: Any) => { validate(): void }> = {
  Deployment, StatefulSet, DaemonSet, Job, Service, PersistentVolumeClaim, ConfigMap, Secret, Namespace, ServiceAccount, Role, RoleBinding, NetworkPolicy,
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
const BASE64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SYSCTL = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/;

function qualifiedKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const [prefix, name] = slash >= 0 ? [k.slice(0, slash), k.slice(slash + 1)] : [undefined, k];
  return (prefix === undefined || DNS1123_SUBDOMAIN.test(prefix)) && QUALIFIED_NAME.test(name);
}

/** A quantity as a number (bytes or cores), for comparisons. */
export function quantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q);
  if (!m) return NaN;
  const mult: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}

export interface ValidateOptions {
  /** names of objects expected to exist already (external volumes, secrets, configs): `Kind/name` */
  readonly external?: readonly string[];
}

export function validateObjects(objects: readonly Any[], opts: ValidateOptions = {}): string[] {
  const problems: string[] = [];
  const have = new Set<string>([...(opts.external ?? []), ...objects.map((o) => `${o.kind}/${o.metadata?.name}`)]);
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    const bad = (m: string): void => { problems.push(`${id}: ${m}`); };
    if (seen.has(id)) bad('duplicate object');
    seen.add(id);
    const Model = MODELS[o.kind];
    if (!Model) { bad('unknown kind'); continue; }
    try { new Model(o).validate(); } catch (e) { bad(`schema: ${(e as Error).message}`); }
    checkMeta(o, bad);
    switch (o.kind) {
      case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'Job': checkWorkload(o, have, bad); break;
      case 'Service': checkService(o, bad); break;
      case 'ConfigMap': checkData(o.data, o.binaryData, false, bad); break;
      case 'Secret': checkData(o.data, undefined, true, bad); break;
      case 'PersistentVolumeClaim':
        if (!(quantity(o.spec.resources.requests.storage) > 0)) bad(`storage ${o.spec.resources.requests.storage} is not a positive quantity`);
        break;
      case 'RoleBinding':
        for (const s of o.subjects) if (s.kind === 'ServiceAccount' && !s.namespace) bad('a ServiceAccount subject needs a namespace');
        if (!have.has(`Role/${o.roleRef.name}`)) bad(`roleRef ${o.roleRef.name} is not among the objects`);
        break;
      case 'NetworkPolicy':
        checkLabels(o.spec.podSelector.matchLabels ?? {}, 'spec.podSelector', bad);
        break;
    }
  }
  return problems;
}

function checkMeta(o: Any, bad: (m: string) => void): void {
  const name: string = o.metadata?.name ?? '';
  const rule = o.kind === 'Service' ? DNS1035_LABEL : o.kind === 'Namespace' ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
  if (!rule.test(name)) bad(`metadata.name ${JSON.stringify(name)} is not a valid ${o.kind} name`);
  if ((o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'DaemonSet' || o.kind === 'Job') && !DNS1123_LABEL.test(name)) bad('a workload name must be a DNS-1123 label (its pods are named after it)');
  if (o.metadata?.namespace !== undefined && !DNS1123_LABEL.test(o.metadata.namespace)) bad(`namespace ${o.metadata.namespace} invalid`);
  checkLabels(o.metadata?.labels ?? {}, 'metadata.labels', bad);
  let size = 0;
  for (const [k, v] of Object.entries(o.metadata?.annotations ?? {})) {
    if (!qualifiedKey(k)) bad(`annotation key ${JSON.stringify(k)} invalid`);
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024) bad('annotations above 256 KiB');
}

function checkLabels(labels: Record<string, string>, where: string, bad: (m: string) => void): void {
  for (const [k, v] of Object.entries(labels)) {
    if (!qualifiedKey(k)) bad(`${where}: label key ${JSON.stringify(k)} invalid`);
    if (!LABEL_VALUE.test(v)) bad(`${where}: label value ${JSON.stringify(v)} invalid`);
  }
}

function checkWorkload(o: Any, have: Set<string>, bad: (m: string) => void): void {
  const t = o.spec.template;
  const sel = o.kind === 'Job' ? (t.metadata.labels ?? {}) : o.spec.selector.matchLabels;
  checkLabels(t.metadata.labels ?? {}, 'template labels', bad);
  for (const [k, v] of Object.entries(sel)) if (t.metadata.labels?.[k] !== v) bad(`selector ${k}=${String(v)} does not match the template's labels`);
  for (const [k] of Object.entries(t.metadata.annotations ?? {})) if (!qualifiedKey(k)) bad(`template annotation key ${JSON.stringify(k)} invalid`);
  const spec = t.spec;
  const rp = spec.restartPolicy;
  if (o.kind === 'Job' ? rp !== 'Never' && rp !== 'OnFailure' : rp !== undefined && rp !== 'Always') bad(`restartPolicy ${rp} not allowed in a ${o.kind}`);
  if (o.kind === 'StatefulSet' && !have.has(`Service/${o.spec.serviceName}`)) bad(`serviceName ${o.spec.serviceName} is not among the objects`);
  if (spec.serviceAccountName && !have.has(`ServiceAccount/${spec.serviceAccountName}`)) bad(`serviceAccountName ${spec.serviceAccountName} is not among the objects`);
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0) bad('negative grace period');
  if (spec.hostname !== undefined && !DNS1123_LABEL.test(spec.hostname)) bad(`hostname ${spec.hostname} invalid`);
  for (const h of spec.hostAliases ?? []) if (!IP.test(h.ip)) bad(`hostAliases ip ${h.ip} invalid`);
  for (const s of spec.securityContext?.sysctls ?? []) if (!SYSCTL.test(s.name)) bad(`sysctl ${s.name} invalid`);
  const volumes = new Map<string, Any>();
  for (const v of spec.volumes ?? []) {
    if (!DNS1123_LABEL.test(v.name)) bad(`volume name ${v.name} invalid`);
    if (volumes.has(v.name)) bad(`duplicate volume ${v.name}`);
    volumes.set(v.name, v);
    const sources = ['persistentVolumeClaim', 'configMap', 'secret', 'emptyDir', 'hostPath'].filter((k) => v[k] !== undefined);
    if (sources.length !== 1) bad(`volume ${v.name} has ${sources.length} sources`);
    if (v.persistentVolumeClaim && !have.has(`PersistentVolumeClaim/${v.persistentVolumeClaim.claimName}`)) bad(`claim ${v.persistentVolumeClaim.claimName} is not among the objects`);
    if (v.configMap && !have.has(`ConfigMap/${v.configMap.name}`)) bad(`ConfigMap ${v.configMap.name} is not among the objects`);
    if (v.secret && !have.has(`Secret/${v.secret.secretName}`)) bad(`Secret ${v.secret.secretName} is not among the objects`);
    for (const m of [v.configMap?.defaultMode, v.secret?.defaultMode]) if (m !== undefined && (m < 0 || m > 0o777)) bad(`defaultMode ${m} out of range`);
    if (v.emptyDir?.sizeLimit !== undefined && !(quantity(v.emptyDir.sizeLimit) > 0)) bad(`sizeLimit ${v.emptyDir.sizeLimit} invalid`);
    if (v.hostPath && !v.hostPath.path.startsWith('/')) bad('hostPath not absolute');
  }
  const containerNames = new Set<string>();
  const portNames = new Set<string>();
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    if (!DNS1123_LABEL.test(c.name)) bad(`container name ${c.name} invalid`);
    if (containerNames.has(c.name)) bad(`duplicate container ${c.name}`);
    containerNames.add(c.name);
    if (!c.image) bad(`container ${c.name} has no image`);
    const mounts = new Set<string>();
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) bad(`container ${c.name} mounts undeclared volume ${m.name}`);
      if (!m.mountPath.startsWith('/')) bad(`mountPath ${m.mountPath} not absolute`);
      if (mounts.has(m.mountPath)) bad(`container ${c.name} mounts ${m.mountPath} twice`);
      mounts.add(m.mountPath);
      if (m.subPath !== undefined && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..'))) bad(`subPath ${m.subPath} invalid`);
    }
    const ports = new Set<string>();
    for (const p of c.ports ?? []) {
      if (!(p.containerPort >= 1 && p.containerPort <= 65535)) bad(`containerPort ${p.containerPort} out of range`);
      if (p.name !== undefined) {
        if (!IANA_SVC_NAME.test(p.name)) bad(`port name ${p.name} invalid`);
        if (portNames.has(p.name)) bad(`duplicate port name ${p.name}`);
        portNames.add(p.name);
      }
      const k = `${p.containerPort}/${p.protocol ?? 'TCP'}`;
      if (ports.has(k)) bad(`duplicate container port ${k}`);
      ports.add(k);
      if (!['TCP', 'UDP', 'SCTP', undefined].includes(p.protocol)) bad(`protocol ${p.protocol}`);
    }
    for (const e of c.env ?? []) {
      if (!/^[^=]+$/.test(e.name) || /[^\x20-\x7e]/.test(e.name)) bad(`env name ${JSON.stringify(e.name)} invalid`);
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && !have.has(`Secret/${ref.name}`)) bad(`env ${e.name} refers to Secret ${ref.name}, not among the objects`);
      if (ref && !CONFIG_KEY.test(ref.key)) bad(`secret key ${ref.key} invalid`);
    }
    for (const probe of [c.readinessProbe, c.startupProbe, c.livenessProbe]) {
      if (!probe) continue;
      for (const f of ['periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold']) if (probe[f] !== undefined && !(probe[f] >= 1)) bad(`probe ${f} ${probe[f]} below 1`);
      if (!probe.exec?.command?.length) bad('probe without a command');
    }
    const lim = c.resources?.limits ?? {}, req = c.resources?.requests ?? {};
    for (const k of Object.keys(req)) if (lim[k] !== undefined && quantity(req[k]) > quantity(lim[k])) bad(`container ${c.name}: request ${k} ${req[k]} above limit ${lim[k]}`);
    for (const q of [...Object.values(lim), ...Object.values(req)]) if (!(quantity(q as string) > 0)) bad(`quantity ${String(q)} invalid`);
    for (const cap of [...(c.securityContext?.capabilities?.add ?? []), ...(c.securityContext?.capabilities?.drop ?? [])]) if (!/^[A-Z_]+$/.test(cap)) bad(`capability ${cap}`);
  }
}

function checkService(o: Any, bad: (m: string) => void): void {
  const s = o.spec;
  const headless = s.clusterIP === 'None';
  if (!headless && !(s.ports?.length > 0)) bad('ports required unless headless');
  if (headless && (s.type === 'NodePort' || s.type === 'LoadBalancer')) bad('a headless Service cannot be NodePort or LoadBalancer');
  checkLabels(s.selector ?? {}, 'spec.selector', bad);
  const names = new Set<string>(), keys = new Set<string>();
  for (const p of s.ports ?? []) {
    if ((s.ports.length > 1) && !p.name) bad('every port needs a name when there are several');
    if (p.name !== undefined) {
      if (!DNS1123_LABEL.test(p.name)) bad(`port name ${p.name} invalid`);
      if (names.has(p.name)) bad(`duplicate port name ${p.name}`);
      names.add(p.name);
    }
    const k = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (keys.has(k)) bad(`duplicate port ${k}`);
    keys.add(k);
    if (!(p.port >= 1 && p.port <= 65535)) bad(`port ${p.port} out of range`);
    if (p.nodePort !== undefined && (s.type === 'ClusterIP' || !(p.nodePort >= 30000 && p.nodePort <= 32767))) bad(`nodePort ${p.nodePort} not allowed`);
  }
}

function checkData(data: Record<string, string> | undefined, binary: Record<string, string> | undefined, base64: boolean, bad: (m: string) => void): void {
  let size = 0;
  for (const [k, v] of [...Object.entries(data ?? {}), ...Object.entries(binary ?? {})]) {
    if (!CONFIG_KEY.test(k) || k === '.' || k === '..') bad(`data key ${JSON.stringify(k)} invalid`);
    if ((base64 || binary?.[k] === v) && !BASE64.test(v)) bad(`data ${k} is not base64`);
    size += v.length;
  }
  for (const k of Object.keys(binary ?? {})) if (data?.[k] !== undefined) bad(`key ${k} in both data and binaryData`);
  if (size > 1024 * 1024 * (base64 ? 4 / 3 : 1) + 1024) bad('data above 1 MiB');
}
