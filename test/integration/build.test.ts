// The Dockerfile builder on the real kernel, as root: RUN in berth's runtime, COPY/ADD through a
// mounted overlay, multi-stage with COPY --from, the build cache (hits, misses, a one-file
// change), .dockerignore with exceptions, skipped and parallel stages, errors with file:line,
// commit of a container's upper dir, save → load. Every test runs in its own roots and checks
// that nothing (mount, cgroup, process) is left behind.
import { test, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { writeFileSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lazySys } from '../../src/sys/index.js';
import { ImageStore } from '../../src/images/store.js';
import type { ContainerRuntime } from '../../src/runtime/container.js';
import { buildCacheLayers, type BuildOptions } from '../../src/build/builder.js';
import { runStep } from '../../src/build/run.js';
import { commitContainer } from '../../src/images/commit.js';
import { saveImages } from '../../src/images/save.js';
import { imageHistory, inspectImage } from '../../src/images/inspect.js';
import { pruneImages } from '../../src/images/prune.js';
import type { ImageEvent } from '../../src/images/events.js';
import { makeRoots, cleanupRoots } from '../helpers/env.js';
import { openBuilder, builderSkip as skip, buildSteps as steps, type BuilderHarness, type BuildRun } from '../helpers/builder.js';

let h: BuilderHarness;
let store: ImageStore;
let runtime: ContainerRuntime;
let work: string;

before(async () => {
  if (skip) return;
  h = await openBuilder();
  ({ store, runtime, work } = h);
});

after(async () => {
  if (skip) return;
  await h.close();
});

const context = (files: Record<string, string>): string => h.context(files);
const build = (dir: string, extra: Partial<BuildOptions> = {}): Promise<BuildRun> => h.build(dir, extra);
const runIn = (imageId: string, args: string[]): Promise<string> => h.runIn(imageId, args);

test('multi-stage: RUN, COPY, COPY --from, heredocs, ENV/WORKDIR/USER/CMD land in the image', { skip }, async () => {
  const dir = context({
    'Dockerfile': [
      'FROM bb AS builder',
      'ARG GREETING=hello',
      'RUN mkdir -p /out && echo "$GREETING from builder" > /out/msg && rm /etc/group',
      'COPY --chmod=0600 src/a.txt /out/a.txt',
      'RUN <<EOF',
      'echo heredoc > /out/here',
      'EOF',
      'FROM bb',
      'ENV APP=/app',
      'WORKDIR $APP',
      'COPY --from=builder /out/ ./',
      'COPY <<EOF /app/inline.txt',
      'inline $APP',
      'EOF',
      'USER 1000:1000',
      'CMD ["cat", "msg"]',
      'LABEL stage=final',
    ].join('\n'),
    'src/a.txt': 'A\n',
  });
  const r = await build(dir, { buildArgs: { GREETING: 'hi' }, tags: ['built:1'] });
  const image = store.resolve('built:1');
  assert.equal(image.id, r.id);
  assert.deepEqual(image.config.Cmd, ['cat', 'msg']);
  assert.equal(image.config.WorkingDir, '/app');
  assert.equal(image.config.User, '1000:1000');
  assert.ok(image.config.Env?.includes('APP=/app'));
  assert.equal(image.config.Labels?.stage, 'final');
  const out = await runIn(r.id, ['sh', '-c', 'cat /app/msg /app/a.txt /app/here /app/inline.txt; stat -c %a /app/a.txt; ls /etc/group']);
  assert.equal(out, 'hi from builder\nA\nheredoc\ninline /app\n600\n/etc/group\n');
  // the builder stage's deletion (a whiteout) is in its own image only
  const history = imageHistory(store, r.id);
  assert.equal(history[0].id, r.id);
  assert.ok(history.some((h) => h.createdBy.startsWith('COPY --from=builder')));
  assert.equal((inspectImage(store, r.id).RootFS as { Layers: string[] }).Layers.length, image.layers.length);
});

test('the build cache: a no-change rebuild hits every step and makes the same image; one changed file re-runs only from its COPY', { skip }, async () => {
  const dir = context({
    'Dockerfile': 'FROM bb\nRUN echo base > /base\nCOPY deps.txt /deps.txt\nRUN cat /deps.txt > /installed\nCOPY app.txt /app.txt\nRUN cat /app.txt > /built\n',
    'deps.txt': 'deps v1\n',
    'app.txt': 'app v1\n',
  });
  const first = await build(dir);
  assert.equal(first.cached, 0);
  const again = await build(dir);
  assert.equal(again.id, first.id);
  assert.equal(again.ran, 0);
  assert.equal(again.cached, 5);
  // (its speed is measured in bench/images.ts, not asserted here)
  writeFileSync(join(dir, 'app.txt'), 'app v2\n');
  const changed = await build(dir);
  assert.notEqual(changed.id, first.id);
  assert.deepEqual(steps(changed.events).filter((s) => s.status === 'cached' || s.status === 'started').map((s) => `${s.status} ${s.name.replace(/^\[\S+ /, '[')}`), [
    'cached [1/5] RUN echo base > /base',
    'cached [2/5] COPY deps.txt /deps.txt',
    'cached [3/5] RUN cat /deps.txt > /installed',
    'started [4/5] COPY app.txt /app.txt',
    'started [5/5] RUN cat /app.txt > /built',
  ]);
  assert.equal(await runIn(changed.id, ['cat', '/built', '/installed']), 'app v2\ndeps v1\n');
  // touching a file without changing it is still a hit; --no-cache runs everything
  writeFileSync(join(dir, 'deps.txt'), 'deps v1\n');
  assert.equal((await build(dir)).ran, 0);
  assert.equal((await build(dir, { noCache: true })).cached, 0);
});

test('.dockerignore with ! exceptions, and <Dockerfile>.dockerignore before it', { skip }, async () => {
  const dir = context({
    'Dockerfile': 'FROM bb\nCOPY . /ctx\n',
    '.dockerignore': '*.log\n!keep.log\nsecret/\n**/tmp\n',
    'app.js': 'x', 'a.log': 'x', 'keep.log': 'x', 'secret/key': 'x', 'sub/tmp/t': 'x', 'sub/ok': 'x',
    'other.Dockerfile': 'FROM bb\nCOPY . /ctx\n',
    'other.Dockerfile.dockerignore': 'app.js\n',
  });
  const r = await build(dir);
  const listing = await runIn(r.id, ['sh', '-c', 'cd /ctx && find . -type f | sort']);
  assert.equal(listing, './.dockerignore\n./Dockerfile\n./app.js\n./keep.log\n./other.Dockerfile\n./other.Dockerfile.dockerignore\n./sub/ok\n');
  const other = await build(dir, { dockerfile: 'other.Dockerfile' });
  const otherListing = await runIn(other.id, ['sh', '-c', 'cd /ctx && ls']);
  assert.ok(!otherListing.split('\n').includes('app.js'));
  assert.ok(otherListing.split('\n').includes('a.log'));
});

test('stages the target does not need are skipped; independent stages start together', { skip }, async () => {
  const dir = context({
    'Dockerfile': [
      'FROM bb AS a', 'RUN echo a > /a',
      'FROM bb AS broken', 'RUN exit 3',
      'FROM bb AS b', 'RUN echo b > /b',
      'FROM bb AS final', 'COPY --from=a /a /a', 'COPY --from=b /b /b',
    ].join('\n'),
  });
  const r = await build(dir, { target: 'final' });
  assert.equal(await runIn(r.id, ['cat', '/a', '/b']), 'a\nb\n');
  const s = steps(r.events);
  assert.ok(s.some((e) => e.status === 'skipped' && e.name.startsWith('[broken]')));
  const firstDone = s.findIndex((e) => e.status === 'done');
  const startedA = s.findIndex((e) => e.status === 'started' && e.name.startsWith('[a '));
  const startedB = s.findIndex((e) => e.status === 'started' && e.name.startsWith('[b '));
  assert.ok(startedA >= 0 && startedB >= 0 && startedA < firstDone && startedB < firstDone, JSON.stringify(s.map((e) => `${e.status} ${e.name}`)));
});

test('RUN --mount=type=cache: the content survives into the next build and is never in the image; image prune --all empties it', { skip }, async () => {
  const dir = context({ 'Dockerfile': 'FROM bb\nARG N\nRUN --mount=type=cache,target=/var/cache/app,uid=1000,mode=0700 echo "$N" >> /var/cache/app/log && cat /var/cache/app/log && stat -c "%u %a" /var/cache/app\n' });
  const output = (events: ImageEvent[]) => events.filter((e) => e.kind === 'output').map((e) => (e as { text: string }).text).join('');
  const one = await build(dir, { buildArgs: { N: 'one' } });
  assert.equal(output(one.events), 'one\n1000 700\n');
  const two = await build(dir, { buildArgs: { N: 'two' } });
  assert.equal(output(two.events), 'one\ntwo\n1000 700\n', 'the second build saw the first build\'s cache');
  // the layer holds neither the cache's files nor the mount point (nor /var/cache, made for it)
  assert.equal(await runIn(two.id, ['sh', '-c', 'ls -a /var 2>&1; test -e /var/cache && echo present || echo absent']), '.\n..\nabsent\n');
  // another id is another cache; the same id from a different target is the same one
  const other = await build(context({ 'Dockerfile': 'FROM bb\nRUN --mount=type=cache,target=/c,id=/var/cache/app cat /c/log\nRUN --mount=type=cache,target=/c cat /c/log 2>/dev/null || echo empty\n' }));
  assert.equal(output(other.events), 'one\ntwo\nempty\n');
  const { clearCacheMounts, cacheMountsDir } = await import('../../src/build/builder.js');
  assert.ok(readdirSync(cacheMountsDir(store)).length >= 2);
  assert.ok(clearCacheMounts(store).freed > 0);
  assert.deepEqual(readdirSync(cacheMountsDir(store)), []);
  const three = await build(dir, { buildArgs: { N: 'three' } });
  assert.equal(output(three.events), 'three\n1000 700\n', 'an emptied cache starts again');
});

test('RUN --mount=type=bind: context files (through .dockerignore) and a stage\'s files are visible during RUN, read-only by default, and absent from the layer; their content is in the cache key', { skip }, async () => {
  const dir = context({
    'Dockerfile': [
      'FROM bb AS tools',
      'RUN mkdir -p /opt/tool && echo "tool v1" > /opt/tool/version',
      'FROM bb',
      'WORKDIR /src',
      'RUN --mount=type=bind,target=. --mount=type=bind,from=tools,source=/opt/tool,target=/tool find . -type f | sort > /listing && cat app.txt /tool/version > /seen && (touch /src/x 2>/dev/null && echo writable || echo read-only) > /ro',
      'RUN --mount=type=bind,source=app.txt,target=/in/app.txt,rw sh -c \'echo scribble >> /in/app.txt; cat /in/app.txt > /rw\'',
    ].join('\n'),
    '.dockerignore': 'secret.txt\n',
    'app.txt': 'app v1\n',
    'secret.txt': 'do not bind me\n',
  });
  const first = await build(dir);
  assert.equal(await runIn(first.id, ['cat', '/listing', '/seen', '/ro', '/rw']), './.dockerignore\n./Dockerfile\n./app.txt\napp v1\ntool v1\nread-only\napp v1\nscribble\n');
  // the mount points are not in the layers: /src is WORKDIR's (empty), /tool and /in were never there
  assert.equal(await runIn(first.id, ['sh', '-c', 'ls -A /src; test -e /tool || echo no-tool; test -e /in || echo no-in']), 'no-tool\nno-in\n');
  // an rw bind's writes are the step's alone: the context is untouched
  assert.equal(readFileSync(join(dir, 'app.txt'), 'utf8'), 'app v1\n');
  // nothing changed: every step is cached; a changed bound file re-runs the steps that bind it
  assert.equal((await build(dir)).ran, 0);
  writeFileSync(join(dir, 'app.txt'), 'app v2\n');
  const changed = await build(dir);
  assert.equal(changed.ran, 2);
  assert.match(await runIn(changed.id, ['cat', '/seen']), /^app v2\n/);
  // an ignored file cannot be bound
  await assert.rejects(build(context({ 'Dockerfile': 'FROM bb\nRUN --mount=type=bind,source=s.txt,target=/s cat /s\n', '.dockerignore': 's.txt\n', 's.txt': 'x' })), /excluded by \.dockerignore/);
});

test('RUN --mount=type=secret and type=tmpfs: the secret is readable during RUN with its mode, neither is in the layer', { skip }, async () => {
  const secretFile = join(work, 'token.txt');
  writeFileSync(secretFile, 's3cret\n', { mode: 0o600 });
  const dir = context({
    'Dockerfile': 'FROM bb\nRUN --mount=type=secret,id=token --mount=type=secret,id=absent --mount=type=tmpfs,target=/scratch cat /run/secrets/token && stat -c %a /run/secrets/token && echo t > /scratch/t && test ! -e /run/secrets/absent && echo ok\n',
  });
  const r = await build(dir, { secrets: { token: secretFile } });
  const out = r.events.filter((e) => e.kind === 'output').map((e) => (e as { text: string }).text).join('');
  assert.equal(out, 's3cret\n400\nok\n');
  assert.equal(await runIn(r.id, ['sh', '-c', 'test -e /run/secrets || echo no-secrets; test -e /scratch || echo no-scratch']), 'no-secrets\nno-scratch\n');
  await assert.rejects(build(context({ 'Dockerfile': 'FROM bb\nRUN --mount=type=secret,id=gone,required true\n' })), /Dockerfile:2: secret "gone" is required/);
});

test('cache_from: an image berth built is a cache source without the local build cache (its layers reused); registry exports and gha warn', { skip }, async () => {
  const dir = context({ 'Dockerfile': 'FROM bb\nRUN echo one > /one\nCOPY a.txt /a.txt\nENV X=1\nRUN cat /a.txt > /b\n', 'a.txt': 'a\n' });
  const first = await build(dir, { tags: ['cachesrc:1'] });
  rmSync(join(store.stateDir(), 'buildcache'), { recursive: true, force: true });
  const again = await build(dir, { cacheFrom: ['cachesrc:1'], cacheTo: ['type=inline', 'type=registry,ref=cachesrc:cache'] });
  assert.equal(again.ran, 1, 'only ENV (a metadata step) ran');
  // the same layers (the id differs: ENV's history entry has a new time, as docker's would)
  assert.deepEqual(store.resolve(again.id).layers.map((l) => l.chainId), store.resolve(first.id).layers.map((l) => l.chainId));
  const warnings = again.events.filter((e) => e.kind === 'message').map((e) => (e as { text: string }).text);
  assert.deepEqual(warnings.filter((w) => /cache_to/.test(w)).length, 1, warnings.join('\n'));
  rmSync(join(store.stateDir(), 'buildcache'), { recursive: true, force: true });
  writeFileSync(join(dir, 'a.txt'), 'changed\n');
  const changed = await build(dir, { cacheFrom: ['type=registry,ref=cachesrc:1', 'bb', 'type=gha'] });
  assert.deepEqual(steps(changed.events).filter((s) => s.status === 'cached' || s.status === 'started').map((s) => `${s.status} ${s.name.replace(/^\[\S+ /, '[')}`), [
    'cached [1/4] RUN echo one > /one',
    'started [2/4] COPY a.txt /a.txt',
    'started [3/4] ENV X=1',
    'started [4/4] RUN cat /a.txt > /b',
  ]);
  const texts = changed.events.filter((e) => e.kind === 'message').map((e) => (e as { text: string }).text).join('\n');
  assert.match(texts, /cache_from "bb": the image records no berth build steps/);
  assert.match(texts, /cache_from "type=gha": .*gha caches are not read/);
  assert.equal(await runIn(changed.id, ['cat', '/b']), 'changed\n');
});

test('failures name the Dockerfile line: a failing RUN, an unknown instruction, a missing source', { skip }, async () => {
  await assert.rejects(build(context({ 'Dockerfile': 'FROM bb\nRUN true\nRUN exit 7\n' })), /Dockerfile:3: RUN \/bin\/sh -c exit 7: exited with code 7/);
  await assert.rejects(build(context({ 'Dockerfile': 'FROM bb\nFETCH x\n' })), /Dockerfile:2: unknown instruction: FETCH/);
  await assert.rejects(build(context({ 'Dockerfile': 'FROM bb\nCOPY nope.txt /x\n' })), /Dockerfile:2: "nope.txt" not found in the build context/);
  await assert.rejects(build(context({ 'Dockerfile': 'FROM bb\nRUN --mount=type=cache,target=/c,colour=red true\n' })), /Dockerfile:2: --mount=type=cache: unknown option "colour"/);
  await assert.rejects(build(context({ 'Dockerfile': 'FROM bb\nRUN --mount=type=ssh true\n' })), /Dockerfile:2: --mount=type=ssh is not supported/);
  await assert.rejects(build(context({ 'Dockerfile': 'FROM bb\nRUN --mount=type=bind,source=nope,target=/n true\n' })), /Dockerfile:2: "nope" not found in the build context/);
});

test('commit: a container\'s changes and deletions become a layer; the new image runs with them', { skip }, async () => {
  const base = store.resolve('bb');
  const metas = [...base.layers].reverse().map((l) => store.layer(l.chainId)!);
  const step = await runStep({
    runtime, overlayRoot: store.overlayRoot(), imageId: base.id, lowerLinks: metas.map((m) => m.link), lowerDirs: metas.map((m) => store.layerDiffDir(m)),
    args: ['sh', '-c', 'echo committed > /new && rm /etc/passwd'], env: ['PATH=/bin'], cwd: '/', user: '', where: 'test', onOutput: () => undefined,
  });
  try {
    const id = await commitContainer(store, { sys: lazySys, baseImageId: base.id, upperDir: step.upper, config: { Cmd: ['cat', '/new'] }, author: 'tester', comment: 'a commit', tags: ['committed:1'] });
    assert.equal(store.resolve('committed:1').id, id);
    assert.equal(await runIn(id, ['sh', '-c', 'cat /new; ls /etc/passwd 2>&1 || true']), 'committed\nls: /etc/passwd: No such file or directory\n');
    const h = imageHistory(store, id);
    assert.equal(h[0].comment, 'a commit');
  } finally {
    await step.remove();
  }
});

test('save → load: the archive loads back to the same image id in a fresh store', { skip }, async () => {
  const r = await build(context({ 'Dockerfile': 'FROM bb\nRUN echo saved > /saved\n' }), { tags: ['saveme:1'] });
  const file = join(work, 'saved.tar');
  await saveImages(store, ['saveme:1'], file, { sys: lazySys });
  const fresh = makeRoots();
  try {
    const other = new ImageStore({ root: fresh.root, sys: lazySys });
    const { loaded } = await other.load(file);
    assert.equal(loaded.length, 1);
    assert.equal(loaded[0].id, r.id);
    assert.deepEqual(loaded[0].repoTags, ['saveme:1']);
    const manifest = JSON.parse(execTarCat(file, 'manifest.json')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    assert.equal(manifest[0].Config, `blobs/sha256/${r.id.slice(7)}`);
    assert.equal(manifest[0].Layers.length, store.resolve(r.id).layers.length);
  } finally {
    await cleanupRoots(fresh);
  }
});

const dockerd = spawnSync('docker', ['info'], { timeout: 10_000 }).status === 0;

test('save → docker load: docker reads the archive berth wrote', { skip: skip || (!dockerd ? 'no docker daemon answers `docker info`' : false) }, async () => {
  const r = await build(context({ 'Dockerfile': 'FROM bb\nRUN echo for-docker > /d\n' }), { tags: ['berth-save-test:1'] });
  const file = join(work, 'for-docker.tar');
  await saveImages(store, ['berth-save-test:1'], file, { sys: lazySys });
  const load = spawnSync('docker', ['load', '-i', file], { encoding: 'utf8' });
  assert.equal(load.status, 0, load.stderr);
  try {
    // (the id docker shows depends on its store: classic shows the config digest, containerd's the manifest's)
    const layers = spawnSync('docker', ['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'berth-save-test:1'], { encoding: 'utf8' }).stdout.trim();
    assert.deepEqual(JSON.parse(layers), store.resolve(r.id).layers.map((l) => l.diffId));
  } finally {
    spawnSync('docker', ['rmi', 'berth-save-test:1']);
  }
});

/** Reads one member with the system tar (an implementation berth did not write). */
function execTarCat(file: string, name: string): string {
  const r = spawnSync('tar', ['-xOf', file, name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

test('image prune: a dangling image goes, tagged ones and the build cache stay; without the cache its layers go too', { skip }, async () => {
  const dir = context({ 'Dockerfile': 'FROM bb\nCOPY v.txt /v.txt\nRUN cat /v.txt > /w\n', 'v.txt': 'one\n' });
  const old = await build(dir, { tags: ['prune:1'] });
  writeFileSync(join(dir, 'v.txt'), 'two\n');
  const current = await build(dir, { tags: ['prune:1'] });
  assert.deepEqual(store.resolve(old.id).repoTags, []);
  const r = pruneImages(store, { all: false, inUse: (id) => runtime.imageInUse(id), keepLayers: buildCacheLayers(store) });
  assert.ok(r.imagesDeleted.includes(old.id));
  assert.ok(!r.imagesDeleted.includes(current.id));
  assert.throws(() => store.resolve(old.id), /no such image/);
  assert.equal(store.resolve('prune:1').id, current.id);
  assert.equal(store.resolve('bb').repoTags.includes('bb:latest'), true);
  // the old build's layers are still cached: going back to "one" runs nothing
  writeFileSync(join(dir, 'v.txt'), 'one\n');
  const back = await build(dir, { tags: ['prune:2'] });
  assert.equal(back.ran, 0);
  assert.equal(back.id, old.id);
  // prune -a without the cache: every unused image and every layer only the cache held
  const all = pruneImages(store, { all: true, inUse: () => false });
  assert.ok(all.layersDeleted.length > 0);
  assert.throws(() => store.resolve('prune:1'), /no such image/);
  assert.equal(store.allLayers().length, 0);
});
