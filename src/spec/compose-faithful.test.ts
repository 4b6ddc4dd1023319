// The loader does what docker compose does with valid files (issue 14): each test is one defect
// that was reproduced with a file of a few lines, named after the behaviour it pins.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { load, type LoadOptions } from './load.js';
import { SpecError, type SpecIssue } from './errors.js';
import { memoryFiles } from './testing.js';

function run(files: Record<string, string>, opts: Partial<LoadOptions> = {}) {
  return load({ env: {}, cwd: '/p', ...opts }, memoryFiles(files));
}
function issues(files: Record<string, string>, opts: Partial<LoadOptions> = {}): readonly SpecIssue[] {
  try { run(files, opts); } catch (e) { if (e instanceof SpecError) return e.issues; throw e; }
  assert.fail('expected a SpecError');
}
const one = (yaml: string, opts: Partial<LoadOptions> = {}) => run({ '/p/compose.yaml': yaml }, opts);

test('long-form secrets and configs load ({source, target, uid, gid, mode})', () => {
  const s = one('services:\n  a:\n    image: x\n    secrets:\n      - {source: s, target: /x, uid: "1", gid: "2", mode: 0400}\n    configs:\n      - source: c\n        target: /etc/c.conf\n        mode: "0644"\nsecrets: {s: {file: ./s}}\nconfigs: {c: {file: ./c}}\n').project.services['a']!;
  assert.deepEqual(s.secrets, [{ source: 's', target: '/x', uid: '1', gid: '2', mode: 0o400 }]);
  assert.deepEqual(s.configs, [{ source: 'c', target: '/etc/c.conf', mode: 0o644 }]);
});

test('two or more long-form entries in one ports or volumes list load (uniqueItems on mappings)', () => {
  const s = one('services:\n  a:\n    image: x\n    ports:\n      - {target: 80, published: "8080"}\n      - {target: 443}\n      - {target: 53, protocol: udp}\n    volumes:\n      - {type: bind, source: ./a, target: /a}\n      - {type: volume, source: v, target: /v}\nvolumes: {v: {}}\n').project.services['a']!;
  assert.equal(s.ports.length, 3);
  assert.equal(s.volumes.length, 2);
  // a true duplicate is still refused, at the second item
  const i = issues({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    ports:\n      - {target: 80}\n      - {target: 80}\n' });
  assert.equal(i[0]!.keyPath, 'services.a.ports[1]');
  assert.match(i[0]!.expected, /once/);
});

test('deploy.restart_policy.condition: unless-stopped (and no, always) map as docker compose maps them', () => {
  const cond = (c: string) => one(`services:\n  a:\n    image: x\n    deploy: {restart_policy: {condition: ${c}}}\n`).project.services['a']!.restart.name;
  assert.equal(cond('unless-stopped'), 'unless-stopped');
  assert.equal(cond('none'), 'no');
  assert.equal(cond('"no"'), 'no');
  assert.equal(cond('any'), 'always');
  assert.equal(cond('always'), 'always');
  assert.equal(cond('on-failure'), 'on-failure');
  assert.match(issues({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    deploy: {restart_policy: {condition: sometimes}}\n' })[0]!.keyPath, /restart_policy\.condition/);
});

test('an image mount whose source is empty after interpolation loads', () => {
  const s = one('services:\n  a:\n    image: x\n    volumes:\n      - {type: image, source: "${MODEL_IMAGE}", target: /models}\n').project.services['a']!;
  assert.deepEqual(s.volumes.map((v) => [v.type, v.source, v.target]), [['image', undefined, '/models']]);
});

test('a service given as null in a base file can be extended; alone it still needs an image', () => {
  const r = run({
    '/p/compose.yaml': 'services:\n  web:\n    extends: {file: base.yaml, service: base}\n    image: nginx\n',
    '/p/base.yaml': 'services:\n  base:\n  other:\n    image: o\n',
  });
  assert.equal(r.project.services['web']!.image, 'nginx');
  // an override file may name a service with null too
  assert.equal(run({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n', '/p/compose.override.yaml': 'services:\n  a:\n' }).project.services['a']!.image, 'x');
  assert.match(issues({ '/p/compose.yaml': 'services:\n  a:\n' })[0]!.expected, /image or a build/);
});

test('implicit dependencies: links, volumes_from and network_mode/ipc/pid service:X become depends_on, as compose adds them', () => {
  const s = one([
    'services:', '  app:', '    image: x', '    links: ["db:database"]', '    volumes_from: [data, "container:c1"]', '    network_mode: "service:net"',
    '    ipc: "service:shm"', '    pid: "service:shm"', '    depends_on: {db: {condition: service_healthy}}',
    '  db: {image: x}', '  data: {image: x}', '  net: {image: x}', '  shm: {image: x}', '',
  ].join('\n')).project.services['app']!;
  assert.deepEqual(s.depends_on, {
    db: { condition: 'service_healthy', restart: false, required: true }, // written: kept as written
    net: { condition: 'service_started', restart: true, required: true },
    shm: { condition: 'service_started', restart: true, required: true },
    data: { condition: 'service_started', restart: false, required: true },
  });
});

test('ipc and pid naming an undefined service are located errors', () => {
  const i = issues({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    ipc: "service:ghost"\n    pid: "service:ghost2"\n' });
  assert.deepEqual(i.map((x) => [x.keyPath, x.line]).sort(), [['services.a.ipc', 4], ['services.a.pid', 5]]);
});

test('a dependency on a service disabled by a profile: optional ones are dropped, required ones are errors', () => {
  const files = { '/p/compose.yaml': 'services:\n  web:\n    image: x\n    depends_on:\n      debug: {condition: service_started, required: false}\n  debug:\n    image: y\n    profiles: [debug]\n' };
  assert.deepEqual(run(files).project.services['web']!.depends_on, {});
  assert.deepEqual(Object.keys(run(files, { profiles: ['debug'] }).project.services['web']!.depends_on), ['debug']);
  const i = issues({ '/p/compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [debug]\n  debug:\n    image: y\n    profiles: [debug]\n' });
  assert.match(i[0]!.found, /disabled by its profiles/);
});

test('.env: ${VAR} inside .env sees the shell first, then the lines above', () => {
  const files = { '/p/compose.yaml': 'services:\n  a:\n    image: "${IMAGE}"\n    environment: ["ALSO=${ALSO}"]\n', '/p/.env': 'TAG=from-dotenv\nIMAGE=app:${TAG}\nALSO=${HOME}-x\n' };
  assert.equal(run(files).project.services['a']!.image, 'app:from-dotenv');
  const r = run(files, { env: { TAG: 'from-shell', HOME: '/root' } }).project.services['a']!;
  assert.equal(r.image, 'app:from-shell');
  assert.deepEqual(r.environment, { ALSO: '/root-x' });
});

test('.env: COMPOSE_FILE, COMPOSE_PATH_SEPARATOR, COMPOSE_PROFILES and COMPOSE_PROJECT_NAME set in .env are honoured', () => {
  const r = run({
    '/p/.env': 'COMPOSE_FILE=one.yaml;two.yaml\nCOMPOSE_PATH_SEPARATOR=;\nCOMPOSE_PROFILES=extra\nCOMPOSE_PROJECT_NAME=fromdotenv\nCOMPOSE_REMOVE_ORPHANS=true\n',
    '/p/one.yaml': 'services:\n  a: {image: x}\n  b: {image: y, profiles: [extra]}\n',
    '/p/two.yaml': 'services:\n  c: {image: z}\n',
  });
  assert.deepEqual(Object.keys(r.project.services).sort(), ['a', 'b', 'c']);
  assert.equal(r.project.name, 'fromdotenv');
  assert.equal(r.composeEnv['COMPOSE_REMOVE_ORPHANS'], 'true');
  // the shell still wins
  assert.equal(run({ '/p/.env': 'COMPOSE_PROJECT_NAME=fromdotenv\n', '/p/compose.yaml': 'services: {a: {image: x}}\n' }, { env: { COMPOSE_PROJECT_NAME: 'shell' } }).project.name, 'shell');
});

test('.env: the working directory\'s .env finds the files, the project directory\'s adds to it (docker compose\'s two readings)', () => {
  const files = {
    // in the working directory: where the compose files are, and a value
    '/w/.env': 'COMPOSE_FILE=/proj/compose.yaml\nA=from-working-dir\n',
    '/proj/compose.yaml': 'services:\n  s:\n    image: "${A}-${B}"\n',
    // in the project directory: read too, without replacing what the first one set
    '/proj/.env': 'A=from-project-dir\nB=project-only\n',
  };
  assert.equal(run(files, { cwd: '/w' }).project.services['s']!.image, 'from-working-dir-project-only');
  // with -f, the first .env is the one beside the file; --project-directory names it explicitly
  assert.equal(run(files, { cwd: '/w', files: ['/proj/compose.yaml'] }).project.services['s']!.image, 'from-project-dir-project-only');
  assert.equal(run({ ...files, '/other/.env': 'B=other\n' }, { cwd: '/w', files: ['/proj/compose.yaml'], projectDirectory: '/other' }).project.services['s']!.image, '-other');
});

test('.env: COMPOSE_ENV_FILES replaces .env; COMPOSE_DISABLE_ENV_FILE turns it off', () => {
  const files = { '/p/compose.yaml': 'services:\n  a:\n    image: "${T:-none}"\n', '/p/.env': 'T=dotenv\n', '/p/one.env': 'T=one\n', '/p/two.env': 'T=two\n' };
  assert.equal(run(files, { env: { COMPOSE_ENV_FILES: 'one.env,two.env' } }).project.services['a']!.image, 'two');
  assert.equal(run(files, { env: { COMPOSE_DISABLE_ENV_FILE: '1' } }).project.services['a']!.image, 'none');
  assert.equal(run(files, { env: { COMPOSE_DISABLE_ENV_FILE: 'false' } }).project.services['a']!.image, 'dotenv');
  assert.match(issues(files, { env: { COMPOSE_ENV_FILES: 'missing.env' } })[0]!.keyPath, /COMPOSE_ENV_FILES/);
});

test('an empty compose file is refused (docker compose: "empty compose file"); one with only a name loads', () => {
  for (const text of ['', '# only a comment\n', '---\n']) {
    const i = issues({ '/p/compose.yaml': text });
    assert.equal(i.length, 1);
    assert.deepEqual([i[0]!.file, i[0]!.line, i[0]!.found], ['/p/compose.yaml', 1, 'an empty file']);
  }
  assert.deepEqual(run({ '/p/compose.yaml': 'name: x\n' }).project.services, {});
});
