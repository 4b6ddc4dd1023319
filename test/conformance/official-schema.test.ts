// Cross-check against the official compose-spec schema (compiled here, in the test only): for
// the corpus and for generated variants of it, whatever the official schema accepts, berth's
// schema accepts, and whatever it rejects, berth rejects — at the schema phase and through the
// whole loader.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { validateTree } from '../../src/spec/validate.js';
import { parseYaml } from '../../src/spec/parse.js';
import { load } from '../../src/spec/load.js';
import { SpecError } from '../../src/spec/errors.js';
import { memoryFiles } from '../../src/spec/testing.js';
import type { Tree } from '../../src/spec/tree.js';
import { corpusFiles, corpusMissing, corpusRoot, officialSchemaPath as schemaPath } from './corpus-files.js';
type Json = Record<string, unknown>;

function officialValidator(): (v: unknown) => boolean {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Json;
  delete schema['$schema'];
  const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (o: object) => { compile(s: unknown): (v: unknown) => boolean };
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}

const plain = (t: Tree): Json => JSON.parse(JSON.stringify(t)) as Json;

/** Mutations of one service: [name, change]. Some make the file invalid, some keep it valid. */
const MUTATIONS: ReadonlyArray<readonly [string, (s: Json) => void]> = [
  ['unknown key', (s) => { s['imagee'] = 'x'; }],
  ['image as number', (s) => { s['image'] = 5; }],
  ['ports item boolean', (s) => { s['ports'] = [true]; }],
  ['ports long form', (s) => { s['ports'] = [{ target: 80, published: '8080', protocol: 'tcp' }]; }],
  ['ports long unknown key', (s) => { s['ports'] = [{ target: 80, hostport: 1 }]; }],
  ['ports duplicate', (s) => { s['ports'] = ['80:80', '80:80']; }],
  ['port range', (s) => { s['ports'] = ['9000-9005:9000-9005']; }],
  ['volumes long form', (s) => { s['volumes'] = [{ type: 'bind', source: './x', target: '/x', bind: { create_host_path: true } }]; }],
  ['volumes long without type', (s) => { s['volumes'] = [{ source: './x', target: '/x' }]; }],
  ['volumes bad type', (s) => { s['volumes'] = [{ type: 'nfs', source: './x', target: '/x' }]; }],
  ['depends_on bad condition', (s) => { s['depends_on'] = { other: { condition: 'service_ready' } }; }],
  ['depends_on map without condition', (s) => { s['depends_on'] = { other: {} }; }],
  ['restart as number', (s) => { s['restart'] = 1; }],
  ['environment list of numbers', (s) => { s['environment'] = [1, 2]; }],
  ['environment map of lists', (s) => { s['environment'] = { A: [1] }; }],
  ['environment map of mixed scalars', (s) => { s['environment'] = { A: 1, B: true, C: null, D: 'x' }; }],
  ['healthcheck interval number', (s) => { s['healthcheck'] = { test: ['CMD', 'true'], interval: 5 }; }],
  ['healthcheck unknown key', (s) => { s['healthcheck'] = { test: 'true', every: '5s' }; }],
  ['deploy resources', (s) => { s['deploy'] = { replicas: 2, resources: { limits: { cpus: '0.5', memory: '512M' } } }; }],
  ['deploy unknown key', (s) => { s['deploy'] = { replica: 2 }; }],
  ['command as mapping', (s) => { s['command'] = { a: 1 }; }],
  ['command as list', (s) => { s['command'] = ['a', 'b']; }],
  ['ulimits', (s) => { s['ulimits'] = { nofile: { soft: 1, hard: 2 }, nproc: 3 }; }],
  ['ulimits without hard', (s) => { s['ulimits'] = { nofile: { soft: 1 } }; }],
  ['build long form', (s) => { s['build'] = { context: '.', dockerfile: 'Dockerfile', args: ['A=1'] }; }],
  ['build unknown key', (s) => { s['build'] = { context: '.', dockerfil: 'x' }; }],
  ['networks with null value', (s) => { s['networks'] = { default: null }; }],
  ['cgroup bad enum', (s) => { s['cgroup'] = 'shared'; }],
  ['cap_add duplicates', (s) => { s['cap_add'] = ['NET_ADMIN', 'NET_ADMIN']; }],
  ['develop watch', (s) => { s['develop'] = { watch: [{ path: './src', action: 'sync', target: '/app' }] }; }],
  ['develop watch bad action', (s) => { s['develop'] = { watch: [{ path: './src', action: 'copy' }] }; }],
  ['x- extension', (s) => { s['x-anything'] = { deep: [1] }; }],
  ['extra_hosts map', (s) => { s['extra_hosts'] = { 'host.local': '10.0.0.1' }; }],
  ['labels as string', (s) => { s['labels'] = 'a=b'; }],
  ['container_name invalid', (s) => { s['container_name'] = '_'; }],
];
const TOP_MUTATIONS: ReadonlyArray<readonly [string, (t: Json) => void]> = [
  ['unknown top-level key', (t) => { t['servicez'] = {}; }],
  ['service name invalid', (t) => { (t['services'] as Json)['bad name'] = { image: 'x' }; }],
  ['volume bad key', (t) => { t['volumes'] = { v: { driverr: 'local' } }; }],
  ['network external object', (t) => { t['networks'] = { n: { external: { name: 'x' } } }; }],
  ['services as list', (t) => { t['services'] = ['a']; }],
  ['secret file', (t) => { t['secrets'] = { s: { file: './s.txt' } }; }],
];

test('official schema cross-check: corpus and generated variants', { skip: corpusMissing(schemaPath) }, (t) => {
  const official = officialValidator();
  const files = corpusFiles();
  let compared = 0, bothAccept = 0, bothReject = 0;
  const disagreements: string[] = [];
  const compare = (label: string, doc: Json): void => {
    compared++;
    const o = official(doc);
    const b = validateTree(doc as unknown as Tree, new Map()).length === 0;
    if (o !== b) { disagreements.push(`${label}: official ${o ? 'accepts' : 'rejects'}, berth ${b ? 'accepts' : 'rejects'}`); return; }
    if (o) { bothAccept++; return; }
    bothReject++;
    // a rejection must survive the whole loader too
    try {
      load({ files: ['/v/compose.yaml'], env: {}, cwd: '/v' }, memoryFiles({ '/v/compose.yaml': JSON.stringify(doc) }));
      disagreements.push(`${label}: official rejects, berth's loader accepts`);
    } catch (e) {
      if (!(e instanceof SpecError)) disagreements.push(`${label}: loader crashed: ${(e as Error).message}`);
    }
  };
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const base = plain(parseYaml(text, f, new Map())[0]!);
    const name = f.slice(corpusRoot.length + 1);
    compare(name, base);
    const services = Object.keys(base['services'] as Json);
    for (const [m, change] of MUTATIONS) {
      const doc = structuredClone(base);
      change((doc['services'] as Json)[services[0]!] as Json);
      compare(`${name} + ${m}`, doc);
    }
    for (const [m, change] of TOP_MUTATIONS) {
      const doc = structuredClone(base);
      change(doc);
      compare(`${name} + ${m}`, doc);
    }
  }
  const msg = `official-schema cross-check: ${compared} documents, ${bothAccept} accepted by both, ${bothReject} rejected by both, ${disagreements.length} disagreements`;
  t.diagnostic(msg);
  process.stdout.write(`# ${msg}\n`);
  assert.deepEqual(disagreements, []);
});
