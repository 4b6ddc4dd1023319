// Thrown by the short-form parsers; the loader attaches the file position of the value.
// A parser that checks several independent fields (resources, healthcheck durations, a list's
// items) collects its problems with `Problems` and throws them together as one FormErrors, so
// that the user sees every one of them in a single run.
import type { Key } from '../tree.js';

export class FormError extends Error {
  constructor(readonly expected: string, readonly found: string, readonly note?: string, readonly subPath: readonly Key[] = []) {
    super(`expected ${expected}, found ${found}`);
  }
  /** The same problem, located `prefix` deeper (e.g. a list item's index). */
  under(prefix: readonly Key[]): FormError {
    return new FormError(this.expected, this.found, this.note, [...prefix, ...this.subPath]);
  }
}

/**
 * Several independent problems of one value. Extends FormError (its first problem) so that code
 * expecting a single FormError still sees one; `all` holds every problem, each with its sub-path.
 */
export class FormErrors extends FormError {
  constructor(readonly all: readonly FormError[]) {
    const first = all[0]!;
    super(first.expected, first.found, first.note, first.subPath);
  }
  override under(prefix: readonly Key[]): FormErrors {
    return new FormErrors(this.all.map((e) => e.under(prefix)));
  }
}

/** Every single problem inside e (one for a FormError, each one for a FormErrors). */
export function problemsOf(e: FormError): readonly FormError[] {
  return e instanceof FormErrors ? e.all : [e];
}

/** Collects FormErrors from independent checks; `done()` throws them together, if any. */
export class Problems {
  private readonly found: FormError[] = [];
  /** Runs fn; on a FormError records it (located `prefix` deeper) and returns `fallback`. */
  check<T>(fn: () => T, fallback: T, prefix: readonly Key[] = []): T {
    try { return fn(); } catch (e) {
      if (!(e instanceof FormError)) throw e;
      this.found.push(...problemsOf(e).map((p) => (prefix.length > 0 ? p.under(prefix) : p)));
      return fallback;
    }
  }
  /** Each item of a list through fn, every bad item recorded under its index and left out. */
  each<I, O>(items: readonly I[], fn: (item: I, index: number) => O): O[] {
    const out: O[] = [];
    items.forEach((item, i) => {
      const missing = Symbol('bad item');
      const r = this.check<O | typeof missing>(() => fn(item, i), missing, [i]);
      if (r !== missing) out.push(r as O);
    });
    return out;
  }
  /** Records a problem found without a throw. */
  add(e: FormError): void { this.found.push(...problemsOf(e)); }
  done(): void {
    if (this.found.length === 1) throw this.found[0]!;
    if (this.found.length > 1) throw new FormErrors(this.found);
  }
}
