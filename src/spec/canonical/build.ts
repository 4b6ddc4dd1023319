// build: a context path, or the long form; context and dockerfile resolved, args as a mapping.
import { listOrDict, labels, type Resolve } from './environment.js';
import { Problems } from './form-error.js';

export interface Build {
  /** absolute path (or a URL / git context kept as written) */
  readonly context: string;
  /** relative to the context unless absolute; absent when dockerfile_inline is used */
  readonly dockerfile?: string;
  readonly dockerfile_inline?: string;
  readonly args: Readonly<Record<string, string | null>>;
  readonly target?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly network?: string;
  readonly shm_size?: number | string;
  readonly extra_hosts: readonly string[];
  readonly platforms: readonly string[];
  readonly tags: readonly string[];
  readonly cache_from: readonly string[];
  readonly cache_to: readonly string[];
  readonly no_cache: boolean;
  readonly pull: boolean;
  readonly additional_contexts: Readonly<Record<string, string>>;
  readonly secrets: readonly unknown[];
  readonly ssh: readonly string[];
  readonly privileged: boolean;
  /** "network.host", "security.insecure" (the builder grants network.host only) */
  readonly entitlements?: readonly string[];
}

export function isRemoteContext(s: string): boolean {
  return /^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(s) || s.endsWith('.git');
}

export function canonicalBuild(v: unknown, resolvePath: (p: string) => string, resolveEnv: Resolve, extraHosts: (v: unknown) => string[]): Build {
  const o: Record<string, unknown> = typeof v === 'string' ? { context: v } : (v as Record<string, unknown>) ?? {};
  const ctxRaw = typeof o['context'] === 'string' ? o['context'] : '.';
  const context = isRemoteContext(ctxRaw) ? ctxRaw : resolvePath(ctxRaw);
  const strs = (x: unknown): string[] => (Array.isArray(x) ? x.map(String) : []);
  // args, labels, extra_hosts and additional_contexts are independent: every bad one is reported
  const problems = new Problems();
  const addl = problems.check(() => labels(o['additional_contexts']), {}, ['additional_contexts']);
  const args = problems.check(() => listOrDict(o['args'], '=', resolveEnv), {}, ['args']);
  const buildLabels = problems.check(() => labels(o['labels']), {}, ['labels']);
  const hosts = problems.check(() => extraHosts(o['extra_hosts']), [], ['extra_hosts']);
  problems.done();
  // local directories become absolute (against the project directory, as compose-go does); a
  // `scheme://` value, compose's `service:NAME` and remote (git) contexts stay as written
  for (const k of Object.keys(addl)) { const p = addl[k]!; if (!p.includes('://') && !p.startsWith('service:') && !isRemoteContext(p)) addl[k] = resolvePath(p); }
  const ssh = o['ssh'] === undefined ? [] : Array.isArray(o['ssh']) ? o['ssh'].map(String) : Object.entries(o['ssh'] as Record<string, unknown>).map(([k, x]) => `${k}=${String(x)}`);
  return {
    context,
    ...(typeof o['dockerfile_inline'] === 'string' ? { dockerfile_inline: o['dockerfile_inline'] } : { dockerfile: typeof o['dockerfile'] === 'string' ? o['dockerfile'] : 'Dockerfile' }),
    args,
    ...(typeof o['target'] === 'string' ? { target: o['target'] } : {}),
    labels: buildLabels,
    ...(typeof o['network'] === 'string' ? { network: o['network'] } : {}),
    ...(o['shm_size'] !== undefined ? { shm_size: o['shm_size'] as number | string } : {}),
    extra_hosts: hosts,
    platforms: strs(o['platforms']),
    tags: strs(o['tags']),
    cache_from: strs(o['cache_from']),
    cache_to: strs(o['cache_to']),
    no_cache: o['no_cache'] === true,
    pull: o['pull'] === true,
    additional_contexts: addl,
    secrets: Array.isArray(o['secrets']) ? o['secrets'] : [],
    ssh,
    privileged: o['privileged'] === true,
    ...(Array.isArray(o['entitlements']) ? { entitlements: strs(o['entitlements']) } : {}),
  };
}
