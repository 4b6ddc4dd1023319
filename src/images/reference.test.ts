// Reference parsing and chainIDs: pure, so tested beside the code.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { familiarTag, parseReference } from './reference.js';
import { chainIds } from './store.js';

test('references are normalised the way docker shows them', () => {
  const cases: [string, string][] = [
    ['busybox', 'busybox:latest'],
    ['busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'busybox:latest'],
    ['docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox', 'busybox:latest'],
    ['me/app:v1', 'me/app:v1'],
    ['docker.io/me/app', 'me/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/team/app:v2', 'localhost:5000/team/app:v2'],
    ['ghcr.io/owner/image:tag-1.2_3', 'ghcr.io/owner/image:tag-1.2_3'],
  ];
  for (const [input, shown] of cases) assert.equal(familiarTag(input), shown, input);
  assert.equal(parseReference('busybox').path, 'library/busybox');
  assert.equal(parseReference('busybox').domain, 'docker.io');
});

test('malformed references are InvalidArgument with docker\'s wording', () => {
  for (const bad of ['', 'Busybox', 'busybox:', 'busybox:-x', 'a//b', 'bad_/x', `x:${'t'.repeat(129)}`, 'busybox@sha256:abc']) {
    assert.throws(() => parseReference(bad), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT' && /invalid reference format/.test((e as Error).message), bad);
  }
  const digest = `busybox@sha256:${'a'.repeat(64)}`;
  assert.equal(parseReference(digest).tag, undefined);
  assert.throws(() => familiarTag(digest), /refusing to create a tag with a digest reference/);
});

test('chainIDs follow the OCI definition', () => {
  const d0 = `sha256:${'1'.repeat(64)}`;
  const d1 = `sha256:${'2'.repeat(64)}`;
  const c1 = `sha256:${createHash('sha256').update(`${d0} ${d1}`).digest('hex')}`;
  assert.deepEqual(chainIds([d0, d1]), [d0, c1]);
  assert.deepEqual(chainIds([]), []);
});
