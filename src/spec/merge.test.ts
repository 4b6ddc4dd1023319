// The compose spec's merge examples (13-merge.md), through the whole loader.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseYaml } from './parse.js';
import { mergeTrees } from './merge.js';
import type { Tree } from './tree.js';

function y(src: string): Tree { return parseYaml(src, '/x.yaml', new Map())[0]!; }
function merge(...docs: string[]): unknown {
  let t: Tree | undefined;
  for (const d of docs) t = mergeTrees(t, y(d));
  return JSON.parse(JSON.stringify(t));
}

test('mapping: missing entries added, conflicting ones merged', () => {
  assert.deepEqual(merge('services:\n  foo:\n    key1: value1\n    key2: value2\n', 'services:\n  foo:\n    key2: VALUE\n    key3: value3\n'),
    { services: { foo: { key1: 'value1', key2: 'VALUE', key3: 'value3' } } });
});

test('sequence: values appended', () => {
  assert.deepEqual(merge('services:\n  foo:\n    dns:\n      - 1.1.1.1\n', 'services:\n  foo:\n    dns:\n      - 8.8.8.8\n'),
    { services: { foo: { dns: ['1.1.1.1', '8.8.8.8'] } } });
  assert.deepEqual(merge('services:\n  foo:\n    x-list: [a]\n', 'services:\n  foo:\n    x-list: [b]\n'), { services: { foo: { 'x-list': ['a', 'b'] } } });
});

test('shell commands: command, entrypoint and healthcheck.test are replaced', () => {
  assert.deepEqual(merge('services:\n  foo:\n    command: ["echo", "foo"]\n', 'services:\n  foo:\n    command: ["echo", "bar"]\n'),
    { services: { foo: { command: ['echo', 'bar'] } } });
  assert.deepEqual(merge('services:\n  foo:\n    entrypoint: [a]\n    healthcheck: {test: [CMD, a], retries: 1}\n', 'services:\n  foo:\n    entrypoint: [b]\n    healthcheck: {test: [CMD, b]}\n'),
    { services: { foo: { entrypoint: ['b'], healthcheck: { test: ['CMD', 'b'], retries: 1 } } } });
});

test('unique resources: volumes by target (the spec example), secrets/configs by target, ports by {ip, target, published, protocol}', () => {
  assert.deepEqual(merge('services:\n  foo:\n    volumes:\n      - foo:/work\n', 'services:\n  foo:\n    volumes:\n      - bar:/work\n'),
    { services: { foo: { volumes: ['bar:/work'] } } });
  assert.deepEqual(merge('services:\n  a:\n    secrets: [s1, {source: s2, target: t}]\n', 'services:\n  a:\n    secrets: [{source: s3, target: t}, s4]\n'),
    { services: { a: { secrets: ['s1', { source: 's3', target: 't' }, 's4'] } } });
  assert.deepEqual(merge('services:\n  a:\n    ports: ["8080:80", "9090:90"]\n', 'services:\n  a:\n    ports: ["8080:80", "8081:80", {target: 90, published: "9090"}]\n'),
    { services: { a: { ports: ['8080:80', { target: 90, published: '9090' }, '8081:80'] } } });
});

test('environment and labels merge as mappings, whatever form each file uses', () => {
  assert.deepEqual(merge('services:\n  a:\n    environment: [A=1, B=2]\n', 'services:\n  a:\n    environment:\n      B: 3\n      C: 4\n'),
    { services: { a: { environment: { A: '1', B: 3, C: 4 } } } });
  assert.deepEqual(merge('services:\n  a:\n    labels: {x: "1"}\n', 'services:\n  a:\n    labels: [y=2]\n'), { services: { a: { labels: { x: '1', y: '2' } } } });
});

test('depends_on and networks: list and mapping forms merge', () => {
  assert.deepEqual(merge('services:\n  a:\n    depends_on: [db]\n', 'services:\n  a:\n    depends_on:\n      cache: {condition: service_healthy}\n'),
    { services: { a: { depends_on: { db: { condition: 'service_started' }, cache: { condition: 'service_healthy' } } } } });
  assert.deepEqual(merge('services:\n  a:\n    networks: [front]\n', 'services:\n  a:\n    networks: [back, front]\n'),
    { services: { a: { networks: ['front', 'back'] } } });
});

test('build: short form merges with long form', () => {
  assert.deepEqual(merge('services:\n  a:\n    build: ./app\n', 'services:\n  a:\n    build:\n      target: dev\n'),
    { services: { a: { build: { context: './app', target: 'dev' } } } });
});

test('!reset removes a value (the spec example)', () => {
  assert.deepEqual(merge(
    'services:\n  app:\n    image: myapp\n    ports:\n      - "8080:80"\n    environment:\n      FOO: BAR\n',
    'services:\n  app:\n    image: myapp\n    ports: !reset []\n    environment:\n      FOO: !reset null\n'),
  { services: { app: { image: 'myapp', environment: {} } } });
});

test('!override replaces a value instead of merging (the spec example)', () => {
  assert.deepEqual(merge('services:\n  app:\n    image: myapp\n    ports:\n      - "8080:80"\n', 'services:\n  app:\n    ports: !override\n      - "8443:443"\n'),
    { services: { app: { image: 'myapp', ports: ['8443:443'] } } });
});

test('logging: a different driver replaces the options', () => {
  assert.deepEqual(merge('services:\n  a:\n    logging: {driver: syslog, options: {x: "1"}}\n', 'services:\n  a:\n    logging: {driver: json-file, options: {max-size: 1m}}\n'),
    { services: { a: { logging: { driver: 'json-file', options: { 'max-size': '1m' } } } } });
  assert.deepEqual(merge('services:\n  a:\n    logging: {driver: syslog, options: {x: "1"}}\n', 'services:\n  a:\n    logging: {options: {y: "2"}}\n'),
    { services: { a: { logging: { driver: 'syslog', options: { x: '1', y: '2' } } } } });
});
