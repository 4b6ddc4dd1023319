// docker compose's consistency checks, each located, and --no-consistency turning them off.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { load, type LoadOptions } from './load.js';
import { SpecError, type SpecIssue } from './errors.js';
import { memoryFiles } from './testing.js';

function issues(yaml: string, opts: Partial<LoadOptions> = {}): readonly SpecIssue[] {
  try { load({ env: {}, cwd: '/p', ...opts }, memoryFiles({ '/p/compose.yaml': yaml })); } catch (e) { if (e instanceof SpecError) return e.issues; throw e; }
  return [];
}
const loads = (yaml: string): boolean => issues(yaml, { consistency: false }).length === 0;

test('the same container_name on two services is refused at the second', () => {
  const yaml = 'services:\n  a:\n    image: x\n    container_name: shared\n  b:\n    image: x\n    container_name: shared\n';
  const i = issues(yaml);
  assert.equal(i.length, 1);
  assert.deepEqual([i[0]!.keyPath, i[0]!.line], ['services.b.container_name', 7]);
  assert.match(i[0]!.found, /already the container_name of service "a"/);
  assert.ok(loads(yaml));
});

test('container_name with scale or deploy.replicas above 1 is refused', () => {
  const viaScale = issues('services:\n  a:\n    image: x\n    container_name: one\n    scale: 2\n');
  assert.match(viaScale[0]!.found, /container_name "one" and scale 2/);
  const viaReplicas = issues('services:\n  a:\n    image: x\n    container_name: one\n    deploy: {replicas: 3}\n');
  assert.match(viaReplicas[0]!.found, /deploy.replicas 3/);
  assert.equal(issues('services:\n  a:\n    image: x\n    container_name: one\n    scale: 1\n').length, 0);
});

test('two mounts on one container path are refused (volumes and tmpfs together)', () => {
  const i = issues('services:\n  a:\n    image: x\n    volumes:\n      - ./a:/data\n      - {type: volume, source: v, target: /data}\n    tmpfs: [/run, "/data:size=1m"]\nvolumes: {v: {}}\n');
  assert.deepEqual(i.map((x) => x.keyPath), ['services.a.volumes[1]', 'services.a.tmpfs[1]']);
  assert.match(i[0]!.found, /second mount on \/data \(the first is volumes\[0\]\)/);
  assert.ok(loads('services:\n  a:\n    image: x\n    volumes: [./a:/data, ./b:/data]\n'));
});

test('dockerfile together with dockerfile_inline is refused', () => {
  const i = issues('services:\n  a:\n    build:\n      context: .\n      dockerfile: Dockerfile\n      dockerfile_inline: "FROM scratch"\n');
  assert.deepEqual([i[0]!.keyPath, i[0]!.line], ['services.a.build.dockerfile_inline', 6]);
});

test('service.platform must be among build.platforms when both are set', () => {
  const i = issues('services:\n  a:\n    platform: linux/arm64\n    build:\n      context: .\n      platforms: [linux/amd64]\n');
  assert.deepEqual([i[0]!.keyPath, i[0]!.found], ['services.a.platform', '"linux/arm64"']);
  assert.equal(issues('services:\n  a:\n    platform: linux/amd64\n    build: {context: ., platforms: [linux/amd64, linux/arm64]}\n').length, 0);
});

test('--no-consistency: undefined references, cycles and a service without image load, as in docker compose', () => {
  const yaml = 'services:\n  a:\n    depends_on: [b]\n    networks: [ghost]\n    network_mode: "service:nope"\n  b:\n    image: x\n    depends_on: [a]\n    volumes: ["undeclared:/d"]\n';
  assert.match(issues(yaml)[0]!.expected, /image or a build/);
  assert.ok(issues(yaml.replace('  a:\n', '  a:\n    image: x\n')).length >= 4);
  const r = load({ env: {}, cwd: '/p', consistency: false }, memoryFiles({ '/p/compose.yaml': yaml }));
  assert.deepEqual(Object.keys(r.project.services).sort(), ['a', 'b']);
  // what is not a consistency rule stays an error: a bad value is still a bad value
  assert.equal(issues('services:\n  a:\n    image: x\n    ports: ["99999"]\n', { consistency: false }).length, 1);
});
