// healthcheck: test as a string (CMD-SHELL), a list starting with NONE/CMD/CMD-SHELL, or
// disable: true; durations in milliseconds.
import { FormError, Problems } from './form-error.js';
import { parseDuration } from './duration.js';

export interface Healthcheck {
  /** ["NONE"] | ["CMD", ...] | ["CMD-SHELL", "..."]; absent = inherit the image's test */
  readonly test?: readonly string[];
  readonly interval?: number;
  readonly timeout?: number;
  readonly start_period?: number;
  readonly start_interval?: number;
  readonly retries?: number;
  readonly disable: boolean;
}

export function canonicalHealthcheck(v: Record<string, unknown>): Healthcheck {
  // test, each duration and retries are independent: every bad one is reported
  const problems = new Problems();
  const test = problems.check((): string[] | undefined => {
    const t = v['test'];
    if (typeof t === 'string') return t === '' ? undefined : ['CMD-SHELL', t];
    if (!Array.isArray(t) || t.length === 0) return undefined;
    const head = String(t[0]);
    if (head !== 'NONE' && head !== 'CMD' && head !== 'CMD-SHELL') throw new FormError('a test list starting with "NONE", "CMD" or "CMD-SHELL"', JSON.stringify(head), undefined, ['test', 0]);
    if (head !== 'NONE' && t.length < 2) throw new FormError(`a command after "${head}"`, 'nothing', undefined, ['test']);
    return t.map(String);
  }, undefined);
  const disable = v['disable'] === true || (test !== undefined && test[0] === 'NONE');
  if (v['disable'] === true && test && test[0] !== 'NONE') problems.add(new FormError('either disable: true or a test', 'both', undefined, ['disable']));
  const dur = (k: string): Record<string, number> => {
    const x = v[k];
    if (x === undefined || x === null) return {};
    return problems.check(() => ({ [k]: parseDuration(x as string) }), {}, [k]);
  };
  const durations = { ...dur('interval'), ...dur('timeout'), ...dur('start_period'), ...dur('start_interval') };
  const retries = v['retries'];
  if (retries !== undefined && (typeof retries !== 'number' || retries < 0 || !Number.isInteger(retries))) {
    problems.add(new FormError('a non-negative integer', String(retries), undefined, ['retries']));
  }
  problems.done();
  return {
    ...(disable ? { test: ['NONE'] } : test ? { test } : {}),
    ...durations,
    ...(typeof retries === 'number' ? { retries } : {}),
    disable,
  };
}
