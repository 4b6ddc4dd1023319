// Phase "paths": relative paths become absolute. Applied to a raw service tree with the directory
// its file belongs to (project directory, an extended file's directory, an included project's
// directory), before merging, so that each path keeps the meaning it had where it was written.
// Idempotent: absolute paths are left alone.
import { adopt, isMap, newMap, type Tree, type TreeMap } from './tree.js';
import { isBindSource } from './canonical/volumes.js';
import { isRemoteContext } from './canonical/build.js';

/** Pure path join/normalize for POSIX paths (spec/ does not import node:path). */
export function resolvePath(base: string, p: string, home?: string): string {
  if (p === '~' || p.startsWith('~/')) p = (home ?? '~') + p.slice(1);
  const abs = p.startsWith('/') ? p : `${base}/${p}`;
  const out: string[] = [];
  for (const seg of abs.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop(); else out.push(seg);
  }
  return '/' + out.join('/');
}

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function rewriteVolume(v: Tree, base: string, home?: string): Tree {
  if (typeof v === 'string') {
    const i = v.indexOf(':');
    if (i <= 0) return v;
    const src = v.slice(0, i);
    if (!isBindSource(src) || src.startsWith('/') || src.startsWith('$')) return v;
    return resolvePath(base, src, home) + v.slice(i);
  }
  if (isMap(v) && v['type'] === 'bind' && typeof v['source'] === 'string' && !v['source'].startsWith('/')) {
    const o = copy(v);
    o['source'] = resolvePath(base, v['source'], home);
    return o;
  }
  return v;
}

function copy(v: TreeMap): TreeMap {
  const o = newMap();
  for (const k of Object.keys(v)) o[k] = v[k]!;
  return adopt(o, v);
}

/** Rewrites the path-valued keys of one raw service. */
export function resolveServicePaths(svc: TreeMap, base: string, home?: string): TreeMap {
  const o = copy(svc);
  const b = svc['build'];
  if (typeof b === 'string' && !isRemoteContext(b)) o['build'] = resolvePath(base, b, home);
  else if (isMap(b)) {
    const nb = copy(b);
    const c = typeof b['context'] === 'string' ? b['context'] : '.';
    if (!isRemoteContext(c)) nb['context'] = resolvePath(base, c, home);
    o['build'] = nb;
  }
  if (Array.isArray(svc['volumes'])) o['volumes'] = adopt(svc['volumes'].map((v) => rewriteVolume(v, base, home)), svc['volumes']);
  const ef = svc['env_file'];
  const fix = (x: Tree): Tree => (typeof x === 'string' ? resolvePath(base, x, home)
    : isMap(x) && typeof x['path'] === 'string' ? Object.assign(copy(x), { path: resolvePath(base, x['path'], home) }) : x);
  if (typeof ef === 'string') o['env_file'] = fix(ef);
  else if (Array.isArray(ef)) o['env_file'] = adopt(ef.map(fix), ef);
  const lf = svc['label_file'];
  if (typeof lf === 'string') o['label_file'] = resolvePath(base, lf, home);
  else if (Array.isArray(lf)) o['label_file'] = adopt(lf.map(fix), lf);
  const ext = svc['extends'];
  if (isMap(ext) && typeof ext['file'] === 'string') o['extends'] = Object.assign(copy(ext), { file: resolvePath(base, ext['file'], home) });
  const dev = svc['develop'];
  if (isMap(dev) && Array.isArray(dev['watch'])) {
    const nd = copy(dev);
    nd['watch'] = adopt(dev['watch'].map((r) => (isMap(r) && typeof r['path'] === 'string' ? Object.assign(copy(r), { path: resolvePath(base, r['path'], home) }) : r)), dev['watch']);
    o['develop'] = nd;
  }
  return o;
}

/** Rewrites file: of top-level secrets/configs. */
export function resolveTopLevelPaths(tree: TreeMap, base: string, home?: string): TreeMap {
  const o = copy(tree);
  for (const kind of ['secrets', 'configs'] as const) {
    const m = tree[kind];
    if (!isMap(m)) continue;
    const nm = copy(m);
    for (const k of Object.keys(m)) {
      const d = m[k];
      if (isMap(d) && typeof d['file'] === 'string') nm[k] = Object.assign(copy(d), { file: resolvePath(base, d['file'], home) });
    }
    o[kind] = nm;
  }
  const s = tree['services'];
  if (isMap(s)) {
    const ns = copy(s);
    for (const k of Object.keys(s)) { const v = s[k]; if (isMap(v)) ns[k] = resolveServicePaths(v, base, home); }
    o['services'] = ns;
  }
  return o;
}
