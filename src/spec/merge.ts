// Phase "merge": several compose files (and extends bases) become one tree, by the compose
// spec's merge rules: mappings merge key by key, sequences append, command/entrypoint/
// healthcheck.test replace, ports/volumes/secrets/configs merge by their unique key, the
// list-or-mapping keys (environment, labels, ...) merge as mappings, and the override file's
// `!reset` removes a value while `!override` replaces it wholesale.
import { canonicalPort, portKey } from './canonical/ports.js';
import { parseVolumeString } from './canonical/volumes.js';
import { adopt, adoptChild, isMap, metaOf, newMap, type Key, type Tree, type TreeMap } from './tree.js';

type Rule = 'replace' | 'append' | 'unique' | 'map' | 'ports' | 'byTarget' | 'grants' | 'dependsOn' | 'networks' | 'logging' | 'build';

/** Rules by key path; `*` matches one segment. The first match wins; the default is mapping/append. */
const RULES: ReadonlyArray<readonly [string, Rule]> = [
  ['services.*.command', 'replace'], ['services.*.entrypoint', 'replace'], ['services.*.healthcheck.test', 'replace'],
  ['services.*.develop.watch.*.exec.command', 'replace'], ['services.*.post_start.*.command', 'replace'], ['services.*.pre_stop.*.command', 'replace'],
  ['services.*.ports', 'ports'],
  ['services.*.volumes', 'byTarget'],
  ['services.*.secrets', 'grants'], ['services.*.configs', 'grants'],
  ['services.*.environment', 'map'], ['services.*.labels', 'map'], ['services.*.annotations', 'map'], ['services.*.sysctls', 'map'],
  ['services.*.extra_hosts', 'map'], ['services.*.build.args', 'map'], ['services.*.build.labels', 'map'], ['services.*.build.extra_hosts', 'map'],
  ['services.*.build.additional_contexts', 'map'], ['services.*.build.ssh', 'map'], ['services.*.deploy.labels', 'map'],
  ['services.*.depends_on', 'dependsOn'], ['services.*.networks', 'networks'], ['services.*.logging', 'logging'], ['services.*.build', 'build'],
  ['services.*.expose', 'unique'], ['services.*.cap_add', 'unique'], ['services.*.cap_drop', 'unique'], ['services.*.security_opt', 'unique'],
  ['services.*.links', 'unique'], ['services.*.external_links', 'unique'], ['services.*.volumes_from', 'unique'], ['services.*.profiles', 'unique'],
  ['services.*.dns', 'unique'], ['services.*.dns_search', 'unique'], ['services.*.dns_opt', 'unique'], ['services.*.group_add', 'unique'],
  ['services.*.tmpfs', 'unique'], ['services.*.env_file', 'unique'], ['services.*.devices', 'unique'], ['services.*.device_cgroup_rules', 'unique'],
  ['networks.*.labels', 'map'], ['volumes.*.labels', 'map'], ['secrets.*.labels', 'map'], ['configs.*.labels', 'map'],
];

function ruleFor(path: readonly Key[]): Rule | undefined {
  outer: for (const [pat, rule] of RULES) {
    const segs = pat.split('.');
    if (segs.length !== path.length) continue;
    for (let i = 0; i < segs.length; i++) if (segs[i] !== '*' && segs[i] !== String(path[i])) continue outer;
    return rule;
  }
  return undefined;
}

/** list-or-mapping → mapping (KEY=value; a bare KEY maps to null). */
function asMap(v: Tree, sep = '='): TreeMap {
  if (isMap(v)) return v;
  const o = newMap();
  if (Array.isArray(v)) v.forEach((x, i) => {
    const s = String(x);
    const at = s.indexOf(sep);
    const k = at < 0 ? s : s.slice(0, at);
    o[k] = at < 0 ? null : s.slice(at + 1);
    adoptChild(o, k, v, i);
  });
  return adopt(o, v);
}

const toList = (v: Tree): Tree[] => (Array.isArray(v) ? v : v === null ? [] : [v]);

function keyedAppend(base: Tree, over: Tree, key: (x: Tree) => string | undefined): Tree[] {
  const b = toList(base), o = toList(over);
  const out: Tree[] = [];
  const where = new Map<string, number>();
  const src: [Tree, number][] = [];
  const add = (x: Tree, from: Tree, i: number): void => {
    const k = key(x);
    if (k !== undefined && where.has(k)) { out[where.get(k)!] = x; src[where.get(k)!] = [from, i]; return; }
    if (k !== undefined) where.set(k, out.length);
    out.push(x); src.push([from, i]);
  };
  b.forEach((x, i) => add(x, base, i));
  o.forEach((x, i) => add(x, over, i));
  const meta = metaOf(over) ? over : base;
  adopt(out, meta);
  src.forEach(([from, i], j) => adoptChild(out, j, from, i));
  return out;
}

function volumeTarget(x: Tree): string | undefined {
  if (typeof x === 'string') { try { return parseVolumeString(x).target; } catch { return undefined; } }
  return isMap(x) && typeof x['target'] === 'string' ? x['target'] : undefined;
}
function grantTarget(x: Tree): string | undefined {
  if (typeof x === 'string') return x;
  if (!isMap(x)) return undefined;
  return typeof x['target'] === 'string' ? x['target'] : typeof x['source'] === 'string' ? x['source'] : undefined;
}
function portKeyOf(x: Tree): string | undefined {
  try { const p = canonicalPort(x); return p.length === 1 ? portKey(p[0]!) : p.map(portKey).join(','); } catch { return undefined; }
}

/** Merges `over` onto `base` at `path`. Neither input is modified. */
export function mergeTrees(base: Tree | undefined, over: Tree, path: Key[] = []): Tree {
  if (base === undefined) return stripTags(over);
  const rule = ruleFor(path);
  switch (rule) {
    case 'replace': return stripTags(over);
    case 'ports': return keyedAppend(base, over, portKeyOf);
    case 'byTarget': return keyedAppend(base, over, volumeTarget);
    case 'grants': return keyedAppend(base, over, grantTarget);
    case 'unique': return keyedAppend(base, over, (x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : `${typeof x}:${String(x)}`));
    case 'map': {
      const sep = path[path.length - 1] === 'extra_hosts' ? (Array.isArray(base) && String(base[0] ?? '').includes('=') ? '=' : ':') : '=';
      return mergeMaps(asMap(base, sep), asMap(over, sep), path);
    }
    case 'dependsOn': case 'networks': {
      const toMap = (v: Tree): TreeMap => {
        if (!Array.isArray(v)) return isMap(v) ? v : newMap();
        const o = newMap();
        v.forEach((n, i) => {
          o[String(n)] = rule === 'dependsOn' ? Object.assign(newMap(), { condition: 'service_started' }) : null;
          adoptChild(o, String(n), v, i);
        });
        return adopt(o, v);
      };
      if (Array.isArray(base) && Array.isArray(over)) return keyedAppend(base, over, (x) => String(x));
      return mergeMaps(toMap(base), toMap(over), path);
    }
    case 'logging': {
      if (isMap(base) && isMap(over) && over['driver'] !== undefined && base['driver'] !== undefined && over['driver'] !== base['driver']) return stripTags(over);
      break;
    }
    case 'build': {
      const toMapB = (v: Tree): Tree => (typeof v === 'string' ? adopt(Object.assign(newMap(), { context: v }), v) : v);
      const b = toMapB(base), o = toMapB(over);
      if (isMap(b) && isMap(o)) return mergeMaps(b, o, path);
      return stripTags(over);
    }
    default: break;
  }
  if (isMap(base) && isMap(over)) return mergeMaps(base, over, path);
  if (Array.isArray(base) && Array.isArray(over)) return keyedAppend(base, over, () => undefined);
  return stripTags(over);
}

function mergeMaps(base: TreeMap, over: TreeMap, path: Key[]): TreeMap {
  const out = newMap();
  const om = metaOf(over);
  adopt(out, om ? over : base);
  for (const k of Object.keys(base)) { out[k] = base[k]!; adoptChild(out, k, base, k); }
  for (const k of Object.keys(over)) {
    const tag = om?.tags.get(k);
    if (tag === '!reset') { delete out[k]; continue; }
    const childPath = [...path, k];
    out[k] = tag === '!override' || !(k in out) ? stripTags(over[k]!) : mergeTrees(out[k], over[k]!, childPath);
    adoptChild(out, k, over, k);
  }
  return out;
}

/** Applies `!reset` inside a tree that has nothing under it (removes those keys). */
export function stripTags(v: Tree): Tree {
  if (Array.isArray(v)) {
    let changed = false;
    const out = v.map((x) => { const y = stripTags(x); if (y !== x) changed = true; return y; });
    return changed ? adopt(out, v) : v;
  }
  if (!isMap(v)) return v;
  const m = metaOf(v);
  let changed = false;
  const out = newMap();
  for (const k of Object.keys(v)) {
    if (m?.tags.get(k) === '!reset') { changed = true; continue; }
    const y = stripTags(v[k]!);
    if (y !== v[k]) changed = true;
    out[k] = y;
  }
  return changed ? adopt(out, v) : v;
}
