// Named contexts' names and values (pure): BuildKit's familiar-name lookup, what a value means,
// and the errors that name where it was given.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { contextKey, parseNamedContexts } from './named-contexts.js';
import { cachePathsAbsolute } from '../lib/cache-spec.js';

const flag = (name: string) => `--build-context ${name}`;

test('names compare in the familiar form without :latest', () => {
  assert.equal(contextKey('alpine'), 'alpine');
  assert.equal(contextKey('docker.io/library/alpine:latest'), 'alpine');
  assert.equal(contextKey('alpine:3.20'), 'alpine:3.20');
  assert.equal(contextKey('localhost:5000/me/app'), 'localhost:5000/me/app');
  assert.equal(contextKey('Src'), undefined);
  assert.equal(contextKey(''), undefined);
});

test('values: a directory, docker-image:// (scratch too); everything else is an error naming the flag', () => {
  const m = parseNamedContexts({ src: '/work/src', alpine: 'docker-image://alpine:3', none: 'docker-image://scratch' }, flag);
  assert.deepEqual([...m.keys()].sort(), ['alpine', 'none', 'src']);
  assert.deepEqual(m.get('src'), { kind: 'dir', name: 'src', path: '/work/src', origin: '--build-context src' });
  assert.deepEqual(m.get('alpine'), { kind: 'image', name: 'alpine', ref: 'alpine:3', origin: '--build-context alpine' });
  assert.equal(m.get('none')!.kind, 'scratch');
  for (const [value, re] of [
    ['https://example.com/a.tar', /--build-context x: "https:\/\/example\.com\/a\.tar": https build contexts are not supported/],
    ['git@github.com:me/r.git', /git build contexts are not supported/],
    ['github.com/me/r', /git build contexts are not supported/],
    ['oci-layout:///layout@sha256:' + 'a'.repeat(64), /oci-layout build contexts are not supported/],
    ['target:base', /target build contexts are not supported/],
    ['service:web', /service: contexts name a compose service/],
    ['relative/dir', /a directory context must be an absolute path here/],
    ['', /the build context "x" is empty/],
    ['docker-image://Bad', /--build-context x: invalid reference format/],
  ] as const) {
    assert.throws(() => parseNamedContexts({ x: value }, flag), re, value);
  }
  assert.throws(() => parseNamedContexts({ 'Bad Name': '/x' }, flag), /--build-context Bad Name: invalid build context name/);
  assert.throws(() => parseNamedContexts({ alpine: '/a', 'alpine:latest': '/b' }, flag), /is the same name as "alpine"/);
});

test('cache_from/cache_to type=local: relative src/dest made absolute, other kinds untouched', () => {
  assert.equal(cachePathsAbsolute('type=local,src=cache', '/p'), 'type=local,src=/p/cache');
  assert.equal(cachePathsAbsolute('type=local,dest=../c,mode=max', '/p/sub'), 'type=local,dest=/p/c,mode=max');
  assert.equal(cachePathsAbsolute('type=local,dest=/abs', '/p'), 'type=local,dest=/abs');
  assert.equal(cachePathsAbsolute('type=registry,ref=x/y:cache', '/p'), 'type=registry,ref=x/y:cache');
  assert.equal(cachePathsAbsolute('myimage:cache', '/p'), 'myimage:cache');
});
