// restart ("no", "always", "on-failure[:N]", "unless-stopped") and deploy.restart_policy
// (condition none | on-failure | unless-stopped | any, and no | always as docker compose maps
// them) as one restart policy.
import { FormError, Problems } from './form-error.js';
import { parseDuration } from './duration.js';

export type RestartName = 'no' | 'always' | 'on-failure' | 'unless-stopped';
export interface RestartPolicy {
  readonly name: RestartName;
  /** on-failure only; 0 = unlimited */
  readonly max_attempts: number;
  /** deploy.restart_policy.delay / window in ms, when given */
  readonly delay?: number;
  readonly window?: number;
}

export function parseRestart(v: string): RestartPolicy {
  const s = v.trim();
  if (s === 'no' || s === '' || s === 'always' || s === 'unless-stopped') return { name: (s || 'no') as RestartName, max_attempts: 0 };
  const m = /^on-failure(?::(\d+))?$/.exec(s);
  if (m) return { name: 'on-failure', max_attempts: m[1] ? Number(m[1]) : 0 };
  throw new FormError('"no", "always", "on-failure[:max-retries]" or "unless-stopped"', JSON.stringify(v));
}

export function fromDeployPolicy(p: Record<string, unknown>): RestartPolicy {
  const problems = new Problems();
  const cond = p['condition'] === undefined ? 'any' : String(p['condition']);
  // the swarm conditions, and the engine's own names, which docker compose passes through
  const map: Record<string, RestartName> = { none: 'no', no: 'no', 'on-failure': 'on-failure', 'unless-stopped': 'unless-stopped', any: 'always', always: 'always' };
  const name = map[cond];
  if (!name) problems.add(new FormError('condition none, on-failure, unless-stopped or any', JSON.stringify(cond), undefined, ['condition']));
  const dur = (k: 'delay' | 'window'): Partial<RestartPolicy> => {
    const x = p[k];
    return typeof x === 'string' ? problems.check(() => ({ [k]: parseDuration(x) }), {}, [k]) : {};
  };
  const delay = dur('delay'), window = dur('window');
  problems.done();
  return {
    name: name!,
    max_attempts: typeof p['max_attempts'] === 'number' ? p['max_attempts'] : 0,
    ...delay, ...window,
  };
}
