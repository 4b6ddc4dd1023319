// Phase "profiles": a service with no profiles is always active; one with profiles is active when
// one of them is enabled (`--profile`, COMPOSE_PROFILES; "*" enables all).
import type { Service } from './model.js';

export function splitByProfiles(services: Readonly<Record<string, Service>>, enabled: readonly string[]): { active: Record<string, Service>; disabled: Record<string, Service> } {
  const all = enabled.includes('*');
  const active: Record<string, Service> = {}, disabled: Record<string, Service> = {};
  for (const [n, s] of Object.entries(services)) {
    if (s.profiles.length === 0 || all || s.profiles.some((p) => enabled.includes(p))) active[n] = s; else disabled[n] = s;
  }
  return { active, disabled };
}

export function allProfiles(services: Readonly<Record<string, Service>>): string[] {
  return [...new Set(Object.values(services).flatMap((s) => s.profiles))].sort();
}
