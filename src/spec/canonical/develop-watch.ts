// develop.watch rules: path (resolved against the project directory), action, target, ignore,
// include, exec, initial_sync.
import { FormError, Problems } from './form-error.js';
import { canonicalHook, type Hook } from './hooks.js';

export type WatchAction = 'rebuild' | 'sync' | 'restart' | 'sync+restart' | 'sync+exec';
export interface WatchRule {
  readonly path: string;
  readonly action: WatchAction;
  readonly target?: string;
  readonly ignore: readonly string[];
  readonly include: readonly string[];
  readonly exec?: Hook;
  readonly initial_sync: boolean;
}

const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export function canonicalWatch(rules: unknown[], resolvePath: (p: string) => string, command: (v: unknown) => string[] | null, env: (v: unknown) => Record<string, string | null>): WatchRule[] {
  // every bad rule is reported, each under its index
  const problems = new Problems();
  const out = problems.each(rules, (r, i): WatchRule => {
    const o = r as Record<string, unknown>;
    const action = o['action'] as WatchAction;
    if (action.startsWith('sync') && (typeof o['target'] !== 'string' || o['target'] === '')) {
      throw new FormError(`a target for the ${action} action`, 'none', undefined, ['target']);
    }
    if (action === 'sync+exec' && !o['exec']) throw new FormError('an exec hook for the sync+exec action', 'none', undefined, ['exec']);
    const ex = o['exec'] as Record<string, unknown> | undefined;
    return {
      path: resolvePath(String(o['path'])),
      action,
      ...(typeof o['target'] === 'string' ? { target: o['target'] } : {}),
      ignore: list(o['ignore']),
      include: list(o['include']),
      ...(ex ? { exec: canonicalHook(ex, command, env, problems, [i, 'exec']) } : {}),
      initial_sync: o['initial_sync'] === true,
    };
  });
  problems.done();
  return out;
}
