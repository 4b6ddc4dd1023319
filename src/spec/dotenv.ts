// The `.env` / `--env-file` format as docker compose reads it: KEY=VALUE lines, optional
// `export `, `#` comments, single quotes (literal), double quotes (escapes, may span lines,
// ${VAR} substituted), unquoted values (trimmed, ` #` starts a comment, ${VAR} substituted).
// A bare KEY takes its value from the environment when set there. Pure: text in, map out.
import { substitute, TemplateError, type Lookup } from './interpolate.js';

export class DotenvError extends Error {
  constructor(readonly line: number, readonly col: number, message: string) { super(message); }
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*/;

export function parseDotenv(text: string, lookup: Lookup = () => undefined): Map<string, string> {
  const out = new Map<string, string>();
  // the environment first (the shell wins over .env everywhere, inside .env too), then the
  // lines above in this file, as docker compose's dotenv parser does
  const look: Lookup = (n) => lookup(n) ?? out.get(n);
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  const fail = (msg: string, at: number): never => {
    const before = src.slice(0, at);
    throw new DotenvError(before.split('\n').length, at - before.lastIndexOf('\n'), msg);
  };
  while (i < src.length) {
    // skip blank space and comment lines
    const eol0 = src.indexOf('\n', i);
    const rawLine = src.slice(i, eol0 < 0 ? src.length : eol0);
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) { i = eol0 < 0 ? src.length : eol0 + 1; line++; continue; }
    let p = i + (rawLine.length - rawLine.trimStart().length);
    if (src.startsWith('export ', p)) { p += 7; while (src[p] === ' ' || src[p] === '\t') p++; }
    const m = KEY.exec(src.slice(p));
    if (!m) fail(`expected a variable name, found ${JSON.stringify(rawLine.trim().slice(0, 20))}`, p);
    const key = m![0];
    p += key.length;
    while (src[p] === ' ' || src[p] === '\t') p++;
    if (p >= src.length || src[p] === '\n' || src[p] === '#') {
      const v = lookup(key);
      if (v !== undefined) out.set(key, v);
      const e = src.indexOf('\n', p);
      i = e < 0 ? src.length : e + 1; line++;
      continue;
    }
    if (src[p] !== '=' && src[p] !== ':') fail(`expected "=" after ${key}`, p);
    p++;
    while (src[p] === ' ' || src[p] === '\t') p++;
    let value: string;
    const q = src[p];
    if (q === "'" || q === '"') {
      let j = p + 1;
      let raw = '';
      while (j < src.length && src[j] !== q) {
        if (q === '"' && src[j] === '\\' && j + 1 < src.length) { raw += src[j]! + src[j + 1]!; j += 2; continue; }
        raw += src[j]!; j++;
      }
      if (j >= src.length) fail(`unterminated ${q === '"' ? 'double' : 'single'}-quoted value for ${key}`, p);
      if (q === '"') {
        raw = raw.replace(/\\(.)/gs, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c === '\\' ? '\\' : c === '"' ? '"' : c === '$' ? '$$' : '\\' + c));
        value = expand(raw, look, p);
      } else value = raw;
      p = j + 1;
      const e = src.indexOf('\n', p);
      const tail = src.slice(p, e < 0 ? src.length : e).trim();
      if (tail !== '' && !tail.startsWith('#')) fail(`unexpected text after the quoted value of ${key}`, p);
      line += src.slice(i, e < 0 ? src.length : e).split('\n').length - 1;
      i = e < 0 ? src.length : e + 1; line++;
    } else {
      const e = src.indexOf('\n', p);
      let raw = src.slice(p, e < 0 ? src.length : e);
      const hash = raw.search(/\s#/);
      if (hash >= 0) raw = raw.slice(0, hash);
      value = expand(raw.trim(), look, p);
      i = e < 0 ? src.length : e + 1; line++;
    }
    out.set(key, value);
  }
  return out;

  function expand(raw: string, l: Lookup, at: number): string {
    try { return substitute(raw, l); } catch (e) {
      if (e instanceof TemplateError) fail(e.message, at);
      throw e;
    }
    return raw;
  }
}
