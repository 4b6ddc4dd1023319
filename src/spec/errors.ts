// SpecError: everything wrong with a compose project, each problem located in its file.
// The message is the whole human-readable text (file:line:col, key path, expected/found and a
// code frame), so cli/main only has to print it.
import { BerthError } from '../lib/errors.js';

export interface SpecIssue {
  /** file the problem is in ('' when it is not tied to a file, e.g. a flag) */
  readonly file: string;
  /** 1-based; 0 when unknown */
  readonly line: number;
  readonly col: number;
  /** e.g. services.web.ports[1] ('' for the whole document) */
  readonly keyPath: string;
  readonly expected: string;
  readonly found: string;
  /** optional extra sentence (e.g. the spec rule broken) */
  readonly note?: string;
  /** rendered code frame around line:col ('' when the source is not known) */
  readonly frame?: string;
}

export class SpecError extends BerthError {
  readonly issues: readonly SpecIssue[];
  constructor(issues: readonly SpecIssue[]) {
    super('SPEC', renderIssues(issues), { issues });
    this.name = 'SpecError';
    this.issues = issues;
  }
}

export function renderIssue(i: SpecIssue): string {
  const where = i.file ? `${i.file}${i.line > 0 ? `:${i.line}:${i.col}` : ''}` : '';
  const head = [where, i.keyPath].filter((s) => s !== '').join(': ');
  let text = `${head ? head + ': ' : ''}expected ${i.expected}, found ${i.found}`;
  if (i.note) text += `\n  ${i.note}`;
  if (i.frame) text += `\n${i.frame}`;
  return text;
}

export function renderIssues(issues: readonly SpecIssue[]): string {
  if (issues.length === 0) return 'invalid compose project';
  const n = issues.length;
  const title = n === 1 ? 'invalid compose project: 1 problem' : `invalid compose project: ${n} problems`;
  return `${title}\n\n${issues.map(renderIssue).join('\n\n')}`;
}

/** A code frame: two lines of context before, the line, and a caret under the column. */
export function codeFrame(source: string, line: number, col: number): string {
  if (line <= 0) return '';
  const lines = source.split(/\r?\n/);
  if (line > lines.length) return '';
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 1);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    let text = lines[n - 1] ?? '';
    if (text.length > 160) text = text.slice(0, 157) + '...';
    const mark = n === line ? '>' : ' ';
    out.push(`${mark} ${String(n).padStart(width)} | ${text}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, Math.min(col - 1, 160)))}^`);
  }
  return out.join('\n');
}

/** A string as JSON, cut to about 60 characters (a found value may be megabytes long). */
export function quoteShort(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 57) + '...' : s);
}

/** Describes a found value shortly, for "found ..." texts. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v.length > 60 ? `string ${JSON.stringify(v.slice(0, 57) + '...')}` : `string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}
