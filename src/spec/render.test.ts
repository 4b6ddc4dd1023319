// What `berth config` prints: compose's key order, no defaults compose omits, `null` for a
// network attachment without options, `$` escaped, and a fixpoint (printed, loaded again,
// printed again: the same bytes) for YAML and JSON.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { load, type LoadOptions } from './load.js';
import { memoryFiles } from './testing.js';
import { renderProject } from './render.js';

function config(yaml: string, opts: Partial<LoadOptions> = {}, format: 'yaml' | 'json' = 'yaml', extra: Record<string, string> = {}): string {
  return renderProject(load({ env: {}, cwd: '/p', ...opts }, memoryFiles({ '/p/compose.yaml': yaml, ...extra })).project, format);
}
/** Printed, loaded from another directory, printed again. */
function assertFixpoint(printed: string, format: 'yaml' | 'json' = 'yaml'): void {
  const again = renderProject(load({ env: {}, cwd: '/q', files: [`/q/out.${format}`] }, memoryFiles({ [`/q/out.${format}`]: printed })).project, format);
  assert.equal(again, printed);
}

test('config: a network attachment without options prints as null, named networks of a list are kept', () => {
  const out = config('services:\n  a:\n    image: x\n    networks: [front, back]\n  b:\n    image: x\n    networks:\n      front: {}\n      back: {aliases: [bee]}\nnetworks: {front: {}, back: {}}\n');
  const doc = parse(out);
  assert.deepEqual(doc.services.a.networks, { back: null, front: null });
  assert.deepEqual(doc.services.b.networks, { back: { aliases: ['bee'] }, front: null });
  assert.match(out, /\n {6}front: null\n/);
  assertFixpoint(out);
});

test('config: defaults compose omits are not printed (scale 1, tty false, restart no, read_only false)', () => {
  const doc = parse(config('services:\n  a:\n    image: x\n    tty: false\n    restart: "no"\n    scale: 1\n    read_only: false\n    privileged: false\n    stdin_open: false\n'));
  assert.deepEqual(Object.keys(doc.services.a), ['image', 'networks']);
});

test('config: keys in compose-go order, whatever order the file used', () => {
  const a = config('services:\n  web:\n    volumes: ["/d"]\n    image: x\n    environment: {B: "2", A: "1"}\n    command: run\n    build: .\n    labels: {z: "1", a: "2"}\n');
  const b = config('services:\n  web:\n    labels: {a: "2", z: "1"}\n    build: .\n    command: run\n    environment: [A=1, B=2]\n    image: x\n    volumes: ["/d"]\n');
  assert.equal(a, b);
  const doc = parse(a);
  assert.deepEqual(Object.keys(doc), ['name', 'services', 'networks']);
  assert.deepEqual(Object.keys(doc.services.web), ['build', 'command', 'environment', 'image', 'labels', 'networks', 'volumes']);
  assert.deepEqual(Object.keys(doc.services.web.environment), ['A', 'B']);
});

test('config: $ is printed as $$, so that the output loads to the same values', () => {
  const out = config('services:\n  a:\n    image: x\n    environment:\n      PRICE: "$$5"\n      REF: "$${HOME}"\n    command: ["sh", "-c", "echo $$PATH"]\n    labels: {k: "a$$b"}\n    x-meta: {v: "$$"}\n');
  const doc = parse(out);
  assert.equal(doc.services.a.environment.PRICE, '$$5');
  assert.equal(doc.services.a.environment.REF, '$${HOME}');
  assert.deepEqual(doc.services.a.command, ['sh', '-c', 'echo $$PATH']);
  assert.equal(doc.services.a['x-meta'].v, '$$');
  const model = load({ env: { HOME: '/root', PATH: '/bin' }, cwd: '/q', files: ['/q/o.yaml'] }, memoryFiles({ '/q/o.yaml': out })).project.services['a']!;
  assert.deepEqual(model.environment, { PRICE: '$5', REF: '${HOME}' });
  assertFixpoint(out);
});

test('config: command [] (clear the image command) is kept, no command is left out', () => {
  const doc = parse(config('services:\n  a:\n    image: x\n    command: []\n    entrypoint: []\n  b:\n    image: x\n'));
  assert.deepEqual(doc.services.a.command, []);
  assert.deepEqual(doc.services.a.entrypoint, []);
  assert.equal(doc.services.b.command, undefined);
});

test('config: env_file contents are in environment and env_file itself is not printed', () => {
  const out = config('services:\n  a:\n    image: x\n    env_file: [a.env]\n    environment: {B: mine}\n', {}, 'yaml', { '/p/a.env': 'A=from-file\nB=file\n' });
  const doc = parse(out);
  assert.deepEqual(doc.services.a.environment, { A: 'from-file', B: 'mine' });
  assert.equal(doc.services.a.env_file, undefined);
  assertFixpoint(out);
});

test('config: service devices and GPU reservations print in their own places', () => {
  const doc = parse(config('services:\n  a:\n    image: x\n    devices: ["/dev/fuse"]\n    deploy:\n      resources:\n        reservations:\n          devices: [{capabilities: [gpu], count: 1}]\n'));
  assert.deepEqual(doc.services.a.devices, [{ source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' }]);
  assert.deepEqual(doc.services.a.deploy.resources.reservations.devices, [{ capabilities: ['gpu'], count: 1 }]);
});

test('config: deploy.restart_policy with a delay stays in deploy; a plain one prints as restart', () => {
  const a = parse(config('services:\n  a:\n    image: x\n    deploy:\n      restart_policy: {condition: on-failure, max_attempts: 3, delay: 5s}\n'));
  assert.deepEqual(a.services.a.deploy.restart_policy, { condition: 'on-failure', delay: '5s', max_attempts: 3 });
  assert.equal(a.services.a.restart, undefined);
  const b = parse(config('services:\n  a:\n    image: x\n    deploy:\n      restart_policy: {condition: unless-stopped}\n'));
  assert.equal(b.services.a.restart, 'unless-stopped');
});

test('config: secrets and configs in long form print with an octal mode', () => {
  const out = config('services:\n  a:\n    image: x\n    secrets:\n      - {source: s, target: /x, uid: "1", gid: "2", mode: 0440}\n    configs:\n      - {source: c, mode: "0644"}\nsecrets:\n  s: {file: ./s.txt}\nconfigs:\n  c: {content: hello}\n');
  const doc = parse(out);
  assert.deepEqual(doc.services.a.secrets, [{ source: 's', target: '/x', uid: '1', gid: '2', mode: '0440' }]);
  assert.deepEqual(doc.services.a.configs, [{ source: 'c', target: '/c', mode: '0644' }]);
  assertFixpoint(out);
});

test('config --format json: the same model, and a fixpoint too', () => {
  const yaml = 'services:\n  web:\n    image: "nginx:1"\n    ports: ["8080:80", {target: 443}]\n    volumes: [{type: bind, source: ./a, target: /a}, {type: volume, source: v, target: /v}]\n    healthcheck: {test: "curl -f localhost", interval: 90s}\n    environment: {P: "$$x"}\nvolumes: {v: {}}\n';
  const json = config(yaml, {}, 'json');
  assert.deepEqual(JSON.parse(json), parse(config(yaml)));
  assertFixpoint(json, 'json');
});

test('config: long-form ports, volumes, secrets and configs printed by config load again (no crash on its own output)', () => {
  const out = config('services:\n  a:\n    image: x\n    ports: ["80:80", "443:443", "53:53/udp"]\n    volumes: ["./a:/a", "./b:/b:ro", "data:/d", "/anon"]\n    secrets: [s]\n    configs: [c]\nvolumes: {data: {}}\nsecrets: {s: {environment: S}}\nconfigs: {c: {file: ./c.conf}}\n');
  assertFixpoint(out);
  assertFixpoint(renderProject(load({ env: {}, cwd: '/q', files: ['/q/o.yaml'] }, memoryFiles({ '/q/o.yaml': out })).project, 'json'), 'json');
});
