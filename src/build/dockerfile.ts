// The Dockerfile parser (pure: text in, a checked syntax tree out; nothing is substituted here
// except what the syntax itself needs). Every error names the file and line.
//
// What it reads, in order:
// 1. Parser directives at the very top (`# syntax=…` accepted and ignored, `# escape=\` or
//    `# escape=``, `# check=…` ignored); the first line that is not a directive ends them.
// 2. Comment lines (first non-blank character '#') and blank lines are skipped, also between
//    the lines of a continuation.
// 3. A line ending in the escape character continues on the next line.
// 4. RUN, COPY and ADD may carry heredocs (`<<EOF`, `<<-EOF` strips leading tabs, a quoted
//    delimiter `<<"EOF"` turns substitution off); their bodies are the lines up to the
//    delimiter line.
// 5. Flags (`--from=…`) are checked against each instruction's own list; JSON (exec) form is
//    recognised for RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME and HEALTHCHECK CMD.
// Instructions before the first FROM may only be ARG (the global args).
import { InvalidArgument } from '../lib/errors.js';
import { parsePairs, splitWords } from './words.js';

export const KEYWORDS = [
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME',
  'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
] as const;
export type Keyword = typeof KEYWORDS[number];

/** Flags each instruction accepts; `true` marks a flag that may be given without a value. */
const FLAGS: Partial<Record<Keyword, Record<string, boolean>>> = {
  FROM: { platform: false },
  RUN: { mount: false, network: false, security: false },
  COPY: { from: false, chown: false, chmod: false, link: true, exclude: false, parents: true },
  ADD: { chown: false, chmod: false, link: true, exclude: false, 'keep-git-dir': true, checksum: false },
  HEALTHCHECK: { interval: false, timeout: false, 'start-period': false, 'start-interval': false, retries: false },
};
/** Flags that may be given more than once. */
const REPEATABLE = new Set(['mount', 'exclude']);

export interface Heredoc {
  readonly name: string;
  /** the body, each line ending in "\n" */
  readonly content: string;
  /** false when the delimiter was quoted: no substitution in the body */
  readonly expand: boolean;
}

export interface Instruction {
  readonly keyword: Keyword;
  /** --name=value flags (a value-less flag has "true") */
  readonly flags: Readonly<Record<string, readonly string[]>>;
  /** the arguments after the flags, continuations joined */
  readonly args: string;
  /** the exec form, when the arguments are a JSON array of strings */
  readonly json?: readonly string[];
  readonly heredocs: readonly Heredoc[];
  /** ONBUILD's instruction */
  readonly trigger?: Instruction;
  readonly file: string;
  readonly line: number;
  /** "RUN make all": for history and the build cache */
  readonly text: string;
}

export interface Stage {
  readonly index: number;
  /** the AS name, lower-case */
  readonly name?: string;
  /** the FROM argument as written (substituted at build time with the global args) */
  readonly base: string;
  readonly platform?: string;
  readonly from: Instruction;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly file: string;
  readonly escape: string;
  readonly syntax?: string;
  /** ARGs before the first FROM */
  readonly globalArgs: readonly Instruction[];
  readonly stages: readonly Stage[];
}

/** Bounds for hostile input. */
export const MAX_DOCKERFILE_BYTES = 4 * 1024 * 1024;
export const MAX_INSTRUCTIONS = 10_000;

function fail(file: string, line: number, why: string): never {
  throw new InvalidArgument(`${file}:${line}: ${why}`);
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  if (Buffer.byteLength(text) > MAX_DOCKERFILE_BYTES) fail(file, 1, `larger than ${MAX_DOCKERFILE_BYTES} bytes`);
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  let escape = '\\';
  let syntax: string | undefined;
  let i = 0;
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]);
    if (!m) break;
    const name = m[1].toLowerCase();
    if (!['syntax', 'escape', 'check'].includes(name)) break;
    if (seen.has(name)) fail(file, i + 1, `parser directive "${name}" given twice`);
    seen.add(name);
    if (name === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') fail(file, i + 1, `invalid escape token "${m[2]}": it must be \\ or \``);
      escape = m[2];
    } else if (name === 'syntax') {
      syntax = m[2];
    }
  }

  const isSkippable = (l: string) => l.trim() === '' || l.trimStart().startsWith('#');
  const instructions: Instruction[] = [];
  while (i < lines.length) {
    if (isSkippable(lines[i])) { i++; continue; }
    const start = i + 1;
    let logical = '';
    let line = lines[i];
    for (;;) {
      const trimmed = line.replace(/\s+$/, '');
      if (trimmed.endsWith(escape) && !trimmed.endsWith(escape + escape)) {
        logical += trimmed.slice(0, -1);
        i++;
        while (i < lines.length && isSkippable(lines[i])) i++;
        if (i >= lines.length) break;
        line = lines[i];
        continue;
      }
      logical += line;
      i++;
      break;
    }
    const m = /^\s*(\S+)\s*(.*)$/s.exec(logical);
    if (!m) continue;
    const instruction = parseInstruction(m[1], m[2], file, start, escape, () => {
      // heredoc bodies: the next lines, up to the delimiter
      return { lines, next: () => i, advance: (to: number) => { i = to; } };
    });
    instructions.push(instruction);
    if (instructions.length > MAX_INSTRUCTIONS) fail(file, start, `more than ${MAX_INSTRUCTIONS} instructions`);
  }

  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  let current: { from: Instruction; base: string; name?: string; platform?: string; instructions: Instruction[] } | undefined;
  const names = new Set<string>();
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      if (current) stages.push({ index: stages.length, ...current });
      const words = ins.args.trim().split(/\s+/);
      if (words.length !== 1 && !(words.length === 3 && words[1].toLowerCase() === 'as')) {
        fail(file, ins.line, 'FROM takes an image and optionally "AS name"');
      }
      if (words[0] === '') fail(file, ins.line, 'FROM needs an image');
      let name: string | undefined;
      if (words.length === 3) {
        name = words[2].toLowerCase();
        if (!/^[a-z][a-z0-9_.-]*$/.test(name)) fail(file, ins.line, `invalid stage name "${words[2]}": it must start with a letter and hold only letters, digits, "_", "." and "-"`);
        if (names.has(name)) fail(file, ins.line, `duplicate stage name "${name}"`);
        names.add(name);
      }
      current = { from: ins, base: words[0], ...(name ? { name } : {}), ...(ins.flags.platform ? { platform: ins.flags.platform[0] } : {}), instructions: [] };
      continue;
    }
    if (!current) {
      if (ins.keyword !== 'ARG') fail(file, ins.line, `${ins.keyword} before the first FROM: only ARG may come before FROM`);
      globalArgs.push(ins);
      continue;
    }
    current.instructions.push(ins);
  }
  if (current) stages.push({ index: stages.length, ...current });
  if (stages.length === 0) fail(file, 1, 'no FROM instruction: a Dockerfile must start a stage with FROM');
  return { file, escape, ...(syntax !== undefined ? { syntax } : {}), globalArgs, stages };
}

interface HeredocReader { lines: string[]; next(): number; advance(to: number): void }

function parseInstruction(word: string, rest: string, file: string, line: number, escape: string, reader: () => HeredocReader, nested = false): Instruction {
  const keyword = word.toUpperCase() as Keyword;
  if (!(KEYWORDS as readonly string[]).includes(keyword)) fail(file, line, `unknown instruction: ${word}`);
  // flags
  const flags: Record<string, string[]> = {};
  let args = rest;
  const allowed = FLAGS[keyword] ?? {};
  for (;;) {
    const fm = /^--([a-z][a-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(args);
    if (!fm) break;
    const [all, name, value] = fm;
    if (!(name in allowed)) fail(file, line, `unknown flag --${name} for ${keyword}`);
    if (value === undefined && !allowed[name]) fail(file, line, `--${name} needs a value (--${name}=…)`);
    if (flags[name] && !REPEATABLE.has(name)) fail(file, line, `--${name} given twice`);
    (flags[name] ??= []).push(value ?? 'true');
    args = args.slice(all.length);
  }
  args = args.trim();
  // heredocs
  const heredocs: Heredoc[] = [];
  if ((keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') && !nested) {
    const r = reader();
    let at = r.next();
    for (const m of args.matchAll(HEREDOC)) {
      const [, strip, quote, name] = m;
      const body: string[] = [];
      let closed = false;
      for (; at < r.lines.length; at++) {
        const l = strip ? r.lines[at].replace(/^\t+/, '') : r.lines[at];
        if (l === name) { closed = true; at++; break; }
        body.push(l);
      }
      if (!closed) fail(file, line, `heredoc <<${name} is not terminated: no line "${name}" follows`);
      heredocs.push({ name, content: body.map((b) => `${b}\n`).join(''), expand: quote === '' });
    }
    r.advance(at);
  }
  // exec form
  let json: string[] | undefined;
  if (args.startsWith('[') && ['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME'].includes(keyword)) {
    try {
      const parsed: unknown = JSON.parse(args);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) json = parsed as string[];
    } catch { /* shell form, as docker treats a malformed array */ }
  }
  const text = `${keyword}${Object.entries(flags).map(([k, vs]) => vs.map((v) => ` --${k}${v === 'true' ? '' : `=${v}`}`).join('')).join('')}${args === '' ? '' : ` ${args}`}`;
  const where = `${file}:${line}`;
  const base = { keyword, flags, args, ...(json ? { json } : {}), heredocs, file, line, text };
  switch (keyword) {
    case 'RUN':
      if (args === '' && heredocs.length === 0) fail(file, line, 'RUN needs a command');
      break;
    case 'CMD': case 'ENTRYPOINT':
      break;
    case 'SHELL':
      if (!json || json.length === 0) fail(file, line, 'SHELL needs a JSON array: SHELL ["/bin/sh", "-c"]');
      break;
    case 'COPY': case 'ADD': {
      const count = json ? json.length : splitWords(args, undefined, escape, where).length;
      if (count < 2 && !(count >= 1 && heredocs.length > 0)) fail(file, line, `${keyword} needs at least one source and a destination`);
      break;
    }
    case 'ENV':
      if (args === '') fail(file, line, 'ENV needs KEY=VALUE');
      parsePairs(args, undefined, escape, where, { legacy: true });
      break;
    case 'LABEL':
      if (args === '') fail(file, line, 'LABEL needs KEY=VALUE');
      parsePairs(args, undefined, escape, where, { legacy: false });
      break;
    case 'ARG':
      if (args === '') fail(file, line, 'ARG needs a name');
      for (const [name] of parsePairs(args, undefined, escape, where, { legacy: false, valueOptional: true })) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(file, line, `invalid ARG name "${name}"`);
      }
      break;
    case 'EXPOSE': case 'VOLUME': case 'USER': case 'WORKDIR': case 'STOPSIGNAL': case 'MAINTAINER':
      if (args === '') fail(file, line, `${keyword} needs an argument`);
      break;
    case 'HEALTHCHECK': {
      const first = args.split(/\s+/)[0].toUpperCase();
      if (first === 'NONE') { if (args.trim().toUpperCase() !== 'NONE') fail(file, line, 'HEALTHCHECK NONE takes no arguments'); break; }
      if (first !== 'CMD') fail(file, line, 'HEALTHCHECK needs CMD or NONE');
      if (args.slice(3).trim() === '') fail(file, line, 'HEALTHCHECK CMD needs a command');
      break;
    }
    case 'ONBUILD': {
      if (nested) fail(file, line, 'ONBUILD cannot be nested');
      const m = /^(\S+)\s*(.*)$/s.exec(args);
      if (!m) fail(file, line, 'ONBUILD needs an instruction');
      const inner = m[1].toUpperCase();
      if (inner === 'ONBUILD' || inner === 'FROM' || inner === 'MAINTAINER') fail(file, line, `${inner} is not allowed as an ONBUILD trigger`);
      return { ...base, trigger: parseInstruction(m[1], m[2], file, line, escape, reader, true) };
    }
    case 'FROM':
      break;
  }
  return base;
}

/** The stages `target` needs (itself, its FROM chain and every COPY --from / RUN --mount from), in file order. */
export function neededStages(df: Dockerfile, target: Stage, replaced: (s: Stage) => boolean = () => false): Stage[] {
  const need = new Set<number>();
  const visit = (s: Stage) => {
    if (need.has(s.index)) return;
    need.add(s.index);
    // a stage a named build context replaces needs nothing of its own
    if (replaced(s)) return;
    const dep = stageByRef(df, s.base, s.index);
    if (dep) visit(dep);
    for (const ins of s.instructions) {
      for (const from of [...(ins.flags.from ?? []), ...(ins.flags.mount ?? []).map((m) => /(?:^|,)from=([^,]+)/.exec(m)?.[1]).filter((x): x is string => x !== undefined)]) {
        const d = stageByRef(df, from, s.index);
        if (d) visit(d);
      }
    }
  };
  visit(target);
  return df.stages.filter((s) => need.has(s.index));
}

/** A stage named by `ref` (its AS name or its index) among those before `before`. */
export function stageByRef(df: Dockerfile, ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = df.stages.find((s) => s.index < before && s.name === lower);
  if (byName) return byName;
  if (/^\d+$/.test(ref) && Number(ref) < before) return df.stages[Number(ref)];
  return undefined;
}
