// The engine's Watches (src/engine/watch.ts) with the real notifier, batcher and snapshot and a
// real ProjectStore, its engine-side effects recorded: what a detached watch records (and what it
// never writes down: the caller's credentials), that those credentials reach the up and a
// rebuild's build and recreate, that --prune hands the replaced image over once the services are
// recreated, that restore() starts a recorded watch again (claimed before the first await) with
// no credentials, and that watchStop and stopProject({forget}) forget it. No container: nothing
// runs, so the rebuild rule is the action observed.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock } from '../../src/lib/clock.js';
import { lazySys } from '../../src/sys/index.js';
import { Watches } from '../../src/engine/watch.js';
import { ProjectStore } from '../../src/engine/store.js';
import type { ContainerRuntime } from '../../src/runtime/container.js';
import type { Project, Service } from '../../src/spec/model.js';
import type { RegistryAuth, UpRequest } from '../../src/api/types.js';
import { eventually, helperPath } from './watch-harness.js';

const SECRET = 'watch-engine-test-password';
const auth: RegistryAuth = { 'registry.example:5000': { username: 'dev', password: SECRET } } as unknown as RegistryAuth;

function projectAt(dir: string): Project {
  const app: Service = {
    name: 'app', depends_on: {}, build: { context: join(dir, 'app'), args: {} },
    develop: { watch: [{ path: join(dir, 'app'), action: 'rebuild', ignore: [], include: [], initial_sync: false }] },
  } as unknown as Service;
  return {
    name: 'wengine', working_dir: dir, compose_files: [join(dir, 'compose.yaml')], services: { app }, disabled_services: {}, networks: {}, volumes: {},
    secrets: {}, configs: {}, all_profiles: [], enabled_profiles: [], extensions: {}, unsupported: {},
  };
}

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-watch-engine-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'Dockerfile'), 'FROM bb\n');
  const root = join(dir, 'root');
  const store = new ProjectStore(root);
  const ups: UpRequest[] = [];
  const builds: { services: readonly string[]; auth: RegistryAuth }[] = [];
  const pruned: (readonly string[])[] = [];
  const log: string[] = [];
  let image = 'sha256:old';
  const watches = new Watches({
    runtime: { list: () => [], ids: () => [], view: () => undefined } as unknown as ContainerRuntime,
    sys: lazySys, clock: realClock, helperPath, store, stateDir: join(root, 'watch'), log: (l) => log.push(l),
    compose: {
      up: async (req) => { ups.push(req); return 0; },
      restart: async () => 0,
    },
    build: async (_p, services, a) => { builds.push({ services, auth: a }); image = 'sha256:new'; return 0; },
    imageOf: async () => image,
    removeIfDangling: async (ids) => { pruned.push(ids); return ids.map((id) => `deleted: ${id}`); },
  });
  return { dir, root, store, watches, ups, builds, pruned, log, project: projectAt(dir) };
}

test('a detached watch: the caller\'s credentials reach the up, the build and the recreate, and are never written down; --prune hands over the replaced image', async () => {
  const s = setUp();
  try {
    const events: string[] = [];
    const upOptions = { services: [], noDeps: false, forceRecreate: false, noRecreate: false, noStart: false, removeOrphans: false, scale: {}, wait: false, waitTimeout: 0 };
    const code = await s.watches.watch({ project: s.project, options: { services: [], up: upOptions, detach: true }, auth }, (e) => { if (e.kind === 'watch') events.push(e.action); }, new AbortController().signal);
    assert.equal(code, 0);
    assert.deepEqual(events, ['ready'], 'the answer ends at ready');
    assert.equal(s.watches.mode('wengine'), 'detached');
    assert.equal(s.watches.serviceMode('wengine', 'app'), 'detached');
    assert.equal(s.ups.length, 1);
    assert.deepEqual(s.ups[0]!.auth, auth, 'the up a watch runs pulls with the caller\'s credentials');
    const recorded = readFileSync(join(s.root, 'projects', 'wengine.json'), 'utf8');
    assert.deepEqual(JSON.parse(recorded).watch.services, []);
    assert.equal(JSON.parse(recorded).watch.prune, true);
    assert.ok(!recorded.includes(SECRET), 'no credential in the project state');

    // a change in the build context: one build with the caller's credentials, then a recreate with them
    writeFileSync(join(s.dir, 'app', 'main.txt'), 'v2\n');
    await eventually('the rebuild and the recreate', 15_000, () => s.ups.length >= 2 && s.pruned.length >= 1);
    assert.deepEqual(s.builds.map((b) => b.services), [['app']]);
    assert.deepEqual(s.builds[0]!.auth, auth);
    assert.deepEqual(s.ups[1]!.options.services, ['app']);
    assert.equal(s.ups[1]!.options.forceRecreate, true);
    assert.deepEqual(s.ups[1]!.auth, auth);
    assert.deepEqual(s.pruned, [['sha256:old']], 'the image the rebuild replaced, once the service was recreated');
    const snapshot = readFileSync(join(s.root, 'watch', 'wengine.snapshot.json'), 'utf8');
    assert.ok(!snapshot.includes(SECRET));

    // the engine stops: the record stays; a new engine's restore starts it again, without credentials
    await s.watches.stopAll('the engine stopped');
    assert.equal(s.watches.mode('wengine'), '');
    const again = new Watches({
      runtime: { list: () => [], ids: () => [], view: () => undefined } as unknown as ContainerRuntime,
      sys: lazySys, clock: realClock, helperPath, store: new ProjectStore(s.root), stateDir: join(s.root, 'watch'), log: (l) => s.log.push(l),
      compose: { up: async (req) => { s.ups.push(req); return 0; }, restart: async () => 0 },
      build: async (_p, services, a) => { s.builds.push({ services, auth: a }); return 0; },
      imageOf: async () => 'sha256:new',
      removeIfDangling: async () => [],
    });
    const restoring = again.restore();
    assert.equal(again.mode('wengine'), 'detached', 'claimed before restore() first awaits');
    await restoring;
    assert.ok(s.log.some((l) => /detached watch started again/.test(l)), s.log.join('\n'));
    writeFileSync(join(s.dir, 'app', 'main.txt'), 'v3\n');
    await eventually('a rebuild by the restored watch', 15_000, () => s.builds.length >= 2);
    assert.deepEqual(s.builds[1]!.auth, {}, 'a restored watch has no credentials (they were never stored)');

    // watch --stop forgets it: no record, no snapshot, nothing restored next time
    assert.deepEqual(await again.watchStop('wengine'), { stopped: true, detached: true });
    assert.equal(again.mode('wengine'), '');
    assert.equal(JSON.parse(readFileSync(join(s.root, 'projects', 'wengine.json'), 'utf8')).watch, undefined);
    assert.equal(existsSync(join(s.root, 'watch', 'wengine.snapshot.json')), false);
    assert.deepEqual(await again.watchStop('wengine'), { stopped: false, detached: false });
  } finally {
    await s.watches.stopAll('test over');
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('an attached watch is refused while a detached one runs; stopProject({forget}) ends and forgets it (down)', async () => {
  const s = setUp();
  try {
    await s.watches.watch({ project: s.project, options: { services: [], detach: true } }, () => undefined, new AbortController().signal);
    await assert.rejects(s.watches.watch({ project: s.project, options: { services: [] } }, () => undefined, new AbortController().signal),
      /already being watched in the background: berth watch --stop ends that watch/);
    // a second detached request replaces the first
    await s.watches.watch({ project: s.project, options: { services: [], detach: true, prune: false } }, () => undefined, new AbortController().signal);
    assert.equal(JSON.parse(readFileSync(join(s.root, 'projects', 'wengine.json'), 'utf8')).watch.prune, false);
    await s.watches.stopProject('wengine', 'the project was taken down', { forget: true });
    assert.equal(s.watches.mode('wengine'), '');
    assert.equal(JSON.parse(readFileSync(join(s.root, 'projects', 'wengine.json'), 'utf8')).watch, undefined);
    assert.equal(existsSync(join(s.root, 'watch', 'wengine.snapshot.json')), false, 'the snapshot written at stop is removed too');
  } finally {
    await s.watches.stopAll('test over');
    rmSync(s.dir, { recursive: true, force: true });
  }
});
