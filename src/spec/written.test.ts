// The as-written types (written.ts) against schemas/compose.schema.json: every property the schema
// allows has a field in the type, and every field is one the schema allows. The compiler already
// ties each key table to its type, so this closes the loop: schema ⇔ table ⇔ type.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WRITTEN_KEYS, type WrittenProject } from './written.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const schema = JSON.parse(readFileSync(`${repo}schemas/compose.schema.json`, 'utf8')) as Record<string, unknown>;

type Schema = { properties?: Record<string, unknown>; oneOf?: Schema[]; anyOf?: Schema[]; patternProperties?: Record<string, Schema>; $ref?: string };

function at(pointer: string): Schema {
  let node: unknown = schema;
  for (const seg of pointer.replace(/^#\/?/, '').split('/').filter((s) => s !== '')) node = (node as Record<string, unknown>)[seg];
  return node as Schema;
}
/** The object schema with `properties` at or under s (through $ref, oneOf/anyOf and patternProperties). */
function objectSchema(s: Schema | undefined, depth = 0): Schema | undefined {
  if (!s || depth > 6) return undefined;
  if (s.$ref) return objectSchema(at(s.$ref), depth + 1);
  if (s.properties) return s;
  for (const b of [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...Object.values(s.patternProperties ?? {})]) {
    const found = objectSchema(b, depth + 1);
    if (found) return found;
  }
  return undefined;
}

test('as-written types: each type has exactly the keys its schema allows', () => {
  for (const { type, schema: pointer, keys } of WRITTEN_KEYS) {
    const obj = objectSchema(at(pointer));
    assert.ok(obj, `${type}: no object schema at ${pointer}`);
    const inSchema = Object.keys(obj.properties!).sort();
    const inType = [...keys].sort();
    assert.deepEqual(inType.filter((k) => !inSchema.includes(k)), [], `${type}: fields the schema (${pointer}) does not allow`);
    assert.deepEqual(inSchema.filter((k) => !inType.includes(k)), [], `${type}: schema properties (${pointer}) with no field in ${type}`);
  }
});

test('as-written types: every mapping of the schema with its own properties is covered', () => {
  // services, networks, ... and the nested mappings with a definition of their own
  const covered = new Set(WRITTEN_KEYS.map((w) => w.schema));
  for (const name of ['service', 'network', 'volume', 'secret', 'config', 'model', 'build', 'port', 'mount', 'healthcheck', 'deploy', 'develop', 'hook', 'includeItem']) {
    assert.ok(covered.has(`#/definitions/${name}`), `definitions.${name} has no as-written type in written.ts`);
  }
});

test('as-written types accept the short forms a user writes', () => {
  // compiles = the types allow it; the value is the spec's own kind of example
  const p: WrittenProject = {
    name: 'demo',
    include: ['other.yaml', { path: ['a.yaml', 'b.yaml'], env_file: '.env' }],
    services: {
      web: {
        image: 'nginx', build: '.', command: 'nginx -g "daemon off;"', environment: ['A=1', 'B'], ports: [80, '8080:80', { target: 443, published: '8443' }],
        volumes: ['./src:/app:ro', { type: 'tmpfs', target: '/tmp', tmpfs: { size: '64m' } }], depends_on: ['db'], healthcheck: { test: 'curl -f localhost', interval: '5s' },
        tty: 'true', deploy: { replicas: '${N:-1}', resources: { limits: { memory: '512m' } } }, networks: { front: { aliases: ['w'] }, back: null }, 'x-meta': { any: 1 },
      },
      db: { image: 'postgres', depends_on: { cache: { condition: 'service_healthy', required: false } }, environment: { A: 1, B: null } },
    },
    networks: { front: null, back: { external: true } },
    'x-common': [1, 2],
  };
  assert.equal(Object.keys(p.services!).length, 2);
});
