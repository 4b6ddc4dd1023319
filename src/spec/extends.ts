// Phase "extends": a service takes another service (in the same file, or in another file) as its
// base, and its own keys merge onto it with the ordinary merge rules. Chains are followed;
// cycles and missing services are located errors.
import type { SpecIssue } from './errors.js';
import { mergeTrees } from './merge.js';
import { resolvePath } from './resolve-paths.js';
import { adopt, isMap, issueAt, newMap, type Sources, type Tree, type TreeMap } from './tree.js';

export interface ExtendsContext {
  readonly sources: Sources;
  /** loads another file (interpolated, validated, paths absolute); undefined + issue when it fails */
  loadOther(path: string, from: { tree: TreeMap; path: (string | number)[] }): TreeMap | undefined;
  readonly issues: SpecIssue[];
  /** the directory a file's relative `extends.file` is resolved against */
  dirOf(file: string): string;
  /** a service of `file` left out because of a problem already reported (prune.ts) */
  isBroken(file: string, service: string): boolean;
  /** records that `service` of `file` could not be built (its problem is reported) */
  markBroken(file: string, service: string): void;
}

export function applyExtends(tree: TreeMap, file: string, ctx: ExtendsContext): TreeMap {
  const services = tree['services'];
  if (!isMap(services)) return tree;
  if (!Object.values(services).some((s) => isMap(s) && s['extends'] !== undefined)) return tree;
  const done = new Map<string, Tree>();
  const resolve = (t: TreeMap, f: string, name: string, chain: string[]): Tree | undefined => {
    const key = `${f}#${name}`;
    if (t === tree && done.has(name)) return done.get(name);
    const svcs = t['services'] as TreeMap;
    const svc = svcs[name];
    if (!isMap(svc) || svc['extends'] === undefined) return svc;
    if (chain.includes(key)) {
      ctx.issues.push(issueAt(ctx.sources, t, ['services', name, 'extends'], 'extends without a cycle', `the cycle ${[...chain, key].map((k) => k.split('#')[1]).join(' -> ')}`));
      return undefined;
    }
    const ext = svc['extends'];
    const target = typeof ext === 'string' ? ext : String((ext as TreeMap)['service']);
    // extends.file is relative to the file that names it (stdin: the project directory)
    const otherFile = isMap(ext) && typeof ext['file'] === 'string' ? resolvePath(ctx.dirOf(f), ext['file']) : undefined;
    let baseTree = t, baseFile = f;
    if (otherFile !== undefined && otherFile !== f) {
      const o = ctx.loadOther(otherFile, { tree: t, path: ['services', name, 'extends', 'file'] });
      if (!o) return undefined;
      baseTree = o; baseFile = otherFile;
    }
    const baseSvcs = baseTree['services'];
    // a base left out for its own (reported) problem: this service cannot be built either
    if (ctx.isBroken(baseFile, target)) return undefined;
    if (!isMap(baseSvcs) || !isMap(baseSvcs[target])) {
      ctx.issues.push(issueAt(ctx.sources, t, ['services', name, 'extends', ...(typeof ext === 'string' ? [] : ['service'])], `a service defined in ${otherFile ?? 'this file'}`, `undefined service ${JSON.stringify(target)}`));
      return undefined;
    }
    const base = resolve(baseTree, baseFile, target, [...chain, key]);
    if (base === undefined) return undefined;
    const own = newMap();
    for (const k of Object.keys(svc)) if (k !== 'extends') own[k] = svc[k]!;
    adopt(own, svc);
    const merged = mergeTrees(base, own, ['services', name]);
    if (t === tree) done.set(name, merged);
    return merged;
  };
  const out = newMap();
  for (const name of Object.keys(services)) {
    const r = resolve(tree, file, name, []);
    if (r === undefined) ctx.markBroken(file, name);
    out[name] = r ?? services[name]!;
  }
  adopt(out, services);
  const t2 = newMap();
  for (const k of Object.keys(tree)) t2[k] = tree[k]!;
  t2['services'] = out;
  return adopt(t2, tree);
}
