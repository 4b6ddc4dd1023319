// Dockerfile word processing (pure): quotes, the escape character and variable substitution, as
// Docker's shell lexer applies them to ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER,
// VOLUME, WORKDIR and ARG (RUN, CMD and ENTRYPOINT are left to the shell).
//   $name  ${name}  ${name:-word}  ${name-word}  ${name:+word}  ${name+word}  ${name:?msg}
// Single quotes are literal; double quotes keep spaces and allow substitution; the escape
// character (\ or `) makes the next character literal.
import { InvalidArgument } from '../lib/errors.js';

export type Scope = ReadonlyMap<string, string>;

interface Lexed { words: string[] }

function lex(text: string, scope: Scope | undefined, escape: string, where: string, split: boolean): Lexed {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = text.length;
  const readVar = (quoted: boolean): string => {
    // at text[i] === '$'
    i++;
    if (i >= n) return '$';
    if (text[i] === '{') {
      const close = findClose(text, i + 1);
      if (close < 0) throw new InvalidArgument(`${where}: missing "}" in "${text}"`);
      const body = text.slice(i + 1, close);
      i = close + 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])(.*))?$/s.exec(body);
      if (!m) throw new InvalidArgument(`${where}: bad substitution "\${${body}}"`);
      const [, name, op, arg] = m;
      const value = scope?.get(name);
      if (scope === undefined) return `\${${body}}`;
      const nested = (w: string) => lex(w, scope, escape, where, false).words.join('');
      switch (op) {
        case undefined: return value ?? '';
        case ':-': return value !== undefined && value !== '' ? value : nested(arg);
        case '-': return value !== undefined ? value : nested(arg);
        case ':+': return value !== undefined && value !== '' ? nested(arg) : '';
        case '+': return value !== undefined ? nested(arg) : '';
        case ':?': case '?':
          if (value === undefined || (op === ':?' && value === '')) throw new InvalidArgument(`${where}: ${name}: ${arg || 'is not set'}`);
          return value;
        default: return '';
      }
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) return '$';
    i += m[0].length;
    if (scope === undefined) return `$${m[0]}`;
    void quoted;
    return scope.get(m[0]) ?? '';
  };
  while (i < n) {
    const ch = text[i];
    if (split && /\s/.test(ch)) {
      if (inWord) { words.push(word); word = ''; inWord = false; }
      i++;
      continue;
    }
    inWord = true;
    if (ch === escape) {
      if (i + 1 < n) word += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new InvalidArgument(`${where}: unmatched single quote in "${text}"`);
      word += text.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (ch === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i];
        if (c === '"') { closed = true; i++; break; }
        if (c === escape && i + 1 < n && (text[i + 1] === '"' || text[i + 1] === '$' || text[i + 1] === escape)) { word += text[i + 1]; i += 2; continue; }
        if (c === '$') { word += readVar(true); continue; }
        word += c;
        i++;
      }
      if (!closed) throw new InvalidArgument(`${where}: unmatched double quote in "${text}"`);
      continue;
    }
    if (ch === '$') { word += readVar(false); continue; }
    word += ch;
    i++;
  }
  if (inWord) words.push(word);
  return { words };
}

function findClose(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Splits on unquoted whitespace, removing quotes and substituting variables (when `scope` is given). */
export function splitWords(text: string, scope: Scope | undefined, escape: string, where: string): string[] {
  return lex(text, scope, escape, where, true).words;
}

/** One word: quotes removed, variables substituted, spaces kept. */
export function expandWord(text: string, scope: Scope | undefined, escape: string, where: string): string {
  return lex(text.trim(), scope, escape, where, false).words.join('');
}

/** KEY=VALUE pairs (ENV, LABEL, ARG). `legacy`: "ENV KEY the rest" when the first word has no '='. */
export function parsePairs(text: string, scope: Scope | undefined, escape: string, where: string, opts: { legacy: boolean; valueOptional?: boolean }): [string, string | undefined][] {
  const trimmed = text.trim();
  const first = /^\S+/.exec(trimmed)?.[0] ?? '';
  if (opts.legacy && first !== '' && !first.includes('=')) {
    const rest = trimmed.slice(first.length).trim();
    if (rest === '' && !opts.valueOptional) throw new InvalidArgument(`${where}: ${first} needs a value`);
    return [[first, rest === '' ? undefined : expandWord(rest, scope, escape, where)]];
  }
  return splitWords(trimmed, scope, escape, where).map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) {
      if (opts.valueOptional) return [w, undefined];
      throw new InvalidArgument(`${where}: "${w}" is not KEY=VALUE`);
    }
    if (eq === 0) throw new InvalidArgument(`${where}: "${w}" has an empty key`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}
