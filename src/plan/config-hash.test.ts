import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../spec/model.js';
import { canonicalJson, serviceConfigForHash } from './config-hash.js';
import { dep, testService } from './testing.js';

const base = testService('web', {
  environment: { A: '1', B: '2' },
  labels: { 'x.one': '1', 'x.two': '2' },
  command: ['serve', '--port', '80'],
  deploy: { replicas: 2, labels: { tier: 'front' } },
});

test('equal configs give equal text whatever the order their keys were written in', () => {
  const reordered: Service = Object.fromEntries(Object.entries({
    ...base, environment: { B: '2', A: '1' }, labels: { 'x.two': '2', 'x.one': '1' },
  }).reverse()) as unknown as Service;
  assert.equal(serviceConfigForHash(reordered), serviceConfigForHash(base));
  assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } }), '{"a":{"d":[2,1]},"b":1}');
});

test('a change to a key that shapes the container changes the text', () => {
  const changes: Partial<Service>[] = [
    { image: 'web:2' },
    { command: ['serve', '--port', '81'] },
    { entrypoint: ['/init'] },
    { environment: { A: '1', B: '3' } },
    { labels: { 'x.one': '1' } },
    { user: '1000' },
    { working_dir: '/app' },
    { hostname: 'w' },
    { init: true },
    { tty: true },
    { stdin_open: true },
    { stop_signal: 'SIGINT' },
    { healthcheck: { test: ['CMD', 'true'], disable: false } },
    { cap_add: ['NET_ADMIN'] },
    { cap_drop: ['ALL'] },
    { resources: { ulimits: {}, mem_limit: 1 << 20 } },
    { networks: { back: { aliases: [] } } },
    { ports: [{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' } as never] },
    { volumes: [{ type: 'volume', source: 'data', target: '/data' } as never] },
    { restart: { name: 'always', max_attempts: 0 } },
    { container_name: 'frontend' },
    { deploy: { replicas: 2, labels: { tier: 'back' } } },
  ];
  for (const change of changes) {
    assert.notEqual(serviceConfigForHash({ ...base, ...change }), serviceConfigForHash(base), JSON.stringify(change));
  }
});

test('scale, deploy.replicas, depends_on, profiles, build and the other non-runtime keys leave it unchanged', () => {
  const same: Partial<Service>[] = [
    { scale: 5 },
    { deploy: { replicas: 7, labels: { tier: 'front' } } },
    { depends_on: { db: dep('service_healthy') } },
    { profiles: ['debug'] },
    { build: { context: '/src' } as never },
    { pull_policy: 'always' },
    { extensions: { 'x-note': 1 } },
    { develop: { watch: [] } },
    { env_file: [{ path: '/srv/.env', required: true }] },
  ];
  for (const change of same) {
    assert.equal(serviceConfigForHash({ ...base, ...change }), serviceConfigForHash(base), JSON.stringify(change));
  }
});
