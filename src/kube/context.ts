// What every step of one conversion shares: the project, the options, the host, the name tables,
// the findings, and the objects made so far.
import type { Project } from '../spec/model.js';
import { NameTable, NAME_ANNOTATION, isQualifiedKey, labelValue } from './names.js';
import type { ConvertOptions, Finding, Host } from './options.js';
import type { ConfigMap, Labels, ObjectMeta, PersistentVolumeClaim, Secret } from './types.js';

export const NAME_LABEL = 'app.kubernetes.io/name';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** pods of a service on compose network N carry `berth.network/<N>: "true"` (NetworkPolicies select on it) */
export const NETWORK_LABEL_PREFIX = 'berth.network/';

export interface Names {
  /** Services, workloads and containers share this table: a workload is named after its Service */
  readonly services: NameTable;
  readonly claims: NameTable;
  readonly configMaps: NameTable;
  readonly secrets: NameTable;
  readonly networks: NameTable;
  readonly policies: NameTable;
}

export interface Context {
  readonly project: Project;
  readonly options: ConvertOptions;
  readonly host: Host;
  readonly names: Names;
  readonly findings: Finding[];
  /** objects by kind and name, so shared ones (a ConfigMap for a config two services mount) are made once */
  readonly configMaps: Map<string, ConfigMap>;
  readonly secrets: Map<string, Secret>;
  readonly claims: Map<string, PersistentVolumeClaim>;
  /** configs and secrets already looked at (made, or reported as impossible): each is reported once */
  readonly looked: Set<string>;
}

export function report(ctx: Context, scope: string, key: string, message: string): void {
  ctx.findings.push({ scope, key, message });
}

/** The labels that select a service's pods (the project too: two projects may share a namespace). */
export function selectorFor(ctx: Context, serviceName: string): Labels {
  return { [NAME_LABEL]: ctx.names.services.assign(serviceName), [PART_OF_LABEL]: labelValue(ctx.project.name) };
}

/** Object metadata: the namespace, berth's labels, and the compose name when the name differs. */
export function meta(ctx: Context, name: string, original: string | undefined, labels: Labels = {}, annotations: Labels = {}): ObjectMeta {
  const allAnnotations = { ...annotations, ...(original !== undefined && original !== name ? { [NAME_ANNOTATION]: original } : {}) };
  return {
    name,
    ...(ctx.options.namespace ? { namespace: ctx.options.namespace } : {}),
    labels: { [PART_OF_LABEL]: labelValue(ctx.project.name), [MANAGED_BY_LABEL]: 'berth', ...labels },
    ...(Object.keys(allAnnotations).length > 0 ? { annotations: allAnnotations } : {}),
  };
}

/**
 * Compose labels and annotations as Kubernetes annotations: a compose key may be any string, an
 * annotation key may not, so the others are reported and left out.
 */
export function annotationsFrom(ctx: Context, scope: string, key: string, ...maps: Readonly<Record<string, string>>[]): Labels {
  const out: Labels = {};
  const bad: string[] = [];
  for (const m of maps) for (const [k, v] of Object.entries(m)) { if (isQualifiedKey(k)) out[k] = v; else bad.push(k); }
  if (bad.length > 0) report(ctx, scope, key, `${bad.map((b) => JSON.stringify(b)).join(', ')}: not valid Kubernetes annotation keys; left out`);
  return out;
}

/** Joins a path relative to the project directory (compose paths in x-berth are written that way). */
export function projectPath(ctx: Context, p: string): string {
  if (p.startsWith('/')) return normalizePath(p);
  return normalizePath(`${ctx.project.working_dir}/${p}`);
}

/** POSIX normalization (kube/ has no node:path and takes only types from spec/). */
function normalizePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop(); else out.push(part);
  }
  return '/' + out.join('/');
}

export function basename(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t.slice(t.lastIndexOf('/') + 1) || t;
}
