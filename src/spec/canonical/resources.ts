// Resource limits: the service-level keys (cpus, mem_limit, cpu_shares, pids_limit, memswap_limit,
// cpuset, ulimits, ...) and deploy.resources as one set. Giving both with different values is an
// error, as in docker compose.
import { FormError, Problems } from './form-error.js';
import { parseBytes } from './bytes.js';

export interface Ulimit { readonly soft: number; readonly hard: number }
export interface Resources {
  readonly cpus?: number;
  readonly cpu_shares?: number;
  readonly cpu_quota?: number;
  readonly cpu_period?: number;
  readonly cpu_rt_runtime?: number;
  readonly cpu_rt_period?: number;
  readonly cpuset?: string;
  /** bytes */
  readonly mem_limit?: number;
  readonly mem_reservation?: number;
  /** bytes; -1 = unlimited swap */
  readonly memswap_limit?: number;
  readonly mem_swappiness?: number;
  readonly shm_size?: number;
  readonly pids_limit?: number;
  readonly oom_kill_disable?: boolean;
  readonly oom_score_adj?: number;
  readonly ulimits: Readonly<Record<string, Ulimit>>;
  /** deploy.resources.reservations.devices and gpus, kept as written */
  readonly devices?: readonly unknown[];
}

function num(v: unknown, key: string | (string | number)[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new FormError('a number', JSON.stringify(v), undefined, typeof key === 'string' ? [key] : key);
  return n;
}
function bytes(v: unknown, path: (string | number)[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === -1 || v === '-1') return -1;
  try { return parseBytes(v as string | number); } catch (e) {
    if (e instanceof FormError) throw new FormError(e.expected, e.found, e.note, path);
    throw e;
  }
}

export function canonicalUlimits(v: unknown): Record<string, Ulimit> {
  const out: Record<string, Ulimit> = {};
  if (!v || typeof v !== 'object') return out;
  // every bad limit is reported, each under its own name
  const problems = new Problems();
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    problems.check(() => {
      if (typeof x === 'number') { out[k] = { soft: x, hard: x }; return; }
      if (!x || typeof x !== 'object') throw new FormError('a number or {soft, hard}', JSON.stringify(x), undefined, [k]);
      const o = x as Record<string, unknown>;
      const soft = Number(o['soft']), hard = Number(o['hard']);
      if (!Number.isInteger(soft) || !Number.isInteger(hard)) throw new FormError('integer soft and hard limits', JSON.stringify(x), undefined, [k]);
      if (soft > hard && hard !== -1) throw new FormError('soft ≤ hard', `soft ${soft} > hard ${hard}`, undefined, [k]);
      out[k] = { soft, hard };
    }, undefined);
  }
  problems.done();
  return out;
}

function pick<T>(a: T | undefined, b: T | undefined, name: string, other: string): T | undefined {
  if (a !== undefined && b !== undefined && a !== b) {
    throw new FormError(`one value for ${name}`, `${name}=${String(a)} and ${other}=${String(b)}`, `set ${name} or ${other}, not both with different values`, [name]);
  }
  return a ?? b;
}

export function canonicalResources(svc: Record<string, unknown>): Resources {
  const deploy = (svc['deploy'] ?? {}) as Record<string, unknown>;
  const res = (deploy['resources'] ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const lim = res['limits'] ?? {}, resv = res['reservations'] ?? {};
  // each field is checked on its own, so a bad cpus and a bad mem_limit are both reported
  const problems = new Problems();
  const one = <T>(fn: () => T): T | undefined => problems.check<T | undefined>(fn, undefined);
  const r: Record<string, unknown> = {
    cpus: one(() => pick(num(svc['cpus'], 'cpus'), num(lim['cpus'], ['deploy', 'resources', 'limits', 'cpus']), 'cpus', 'deploy.resources.limits.cpus')),
    cpu_shares: one(() => num(svc['cpu_shares'], 'cpu_shares')),
    cpu_quota: one(() => num(svc['cpu_quota'], 'cpu_quota')),
    cpu_period: one(() => num(svc['cpu_period'], 'cpu_period')),
    cpu_rt_runtime: one(() => num(svc['cpu_rt_runtime'], 'cpu_rt_runtime')),
    cpu_rt_period: one(() => num(svc['cpu_rt_period'], 'cpu_rt_period')),
    cpuset: typeof svc['cpuset'] === 'string' ? svc['cpuset'] : undefined,
    mem_limit: one(() => pick(bytes(svc['mem_limit'], ['mem_limit']), bytes(lim['memory'], ['deploy', 'resources', 'limits', 'memory']), 'mem_limit', 'deploy.resources.limits.memory')),
    mem_reservation: one(() => pick(bytes(svc['mem_reservation'], ['mem_reservation']), bytes(resv['memory'], ['deploy', 'resources', 'reservations', 'memory']), 'mem_reservation', 'deploy.resources.reservations.memory')),
    memswap_limit: one(() => bytes(svc['memswap_limit'], ['memswap_limit'])),
    mem_swappiness: one(() => num(svc['mem_swappiness'], 'mem_swappiness')),
    shm_size: one(() => bytes(svc['shm_size'], ['shm_size'])),
    pids_limit: one(() => pick(num(svc['pids_limit'], 'pids_limit'), num(lim['pids'], ['deploy', 'resources', 'limits', 'pids']), 'pids_limit', 'deploy.resources.limits.pids')),
    oom_kill_disable: typeof svc['oom_kill_disable'] === 'boolean' ? svc['oom_kill_disable'] : undefined,
    oom_score_adj: one(() => num(svc['oom_score_adj'], 'oom_score_adj')),
    devices: Array.isArray(resv['devices']) ? resv['devices'] : undefined,
  };
  const ulimits = problems.check(() => canonicalUlimits(svc['ulimits']), {}, ['ulimits']);
  problems.done();
  for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
  return { ...(r as Omit<Resources, 'ulimits'>), ulimits };
}
