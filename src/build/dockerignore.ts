// .dockerignore, with Docker's pattern rules (moby/patternmatcher), pure: no files read here.
//
// - One pattern a line; blank lines and lines starting with '#' are skipped; surrounding
//   whitespace is trimmed. A leading '/' is dropped (patterns are relative to the context root)
//   and the pattern is cleaned like Go's filepath.Clean ("a/./b/../c" is "a/c").
// - `*` matches any run of characters except '/', `?` one character except '/', `[...]` a class,
//   `\` escapes the next character, and `**` matches any number of directories (zero included):
//   "**/*.go" matches "a.go" and "x/y/a.go".
// - A pattern that matches a directory excludes everything below it.
// - A line starting with '!' is an exception: it re-includes what it matches. The last pattern
//   that matches a path decides, so "!keep.txt" must come after the pattern that excluded it.
// - Watch (issue 11) reuses `compileIgnore` for its own ignore lists.
//
// The ignore file for a Dockerfile at PATH is PATH.dockerignore next to it when that exists,
// else .dockerignore at the context root (`ignoreFileCandidates`).
import { posix } from 'node:path';
import { InvalidArgument } from '../lib/errors.js';

export interface IgnorePattern {
  /** the pattern as cleaned */
  readonly text: string;
  readonly exception: boolean;
  readonly regexp: RegExp;
  /** 1-based line in the ignore file, for messages */
  readonly line: number;
}

export interface IgnoreMatcher {
  readonly patterns: readonly IgnorePattern[];
  /** whether `relPath` ("dir/file", no leading "./") is excluded from the context */
  excludes(relPath: string): boolean;
  /**
   * Whether the walk may skip a directory that `excludes()`: true unless an exception could
   * re-include something below it.
   */
  canSkipDirectory(relDir: string): boolean;
}

/** The ignore files to look for, first existing wins: "<dockerfile>.dockerignore", then ".dockerignore". */
export function ignoreFileCandidates(contextDir: string, dockerfilePath: string | undefined): string[] {
  const out: string[] = [];
  if (dockerfilePath !== undefined) out.push(`${dockerfilePath}.dockerignore`);
  out.push(posix.join(contextDir, '.dockerignore'));
  return out;
}

function cleanPattern(p: string): string {
  let s = p;
  while (s.startsWith('/')) s = s.slice(1);
  const cleaned = posix.normalize(s);
  if (cleaned === '.' || cleaned === './') return '.';
  return cleaned.replace(/\/+$/, '').replace(/^\.\//, '');
}

/** Translates one cleaned pattern into an anchored RegExp. `where` names it in errors. */
export function patternRegExp(pattern: string, where: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        while (pattern[i + 1] === '*') i++;
        if (i + 1 >= pattern.length) re += '.*';
        else if (pattern[i + 1] === '/') { i++; re += '(?:.*/)?'; }
        else re += '.*';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\') {
      if (i + 1 >= pattern.length) throw new InvalidArgument(`${where}: pattern "${pattern}" ends with an escape`);
      i++;
      re += pattern[i].replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new InvalidArgument(`${where}: pattern "${pattern}" has an unclosed "["`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else {
      re += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  re += '$';
  try { return new RegExp(re); } catch (err) {
    throw new InvalidArgument(`${where}: pattern "${pattern}" is not valid: ${(err as Error).message}`);
  }
}

/** Compiles the text of an ignore file (or a list of lines). `file` names it in errors. */
export function compileIgnore(text: string | readonly string[], file = '.dockerignore'): IgnoreMatcher {
  const lines = typeof text === 'string' ? text.split(/\r?\n/) : text;
  const patterns: IgnorePattern[] = [];
  lines.forEach((raw, index) => {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let exception = false;
    if (line.startsWith('!')) {
      exception = true;
      line = line.slice(1).trim();
      if (line === '') throw new InvalidArgument(`${file}:${index + 1}: illegal exclusion pattern: "!"`);
    }
    const cleaned = cleanPattern(line);
    patterns.push({ text: cleaned, exception, regexp: patternRegExp(cleaned, `${file}:${index + 1}`), line: index + 1 });
  });
  const matchesOrParent = (p: IgnorePattern, path: string): boolean => {
    if (p.regexp.test(path)) return true;
    // a pattern that matches a parent directory matches everything below it
    let at = path.lastIndexOf('/');
    while (at > 0) {
      const parent = path.slice(0, at);
      if (p.regexp.test(parent)) return true;
      at = parent.lastIndexOf('/');
    }
    return false;
  };
  const exceptions = patterns.filter((p) => p.exception);
  return {
    patterns,
    excludes(relPath: string): boolean {
      let excluded = false;
      for (const p of patterns) {
        if (p.exception === !excluded) continue; // cannot change the verdict
        if (matchesOrParent(p, relPath)) excluded = !p.exception;
      }
      return excluded;
    },
    canSkipDirectory(relDir: string): boolean {
      // an exception whose literal prefix lies inside this dir (or that has wildcards before
      // reaching past it) may re-include something below
      for (const e of exceptions) {
        const literal = e.text.split(/[*?[\\]/)[0];
        if (literal.startsWith(`${relDir}/`) || `${relDir}/`.startsWith(literal) || e.text.startsWith('**')) return false;
      }
      return true;
    },
  };
}
