// Dependencies compose adds by itself, and the ones it leaves out. A service that `links` to
// another, mounts its volumes (`volumes_from`) or joins its namespaces (`network_mode`, `ipc`,
// `pid`: "service:X") needs it started first: docker compose's loader adds a depends_on entry
// for each (condition service_started, required; `restart: true` except for volumes_from), and
// so does berth, so that `up` orders them and `config` prints them. Pure over the typed services.
import type { Dependency } from './canonical/depends-on.js';
import type { Service } from './model.js';

/** The services `s` names outside depends_on, each with the dependency compose gives it. */
export function implicitDependencies(s: Service): Map<string, Dependency> {
  const out = new Map<string, Dependency>();
  const add = (name: string, restart: boolean): void => {
    if (name !== '' && !out.has(name)) out.set(name, { condition: 'service_started', restart, required: true });
  };
  for (const l of s.links) add(l.split(':')[0]!, true);
  for (const ns of [s.network_mode, s.ipc, s.pid]) if (ns?.startsWith('service:')) add(ns.slice('service:'.length), true);
  for (const v of s.volumes_from) if (!v.startsWith('container:')) add(v.split(':')[0]!, false);
  return out;
}

/** Each service with its implicit dependencies added where depends_on does not name them. */
export function withImplicitDependencies(services: Readonly<Record<string, Service>>): Record<string, Service> {
  const out: Record<string, Service> = {};
  for (const [name, s] of Object.entries(services)) {
    const implicit = implicitDependencies(s);
    const missing = [...implicit].filter(([dep]) => !(dep in s.depends_on));
    out[name] = missing.length === 0 ? s : { ...s, depends_on: { ...s.depends_on, ...Object.fromEntries(missing) } };
  }
  return out;
}

/**
 * Each service without its dependencies on services disabled by their profiles. Only optional
 * ones (`required: false`) remain by then: a required one is an error of the semantic phase.
 */
export function withoutDisabledDependencies(services: Readonly<Record<string, Service>>, disabled: Readonly<Record<string, Service>>): Record<string, Service> {
  const out: Record<string, Service> = {};
  for (const [name, s] of Object.entries(services)) {
    const gone = Object.keys(s.depends_on).filter((d) => d in disabled);
    if (gone.length === 0) { out[name] = s; continue; }
    const deps: Record<string, Dependency> = {};
    for (const [d, dep] of Object.entries(s.depends_on)) if (!(d in disabled)) deps[d] = dep;
    out[name] = { ...s, depends_on: deps };
  }
  return out;
}
