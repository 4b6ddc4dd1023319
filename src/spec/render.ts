// The normalized project as `berth config` prints it: compose's key names, durations written
// back the Go way ("1m30s"), empty values left out. The only importer of `yaml` for writing.
import { stringify } from 'yaml';
import { formatDuration } from './canonical/duration.js';
import type { Project, Service } from './model.js';

const DURATION_KEYS = new Set(['interval', 'timeout', 'start_period', 'start_interval', 'stop_grace_period', 'delay', 'window']);

function clean(v: unknown, key = ''): unknown {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && DURATION_KEYS.has(key)) return formatDuration(v);
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map((x) => clean(x));
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const c = clean(x, k);
      if (c === undefined) continue;
      if (c !== null && typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length === 0 && k !== 'default') continue;
      o[k] = c;
    }
    return o;
  }
  return v;
}

function serviceOut(s: Service): unknown {
  const { name: _n, extensions, unsupported, resources, restart, ...rest } = s;
  void _n;
  const { command, entrypoint, ...others } = rest;
  return clean({
    ...(command !== null ? { command } : {}),
    ...(entrypoint !== null ? { entrypoint } : {}),
    ...others,
    restart: restart.name === 'on-failure' && restart.max_attempts > 0 ? `on-failure:${restart.max_attempts}` : restart.name,
    ...resources,
    ...unsupported,
    ...extensions,
  });
}

export function projectToPlain(p: Project): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (const n of Object.keys(p.services).sort()) services[n] = serviceOut(p.services[n]!);
  const strip = (m: Readonly<Record<string, { extensions: Readonly<Record<string, unknown>> }>>): Record<string, unknown> | undefined => {
    const keys = Object.keys(m).sort();
    if (keys.length === 0) return undefined;
    const o: Record<string, unknown> = {};
    for (const k of keys) { const { extensions, ...rest } = m[k]!; o[k] = clean({ ...rest, ...extensions }) ?? {}; }
    return o;
  };
  const out: Record<string, unknown> = { name: p.name, services };
  const nets = strip(p.networks); if (nets) out['networks'] = nets;
  const vols = strip(p.volumes); if (vols) out['volumes'] = vols;
  const secs = strip(p.secrets); if (secs) out['secrets'] = secs;
  const cfgs = strip(p.configs); if (cfgs) out['configs'] = cfgs;
  Object.assign(out, p.unsupported, p.extensions);
  return out;
}

export function renderProject(p: Project, format: 'yaml' | 'json'): string {
  const plain = projectToPlain(p);
  return format === 'json' ? JSON.stringify(plain, null, 2) + '\n' : stringify(plain, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' });
}
