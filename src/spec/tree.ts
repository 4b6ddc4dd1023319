// The untyped tree the loader phases work on: plain values, mappings as null-prototype objects,
// sequences as arrays. YAML positions ride beside it in a WeakMap keyed by each mapping/sequence,
// so a phase that builds a new container can adopt the old one's positions.
import { codeFrame, describe, type SpecIssue } from './errors.js';

export type Key = string | number;
export type Path = readonly Key[];
export type Tree = null | string | number | boolean | TreeMap | Tree[];
export interface TreeMap { [key: string]: Tree }

export interface Pos {
  readonly line: number;
  readonly col: number;
  /** set when the child came from another file than its container (a merged list or mapping) */
  readonly file?: string;
}
export type MergeTag = '!reset' | '!override';

export interface NodeMeta {
  readonly file: string;
  /** where this mapping/sequence starts */
  readonly at: Pos;
  /** where each child's key is written (mappings only) */
  readonly keys: Map<Key, Pos>;
  /** where each child's value is written */
  readonly values: Map<Key, Pos>;
  /** !reset / !override on a child value */
  readonly tags: Map<Key, MergeTag>;
}

const metas = new WeakMap<object, NodeMeta>();
/** metas built by adoptChild for one container only (safe to extend in place) */
const owned = new WeakSet<NodeMeta>();

export function setMeta(node: object, meta: NodeMeta): void { metas.set(node, meta); }
export function metaOf(node: unknown): NodeMeta | undefined {
  return node !== null && typeof node === 'object' ? metas.get(node) : undefined;
}
/** Gives `fresh` the positions of `old` (when `old` had any) and returns `fresh`. */
export function adopt<T>(fresh: T, old: unknown): T {
  const m = metaOf(old);
  if (m && fresh !== null && typeof fresh === 'object' && !metas.has(fresh)) metas.set(fresh, m);
  return fresh;
}
/** Copies the position of old[oldKey] to fresh[newKey]. */
export function adoptChild(fresh: object, newKey: Key, old: unknown, oldKey: Key): void {
  const om = metaOf(old);
  if (!om) return;
  let fm = metas.get(fresh);
  if (!fm || !owned.has(fm)) {
    fm = fm
      ? { file: fm.file, at: fm.at, keys: new Map(fm.keys), values: new Map(fm.values), tags: new Map(fm.tags) }
      : { file: om.file, at: om.at, keys: new Map(), values: new Map(), tags: new Map() };
    owned.add(fm);
    metas.set(fresh, fm);
  }
  // a child merged in from another file keeps the name of the file it is written in
  const inFile = (p: Pos): Pos => (p.file !== undefined || om.file === fm!.file ? p : { ...p, file: om.file });
  const k = om.keys.get(oldKey); if (k) fm.keys.set(newKey, inFile(k));
  const v = om.values.get(oldKey); if (v) fm.values.set(newKey, inFile(v));
}

export function newMap(): TreeMap { return Object.create(null) as TreeMap; }
export function isMap(v: unknown): v is TreeMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
export function has(m: TreeMap, k: string): boolean { return Object.prototype.hasOwnProperty.call(m, k); }

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** services.web.ports[1], labels["com.example.x"] */
export function formatPath(path: Path): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (IDENT.test(k)) s += s === '' ? k : `.${k}`;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}

export interface Located { file: string; line: number; col: number }

/**
 * Where path is written: walks from root, remembering the deepest known position. Points at the
 * key for mappings when `onKey` (e.g. "unknown key"), at the value otherwise.
 */
export function locate(root: unknown, path: Path, onKey = false): Located {
  let best: Located = { file: '', line: 0, col: 0 };
  const rm = metaOf(root);
  if (rm) best = { file: rm.file, line: rm.at.line, col: rm.at.col };
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const k = path[i]!;
    const m = metaOf(node);
    if (m) {
      const last = i === path.length - 1;
      const p = (last && onKey ? m.keys.get(k) : undefined) ?? m.values.get(k) ?? m.keys.get(k);
      if (p) best = { file: p.file ?? m.file, line: p.line, col: p.col };
      else best = { file: m.file, line: m.at.line, col: m.at.col };
    }
    if (node === null || typeof node !== 'object') break;
    node = (node as Record<string, unknown>)[k as string];
  }
  return best;
}

export function getPath(root: unknown, path: Path): unknown {
  let node: unknown = root;
  for (const k of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[k as string];
  }
  return node;
}

/** Source texts by file name, for code frames. */
export type Sources = ReadonlyMap<string, string>;

/** Builds a located issue for the value at `path` under `root`. */
export function issueAt(sources: Sources, root: unknown, path: Path, expected: string, found?: string, note?: string, onKey = false): SpecIssue {
  const loc = locate(root, path, onKey);
  const src = sources.get(loc.file);
  return {
    file: loc.file, line: loc.line, col: loc.col, keyPath: formatPath(path), expected,
    found: found ?? describe(getPath(root, path)),
    ...(note ? { note } : {}),
    frame: src !== undefined ? codeFrame(src, loc.line, loc.col) : '',
  };
}

export function issueAtPos(sources: Sources, file: string, pos: Pos | undefined, keyPath: string, expected: string, found: string, note?: string): SpecIssue {
  const src = sources.get(file);
  const line = pos?.line ?? 0, col = pos?.col ?? 0;
  return { file, line, col, keyPath, expected, found, ...(note ? { note } : {}), frame: src !== undefined ? codeFrame(src, line, col) : '' };
}

/** Deep copy keeping positions. */
export function clone<T extends Tree>(v: T): T {
  if (Array.isArray(v)) return adopt(v.map((x) => clone(x)), v) as T;
  if (isMap(v)) {
    const o = newMap();
    for (const k of Object.keys(v)) o[k] = clone(v[k]!);
    return adopt(o, v) as T;
  }
  return v;
}

/** The inverse of formatPath: 'services.web.ports[1]' → ['services', 'web', 'ports', 1]. */
export function parsePath(keyPath: string): Key[] {
  const out: Key[] = [];
  let i = 0;
  while (i < keyPath.length) {
    const c = keyPath[i]!;
    if (c === '.') { i++; continue; }
    if (c === '[') {
      if (keyPath[i + 1] === '"') {
        // a JSON string: the first '"]' after which the text parses as one
        let j = keyPath.indexOf('"]', i + 2);
        for (;;) {
          if (j < 0) return out; // not written by formatPath
          try { out.push(JSON.parse(keyPath.slice(i + 1, j + 1)) as string); break; } catch { j = keyPath.indexOf('"]', j + 1); }
        }
        i = j + 2;
      } else {
        const j = keyPath.indexOf(']', i);
        out.push(Number(keyPath.slice(i + 1, j)));
        i = j + 1;
      }
      continue;
    }
    let j = i;
    while (j < keyPath.length && keyPath[j] !== '.' && keyPath[j] !== '[') j++;
    out.push(keyPath.slice(i, j));
    i = j;
  }
  return out;
}
