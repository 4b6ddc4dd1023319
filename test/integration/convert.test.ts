// `berth convert` end to end through bin/berth: stdout and directory output, kustomize, JSON,
// stale files of an earlier run, stdin, host files outside the project, and bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { makeRoots, berth, cleanupRoots, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;
let dir: string;
before(() => {
  roots = makeRoots();
  dir = mkdtempSync(join(tmpdir(), 'berth-convert-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'nginx.conf'), 'server { listen 80; }\n');
  writeFileSync(join(dir, 'db_password.txt'), 'hunter2');
  writeFileSync(join(dir, 'compose.yaml'), `
name: shop
services:
  web:
    image: nginx
    ports: ["8080:80"]
    volumes: ["./nginx.conf:/etc/nginx/nginx.conf:ro", "/etc/passwd:/etc/host-passwd:ro", "./app:/app"]
    depends_on:
      db: {condition: service_healthy}
  db:
    image: postgres:16
    volumes: ["data:/var/lib/postgresql/data"]
    secrets: [db_password]
    healthcheck: {test: ["CMD", "pg_isready"], interval: 5s}
volumes:
  data: {}
secrets:
  db_password: {file: ./db_password.txt}
`);
});
after(async () => { await cleanupRoots(roots); rmSync(dir, { recursive: true, force: true }); });

test('prints the manifests as a YAML stream, and what it could not map as warnings', async () => {
  const r = await berth(roots, ['convert', '-f', join(dir, 'compose.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
  assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`), [
    'Secret/db-password', 'ConfigMap/web-nginx-conf', 'PersistentVolumeClaim/data',
    'Service/db', 'Service/web', 'Service/web-published', 'Deployment/web', 'StatefulSet/db',
  ]);
  assert.match(r.stderr, /warning: services\.web\.volumes\[1\]: \/etc\/passwd is not read \(outside the project directory/);
  assert.match(r.stderr, /warning: services\.web\.volumes\[2\]: the host directory .*\/app has no cluster equivalent/);
  assert.doesNotMatch(r.stdout, /root:x:0:0/, 'a host file outside the project is never copied into a manifest');
  assert.match(r.stdout, /# berth convert: not mapped, or mapped differently:\n# {3}services\.web\.volumes\[1\]/);
});

test('-o DIR --kustomize writes one file per object and a kustomization; a later run removes only its own stale files', async () => {
  const out = join(dir, 'k8s');
  mkdirSync(out);
  writeFileSync(join(out, 'mine.yaml'), 'kind: ConfigMap\n');
  const first = await berth(roots, ['convert', '-f', join(dir, 'compose.yaml'), '-o', out, '--kustomize', '--namespace', 'shop', '--network-policies']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, '');
  assert.match(first.stderr, /wrote 11 objects to .*k8s: kubectl apply -k /);
  const kustomization = parse(readFileSync(join(out, 'kustomization.yaml'), 'utf8')) as { namespace: string; resources: string[] };
  assert.equal(kustomization.namespace, 'shop');
  assert.deepEqual([...kustomization.resources, 'kustomization.yaml', 'mine.yaml'].sort(), readdirSync(out).sort());
  assert.ok(kustomization.resources.includes('network-default-networkpolicy.yaml'));
  const ns = parse(readFileSync(join(out, 'shop-namespace.yaml'), 'utf8')) as { kind: string };
  assert.equal(ns.kind, 'Namespace');

  const second = await berth(roots, ['convert', '-f', join(dir, 'compose.yaml'), '-o', out, '--namespace', 'shop']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /removed 3 left from an earlier run/);
  const left = readdirSync(out);
  assert.ok(left.includes('mine.yaml'), 'a file berth did not write stays');
  assert.ok(!left.includes('kustomization.yaml') && !left.some((f) => f.endsWith('networkpolicy.yaml')));
});

test('berth compose convert --format json prints a List; -f - reads stdin', async () => {
  const r = await berth(roots, ['compose', '--project-directory', dir, '-f', '-', 'convert', '--format', 'json'], { input: 'services:\n  hello:\n    image: busybox\n    command: ["echo", "$$(date)"]\n' });
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { kind: string; items: { kind: string; spec: { template?: { spec: { containers: { args: string[] }[] } } } }[] };
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.items.map((i) => i.kind), ['Service', 'Deployment']);
  assert.deepEqual(list.items[1]!.spec.template!.spec.containers[0]!.args, ['echo', '$$(date)']);
});

test('bad flags and bad files: a clear error and a non-zero exit', async () => {
  const f = join(dir, 'compose.yaml');
  const cases: [string[], number, RegExp][] = [
    [['convert', '-f', f, '--kustomize'], 125, /--kustomize writes a kustomization\.yaml beside the manifests: give a directory with -o DIR/],
    [['convert', '-f', f, '--namespace', 'Bad_NS'], 125, /--namespace "Bad_NS": expected a DNS label/],
    [['convert', '-f', f, '--service-type', 'ingress'], 125, /--service-type "ingress": expected loadbalancer, nodeport or clusterip/],
    [['convert', '-f', f, '--controller', 'pod'], 125, /argument 'pod' is invalid/],
    [['convert', '-f', f, '--volume-size', 'lots'], 125, /--volume-size "lots"/],
  ];
  for (const [args, code, want] of cases) {
    const r = await berth(roots, args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'services:\n  web:\n    image: nginx\n    ports: ["99999:80"]\n');
  const r = await berth(roots, ['convert', '-f', bad]);
  assert.equal(r.code, 15);
  assert.match(r.stderr, /bad\.yaml:4:\d+: services\.web\.ports\[0\]/);
});

test('convert --help pins the convert flags', async () => {
  const r = await berth(roots, ['convert', '--help']);
  for (const flag of ['--output', '--namespace', '--format', '--controller', '--kustomize', '--network-policies', '--service-type', '--volume-size', '--storage-class', '--wait-image', '--kubectl-image', '--cluster-domain', '--file', '--project-name', '--profile']) {
    assert.match(r.stdout, new RegExp(`${flag}\\b`), `convert has ${flag}`);
  }
});
