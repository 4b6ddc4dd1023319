// The subset of Go's text/template that scripts written for docker use with `--format`/`-f`:
//   {{.State.Pid}}  {{.Config.Labels.app}}  {{index .Config.Labels "com.example"}}  {{json .Config}}
//   {{range .Args}}{{.}} {{end}}  {{range $k, $v := .Labels}}…{{end}}  {{if eq .State.Status "running"}}…{{else}}…{{end}}
//   {{with .State}}{{.Pid}}{{end}}  {{$x := .Name}}  {{.Names | upper}}  {{printf "%s:%d" .Name .Pid}}  {{- trim -}}
// Functions: Go's builtins (and, or, not, len, index, print, printf, println, eq, ne, lt, le, gt,
// ge, slice) and Docker's (json, join, split, lower, upper, title, truncate, pad). A missing map
// key prints "<no value>" as Go does; a method on the data (ps's `.Label "key"`) is a function
// value called with its arguments. Pure: the caller prints the result.
import { InvalidArgument } from '../../lib/errors.js';

type Value = unknown;

// ── lexing ───────────────────────────────────────────────────────────────────────────────

type Token =
  | { t: 'field'; path: string[] } // .A.B  (path [] is ".")
  | { t: 'var'; name: string; path: string[] } // $x.A
  | { t: 'ident'; name: string }
  | { t: 'string'; value: string }
  | { t: 'number'; value: number }
  | { t: 'bool'; value: boolean }
  | { t: 'nil' }
  | { t: '|' } | { t: '(' } | { t: ')' } | { t: ',' } | { t: ':=' } | { t: '=' };

function fail(template: string, message: string): never {
  throw new InvalidArgument(`template parsing error: ${message}`, { template });
}

function lexAction(src: string, template: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fieldPath = (): string[] => {
    const path: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      i++;
      let name = '';
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) name += src[i++];
      path.push(name);
    }
    return path;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '|' || c === '(' || c === ')' || c === ',') { tokens.push({ t: c }); i++; continue; }
    if (c === ':' && src[i + 1] === '=') { tokens.push({ t: ':=' }); i += 2; continue; }
    if (c === '=') { tokens.push({ t: '=' }); i++; continue; }
    if (c === '.') {
      if (!/[A-Za-z_]/.test(src[i + 1] ?? '')) { tokens.push({ t: 'field', path: [] }); i++; continue; }
      tokens.push({ t: 'field', path: fieldPath() });
      continue;
    }
    if (c === '$') {
      i++;
      let name = '';
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) name += src[i++];
      tokens.push({ t: 'var', name, path: fieldPath() });
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let raw = '"';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') raw += src[j++];
        raw += src[j++];
      }
      if (j >= src.length) fail(template, 'unterminated quoted string');
      raw += '"';
      try { tokens.push({ t: 'string', value: JSON.parse(raw) as string }); } catch { fail(template, `bad string ${raw}`); }
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) fail(template, 'unterminated raw string');
      tokens.push({ t: 'string', value: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(src.slice(i));
      if (!m) fail(template, `bad number near "${src.slice(i, i + 10)}"`);
      tokens.push({ t: 'number', value: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let name = '';
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) name += src[i++];
      if (name === 'true' || name === 'false') tokens.push({ t: 'bool', value: name === 'true' });
      else if (name === 'nil') tokens.push({ t: 'nil' });
      else tokens.push({ t: 'ident', name });
      // a field access right after a call's closing: ident.Field is not Go; leave it to the parser
      continue;
    }
    fail(template, `unexpected "${c}" in action`);
  }
  return tokens;
}

// ── parsing ──────────────────────────────────────────────────────────────────────────────

type Operand =
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'lit'; value: Value }
  | { k: 'call'; name: string }
  | { k: 'pipe'; pipe: Pipeline };
/** one command of a pipeline: an operand, or a function/method with its arguments */
type Command = readonly Operand[];
interface Pipeline { readonly decl?: { readonly names: readonly string[]; readonly assign: boolean }; readonly commands: readonly Command[] }

type Node =
  | { n: 'text'; text: string }
  | { n: 'out'; pipe: Pipeline }
  | { n: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { n: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { n: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] };

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[], private readonly template: string) {}

  pipeline(): Pipeline {
    let decl: Pipeline['decl'];
    // $x := …  |  $i, $e := …  |  $x = …
    const save = this.pos;
    const names: string[] = [];
    while (this.peek()?.t === 'var') {
      const v = this.tokens[this.pos] as Extract<Token, { t: 'var' }>;
      if (v.path.length > 0) break;
      names.push(v.name);
      this.pos++;
      if (this.peek()?.t === ',') { this.pos++; continue; }
      break;
    }
    const op = this.peek();
    if (names.length > 0 && (op?.t === ':=' || op?.t === '=')) {
      this.pos++;
      decl = { names, assign: op.t === '=' };
    } else {
      this.pos = save;
    }
    const commands: Command[] = [];
    for (;;) {
      const cmd: Operand[] = [];
      while (this.peek() && this.peek()!.t !== '|' && this.peek()!.t !== ')') cmd.push(this.operand());
      if (cmd.length === 0) fail(this.template, 'missing value for command');
      commands.push(cmd);
      if (this.peek()?.t !== '|') break;
      this.pos++;
    }
    return { ...(decl ? { decl } : {}), commands };
  }

  operand(): Operand {
    const tok = this.tokens[this.pos++]!;
    switch (tok.t) {
      case 'field': return { k: 'field', path: tok.path };
      case 'var': return { k: 'var', name: tok.name, path: tok.path };
      case 'string': case 'number': case 'bool': return { k: 'lit', value: tok.value };
      case 'nil': return { k: 'lit', value: null };
      case 'ident': return { k: 'call', name: tok.name };
      case '(': {
        const pipe = this.pipeline();
        if (this.tokens[this.pos++]?.t !== ')') fail(this.template, 'unclosed left paren');
        return { k: 'pipe', pipe };
      }
      default: return fail(this.template, `unexpected "${tok.t}" in operand`);
    }
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  done(): void {
    if (this.pos < this.tokens.length) fail(this.template, `unexpected "${this.tokens[this.pos]!.t}" after the pipeline`);
  }
}

function parsePipeline(src: string, template: string): Pipeline {
  const p = new Parser(lexAction(src, template), template);
  const pipe = p.pipeline();
  p.done();
  return pipe;
}

/** Splits the template into text and actions, applying the {{- and -}} trim markers. */
function parse(template: string): Node[] {
  const parts: ({ text: string } | { action: string })[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open < 0) { parts.push({ text: template.slice(i) }); break; }
    let text = template.slice(i, open);
    let start = open + 2;
    if (template[start] === '-' && /\s/.test(template[start + 1] ?? '')) { text = text.replace(/\s+$/, ''); start += 1; }
    parts.push({ text });
    const close = template.indexOf('}}', start);
    if (close < 0) fail(template, 'unclosed action');
    let end = close;
    let after = close + 2;
    if (template[close - 1] === '-' && /\s/.test(template[close - 2] ?? '')) {
      end = close - 1;
      while (after < template.length && /\s/.test(template[after]!)) after++;
    }
    parts.push({ action: template.slice(start, end).trim() });
    i = after;
  }

  let at = 0;
  const block = (stops: readonly string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (at < parts.length) {
      const part = parts[at++]!;
      if ('text' in part) { if (part.text !== '') nodes.push({ n: 'text', text: part.text }); continue; }
      const a = part.action;
      if (a.startsWith('/*')) continue; // a comment
      const word = /^(\w+)\b/.exec(a)?.[1];
      if (word === 'end' || word === 'else') {
        if (!stops.includes(word)) fail(template, `unexpected {{${a}}}`);
        return { nodes, stop: a };
      }
      if (word === 'if') {
        const branches = [{ cond: parsePipeline(a.slice(2), template), body: [] as Node[] }];
        let otherwise: Node[] = [];
        for (;;) {
          const r = block(['end', 'else']);
          branches[branches.length - 1]!.body = r.nodes;
          if (r.stop === 'end') break;
          const rest = r.stop.slice(4).trim();
          if (rest.startsWith('if ')) { branches.push({ cond: parsePipeline(rest.slice(3), template), body: [] }); continue; }
          otherwise = block(['end']).nodes;
          break;
        }
        nodes.push({ n: 'if', branches, otherwise });
        continue;
      }
      if (word === 'range' || word === 'with') {
        const pipe = parsePipeline(a.slice(word.length), template);
        const r = block(['end', 'else']);
        const otherwise = r.stop === 'end' ? [] : block(['end']).nodes;
        nodes.push({ n: word, pipe, body: r.nodes, otherwise });
        continue;
      }
      nodes.push({ n: 'out', pipe: parsePipeline(a, template) });
    }
    if (stops.length > 0) fail(template, 'unexpected EOF: a block was not closed with {{end}}');
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

// ── evaluation ───────────────────────────────────────────────────────────────────────────

/** "<no value>": what Go prints for a missing map key. */
const NO_VALUE = Symbol('no value');

function isObject(v: Value): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function truth(v: Value): boolean {
  if (v === null || v === undefined || v === NO_VALUE || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's fmt %v of a decoded JSON value. */
export function formatValue(v: Value): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (isObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${formatValue(v[k])}`).join(' ')}]`;
  return String(v);
}

/** Go's json.Marshal: compact, with <, > and & escaped. */
function goJson(v: Value): string {
  return JSON.stringify(v === NO_VALUE ? null : v ?? null).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new InvalidArgument(`template: incompatible types for comparison: ${typeof a} and ${typeof b}`);
}

function sprintf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([svdqtfxX%])/g, (_m, flags: string, width: string, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const a = args[n++];
    let s: string;
    switch (verb) {
      case 'd': s = String(Math.trunc(Number(a))); break;
      case 'f': s = Number(a).toFixed(precision !== undefined ? Number(precision) : 6); break;
      case 'q': s = JSON.stringify(formatValue(a)); break;
      case 'x': case 'X': s = typeof a === 'number' ? a.toString(16) : Buffer.from(formatValue(a)).toString('hex'); if (verb === 'X') s = s.toUpperCase(); break;
      default: s = formatValue(a);
    }
    const w = Number(width || 0);
    return flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') && verb !== 's' ? '0' : ' ');
  });
}

const FUNCTIONS: Readonly<Record<string, (...args: Value[]) => Value>> = {
  and: (...a) => a.find((x) => !truth(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truth(x)) ?? a[a.length - 1],
  not: (a) => !truth(a),
  len: (a) => (typeof a === 'string' || Array.isArray(a) ? a.length : isObject(a) ? Object.keys(a).length : 0),
  index: (a, ...keys) => {
    let v = a;
    for (const k of keys) {
      if (Array.isArray(v) && typeof k === 'number') v = v[k];
      else if (isObject(v) && typeof k === 'string') v = Object.hasOwn(v, k) ? v[k] : NO_VALUE;
      else throw new InvalidArgument(`template: can't index ${formatValue(v)} with ${formatValue(k)}`);
    }
    return v;
  },
  slice: (a, start, end) => (typeof a === 'string' || Array.isArray(a) ? a.slice(Number(start ?? 0), end === undefined ? undefined : Number(end)) : a),
  print: (...a) => a.map(formatValue).join(''),
  println: (...a) => `${a.map(formatValue).join(' ')}\n`,
  printf: (f, ...a) => sprintf(String(f), a),
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  json: (a) => goJson(a),
  join: (a, sep) => (Array.isArray(a) ? a.map(formatValue).join(String(sep)) : formatValue(a)),
  split: (a, sep) => String(a).split(String(sep)),
  lower: (a) => formatValue(a).toLowerCase(),
  upper: (a) => formatValue(a).toUpperCase(),
  title: (a) => formatValue(a).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (a, n) => { const s = formatValue(a); return s.length > Number(n) ? s.slice(0, Number(n)) : s; },
  pad: (a, before, after) => `${' '.repeat(Number(before))}${formatValue(a)}${' '.repeat(Number(after))}`,
};

class Evaluator {
  private readonly vars: Map<string, Value>[];
  constructor(root: Value, private readonly template: string) {
    this.vars = [new Map([['', root]])];
  }

  private lookupVar(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.has(name)) return this.vars[i]!.get(name);
    return fail(this.template, `undefined variable: $${name}`);
  }

  private field(base: Value, path: readonly string[], args: Value[] = []): Value {
    let v = base;
    for (const [i, name] of path.entries()) {
      if (v === NO_VALUE || v === null || v === undefined) return NO_VALUE;
      if (!isObject(v)) throw new InvalidArgument(`template: can't evaluate field ${name} in type ${Array.isArray(v) ? 'slice' : typeof v}`);
      const next = Object.hasOwn(v, name) ? v[name] : NO_VALUE;
      v = typeof next === 'function' ? (next as (...a: Value[]) => Value)(...(i === path.length - 1 ? args : [])) : next;
    }
    return v;
  }

  private operand(o: Operand, dot: Value): Value {
    switch (o.k) {
      case 'field': return this.field(dot, o.path);
      case 'var': return this.field(this.lookupVar(o.name), o.path);
      case 'lit': return o.value;
      case 'pipe': return this.pipeline(o.pipe, dot);
      case 'call': return this.call(o.name, [], dot);
    }
  }

  private call(name: string, args: Value[], _dot: Value): Value {
    const fn = FUNCTIONS[name];
    if (!fn) fail(this.template, `function "${name}" not defined`);
    return fn(...args);
  }

  private command(cmd: Command, dot: Value, piped: Value | typeof NOTHING): Value {
    const [head, ...rest] = cmd;
    const args = rest.map((o) => this.operand(o, dot));
    if (piped !== NOTHING) args.push(piped);
    if (head!.k === 'call') return this.call(head!.name, args, dot);
    if (args.length > 0) {
      // a method with arguments: .Label "key"
      if (head!.k === 'field' && head!.path.length > 0) return this.field(dot, head!.path, args);
      if (head!.k === 'var' && head!.path.length > 0) return this.field(this.lookupVar(head!.name), head!.path, args);
      fail(this.template, `can't give argument to non-function ${head!.k === 'lit' ? formatValue(head!.value) : 'value'}`);
    }
    return this.operand(head!, dot);
  }

  pipeline(p: Pipeline, dot: Value): Value {
    let v: Value | typeof NOTHING = NOTHING;
    for (const cmd of p.commands) v = this.command(cmd, dot, v);
    if (p.decl) {
      const scope = this.vars[this.vars.length - 1]!;
      if (p.decl.assign) {
        for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.has(p.decl.names[0]!)) { this.vars[i]!.set(p.decl.names[0]!, v); break; }
      } else {
        scope.set(p.decl.names[p.decl.names.length - 1]!, v);
      }
    }
    return v;
  }

  run(nodes: readonly Node[], dot: Value, out: string[]): void {
    for (const node of nodes) {
      switch (node.n) {
        case 'text': out.push(node.text); break;
        case 'out': {
          const v = this.pipeline(node.pipe, dot);
          if (!node.pipe.decl) out.push(formatValue(v));
          break;
        }
        case 'if': {
          const hit = node.branches.find((b) => truth(this.scoped(() => this.pipeline(b.cond, dot))));
          this.scoped(() => this.run(hit ? hit.body : node.otherwise, dot, out));
          break;
        }
        case 'with': {
          this.scoped(() => {
            const v = this.pipeline({ commands: node.pipe.commands }, dot);
            if (node.pipe.decl) this.vars[this.vars.length - 1]!.set(node.pipe.decl.names[0]!, v);
            this.run(truth(v) ? node.body : node.otherwise, truth(v) ? v : dot, out);
          });
          break;
        }
        case 'range': {
          this.scoped(() => {
            const v = this.pipeline({ commands: node.pipe.commands }, dot);
            const entries: [Value, Value][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : isObject(v) ? Object.keys(v).sort().map((k) => [k, v[k]]) : typeof v === 'number' ? Array.from({ length: v }, (_x, i) => [i, i]) : [];
            if (entries.length === 0) { this.run(node.otherwise, dot, out); return; }
            const names = node.pipe.decl?.names ?? [];
            for (const [k, x] of entries) {
              this.scoped(() => {
                const scope = this.vars[this.vars.length - 1]!;
                if (names.length === 1) scope.set(names[0]!, x);
                if (names.length === 2) { scope.set(names[0]!, k); scope.set(names[1]!, x); }
                this.run(node.body, x, out);
              });
            }
          });
          break;
        }
      }
    }
  }

  private scoped<T>(body: () => T): T {
    this.vars.push(new Map());
    try { return body(); } finally { this.vars.pop(); }
  }
}

const NOTHING = Symbol('nothing piped');

export interface Template {
  /** the output for one value (the template's dot) */
  render(data: Value): string;
}

/** Parses a template once; render() it for each value. Errors are InvalidArgument. */
export function compileTemplate(template: string): Template {
  const nodes = parse(template);
  return {
    render(data) {
      const out: string[] = [];
      new Evaluator(data, template).run(nodes, data, out);
      return out.join('');
    },
  };
}

/**
 * docker's `--format` for list commands: "table" alone (the default table), "json" (one JSON
 * object a line), "table TEMPLATE" (a header row from `headers`, columns aligned as tabwriter
 * does), or a TEMPLATE rendered once per row.
 */
export function formatRows(format: string, rows: readonly Record<string, unknown>[], headers: Readonly<Record<string, string>>): string {
  if (format === 'json') return rows.map((r) => `${goJson(plain(r))}\n`).join('');
  const isTable = format.startsWith('table');
  const body = isTable ? format.slice(5).trim() : format;
  const t = compileTemplate(body.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  const lines = rows.map((r) => t.render(r));
  if (!isTable) return lines.map((l) => `${l}\n`).join('');
  const headerRow = t.render(Object.fromEntries(Object.entries(headers).map(([k, h]) => [k, typeof rows[0]?.[k] === 'function' ? () => h : h])));
  return tabwriter([headerRow, ...lines]);
}

/** The non-function fields of a row (methods are for templates only). */
function plain(r: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => typeof v !== 'function'));
}

/** Go's tabwriter as docker configures it: cells padded to the column's widest, 3 spaces apart. */
export function tabwriter(lines: readonly string[]): string {
  const cells = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => { if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return cells.map((row) => row.map((c, i) => (i < row.length - 1 ? c.padEnd(widths[i]! + 3) : c)).join('').trimEnd()).join('\n') + '\n';
}
