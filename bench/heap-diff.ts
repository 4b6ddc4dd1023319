// Compares V8 heap snapshots of one process (what `BENCH_HEAP=DIR` makes the soak's engine write,
// or any `--heapsnapshot-signal` snapshots): not a benchmark, a reading aid for issue 17's "memory
// that returns".
//
//   node dist/bench/heap-diff.js A.heapsnapshot B.heapsnapshot [C.heapsnapshot]
//
// Prints, from A to B: the totals; the groups (node type and constructor or name) whose self size
// grew most; the Maps and Sets whose backing table grew. With C: the objects first seen in B (their
// ids are not in A: V8 keeps an object's id across the snapshots of one process) and still alive
// in C, by group, and for the largest groups the shortest retaining path of one of them from the
// GC roots: what holds what a window of cycles left behind.
import { readFileSync } from 'node:fs';

interface Snapshot {
  readonly file: string;
  readonly nodeCount: number;
  readonly fieldCount: number;
  readonly nodes: Int32Array | number[];
  readonly edges: number[];
  readonly strings: string[];
  readonly nodeTypes: readonly string[];
  readonly edgeTypes: readonly string[];
  readonly typeOf: number; readonly nameOf: number; readonly idOf: number; readonly sizeOf: number; readonly edgeCountOf: number;
  readonly edgeFields: number; readonly edgeTypeOf: number; readonly edgeNameOf: number; readonly edgeToOf: number;
  /** index of each node's first edge in `edges` */
  readonly firstEdge: Uint32Array;
}

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }; node_count: number };
  nodes: number[]; edges: number[]; strings: string[];
}

function load(file: string): Snapshot {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
  const m = raw.snapshot.meta;
  const fieldCount = m.node_fields.length;
  const edgeFields = m.edge_fields.length;
  const nodeCount = raw.nodes.length / fieldCount;
  const edgeCountOf = m.node_fields.indexOf('edge_count');
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let i = 0, e = 0; i < nodeCount; i++) {
    firstEdge[i] = e;
    e += raw.nodes[i * fieldCount + edgeCountOf]! * edgeFields;
    firstEdge[i + 1] = e;
  }
  return {
    file, nodeCount, fieldCount, nodes: raw.nodes, edges: raw.edges, strings: raw.strings,
    nodeTypes: m.node_types[0], edgeTypes: m.edge_types[0],
    typeOf: m.node_fields.indexOf('type'), nameOf: m.node_fields.indexOf('name'), idOf: m.node_fields.indexOf('id'),
    sizeOf: m.node_fields.indexOf('self_size'), edgeCountOf,
    edgeFields, edgeTypeOf: m.edge_fields.indexOf('type'), edgeNameOf: m.edge_fields.indexOf('name_or_index'), edgeToOf: m.edge_fields.indexOf('to_node'),
    firstEdge,
  };
}

const field = (s: Snapshot, i: number, f: number): number => s.nodes[i * s.fieldCount + f]!;
const typeName = (s: Snapshot, i: number): string => s.nodeTypes[field(s, i, s.typeOf)]!;
const nodeId = (s: Snapshot, i: number): number => field(s, i, s.idOf);
const selfSize = (s: Snapshot, i: number): number => field(s, i, s.sizeOf);

/** "object Map", "closure onData", "string", "code (compiled code)", … — the unit of comparison */
function group(s: Snapshot, i: number): string {
  const t = typeName(s, i);
  if (t === 'string' || t === 'concatenated string' || t === 'sliced string' || t === 'number' || t === 'code') return t;
  let name = s.strings[field(s, i, s.nameOf)] ?? '';
  if (t === 'array' || t === 'hidden') name = name.replace(/\d+/g, 'N');
  if (name.length > 60) name = `${name.slice(0, 57)}…`;
  return `${t} ${name}`;
}

interface Edge { readonly type: string; readonly name: string; readonly to: number }

function* edgesOf(s: Snapshot, i: number): Generator<Edge> {
  for (let e = s.firstEdge[i]!; e < s.firstEdge[i + 1]!; e += s.edgeFields) {
    const type = s.edgeTypes[s.edges[e + s.edgeTypeOf]!]!;
    const n = s.edges[e + s.edgeNameOf]!;
    const name = type === 'element' || type === 'hidden' ? `[${n}]` : s.strings[n] ?? String(n);
    yield { type, name, to: s.edges[e + s.edgeToOf]! / s.fieldCount };
  }
}

function totals(s: Snapshot): Map<string, { count: number; size: number }> {
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.nodeCount; i++) {
    const g = group(s, i);
    const t = out.get(g) ?? { count: 0, size: 0 };
    t.count++;
    t.size += selfSize(s, i);
    out.set(g, t);
  }
  return out;
}

/** id → the byte size of each Map's and Set's backing table */
function collections(s: Snapshot): Map<number, { name: string; table: number; node: number }> {
  const out = new Map<number, { name: string; table: number; node: number }>();
  for (let i = 0; i < s.nodeCount; i++) {
    if (typeName(s, i) !== 'object') continue;
    const name = s.strings[field(s, i, s.nameOf)];
    if (name !== 'Map' && name !== 'Set' && name !== 'WeakMap' && name !== 'WeakSet') continue;
    let table = 0;
    for (const e of edgesOf(s, i)) if (e.name === 'table') table += selfSize(s, e.to);
    out.set(nodeId(s, i), { name, table, node: i });
  }
  return out;
}

/** parent of every node reachable from the root (node 0) by strong edges, breadth first */
function parents(s: Snapshot): Int32Array {
  const parent = new Int32Array(s.nodeCount).fill(-1);
  parent[0] = 0;
  let frontier = [0];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const i of frontier) {
      for (const e of edgesOf(s, i)) {
        if (e.type === 'weak' || e.type === 'shortcut' || parent[e.to] !== -1) continue;
        parent[e.to] = i;
        next.push(e.to);
      }
    }
    frontier = next;
  }
  return parent;
}

function pathTo(s: Snapshot, parent: Int32Array, node: number): string {
  const steps: string[] = [];
  for (let i = node; i !== 0 && steps.length < 30; i = parent[i]!) {
    const p = parent[i]!;
    if (p === -1) return `${group(s, node)} (not strongly reachable)`;
    let via = '?';
    for (const e of edgesOf(s, p)) if (e.to === i) { via = e.name; break; }
    steps.push(`${group(s, p)} .${via}`);
  }
  return `${steps.reverse().join(' → ')} → ${group(s, node)}`;
}

const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

function report(a: Snapshot, b: Snapshot, c: Snapshot | undefined): void {
  const ta = totals(a);
  const tb = totals(b);
  const sum = (t: Map<string, { size: number; count: number }>): number => [...t.values()].reduce((x, y) => x + y.size, 0);
  console.log(`${a.file}: ${a.nodeCount} nodes, ${kb(sum(ta))}\n${b.file}: ${b.nodeCount} nodes, ${kb(sum(tb))}`);
  const rows = [...new Set([...ta.keys(), ...tb.keys()])].map((g) => {
    const x = ta.get(g) ?? { count: 0, size: 0 };
    const y = tb.get(g) ?? { count: 0, size: 0 };
    return { g, dSize: y.size - x.size, dCount: y.count - x.count, size: y.size };
  }).sort((p, q) => Math.abs(q.dSize) - Math.abs(p.dSize));
  console.log('\nself size change by group (largest 30):');
  for (const r of rows.slice(0, 30)) console.log(`  ${(r.dSize >= 0 ? '+' : '') + kb(r.dSize)}`.padEnd(16) + `${(r.dCount >= 0 ? '+' : '') + r.dCount}`.padStart(8) + `  ${r.g}  (now ${kb(r.size)})`);
  const ca = collections(a);
  const cb = collections(b);
  const grown = [...cb.entries()].map(([id, v]) => ({ id, ...v, before: ca.get(id)?.table ?? 0, isNew: !ca.has(id) }))
    .filter((v) => v.table > v.before).sort((p, q) => (q.table - q.before) - (p.table - p.before)).slice(0, 10);
  if (grown.length > 0) {
    const parent = parents(b);
    console.log('\nMaps and Sets whose table grew (largest 10):');
    for (const g of grown) console.log(`  ${kb(g.before)} → ${kb(g.table)} ${g.name}${g.isNew ? ' (new)' : ''}: ${pathTo(b, parent, g.node)}`);
  }
  if (!c) return;
  const idsA = new Set<number>();
  for (let i = 0; i < a.nodeCount; i++) idsA.add(nodeId(a, i));
  const idsB = new Set<number>();
  for (let i = 0; i < b.nodeCount; i++) if (!idsA.has(nodeId(b, i))) idsB.add(nodeId(b, i));
  const kept = new Map<string, { count: number; size: number; sample: number }>();
  for (let i = 0; i < c.nodeCount; i++) {
    if (!idsB.has(nodeId(c, i))) continue;
    const g = group(c, i);
    const k = kept.get(g) ?? { count: 0, size: 0, sample: i };
    k.count++;
    k.size += selfSize(c, i);
    kept.set(g, k);
  }
  const keptRows = [...kept.entries()].sort((p, q) => q[1].size - p[1].size);
  const total = keptRows.reduce((x, [, k]) => x + k.size, 0);
  console.log(`\nfirst seen in ${b.file}, still alive in ${c.file}: ${keptRows.reduce((x, [, k]) => x + k.count, 0)} objects, ${kb(total)}`);
  const parent = parents(c);
  for (const [g, k] of keptRows.slice(0, 25)) {
    console.log(`  ${kb(k.size).padStart(12)} ${String(k.count).padStart(7)}  ${g}`);
    if (!g.startsWith('code') && !g.startsWith('hidden') && !g.startsWith('array (object properties)')) console.log(`        held by: ${pathTo(c, parent, k.sample)}`);
  }
}

const [fa, fb, fc] = process.argv.slice(2);
if (!fa || !fb) {
  console.error('usage: node dist/bench/heap-diff.js A.heapsnapshot B.heapsnapshot [C.heapsnapshot]');
  process.exit(2);
}
report(load(fa), load(fb), fc ? load(fc) : undefined);
