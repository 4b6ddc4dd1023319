// docker compose's consistency checks that the schema and the semantic phase do not make: rules
// between services and between keys of one service. Each problem is located; `--no-consistency`
// skips them, as in docker compose. Pure over the typed (active) services plus the merged tree
// for positions.
import type { SpecIssue } from './errors.js';
import type { Service } from './model.js';
import { isMap, issueAt, type Key, type Sources, type TreeMap } from './tree.js';

export interface ConsistencyInput {
  readonly tree: TreeMap;
  readonly sources: Sources;
  /** the active services (profiles applied) */
  readonly services: Readonly<Record<string, Service>>;
}

function raw(tree: TreeMap, service: string): TreeMap | undefined {
  const services = tree['services'];
  const s = isMap(services) ? services[service] : undefined;
  return isMap(s) ? s : undefined;
}

/** The container path of a `tmpfs:` entry ("/run" or "/run:size=64m,mode=1777"). */
const tmpfsTarget = (entry: string): string => entry.split(':')[0]!;

export function checkConsistency(inp: ConsistencyInput): SpecIssue[] {
  const { tree, sources, services } = inp;
  const issues: SpecIssue[] = [];
  const at = (path: Key[], expected: string, found: string, note?: string): void => { issues.push(issueAt(sources, tree, path, expected, found, note)); };

  // container names are global: one service each, and one container each
  const names = new Map<string, string>();
  for (const name of Object.keys(services).sort()) {
    const s = services[name]!;
    if (s.container_name === undefined) continue;
    const other = names.get(s.container_name);
    if (other !== undefined) at(['services', name, 'container_name'], 'a container name no other service uses', `${JSON.stringify(s.container_name)}, already the container_name of service ${JSON.stringify(other)}`);
    else names.set(s.container_name, name);
    if (s.scale > 1) {
      const viaScale = raw(tree, name)?.['scale'] !== undefined;
      at(['services', name, 'container_name'], 'no container_name on a service with more than one container (the name must be unique)',
        `container_name ${JSON.stringify(s.container_name)} and ${viaScale ? 'scale' : 'deploy.replicas'} ${s.scale}`);
    }
  }

  for (const [name, s] of Object.entries(services)) {
    const P: Key[] = ['services', name];
    const r = raw(tree, name);

    // one mount per container path: volumes and tmpfs together
    const seen = new Map<string, string>();
    s.volumes.forEach((m, i) => {
      const first = seen.get(m.target);
      if (first !== undefined) at([...P, 'volumes', i], 'one mount per container path', `a second mount on ${m.target} (the first is ${first})`);
      else seen.set(m.target, `volumes[${i}]`);
    });
    const tmpfsRaw = r?.['tmpfs'];
    s.tmpfs.forEach((t, i) => {
      const target = tmpfsTarget(t);
      const first = seen.get(target);
      if (first !== undefined) at([...P, 'tmpfs', ...(Array.isArray(tmpfsRaw) ? [i] : [])], 'one mount per container path', `a second mount on ${target} (the first is ${first})`);
      else seen.set(target, `tmpfs${Array.isArray(tmpfsRaw) ? `[${i}]` : ''}`);
    });

    const build = r?.['build'];
    if (isMap(build) && build['dockerfile'] !== undefined && build['dockerfile_inline'] !== undefined) {
      at([...P, 'build', 'dockerfile_inline'], 'dockerfile or dockerfile_inline, not both', 'both');
    }
    if (s.build && s.build.platforms.length > 0 && s.platform !== undefined && !s.build.platforms.includes(s.platform)) {
      at([...P, 'platform'], `a platform among build.platforms (${s.build.platforms.join(', ')})`, JSON.stringify(s.platform));
    }
  }
  return issues;
}
