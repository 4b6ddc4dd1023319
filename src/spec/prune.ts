// Keeping going after a problem. When interpolation or the schema finds problems in a file, the
// parts they are in are cut out of the tree and the file goes on through the later phases, so
// one run reports every independent problem (a schema error in one service and a bad duration
// in another) without cascading ones: a later phase never sees a value an earlier one refused.
//
// Where the cut is made (the rules, by the problem's key path):
//   services.S.image|build|provider|extends...  the whole service S: without them "an image or a
//                                                build" and extends would report nonsense
//   services.S.K...                              the key K of S (S's other keys are still checked)
//   services.S, networks.N..., volumes.V..., secrets.X..., configs.X...,
//   models.M...                                  the whole entry (its parts depend on each other)
//   networks, volumes, ... (a whole section),
//   x-..., name, version                         that top-level key
//   services (the whole section), include..., the document itself
//                                                no cut: the file stops after this phase, and the
//                                                project is not normalized (see `fatal`)
// A service cut whole is "broken": it is left out of the merged project (another file's partial
// definition of it would otherwise lack its image), and a service extending it is broken too.
import type { SpecIssue } from './errors.js';
import { adopt, isMap, newMap, parsePath, type Key, type TreeMap } from './tree.js';

/** Keys whose problem makes the whole service unusable. */
const WHOLE_SERVICE = new Set(['image', 'build', 'provider', 'extends']);
/** Top-level sections whose entries are cut whole. */
const ENTRY_SECTIONS = new Set(['networks', 'volumes', 'secrets', 'configs', 'models']);

export interface PruneResult {
  readonly tree: TreeMap;
  /** services cut whole */
  readonly broken: ReadonlySet<string>;
  /** a problem that cannot be cut around: the project must not be normalized */
  readonly fatal: boolean;
}

/** Where to cut for a problem at `path`; undefined = cannot be cut around. */
export function cutFor(path: readonly Key[]): Key[] | undefined {
  const [top, name, key] = path;
  if (top === undefined || typeof top !== 'string') return undefined;
  if (top === 'services') {
    if (name === undefined) return undefined;
    if (key === undefined || (typeof key === 'string' && WHOLE_SERVICE.has(key))) return [top, name];
    return [top, name, key];
  }
  if (ENTRY_SECTIONS.has(top)) return name === undefined ? [top] : [top, name];
  if (top === 'include') return undefined;
  return [top];
}

/** Returns `tree` without the parts the issues are in (positions kept); `tree` is not changed. */
export function pruneIssues(tree: TreeMap, issues: readonly SpecIssue[]): PruneResult {
  const broken = new Set<string>();
  if (issues.length === 0) return { tree, broken, fatal: false };
  const cuts: Key[][] = [];
  let fatal = false;
  for (const i of issues) {
    const cut = cutFor(parsePath(i.keyPath));
    if (!cut) { fatal = true; continue; }
    cuts.push(cut);
    if (cut.length === 2 && cut[0] === 'services') broken.add(String(cut[1]));
  }
  return { tree: cutOut(tree, cuts), broken, fatal };
}

/** Removes services by name (and nothing else). */
export function withoutServices(tree: TreeMap, names: ReadonlySet<string>): TreeMap {
  if (names.size === 0) return tree;
  return cutOut(tree, [...names].map((n) => ['services', n]));
}

function cutOut(node: TreeMap, cuts: readonly (readonly Key[])[]): TreeMap {
  const byKey = new Map<string, (readonly Key[])[]>();
  for (const c of cuts) {
    const k = String(c[0]);
    const list = byKey.get(k) ?? [];
    list.push(c.slice(1));
    byKey.set(k, list);
  }
  const out = newMap();
  for (const k of Object.keys(node)) {
    const rest = byKey.get(k);
    if (!rest) { out[k] = node[k]!; continue; }
    if (rest.some((r) => r.length === 0)) continue; // cut here
    const child = node[k]!;
    if (!isMap(child)) continue; // a deeper cut in a non-mapping: cut the whole value
    out[k] = cutOut(child, rest);
  }
  return adopt(out, node);
}
