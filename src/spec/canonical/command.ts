// command / entrypoint: a list stays as written; a string is split the way a POSIX shell splits
// words (quotes and backslashes), without expansion.
import { FormError } from './form-error.js';

export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '', inWord = false, i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) { out.push(cur); cur = ''; inWord = false; }
      i++; continue;
    }
    inWord = true;
    if (c === '\\') {
      if (i + 1 < s.length) { if (s[i + 1] !== '\n') cur += s[i + 1]; i += 2; } else { i++; }
      continue;
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new FormError('a command with balanced quotes', JSON.stringify(s), 'unterminated single quote');
      cur += s.slice(i + 1, end); i = end + 1; continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= s.length) throw new FormError('a command with balanced quotes', JSON.stringify(s), 'unterminated double quote');
        const d = s[j]!;
        if (d === '"') break;
        if (d === '\\' && j + 1 < s.length && '"\\$`\n'.includes(s[j + 1]!)) { if (s[j + 1] !== '\n') cur += s[j + 1]; j += 2; continue; }
        cur += d; j++;
      }
      i = j + 1; continue;
    }
    cur += c; i++;
  }
  if (inWord) out.push(cur);
  return out;
}

/** null stays null (use the image's); a string is split; a list is kept. */
export function canonicalCommand(v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return shellSplit(v);
  if (Array.isArray(v)) return v.map((x) => String(x));
  throw new FormError('a string or a list of strings', typeof v);
}
