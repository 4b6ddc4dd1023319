// environment / labels / args / sysctls...: a list of "KEY=value" or a mapping, as one mapping.
// A bare KEY (list) or a null value (mapping) takes its value from the environment when asked
// to resolve, and stays null (unset) otherwise.
import { FormError, Problems } from './form-error.js';

export type Resolve = (name: string) => string | undefined;

export function scalarString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new FormError('a string, number or boolean', Array.isArray(v) ? 'a list' : 'a mapping');
}

export function listOrDict(v: unknown, sep: '=' | ':' = '=', resolve?: Resolve): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (v === null || v === undefined) return out;
  if (Array.isArray(v)) {
    // every bad item is reported, each under its index
    const problems = new Problems();
    problems.each(v, (item) => {
      if (typeof item !== 'string') throw new FormError(`a "KEY${sep}value" string`, typeof item);
      const at = item.indexOf(sep);
      if (at === 0) throw new FormError(`a "KEY${sep}value" string`, JSON.stringify(item), 'the key is empty');
      if (at < 0) out[item] = resolve?.(item) ?? null;
      else out[item.slice(0, at)] = item.slice(at + 1);
    });
    problems.done();
    return out;
  }
  if (typeof v === 'object') {
    const problems = new Problems();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      problems.check(() => {
        const s = scalarString(x);
        out[k] = s === null ? resolve?.(k) ?? null : s;
      }, undefined, [k]);
    }
    problems.done();
    return out;
  }
  throw new FormError('a mapping or a list of "KEY=value" strings', typeof v);
}

/** A mapping whose values must all be strings (labels): a bare key means an empty value. */
export function labels(v: unknown): Record<string, string> {
  const m = listOrDict(v);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(m)) out[k] = x ?? '';
  return out;
}
