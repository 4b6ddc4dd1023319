// Phase "semantic": what a schema cannot say. Unknown services in depends_on / links /
// network_mode, ipc, pid: service: / volumes_from, undefined networks, volumes, secrets and configs,
// and dependency cycles. Pure over the typed services plus the merged tree for positions.
import type { SpecIssue } from './errors.js';
import type { Service } from './model.js';
import { isMap, issueAt, type Key, type Sources, type TreeMap } from './tree.js';

export interface SemanticInput {
  readonly tree: TreeMap;
  readonly sources: Sources;
  readonly active: Readonly<Record<string, Service>>;
  readonly disabled: Readonly<Record<string, Service>>;
  readonly networks: ReadonlySet<string>;
  readonly volumes: ReadonlySet<string>;
  readonly secrets: ReadonlySet<string>;
  readonly configs: ReadonlySet<string>;
}

/** The path of `item` inside a list-or-map key of a raw service (for positions). */
function itemPath(tree: TreeMap, svc: string, key: string, item: string, match?: (x: unknown) => boolean): Key[] {
  const raw = isMap(tree['services']) ? (tree['services'][svc] as TreeMap | undefined)?.[key] : undefined;
  if (Array.isArray(raw)) {
    const i = raw.findIndex((x) => (match ? match(x) : x === item));
    return i >= 0 ? ['services', svc, key, i] : ['services', svc, key];
  }
  if (isMap(raw)) return ['services', svc, key, item];
  return ['services', svc, key];
}

export function checkSemantics(inp: SemanticInput): SpecIssue[] {
  const { tree, sources, active, disabled } = inp;
  const issues: SpecIssue[] = [];
  const deps = new Map<string, string[]>();
  const known = (n: string): 'active' | 'disabled' | undefined => (active[n] ? 'active' : disabled[n] ? 'disabled' : undefined);
  const needService = (svc: string, target: string, path: Key[], what: string, required = true): void => {
    const k = known(target);
    if (k === undefined) issues.push(issueAt(sources, tree, path, `a service defined in this project (${what})`, `undefined service ${JSON.stringify(target)}`));
    else if (k === 'disabled' && required) issues.push(issueAt(sources, tree, path, `an enabled service (${what})`, `service ${JSON.stringify(target)}, disabled by its profiles`, `enable one of its profiles: ${disabled[target]!.profiles.join(', ')}`));
    else if (k === 'active') deps.get(svc)!.push(target);
  };
  for (const [name, s] of Object.entries(active)) {
    deps.set(name, []);
    for (const [dep, d] of Object.entries(s.depends_on)) needService(name, dep, itemPath(tree, name, 'depends_on', dep), 'depends_on', d.required);
    for (const l of s.links) {
      const target = l.split(':')[0]!;
      needService(name, target, itemPath(tree, name, 'links', l), 'links');
    }
    for (const key of ['network_mode', 'ipc', 'pid'] as const) {
      const ref = s[key];
      if (ref?.startsWith('service:')) needService(name, ref.slice('service:'.length), ['services', name, key], `${key}: service:`);
    }
    // the values runtime/userns.ts parseUsernsMode takes: Docker's only one, and berth's remap
    if (s.userns_mode !== undefined && !['', 'host', 'remap'].includes(s.userns_mode)) {
      issues.push(issueAt(sources, tree, ['services', name, 'userns_mode'], '"host" (the host\'s user namespace, the default) or "remap" (container root on an unprivileged host range)', JSON.stringify(s.userns_mode)));
    }
    for (const v of s.volumes_from) {
      if (v.startsWith('container:')) continue;
      needService(name, v.split(':')[0]!, itemPath(tree, name, 'volumes_from', v), 'volumes_from');
    }
    if (s.network_mode === undefined) for (const n of Object.keys(s.networks)) {
      if (n !== 'default' && !inp.networks.has(n)) issues.push(issueAt(sources, tree, itemPath(tree, name, 'networks', n), 'a network declared under top-level networks', `undefined network ${JSON.stringify(n)}`));
    } else if (Object.keys(s.networks).length > 0) {
      issues.push(issueAt(sources, tree, ['services', name, 'network_mode'], 'network_mode or networks, not both', 'both'));
    }
    s.volumes.forEach((m, i) => {
      if (m.type === 'volume' && m.source && !inp.volumes.has(m.source)) {
        issues.push(issueAt(sources, tree, ['services', name, 'volumes', i], 'a volume declared under top-level volumes (or a path starting with ./, / or ~ for a bind mount)', `undefined volume ${JSON.stringify(m.source)}`));
      }
    });
    for (const kind of ['secrets', 'configs'] as const) {
      s[kind].forEach((g, i) => {
        const set = kind === 'secrets' ? inp.secrets : inp.configs;
        if (!set.has(g.source)) issues.push(issueAt(sources, tree, ['services', name, kind, i], `a ${kind.slice(0, -1)} declared under top-level ${kind}`, `undefined ${kind.slice(0, -1)} ${JSON.stringify(g.source)}`));
      });
    }
  }
  issues.push(...buildContextIssues(inp));
  // cycles: iterative depth-first search with colours (dependency chains can be thousands long)
  const state = new Map<string, 1 | 2>();
  const reported = new Set<string>();
  for (const root of deps.keys()) {
    if (state.has(root)) continue;
    const stack: { n: string; i: number }[] = [{ n: root, i: 0 }];
    const onPath: string[] = [root];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const ds = deps.get(top.n) ?? [];
      if (top.i >= ds.length) { state.set(top.n, 2); stack.pop(); onPath.pop(); continue; }
      const d = ds[top.i++]!;
      if (state.get(d) === 1) {
        const cycle = [...onPath.slice(onPath.indexOf(d)), d];
        const key = [...new Set(cycle)].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          issues.push(issueAt(sources, tree, itemPath(tree, top.n, 'depends_on', d), 'dependencies without a cycle', `the cycle ${cycle.length > 12 ? [...cycle.slice(0, 6), `... (${cycle.length - 11} more)`, ...cycle.slice(-5)].join(' -> ') : cycle.join(' -> ')}`));
        }
      } else if (!state.has(d)) {
        state.set(d, 1); stack.push({ n: d, i: 0 }); onPath.push(d);
      }
    }
  }
  return issues;
}

/**
 * build.additional_contexts `service:NAME`: NAME must be a service of this project (its image is
 * the context, built first when it has a build section), and the services' builds may not wait
 * for each other in a cycle.
 */
function buildContextIssues(inp: SemanticInput): SpecIssue[] {
  const { tree, sources, active, disabled } = inp;
  const issues: SpecIssue[] = [];
  const pathOf = (svc: string, name: string): Key[] => {
    const services = isMap(tree['services']) ? tree['services'] : undefined;
    const build = services && isMap(services[svc]) ? (services[svc] as TreeMap)['build'] : undefined;
    const raw = isMap(build) ? build['additional_contexts'] : undefined;
    if (Array.isArray(raw)) {
      const i = raw.findIndex((x) => typeof x === 'string' && x.startsWith(`${name}=`));
      return i >= 0 ? ['services', svc, 'build', 'additional_contexts', i] : ['services', svc, 'build', 'additional_contexts'];
    }
    return isMap(raw) ? ['services', svc, 'build', 'additional_contexts', name] : ['services', svc, 'build'];
  };
  const edges = new Map<string, { target: string; name: string }[]>();
  for (const [svc, s] of Object.entries(active)) {
    for (const [name, value] of Object.entries(s.build?.additional_contexts ?? {})) {
      if (!value.startsWith('service:')) continue;
      const target = value.slice('service:'.length);
      if (!active[target]) {
        const why = disabled[target] ? `service ${JSON.stringify(target)}, disabled by its profiles` : `undefined service ${JSON.stringify(target)}`;
        issues.push(issueAt(sources, tree, pathOf(svc, name), 'service:NAME naming a service of this project (its image is the context)', why));
        continue;
      }
      if (!edges.has(svc)) edges.set(svc, []);
      edges.get(svc)!.push({ target, name });
    }
  }
  // a cycle of builds: depth-first with colours (each service visited once), each cycle reported once
  const state = new Map<string, 1 | 2>();
  const onPath: string[] = [];
  const visit = (at: string): void => {
    state.set(at, 1);
    onPath.push(at);
    for (const e of edges.get(at) ?? []) {
      if (state.get(e.target) === 1) {
        const cycle = [...onPath.slice(onPath.indexOf(e.target)), e.target];
        issues.push(issueAt(sources, tree, pathOf(at, e.name), 'build contexts without a cycle (a service: context is built first)', `the cycle ${cycle.join(' -> ')}`));
      } else if (!state.has(e.target)) {
        visit(e.target);
      }
    }
    onPath.pop();
    state.set(at, 2);
  };
  for (const svc of [...edges.keys()].sort()) if (!state.has(svc)) visit(svc);
  return issues;
}
