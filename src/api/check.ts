// Checking untrusted JSON against a type, by hand-sized combinators: each Check<T> takes a value
// and a dot path and returns a new, typed T built only from what it checked (unknown keys are
// dropped, so nothing unchecked reaches the engine) or throws InvalidArgument naming the path.
//
// `object<T>()` asks for a check of *every* key of T, optional ones included, and each check
// must produce T[K]: when the type gains a field, this stops compiling until the field is
// checked. That is what keeps the checks and the types one source.
import { InvalidArgument } from '../lib/errors.js';

export type Check<T> = (value: unknown, path: string) => T;

/** A check for each key of T; an optional key's check must accept undefined (use optional()). */
export type Shape<T> = { readonly [K in keyof Required<T>]-?: Check<T[K]> };

function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'string' ? `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"` : typeof value;
  throw new InvalidArgument(`${path || 'the body'}: expected ${expected}, got ${got}`, { path });
}

const join = (path: string, key: string | number): string => (typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`);

export const str: Check<string> = (v, p) => (typeof v === 'string' ? v : fail(p, 'a string', v));
export const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'a boolean', v));
export const num: Check<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(p, 'a number', v));
export const int: Check<number> = (v, p) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : fail(p, 'an integer', v));
export const nonNegative: Check<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fail(p, 'a non-negative number', v));
export const count: Check<number> = (v, p) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(p, 'a non-negative integer', v));

/** Any JSON value, kept as it is (the body's depth was already bounded when it was read). */
export const json: Check<unknown> = (v) => v;

export function literal<const L extends string>(...values: readonly L[]): Check<L> {
  return (v, p) => (typeof v === 'string' && (values as readonly string[]).includes(v) ? v as L : fail(p, values.map((x) => `"${x}"`).join(' or '), v));
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, p) => (v === undefined ? undefined : check(v, p));
}

/** Absent takes the default (what the CLI would send), so `curl -d '{}'` works. */
export function withDefault<T>(check: Check<T>, fallback: T): Check<T> {
  return (v, p) => (v === undefined ? fallback : check(v, p));
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, p) => (v === null ? null : check(v, p));
}

export function either<A, B>(a: Check<A>, b: Check<B>, expected: string): Check<A | B> {
  return (v, p) => {
    try { return a(v, p); } catch { /* try the other */ }
    try { return b(v, p); } catch { /* neither */ }
    return fail(p, expected, v);
  };
}

export function array<T>(check: Check<T>): Check<T[]> {
  return (v, p) => (Array.isArray(v) ? v.map((x, i) => check(x, join(p, i))) : fail(p, 'an array', v));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An object used as a map: every value checked, keys kept (a "__proto__" key is refused). */
export function record<T>(check: Check<T>): Check<Record<string, T>> {
  return (v, p) => {
    if (!isPlainObject(v)) return fail(p, 'an object', v);
    const out: Record<string, T> = Object.create(null) as Record<string, T>;
    for (const [k, x] of Object.entries(v)) {
      if (k === '__proto__') fail(join(p, k), 'a key other than "__proto__"', k);
      out[k] = check(x, join(p, k));
    }
    return { ...out };
  };
}

/** An object of a known shape: a new object with the checked keys only (undefined ones left out). */
export function object<T>(shape: Shape<T>): Check<T> {
  return (v, p) => {
    if (!isPlainObject(v)) return fail(p, 'an object', v);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(shape) as (keyof T & string)[]) {
      const value = (shape[key] as Check<unknown>)(Object.hasOwn(v, key) ? v[key] : undefined, join(p, key));
      if (value !== undefined) out[key] = value;
    }
    return out as T;
  };
}

/** A value that must be present: a clearer message than "expected an object, got undefined". */
export function required<T>(check: Check<T>): Check<T> {
  return (v, p) => (v === undefined ? fail(p, 'a value (it is required)', v) : check(v, p));
}

/** A request body itself: an object, or absent (an empty body is `{}`). */
export function body<T>(check: Check<T>): Check<T> {
  return (v, p) => check(v === undefined ? {} : v, p);
}

export const nonEmpty: Check<string> = (v, p) => {
  const s = str(v, p);
  if (s === '') throw new InvalidArgument(`${p}: expected a non-empty string`, { path: p });
  return s;
};

/** A list of strings, empty when absent. */
export const stringList: Check<string[]> = withDefault(array(str), []);
/** A boolean, false when absent. */
export const flag: Check<boolean> = withDefault(bool, false);
