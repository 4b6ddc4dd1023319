// Golden plans for volumes as resources: created by `up` before their users, removed by `down -v`
// after them; external volumes never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Project, ServiceMount, Volume } from '../spec/model.js';
import type { ObservedContainer, ObservedVolume } from './observed.js';
import { planToString, type Plan } from './plan.js';
import { planDown, reconcile, type ReconcileOptions } from './reconcile.js';
import { dep, testContainer, testHashes, testProject, testService, upOptions } from './testing.js';

const golden = (plan: Plan, ...lines: string[]): void => {
  assert.equal(planToString(plan), lines.length > 0 ? lines.join('\n') + '\n' : '');
};

const mount = (source: string | undefined, target: string): ServiceMount =>
  ({ type: 'volume', ...(source !== undefined ? { source } : {}), target, read_only: false, volume: { nocopy: false } });
const volume = (name: string, more: Partial<Volume> = {}): Volume => ({ name, driver_opts: {}, external: false, labels: {}, extensions: {}, ...more });
const withVolumes = (project: Project, volumes: Record<string, Volume>): Project => ({ ...project, volumes });

/** db and worker share "data"; web mounts "cache"; "logs" is external; nobody uses "spare" */
const shop = withVolumes(testProject('shop', [
  testService('db', { volumes: [mount('data', '/var/lib/db')] }),
  testService('worker', { volumes: [mount('data', '/data'), mount('logs', '/logs'), mount(undefined, '/scratch')], depends_on: { db: dep() } }),
  testService('web', { volumes: [mount('cache', '/cache'), { type: 'bind', source: '/srv/www', target: '/www', read_only: true, bind: { create_host_path: true } }] }),
]), {
  data: volume('shop_data'),
  cache: volume('shop_cache'),
  logs: volume('shared-logs', { external: true }),
  spare: volume('shop_spare'),
});

const up = (project: Project, containers: readonly ObservedContainer[], volumes: readonly ObservedVolume[], options: Partial<ReconcileOptions> = {}): Plan =>
  reconcile(project, { projectName: project.name, containers, volumes }, testHashes(project), upOptions(options));

const observedVolume = (name: string, users: readonly string[] = [], more: Partial<ObservedVolume> = {}): ObservedVolume =>
  ({ name, project: 'shop', anonymous: false, users, ...more });

test('a fresh up creates the volumes in use first, and each container after its volumes; external and unused ones are left', () => {
  golden(up(shop, [], []),
    '#0 create volume:shop_cache (not found)',
    '#1 create volume:shop_data (not found)',
    '#2 create service:db:1 (not found) after #1',
    '#3 start service:db:1 (not found) after #2',
    '#4 create service:web:1 (not found) after #0',
    '#5 start service:web:1 (not found) after #4',
    '#6 create service:worker:1 (not found) after #1,#2',
    '#7 wait service:db service_started (dependency of worker) after #3',
    '#8 start service:worker:1 (not found) after #6,#7',
  );
});

test('a volume that exists (made by an earlier up, or by hand) is not created again', () => {
  golden(up(shop, [], [observedVolume('shop_data'), observedVolume('shop_cache', [], { project: undefined })]),
    '#0 create service:db:1 (not found)',
    '#1 start service:db:1 (not found) after #0',
    '#2 create service:web:1 (not found)',
    '#3 start service:web:1 (not found) after #2',
    '#4 create service:worker:1 (not found) after #0',
    '#5 wait service:db service_started (dependency of worker) after #1',
    '#6 start service:worker:1 (not found) after #4,#5',
  );
});

test('only the volumes of the services in scope are created', () => {
  golden(up(shop, [], [], { services: ['web'] }),
    '#0 create volume:shop_cache (not found)',
    '#1 create service:web:1 (not found) after #0',
    '#2 start service:web:1 (not found) after #1',
  );
});

test('a recreate does not touch an existing volume; a volume removed meanwhile is made again before the new container', () => {
  const running = ['db', 'web', 'worker'].map((n) => testContainer('shop', n, 1));
  const all = [observedVolume('shop_data', ['db1', 'worker1']), observedVolume('shop_cache', ['web1'])];
  golden(up(shop, running, all, { forceRecreate: true, services: ['web'] }),
    '#0 stop service:web:1 (forced)',
    '#1 remove service:web:1 (forced) after #0',
    '#2 create service:web:1 (forced) after #1',
    '#3 start service:web:1 (forced) after #2',
  );
  golden(up(shop, running.filter((c) => c.service !== 'web'), [all[0]!], { services: ['web'] }),
    '#0 create volume:shop_cache (not found)',
    '#1 create service:web:1 (not found) after #0',
    '#2 start service:web:1 (not found) after #1',
  );
});

const downObserved = (volumes: readonly ObservedVolume[]) => ({
  projectName: 'shop',
  containers: ['db', 'web', 'worker'].map((n) => testContainer('shop', n, 1, { status: 'exited', exitCode: 0 })),
  volumes,
});
const anon = 'a'.repeat(64);
const leftover = 'b'.repeat(64);
const foreignAnon = 'c'.repeat(64);

test('down keeps every volume', () => {
  golden(planDown(shop, downObserved([observedVolume('shop_data', ['db1'])]), { removeOrphans: false }),
    '#0 remove service:worker:1 (down)',
    '#1 remove service:web:1 (down)',
    '#2 remove service:db:1 (down)',
  );
});

test('down -v removes the project\'s named volumes after their users, and anonymous ones whose users all go; never an external or another project\'s', () => {
  const volumes = [
    observedVolume('shop_data', ['db1', 'worker1']),
    observedVolume('shop_cache', ['web1']),
    observedVolume('shop_spare'),
    observedVolume('shared-logs', ['worker1']),
    observedVolume('other_data', [], { project: 'other' }),
    observedVolume('by-hand', [], { project: undefined }),
    observedVolume(anon, ['worker1'], { anonymous: true }),
    observedVolume(leftover, [], { anonymous: true }),
    observedVolume(foreignAnon, ['worker1', 'run1'], { anonymous: true }),
  ];
  golden(planDown(shop, downObserved(volumes), { removeOrphans: false, volumes: true }),
    '#0 remove service:worker:1 (down)',
    '#1 remove service:web:1 (down)',
    '#2 remove service:db:1 (down)',
    '#3 remove volume:shop_cache (down -v) after #1',
    '#4 remove volume:shop_data (down -v) after #0,#2',
    '#5 remove volume:shop_spare (down -v)',
    `#6 remove volume:${anon} (anonymous) after #0`,
    `#7 remove volume:${leftover} (anonymous)`,
  );
});

test('down -v without a model goes by the project label alone', () => {
  golden(planDown(undefined, { ...downObserved([observedVolume('shop_data', ['db1']), observedVolume('shared-logs', [], { project: undefined })]), containers: [] }, { removeOrphans: false, volumes: true }),
    '#0 remove volume:shop_data (down -v)',
  );
});
