import { test } from 'node:test';
import assert from 'node:assert/strict';
import { everyDurationMs, groupBuilds, imageAction, withContextServices, type ImageFacts, type ImageFlags } from './project-images.js';
import { limitChanges } from './image-verbs.js';
import { load } from '../spec/load.js';
import { memoryFiles } from '../spec/testing.js';

async function project(yaml: string) {
  return load({ files: ['/p/compose.yaml'], env: {}, cwd: '/p' }, memoryFiles({ '/p/compose.yaml': yaml, '/p/app/Dockerfile': 'FROM bb\n' })).project;
}

const DAY = 86_400_000;
const facts = (present: readonly string[], lastPull: Record<string, number> = {}, nowMs = 10 * DAY): ImageFacts => ({
  present: (image) => present.includes(image), lastPull: (image) => lastPull[image], nowMs,
});
const none: ImageFlags = { build: false, noBuild: false };

test('pull_policy decides per service: missing pulls only what the store lacks, always and never as written', async () => {
  const p = await project('name: demo\nservices:\n  a:\n    image: x:1\n  b:\n    image: y:1\n    pull_policy: always\n  c:\n    image: z:1\n    pull_policy: never\n  d:\n    image: w:1\n    pull_policy: if_not_present\n');
  assert.deepEqual(imageAction(p, p.services.a!, none, facts(['x:1'])), { kind: 'none' });
  assert.equal(imageAction(p, p.services.a!, none, facts([])).kind, 'pull');
  assert.equal(imageAction(p, p.services.b!, none, facts(['y:1'])).kind, 'pull', 'always pulls even when present');
  assert.deepEqual(imageAction(p, p.services.c!, none, facts(['z:1'])), { kind: 'none' });
  const never = imageAction(p, p.services.c!, none, facts([]));
  assert.equal(never.kind, 'missing');
  assert.match((never as { why: string }).why, /pull_policy is "never"/);
  assert.equal(imageAction(p, p.services.d!, none, facts([])).kind, 'pull', 'if_not_present is missing');
  // --pull overrides every service's policy
  assert.equal(imageAction(p, p.services.a!, { ...none, pull: 'always' }, facts(['x:1'])).kind, 'pull');
  assert.equal(imageAction(p, p.services.b!, { ...none, pull: 'never' }, facts(['y:1'])).kind, 'none');
});

test('daily, weekly and every_<duration> compare the last pull with the clock', async () => {
  const p = await project('services:\n  a:\n    image: x:1\n    pull_policy: daily\n  b:\n    image: y:1\n    pull_policy: every_12h\n  c:\n    image: z:1\n    pull_policy: refresh\n');
  const now = 10 * DAY;
  assert.deepEqual(imageAction(p, p.services.a!, none, facts(['x:1'], { 'x:1': now - DAY / 2 }, now)), { kind: 'none' });
  assert.equal(imageAction(p, p.services.a!, none, facts(['x:1'], { 'x:1': now - DAY - 1 }, now)).kind, 'pull');
  assert.equal(imageAction(p, p.services.a!, none, facts(['x:1'], {}, now)).kind, 'pull', 'never pulled by berth: pulled');
  assert.deepEqual(imageAction(p, p.services.b!, none, facts(['y:1'], { 'y:1': now - 11 * 3_600_000 }, now)), { kind: 'none' });
  assert.equal(imageAction(p, p.services.b!, none, facts(['y:1'], { 'y:1': now - 13 * 3_600_000 }, now)).kind, 'pull');
  assert.equal(imageAction(p, p.services.c!, none, facts(['z:1'])).kind, 'pull', 'refresh: asks the registry every time');
  assert.equal(everyDurationMs('every_1w2d'), 9 * DAY);
  assert.equal(everyDurationMs('every_'), undefined);
});

test('a service with build: is built when its image is missing, with --build or pull_policy build; --no-build refuses', async () => {
  const p = await project('name: demo\nservices:\n  app:\n    build: ./app\n  web:\n    image: web:1\n    build: ./app\n    pull_policy: build\n');
  const built = imageAction(p, p.services.app!, none, facts([]));
  assert.deepEqual(built, { kind: 'build', image: 'demo-app', why: 'image not found' });
  assert.deepEqual(imageAction(p, p.services.app!, none, facts(['demo-app'])), { kind: 'none' });
  assert.equal(imageAction(p, p.services.app!, { build: true, noBuild: false }, facts(['demo-app'])).kind, 'build');
  assert.equal(imageAction(p, p.services.app!, { build: false, noBuild: true }, facts([])).kind, 'missing');
  assert.equal(imageAction(p, p.services.web!, none, facts(['web:1'])).kind, 'build');
});

test('services sharing one build section are built once, tagged with every name', async () => {
  const p = await project('name: demo\nservices:\n  a:\n    build: ./app\n  b:\n    build: ./app\n  c:\n    build:\n      context: ./app\n      args: {X: "1"}\n');
  const builds = groupBuilds(p, ['a', 'b', 'c']);
  assert.equal(builds.length, 2);
  assert.deepEqual(builds[0]!.services, ['a', 'b']);
  assert.deepEqual(builds[0]!.request.tags, ['demo-a', 'demo-b']);
  assert.deepEqual(builds[1]!.request.buildArgs, { X: '1' });
});

test('additional_contexts: a shared build with contexts is still one build; service: contexts pull in their builds; compose paths and origins', async () => {
  const p = await project([
    'name: demo', 'services:',
    '  a:', '    build: {context: ./app, additional_contexts: {base: "service:base", src: ./src}, cache_to: ["type=local,dest=cache"]}',
    '  b:', '    build: {context: ./app, additional_contexts: {base: "service:base", src: ./src}, cache_to: ["type=local,dest=cache"]}',
    '  base:', '    build: ./app', '',
  ].join('\n'));
  const builds = groupBuilds(p, ['a', 'b']);
  assert.equal(builds.length, 1);
  assert.deepEqual(builds[0]!.extras.additionalContexts, { base: 'service:base', src: '/p/src' });
  assert.deepEqual(builds[0]!.extras.cacheTo, ['type=local,dest=/p/cache']);
  assert.equal(builds[0]!.extras.contextOrigin, 'services.a.build.additional_contexts');
  assert.deepEqual(withContextServices(p, ['a'], () => true), ['a', 'base']);
  assert.deepEqual(withContextServices(p, ['a'], () => false), ['a']);
});

test("update's limit flags become cgroup limits; none is undefined; --cpus conflicts with --cpu-quota", () => {
  assert.equal(limitChanges({ restart: 'always' }, 2), undefined);
  assert.deepEqual(limitChanges({ memory: '64m', pidsLimit: '20' }, 2), { memory: 64 * 1024 * 1024, pidsLimit: 20 });
  assert.deepEqual(limitChanges({ cpus: '0.5' }, 2), { cpuPeriod: 100_000, cpuQuota: 50_000 });
  assert.throws(() => limitChanges({ cpus: '1', cpuQuota: '1000' }, 2), /conflicting options/);
  assert.throws(() => limitChanges({ pidsLimit: 'lots' }, 2), /--pids-limit/);
});
