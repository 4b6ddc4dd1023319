// Phase 1, parse: YAML text → untyped tree with positions. The only importer of `yaml` for reading.
// Refuses what compose cannot mean: duplicate keys, null or collection keys, alias bombs,
// recursive aliases, unknown anchors and nesting deeper than any compose file needs. Number and
// boolean keys are read as the text written.
import { parseAllDocuments, LineCounter, isAlias, isMap, isScalar, isSeq, isPair, visit } from 'yaml';
import type { Alias, Document, Node as YNode, Scalar } from 'yaml';
import { SpecError, type SpecIssue } from './errors.js';
import { issueAtPos, newMap, setMeta, formatPath, type Key, type MergeTag, type Pos, type Sources, type Tree, type TreeMap } from './tree.js';

/**
 * Aliases may add at most this many nodes to a file (protects against "billion laughs"). Real
 * files alias a few x- blocks into a few dozen services: a few thousand nodes. Counted before
 * expanding, so a bomb costs at most this many converted nodes (about 0.1 s).
 */
export const MAX_ALIAS_EXPANSION = 100_000;
/** No compose file nests anywhere near this deep. */
export const MAX_DEPTH = 256;

interface Ctx {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lc: LineCounter;
  readonly sources: Sources;
  budget: number;
  readonly sizes: Map<unknown, number>;
  readonly active: Set<unknown>;
  /** anchors by name, in document order (built on the first alias) */
  anchors?: Map<string, { readonly at: number; readonly node: YNode }[]>;
}

/**
 * The node an alias names: the last anchor of that name before the alias, as YAML says. yaml's
 * own Alias.resolve walks the whole document for each alias, which made a file with many
 * aliases quadratic (an alias bomb took seconds before its expansion was even counted).
 */
function resolveAlias(ctx: Ctx, alias: Alias): YNode | undefined {
  if (!ctx.anchors) {
    const anchors = new Map<string, { at: number; node: YNode }[]>();
    visit(ctx.doc, {
      Node(_k, n) {
        if (n.anchor) {
          const list = anchors.get(n.anchor) ?? [];
          list.push({ at: n.range?.[0] ?? 0, node: n as YNode });
          anchors.set(n.anchor, list);
        }
      },
    });
    ctx.anchors = anchors;
  }
  const at = alias.range?.[0] ?? Infinity;
  let found: YNode | undefined;
  for (const a of ctx.anchors.get(alias.source) ?? []) { if (a.at < at) found = a.node; else break; }
  return found;
}

class Stop extends Error { constructor(readonly issue: SpecIssue) { super(issue.expected); } }

function pos(ctx: Ctx, offset: number | undefined): Pos {
  const p = ctx.lc.linePos(offset ?? 0);
  return { line: p.line, col: p.col };
}

function fail(ctx: Ctx, offset: number | undefined, path: readonly Key[], expected: string, found: string, note?: string): never {
  throw new Stop(issueAtPos(ctx.sources, ctx.file, pos(ctx, offset), formatPath(path), expected, found, note));
}

/**
 * Parses one compose file. Returns one tree per YAML document (compose merges several documents
 * of one file in order, like several files). Throws SpecError.
 */
export function parseYaml(text: string, file: string, sources: Sources): Tree[] {
  const lc = new LineCounter();
  let docs: Document.Parsed[];
  try {
    const r = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: false, strict: true, version: '1.2', merge: false });
    docs = Array.isArray(r) ? r : [];
  } catch (e) {
    const tooDeep = e instanceof RangeError;
    throw new SpecError([issueAtPos(sources, file, undefined, '', tooDeep ? 'a document nested less deeply' : 'valid YAML', tooDeep ? 'nesting too deep for the YAML parser' : String((e as Error).message))]);
  }
  const issues: SpecIssue[] = [];
  for (const doc of docs) {
    for (const err of doc.errors) {
      const p = lc.linePos(err.pos[0]);
      const first = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      const expected = err.code === 'DUPLICATE_KEY' ? 'each key once in a mapping' : 'valid YAML';
      issues.push(issueAtPos(sources, file, { line: p.line, col: p.col }, '', expected, err.code === 'DUPLICATE_KEY' ? `a duplicate key (${first})` : first));
    }
    for (const w of doc.warnings) {
      // unknown tags other than compose's own merge tags are errors: we would not know their meaning
      if (w.code === 'TAG_RESOLVE_FAILED' && /!reset|!override/.test(w.message)) continue;
      const p = lc.linePos(w.pos[0]);
      issues.push(issueAtPos(sources, file, { line: p.line, col: p.col }, '', 'valid YAML', w.message.split('\n')[0]!));
    }
  }
  if (issues.length > 0) throw new SpecError(issues);
  const out: Tree[] = [];
  for (const doc of docs) {
    const ctx: Ctx = { file, text, doc, lc, sources, budget: MAX_ALIAS_EXPANSION, sizes: new Map(), active: new Set() };
    try {
      out.push(convert(ctx, doc.contents as YNode | null, [], 0));
    } catch (e) {
      if (e instanceof Stop) throw new SpecError([e.issue]);
      if (e instanceof RangeError) throw new SpecError([issueAtPos(sources, file, undefined, '', 'a document nested less deeply', 'nesting too deep')]);
      throw e;
    }
  }
  return out;
}

/** Number of tree nodes a YAML node expands to, aliases included (memoized per target). */
function sizeOf(ctx: Ctx, node: unknown, depth: number): number {
  if (node === null || node === undefined) return 1;
  const cached = ctx.sizes.get(node);
  if (cached !== undefined) return cached;
  if (depth > MAX_DEPTH) return Infinity;
  let n = 1;
  if (isAlias(node)) {
    const t = resolveAlias(ctx, node);
    n = ctx.active.has(t) ? Infinity : sizeOf(ctx, t, depth + 1);
  } else if (isMap(node)) {
    for (const it of node.items) n += sizeOf(ctx, it.value, depth + 1);
  } else if (isSeq(node)) {
    for (const it of node.items) n += sizeOf(ctx, it, depth + 1);
  }
  ctx.sizes.set(node, n);
  return n;
}

function scalarValue(ctx: Ctx, node: Scalar, path: readonly Key[]): Tree {
  const v = node.value;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (node.type === 'PLAIN' && node.range) {
      // YAML 1.1 octal (0644), which go-yaml (and so docker compose) still reads as octal
      const src = ctx.text.slice(node.range[0], node.range[1]);
      if (/^0[0-7]+$/.test(src)) return parseInt(src, 8);
    }
    if (!Number.isFinite(v)) return String(ctx.text.slice(node.range?.[0] ?? 0, node.range?.[1] ?? 0));
    return v;
  }
  if (typeof v === 'bigint') return Number(v);
  fail(ctx, node.range?.[0], path, 'a string, number, boolean or null', `a value of YAML type ${node.tag ?? typeof v}`);
}

function tagOf(node: unknown): MergeTag | undefined {
  const t = (node as { tag?: string } | null)?.tag;
  return t === '!reset' || t === '!override' ? t : undefined;
}

function convert(ctx: Ctx, node: YNode | null | undefined, path: readonly Key[], depth: number): Tree {
  if (node === null || node === undefined) return null;
  if (depth > MAX_DEPTH) fail(ctx, node.range?.[0], path, `nesting at most ${MAX_DEPTH} levels deep`, 'deeper nesting');
  if (isAlias(node)) {
    const target = resolveAlias(ctx, node);
    if (!target) fail(ctx, node.range?.[0], path, 'an alias to a defined anchor', `*${node.source}`);
    if (ctx.active.has(target)) fail(ctx, node.range?.[0], path, 'an alias outside its own anchor', `recursive alias *${node.source}`);
    ctx.budget -= sizeOf(ctx, target, depth);
    if (ctx.budget < 0) fail(ctx, node.range?.[0], path, `aliases expanding to at most ${MAX_ALIAS_EXPANSION} nodes`, `*${node.source} pushing the expansion past that (an alias bomb?)`);
    return convert(ctx, target as YNode, path, depth + 1);
  }
  if (isScalar(node)) return scalarValue(ctx, node, path);
  if (isMap(node)) {
    ctx.active.add(node);
    const obj: TreeMap = newMap();
    const keys = new Map<Key, Pos>(), values = new Map<Key, Pos>(), tags = new Map<Key, MergeTag>();
    const merges: { node: YNode; at: number | undefined }[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      let k = pair.key as YNode | null;
      const kOff = k?.range?.[0] ?? (pair.value as YNode | null)?.range?.[0] ?? node.range?.[0];
      if (k && isAlias(k)) k = resolveAlias(ctx, k) ?? null;
      if (k === null || k === undefined) fail(ctx, kOff, path, 'a string key', 'an empty key');
      if (!isScalar(k)) fail(ctx, kOff, path, 'a string key', isMap(k) ? 'a mapping used as a key' : 'a sequence used as a key');
      if (k.value === '<<' && k.type === 'PLAIN') {
        if (pair.value) merges.push({ node: pair.value as YNode, at: kOff });
        continue;
      }
      let key: string;
      if (typeof k.value === 'string') key = k.value;
      else {
        // a number or boolean key (`80:` under labels, `true:`) is read as the text written, as
        // go-yaml reads a key into a string (docs/decisions/2026-11-30-scalar-mapping-keys.md);
        // a null key (`~:`, `null:`, an empty key) names nothing and is refused
        const src = k.range ? ctx.text.slice(k.range[0], k.range[1]).trim() : String(k.value);
        if (k.value === null || k.value === undefined || src === '') fail(ctx, kOff, path, 'a string key', `a null key${src ? ` ${src}` : ''}`);
        key = src;
      }
      // duplicate keys are checked here (yaml's own check is quadratic in the mapping's size)
      if (Object.prototype.hasOwnProperty.call(obj, key)) fail(ctx, kOff, [...path, key], 'each key once in a mapping', `a duplicate key ${JSON.stringify(key)}`);
      const vnode = pair.value as YNode | null;
      // one path array for the whole walk (pushed and popped), copied only by an error
      (path as Key[]).push(key);
      obj[key] = convert(ctx, vnode, path, depth + 1);
      (path as Key[]).pop();
      keys.set(key, pos(ctx, kOff));
      values.set(key, pos(ctx, vnode?.range?.[0] ?? kOff));
      const t = tagOf(vnode);
      if (t) tags.set(key, t);
    }
    // YAML merge keys: explicit keys win; among merged mappings, the earlier one wins
    for (const m of merges) {
      let src: unknown = m.node;
      const list: unknown[] = [];
      if (isAlias(src)) src = resolveAlias(ctx, src);
      if (isSeq(src)) for (const it of src.items) list.push(isAlias(it) ? resolveAlias(ctx, it) : it);
      else list.push(src);
      for (const item of list) {
        if (!isMap(item)) fail(ctx, m.at, [...path, '<<'], 'a mapping or a list of mappings to merge', isSeq(item) ? 'a sequence' : 'a scalar');
        const merged = convert(ctx, item as YNode, path, depth + 1) as TreeMap;
        for (const key of Object.keys(merged)) {
          if (Object.prototype.hasOwnProperty.call(obj, key)) continue;
          obj[key] = merged[key]!;
          const ip = (item as { items: { key: { value?: unknown; range?: [number, number, number] }; value: { range?: [number, number, number] } | null }[] }).items
            .find((p) => p.key?.value === key);
          keys.set(key, pos(ctx, ip?.key?.range?.[0] ?? m.at));
          values.set(key, pos(ctx, ip?.value?.range?.[0] ?? ip?.key?.range?.[0] ?? m.at));
        }
      }
    }
    ctx.active.delete(node);
    setMeta(obj, { file: ctx.file, at: pos(ctx, node.range?.[0]), keys, values, tags });
    return obj;
  }
  if (isSeq(node)) {
    ctx.active.add(node);
    const arr: Tree[] = [];
    const values = new Map<Key, Pos>();
    node.items.forEach((it, i) => {
      (path as Key[]).push(i);
      arr.push(convert(ctx, it as YNode | null, path, depth + 1));
      (path as Key[]).pop();
      values.set(i, pos(ctx, (it as YNode | null)?.range?.[0] ?? node.range?.[0]));
    });
    ctx.active.delete(node);
    setMeta(arr, { file: ctx.file, at: pos(ctx, node.range?.[0]), keys: new Map(), values, tags: new Map() });
    return arr;
  }
  fail(ctx, (node as YNode).range?.[0], path, 'a YAML value', 'an unknown node');
}
