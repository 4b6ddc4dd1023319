// Valid compose files never crash the loader, and whatever loads prints a fixpoint. Documents are
// generated at random (a fixed seed) from berth's own schema, with plausible values for the keys
// whose strings have a grammar (ports, volumes, durations, sizes, ...). Each is loaded with and
// without the consistency checks; the result must be a project (printed, loaded again, printed
// again: the same bytes) or a SpecError whose every problem is located — never an internal error.
// Where the shared corpus is present, the official compose-spec schema checks the generator
// first: only documents it accepts count, and berth's schema must accept them too.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import { load } from '../../src/spec/load.js';
import { SpecError } from '../../src/spec/errors.js';
import { memoryFiles } from '../../src/spec/testing.js';
import { renderProject } from '../../src/spec/render.js';
import { validateTree } from '../../src/spec/validate.js';
import type { Tree } from '../../src/spec/tree.js';

type Schema = Record<string, unknown>;
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const berthSchema = JSON.parse(readFileSync(`${repo}schemas/compose.schema.json`, 'utf8')) as Schema;
const officialPath = `${repo}../shared/compose-corpus/schema/compose-spec.json`;

let seed = 20261130;
const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff; return (seed >>> 8) % n; };
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
const chance = (p: number): boolean => rnd(1000) < p * 1000;

const SERVICES = ['web', 'db', 'cache'];
const NAMES = ['front', 'back', 'data'];
/** Plausible strings for keys whose values have a grammar, by the key's name. */
const HINTS: Record<string, readonly string[]> = {
  image: ['nginx:1.27', 'busybox', 'registry.test/app:${TAG:-1}'],
  ports: ['80', '8080:80', '127.0.0.1:8080:80/udp', '9000-9001:9000-9001', '[::1]:53:53/udp'],
  volumes: ['./a:/a:ro', 'data:/data', '/anon', './b:/b:rw,z'],
  interval: ['5s', '1m30s', '250ms'], timeout: ['3s', '1m'], start_period: ['0s', '10s'], start_interval: ['1s'],
  stop_grace_period: ['10s', '1m'], delay: ['5s'], window: ['2m'], monitor: ['1s'],
  mem_limit: ['64m', '1g', '1024'], memswap_limit: ['-1', '2g'], mem_reservation: ['32m'], shm_size: ['64m'], memory: ['512M'], size: ['1m', '100k'],
  cpus: ['0.5', '2'], restart: ['always', 'on-failure:3', 'no', 'unless-stopped'],
  target: ['/t', '/data/x'], source: ['./s', 'data'], network_mode: ['none', 'host', 'bridge'], ipc: ['host', 'private'], pid: ['host'],
  user: ['1000', 'app:app'], command: ['echo hi', 'sh -c "echo $$HOME"'], entrypoint: ['/entry.sh'],
  environment: ['A=1', 'B=two words', 'C'], labels: ['com.example.a=b', 'k=v$$'], extra_hosts: ['h.local:10.0.0.1', 'g=10.0.0.2'],
  test: ['true', 'curl -f localhost'], devices: ['/dev/fuse', '/dev/a:/dev/b:r'], dns: ['1.1.1.1'], tmpfs: ['/run', '/tmp:size=1m'],
  condition: ['service_started'], context: ['.', './web'], dockerfile: ['Dockerfile'], file: ['./f.txt'], path: ['./src'],
  platform: ['linux/amd64'], stop_signal: ['SIGTERM'], working_dir: ['/app'], container_name: ['c1', 'c2'],
  expose: ['80', '9000'], cap_add: ['NET_ADMIN'], cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'],
  subnet: ['172.28.0.0/16'], gateway: ['172.28.0.1'], ipv4_address: ['172.28.0.5'], driver: ['local', 'bridge'],
  mode: ['0440', 'replicated', 'ingress'], uid: ['1000'], gid: ['1000'], name: ['n1'], hostname: ['h'],
  pull_policy: ['always', 'missing', 'never', 'build', 'daily', 'every_12h'], model: ['ai/smollm2'],
  links: SERVICES, depends_on: SERVICES, volumes_from: SERVICES, networks: NAMES, profiles: ['p1'],
};
const FALLBACK = ['x', 'a b', 'yes', '0644', '$$5', 'true', '1.5', ''];

function resolve(s: Schema): Schema {
  let cur = s;
  while (typeof cur['$ref'] === 'string') {
    const name = (cur['$ref'] as string).split('/').pop()!;
    cur = (berthSchema['definitions'] as Record<string, Schema>)[name]!;
  }
  return cur;
}

function keyFor(pattern: string, hintKey: string): string {
  if (pattern === '^x-') return `x-${pick(['a', 'meta'])}`;
  if (hintKey === 'services') return pick(SERVICES);
  if (['networks', 'volumes', 'secrets', 'configs'].includes(hintKey)) return pick(NAMES);
  if (hintKey === 'ulimits') return pick(['nofile', 'nproc']);
  return pick(['A', 'com.example.k', 'key_1', '80']);
}

function stringFor(key: string, s: Schema): string {
  if (typeof s['pattern'] === 'string') {
    // the few patterns of the schema: names, and x- extension keys
    return pick(NAMES);
  }
  return pick(HINTS[key] ?? FALLBACK);
}

function gen(schema: Schema, key: string, depth: number): unknown {
  const s = resolve(schema);
  if (Array.isArray(s['enum'])) return pick(s['enum'] as unknown[]);
  const union = (s['oneOf'] ?? s['anyOf']) as Schema[] | undefined;
  if (union) return gen(pick(union), key, depth);
  let type = s['type'] as string | string[] | undefined;
  if (Array.isArray(type)) type = pick(type.filter((t) => t !== 'null' || chance(0.2)).length > 0 ? type.filter((t) => t !== 'null' || chance(0.2)) : type);
  if (type === undefined) type = s['properties'] || s['patternProperties'] ? 'object' : pick(['string', 'integer', 'boolean']);
  switch (type) {
    case 'null': return null;
    case 'boolean': return chance(0.5);
    case 'integer': case 'number': {
      const min = typeof s['minimum'] === 'number' ? s['minimum'] : 0;
      const max = typeof s['maximum'] === 'number' ? s['maximum'] : min + 100;
      const n = min + rnd(Math.max(1, Math.min(max - min, 1000) + 1));
      return type === 'number' && chance(0.3) ? n + 0.5 : n;
    }
    case 'string': return stringFor(key, s);
    case 'array': {
      if (depth > 6) return [];
      const out: unknown[] = [];
      const seen = new Set<string>();
      for (let i = 0, n = rnd(4); i < n; i++) {
        const v = gen((s['items'] as Schema) ?? {}, key, depth + 1);
        const k = JSON.stringify(v);
        if (s['uniqueItems'] && seen.has(k)) continue;
        seen.add(k);
        out.push(v);
      }
      return out;
    }
    default: {
      const o: Record<string, unknown> = {};
      if (depth > 6) return o;
      const props = (s['properties'] ?? {}) as Record<string, Schema>;
      const required = new Set((s['required'] ?? []) as string[]);
      const p = depth <= 1 ? 0.6 : 0.25;
      for (const [k, ps] of Object.entries(props)) {
        // pre_start is compose-go's, not yet in the compose-spec schema the documents are checked with
        if (k === 'pre_start') continue;
        if (required.has(k) || chance(p)) o[k] = gen(ps, k, depth + 1);
      }
      for (const [pat, ps] of Object.entries((s['patternProperties'] ?? {}) as Record<string, Schema>)) {
        const n = pat === '^x-' ? (chance(0.1) ? 1 : 0) : rnd(3);
        for (let i = 0; i < n; i++) o[keyFor(pat, key)] = gen(ps, key === 'services' ? 'service' : key, depth + 1);
      }
      return o;
    }
  }
}

/** A document with a services section, shaped by the schema. */
function document(): Record<string, unknown> {
  const doc = gen(berthSchema, '', 0) as Record<string, unknown>;
  delete doc['include']; // a path to a file that does not exist: refused, and says nothing about the loader
  if (typeof doc['services'] !== 'object' || doc['services'] === null || Array.isArray(doc['services'])) doc['services'] = {};
  const services = doc['services'] as Record<string, Record<string, unknown>>;
  if (Object.keys(services).length === 0) services['web'] = {};
  for (const s of Object.values(services)) {
    delete s['extends']; delete s['env_file']; delete s['label_file']; // files that do not exist
    if (chance(0.9)) s['image'] = pick(HINTS['image']!);
  }
  return doc;
}

function officialValidator(): ((v: unknown) => boolean) | undefined {
  if (!existsSync(officialPath)) return undefined;
  const schema = JSON.parse(readFileSync(officialPath, 'utf8')) as Schema;
  delete schema['$schema'];
  const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (o: object) => { compile(s: unknown): (v: unknown) => boolean };
  return new Ajv({ strict: false, allErrors: false }).compile(schema);
}

test('valid documents generated from the schema never crash the loader, and what loads is a fixpoint', (t) => {
  const official = officialValidator();
  const FILE = '/g/compose.yaml';
  let generated = 0, officialValid = 0, loaded = 0, located = 0;
  const disagreements: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const doc = document();
    generated++;
    if (official) {
      if (!official(doc)) continue;
      officialValid++;
      if (validateTree(doc as unknown as Tree, new Map()).length > 0) { disagreements.push(JSON.stringify(doc)); continue; }
    }
    const text = JSON.stringify(doc, null, 1);
    for (const consistency of [true, false]) {
      let printed: string;
      try {
        printed = renderProject(load({ files: [FILE], env: {}, cwd: '/g', consistency }, memoryFiles({ [FILE]: text })).project, 'yaml');
      } catch (e) {
        assert.ok(e instanceof SpecError, `document ${i} crashed the loader: ${(e as Error).stack}\n${text}`);
        for (const is of e.issues) assert.ok(is.file !== '' && is.line > 0, `document ${i}: unlocated issue ${JSON.stringify(is)}\n${text}`);
        located++;
        continue;
      }
      loaded++;
      const again = renderProject(load({ files: ['/h/compose.yaml'], env: {}, cwd: '/h', consistency }, memoryFiles({ '/h/compose.yaml': printed })).project, 'yaml');
      assert.equal(again, printed, `document ${i} (consistency ${consistency}): printed form is not a fixpoint\n${text}`);
    }
  }
  const msg = `generated ${generated} documents${official ? `, ${officialValid} valid for the official schema (${disagreements.length} refused by berth's schema)` : ''}; ${loaded} loads printed a fixpoint, ${located} refused with located errors, 0 crashes`;
  t.diagnostic(msg);
  process.stdout.write(`# ${msg}\n`);
  assert.deepEqual(disagreements.slice(0, 3), []);
});
