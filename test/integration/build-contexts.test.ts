// Named build contexts (`--build-context`, compose build.additional_contexts) and the build cache
// in a directory (cache_to type=local,dest / cache_from type=local,src), on the real kernel: RUN
// steps are containers of berth's runtime. Each harness has its own roots; the second root of
// the cache test is another harness, as another machine would be.
import { test, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { writeFileSync, readdirSync, readFileSync, symlinkSync, rmSync, existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pruneImages } from '../../src/images/prune.js';
import { saveImages } from '../../src/images/save.js';
import { lazySys } from '../../src/sys/index.js';
import { CACHE_INDEX } from '../../src/build/cache-dir.js';
import { openBuilder, builderSkip as skip, stepLines, buildMessages, type BuilderHarness } from '../helpers/builder.js';

let h: BuilderHarness;

before(async () => {
  if (skip) return;
  h = await openBuilder();
});

after(async () => {
  if (skip) return;
  await h.close();
});

test('a directory context: FROM, COPY --from and RUN --mount from= read it through its own .dockerignore; a changed file re-runs only what reads it', { skip }, async () => {
  const shared = h.context({ 'lib/util.txt': 'util v1\n', 'data.txt': 'data\n', 'secret.key': 'never\n', '.dockerignore': '*.key\n' });
  const dir = h.context({
    'Dockerfile': [
      'FROM bb',
      'RUN echo base > /base',
      'COPY --from=shared lib/util.txt /app/util.txt',
      'RUN --mount=from=shared,target=/mnt ls /mnt | sort > /app/listing',
      'RUN echo independent > /app/independent',
      'FROM shared AS files',
      'FROM bb',
      'COPY --from=1 / /files/',
      'COPY --from=0 /app /app',
    ].join('\n'),
  });
  const first = await h.build(dir, { additionalContexts: { shared } });
  assert.equal(await h.runIn(first.id, ['sh', '-c', 'cat /app/util.txt /app/listing /app/independent; ls -A /files | sort; stat -c "%u:%g" /app/util.txt']),
    'util v1\ndata.txt\nlib\nindependent\n.dockerignore\ndata.txt\nlib\n0:0\n');
  // unchanged: everything cached, the same image
  const again = await h.build(dir, { additionalContexts: { shared } });
  assert.equal(again.ran, 0);
  assert.equal(again.id, first.id);
  // an ignored file changing is no change
  writeFileSync(join(shared, 'secret.key'), 'still never\n');
  assert.equal((await h.build(dir, { additionalContexts: { shared } })).ran, 0);
  // a read file changing re-runs the steps that read the context, not the others
  writeFileSync(join(shared, 'lib/util.txt'), 'util v2\n');
  const changed = await h.build(dir, { additionalContexts: { shared } });
  // (stages run in parallel: the lines are compared as a set)
  assert.deepEqual(stepLines(changed.events).filter((l) => /^\w+ \[\d/.test(l)).sort(), [
    'cached [1/4] RUN echo base > /base',
    'started [1/2] COPY --from=1 / /files/',
    'started [2/2] COPY --from=0 /app /app',
    'started [2/4] COPY --from=shared lib/util.txt /app/util.txt',
    'started [3/4] RUN --mount=from=shared,target=/mnt ls /mnt | sort > /app/listing',
    'started [4/4] RUN echo independent > /app/independent',
  ]);
  assert.equal(await h.runIn(changed.id, ['cat', '/app/util.txt', '/files/lib/util.txt']), 'util v2\nutil v2\n');
});

test('a named context replaces the stage of the same name, and names an image before the store does (docker-image://)', { skip }, async () => {
  h.store.tag('bb', 'other-base:1');
  await h.build(h.context({ 'Dockerfile': 'FROM bb\nRUN echo from-image > /marker\n' }), { tags: ['marked:1'] });
  const dir = h.context({
    'Dockerfile': [
      'FROM bb AS builder',
      'RUN exit 9',
      'FROM alpine',
      'COPY --from=builder /marker /copied',
      'RUN cat /copied > /seen',
    ].join('\n'),
  });
  // "builder" is replaced (its failing RUN never runs); "alpine" (never pulled) is the busybox image
  const r = await h.build(dir, { additionalContexts: { builder: 'docker-image://marked:1', alpine: 'docker-image://bb' } });
  assert.equal(await h.runIn(r.id, ['cat', '/seen']), 'from-image\n');
  assert.ok(r.events.some((e) => e.kind === 'step' && e.status === 'skipped' && /replaced by the build context "builder"/.test(e.name)));
  // BuildKit's lookup is by the familiar name: docker.io/library/alpine:latest is "alpine"
  const long = await h.build(h.context({ 'Dockerfile': 'FROM docker.io/library/alpine:latest\nRUN echo ok > /ok\n' }), { additionalContexts: { alpine: 'docker-image://other-base:1' } });
  assert.equal(await h.runIn(long.id, ['cat', '/ok']), 'ok\n');
  // docker-image://scratch is the empty filesystem
  const empty = await h.build(h.context({ 'Dockerfile': 'FROM bb\nCOPY --from=nothing / /empty/\nRUN ls -A /empty | wc -l > /count\n' }), { additionalContexts: { nothing: 'docker-image://scratch' } });
  assert.equal((await h.runIn(empty.id, ['cat', '/count'])).trim(), '0');
});

test('bad named contexts fail naming where they were given; unsupported kinds say so', { skip }, async () => {
  const dir = h.context({ 'Dockerfile': 'FROM bb\nCOPY --from=src a /a\n' });
  await assert.rejects(h.build(dir, { additionalContexts: { src: 'https://example.com/x.tar' } }), /--build-context src: "https:\/\/example\.com\/x\.tar": https build contexts are not supported/);
  await assert.rejects(h.build(dir, { additionalContexts: { src: 'git@github.com:me/repo.git' } }), /git build contexts are not supported/);
  await assert.rejects(h.build(dir, { additionalContexts: { src: 'oci-layout:///tmp/layout' } }), /oci-layout build contexts are not supported/);
  await assert.rejects(h.build(dir, { additionalContexts: { Src: '/tmp' } }), /--build-context Src: invalid build context name "Src"/);
  await assert.rejects(h.build(dir, { additionalContexts: { src: join(h.work, 'no-such-dir') } }), /--build-context src: build context directory ".*no-such-dir" does not exist/);
  await assert.rejects(h.build(dir, { additionalContexts: { src: 'docker-image://UPPER' } }), /--build-context src: invalid reference format/);
  const file = join(h.work, 'plain-file');
  writeFileSync(file, 'x');
  await assert.rejects(h.build(dir, { additionalContexts: { src: file } }), /--build-context src: build context ".*plain-file" is not a directory/);
  await assert.rejects(h.build(dir, { additionalContexts: { src: 'service:web' } }), /service: contexts name a compose service/);
  await assert.rejects(h.build(dir, { additionalContexts: { src: 'https://x' }, contextOrigin: (n) => `services.app.build.additional_contexts.${n}` }), /^Unsupported: services\.app\.build\.additional_contexts\.src: "https:\/\/x": https build contexts are not supported/);
  // an unused context that is not a directory fails too, before any step
  await assert.rejects(h.build(h.context({ 'Dockerfile': 'FROM bb\n' }), { additionalContexts: { unused: join(h.work, 'gone') } }), /--build-context unused: build context directory/);
  // a symlink in a directory context is copied as a link, never followed to the host
  const linked = h.context({ 'real.txt': 'inside\n' });
  symlinkSync('/etc/hostname', join(linked, 'escape'));
  const r = await h.build(h.context({ 'Dockerfile': 'FROM bb\nCOPY --from=linked / /l/\nRUN readlink /l/escape > /target\n' }), { additionalContexts: { linked } });
  assert.equal(await h.runIn(r.id, ['cat', '/target']), '/etc/hostname\n');
});

test('cache_to type=local exports the build cache; cache_from type=local on a fresh root, and after prune, makes a rebuild a cache hit', { skip }, async () => {
  const dir = h.context({
    'Dockerfile': 'FROM bb AS deps\nRUN echo deps > /deps\nFROM bb\nCOPY --from=deps /deps /deps\nCOPY app.txt /app.txt\nRUN cat /deps /app.txt > /built\nENV X=1\n',
    'app.txt': 'app v1\n',
  });
  const cache = join(h.work, 'cache');
  const first = await h.build(dir, { cacheTo: [`type=local,dest=${cache},mode=max`] });
  assert.equal(first.cached, 0);
  assert.ok(existsSync(join(cache, CACHE_INDEX)));
  assert.match(buildMessages(first.events).join('\n'), /exported the build cache to .*cache: \d+ steps, \d+ layers/);
  const index = JSON.parse(readFileSync(join(cache, CACHE_INDEX), 'utf8')) as { entries: { layers: { digest: string }[] }[] };
  const blobs = readdirSync(join(cache, 'blobs', 'sha256')).sort();
  assert.deepEqual(blobs, [...new Set(index.entries.flatMap((e) => e.layers.map((l) => l.digest.slice(7))))].sort());

  // another root (another machine): the busybox base is there, nothing else
  const other = await openBuilder();
  try {
    // the same base image as the first root (a registry would give both the same bytes)
    const baseTar = join(h.work, 'bb-saved.tar');
    await saveImages(h.store, ['bb'], baseTar, { sys: lazySys });
    await other.store.load(baseTar);
    assert.equal(other.store.resolve('bb').id, h.store.resolve('bb').id);
    const otherDir = other.context({ 'Dockerfile': readFileSync(join(dir, 'Dockerfile'), 'utf8'), 'app.txt': 'app v1\n' });
    const imported = await other.build(otherDir, { cacheFrom: [`type=local,src=${cache}`] });
    assert.equal(imported.ran, 0, stepLines(imported.events).join('\n'));
    assert.deepEqual(other.store.resolve(imported.id).layers.map((l) => l.diffId), h.store.resolve(first.id).layers.map((l) => l.diffId));
    assert.equal(await other.runIn(imported.id, ['cat', '/built']), 'deps\napp v1\n');
    // a changed file: the steps before it are still hits, from the imported cache
    writeFileSync(join(otherDir, 'app.txt'), 'app v2\n');
    const changed = await other.build(otherDir, { cacheFrom: [`type=local,src=${cache}`] });
    assert.deepEqual(stepLines(changed.events), [
      'cached [1/1] RUN echo deps > /deps',
      'cached [1/4] COPY --from=deps /deps /deps',
      'started [2/4] COPY app.txt /app.txt',
      'started [3/4] RUN cat /deps /app.txt > /built',
      'started [4/4] ENV X=1',
    ]);
  } finally {
    await other.close();
  }

  // after the build cache is gone and `image prune` took the (untagged) image and its layers,
  // the same root imports them back
  const top = h.store.resolve(first.id).layers.at(-1)!.chainId;
  rmSync(join(h.store.stateDir(), 'buildcache'), { recursive: true, force: true });
  pruneImages(h.store, { all: false, inUse: () => false });
  assert.equal(h.store.layer(top), undefined);
  const afterPrune = await h.build(dir, { cacheFrom: [`type=local,src=${cache}`] });
  assert.equal(afterPrune.ran, 0);
  assert.equal(afterPrune.id, first.id);
  // a second export to the same directory keeps only what its index names
  writeFileSync(join(dir, 'app.txt'), 'app v3\n');
  await h.build(dir, { cacheTo: [`type=local,dest=${cache}`] });
  const index2 = JSON.parse(readFileSync(join(cache, CACHE_INDEX), 'utf8')) as { entries: { layers: { digest: string }[] }[] };
  assert.deepEqual(readdirSync(join(cache, 'blobs', 'sha256')).sort(), [...new Set(index2.entries.flatMap((e) => e.layers.map((l) => l.digest.slice(7))))].sort());
});

test('a hostile or broken cache directory: refused with a warning, the steps run, nothing written outside the store', { skip }, async () => {
  const dir = h.context({ 'Dockerfile': 'FROM bb\nRUN echo one > /one\nCOPY a.txt /a.txt\n', 'a.txt': 'a\n' });
  const cache = mkdtempSync(join(h.work, 'evil-'));
  await h.build(dir, { cacheTo: [`type=local,dest=${cache}`], noCache: true });
  const index = JSON.parse(readFileSync(join(cache, CACHE_INDEX), 'utf8')) as { entries: { key: string; layers: { digest: string; size: number }[] }[] };
  const buildcache = join(h.store.stateDir(), 'buildcache');
  // 1. a blob replaced by a symlink to a host file: not followed
  // the RUN's layer: every entry above the base has it
  const victim = index.entries.find((e) => e.layers.length > 1)!.layers[1]!;
  const blobPath = join(cache, 'blobs', 'sha256', victim.digest.slice(7));
  const saved = readFileSync(blobPath);
  rmSync(blobPath);
  symlinkSync('/etc/passwd', blobPath);
  rmSync(buildcache, { recursive: true, force: true });
  pruneImages(h.store, { all: false, inUse: () => false });
  const linked = await h.build(dir, { cacheFrom: [`type=local,src=${cache}`] });
  assert.equal(linked.ran, 2, stepLines(linked.events).join('\n'));
  assert.match(buildMessages(linked.events).join('\n'), /cache blob .*: cannot open \(ELOOP\); no more cache from it/);
  // 2. the right size, other bytes: the digest check refuses it
  rmSync(blobPath);
  writeFileSync(blobPath, Buffer.alloc(saved.length, 0x41));
  rmSync(buildcache, { recursive: true, force: true });
  pruneImages(h.store, { all: false, inUse: () => false });
  const forged = await h.build(dir, { cacheFrom: [`type=local,src=${cache}`] });
  assert.equal(forged.ran, 2);
  assert.match(buildMessages(forged.events).join('\n'), /cache blob .*: content is sha256:[0-9a-f]{64}, the index says sha256:.*; no more cache from it/);
  // 3. a malformed index: one warning naming the field, no cache from it
  writeFileSync(join(cache, CACHE_INDEX), JSON.stringify({ format: 'berth-build-cache', version: 1, entries: [{ key: '../../etc', spec: {}, layers: [] }] }));
  const badIndex = await h.build(dir, { cacheFrom: [`type=local,src=${cache}`] });
  assert.match(buildMessages(badIndex.events).join('\n'), /entries\[0\]\.key: expected a string matching/);
  // 4. no cache there yet (a first CI run): a warning, not a failure
  const none = await h.build(dir, { cacheFrom: [`type=local,src=${join(h.work, 'never-exported')}`] });
  assert.match(buildMessages(none.events).join('\n'), /no berth-build-cache\.json in .*never-exported/);
  // other kinds keep their warning; type=local without dest is an error naming it
  const gha = await h.build(dir, { cacheTo: ['type=gha'], cacheFrom: ['type=s3,region=x'] });
  assert.match(buildMessages(gha.events).join('\n'), /cache_to "type=gha": not exported/);
  assert.match(buildMessages(gha.events).join('\n'), /cache_from "type=s3,region=x": .*s3 caches are not read/);
  await assert.rejects(h.build(dir, { cacheTo: ['type=local'] }), /cache_to "type=local": type=local needs dest=DIR/);
});
