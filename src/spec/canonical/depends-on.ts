// depends_on: a list of names, or a mapping of name → {condition, restart, required}.
import { FormError } from './form-error.js';

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';
export interface Dependency { readonly condition: DependsCondition; readonly restart: boolean; readonly required: boolean }

export function canonicalDependsOn(v: unknown): Record<string, Dependency> {
  const out: Record<string, Dependency> = {};
  if (v === null || v === undefined) return out;
  if (Array.isArray(v)) {
    for (const name of v) out[String(name)] = { condition: 'service_started', restart: false, required: true };
    return out;
  }
  if (typeof v === 'object') {
    for (const [name, d] of Object.entries(v as Record<string, Record<string, unknown> | null>)) {
      const cond = (d?.['condition'] ?? 'service_started') as DependsCondition;
      out[name] = { condition: cond, restart: d?.['restart'] === true, required: d?.['required'] !== false };
    }
    return out;
  }
  throw new FormError('a list of service names or a mapping', typeof v);
}
