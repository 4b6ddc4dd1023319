// Golden plans for `up`: planToString() output compared to literal text, one scenario each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Project } from '../spec/model.js';
import type { ObservedContainer } from './observed.js';
import { planToString, type Plan } from './plan.js';
import { reconcile, type ReconcileOptions } from './reconcile.js';
import { dep, testContainer, testHashes, testProject, testService, upOptions } from './testing.js';

const golden = (plan: Plan, ...lines: string[]): void => {
  assert.equal(planToString(plan), lines.length > 0 ? lines.join('\n') + '\n' : '');
};

/** db (with a health check) ← migrate (healthy) ← web (started + completed successfully) */
const shop = testProject('shop', [
  testService('db', { healthcheck: { test: ['CMD', 'pg_isready'], disable: false } }),
  testService('migrate', { depends_on: { db: dep('service_healthy') } }),
  testService('web', { depends_on: { db: dep('service_started'), migrate: dep('service_completed_successfully') } }),
]);
const shopRunning = (): ObservedContainer[] => ['db', 'migrate', 'web'].map((n) => testContainer('shop', n, 1));

const up = (project: Project, containers: readonly ObservedContainer[], options: Partial<ReconcileOptions> = {},
  hashes: Record<string, string> = {}): Plan =>
  reconcile(project, { projectName: project.name, containers }, { ...testHashes(project), ...hashes }, upOptions(options));

test('fresh up: every replica created and started, each start after a wait per depends_on edge', () => {
  golden(up(shop, []),
    '#0 create service:db:1 (not found)',
    '#1 start service:db:1 (not found) after #0',
    '#2 create service:migrate:1 (not found) after #0',
    '#3 wait service:db service_healthy (dependency of migrate) after #1',
    '#4 start service:migrate:1 (not found) after #2,#3',
    '#5 create service:web:1 (not found) after #0,#2',
    '#6 wait service:db service_started (dependency of web) after #1',
    '#7 wait service:migrate service_completed_successfully (dependency of web) after #4',
    '#8 start service:web:1 (not found) after #5,#6,#7',
  );
});

test('up again with everything running and unchanged: no operation', () => {
  golden(up(shop, shopRunning()));
});

test('one service whose hash changed is recreated, and only that one', () => {
  golden(up(shop, shopRunning(), {}, { web: 'h-web-2' }),
    '#0 stop service:web:1 (config hash changed)',
    '#1 remove service:web:1 (config hash changed) after #0',
    '#2 create service:web:1 (config hash changed) after #1',
    '#3 wait service:db service_started (dependency of web)',
    '#4 wait service:migrate service_completed_successfully (dependency of web)',
    '#5 start service:web:1 (config hash changed) after #2,#3,#4',
  );
});

test('a changed dependency without restart: true leaves its dependents running', () => {
  golden(up(shop, shopRunning(), {}, { db: 'h-db-2' }),
    '#0 stop service:db:1 (config hash changed)',
    '#1 remove service:db:1 (config hash changed) after #0',
    '#2 create service:db:1 (config hash changed) after #1',
    '#3 start service:db:1 (config hash changed) after #2',
  );
});

test('forceRecreate recreates every selected service, in dependency order', () => {
  golden(up(shop, shopRunning(), { forceRecreate: true }),
    '#0 stop service:db:1 (forced)',
    '#1 remove service:db:1 (forced) after #0',
    '#2 create service:db:1 (forced) after #1',
    '#3 start service:db:1 (forced) after #2',
    '#4 stop service:migrate:1 (forced)',
    '#5 remove service:migrate:1 (forced) after #4',
    '#6 create service:migrate:1 (forced) after #2,#5',
    '#7 wait service:db service_healthy (dependency of migrate) after #3',
    '#8 start service:migrate:1 (forced) after #6,#7',
    '#9 stop service:web:1 (forced)',
    '#10 remove service:web:1 (forced) after #9',
    '#11 create service:web:1 (forced) after #2,#6,#10',
    '#12 wait service:db service_started (dependency of web) after #3',
    '#13 wait service:migrate service_completed_successfully (dependency of web) after #8',
    '#14 start service:web:1 (forced) after #11,#12,#13',
  );
});

test('forceRecreate with a selection forces the named service only; its dependencies converge as usual', () => {
  golden(up(shop, shopRunning(), { forceRecreate: true, services: ['web'] }),
    '#0 stop service:web:1 (forced)',
    '#1 remove service:web:1 (forced) after #0',
    '#2 create service:web:1 (forced) after #1',
    '#3 wait service:db service_started (dependency of web)',
    '#4 wait service:migrate service_completed_successfully (dependency of web)',
    '#5 start service:web:1 (forced) after #2,#3,#4',
  );
});

test('noRecreate keeps a container whose hash changed, and still starts a stopped one', () => {
  golden(up(shop, shopRunning(), { noRecreate: true }, { web: 'h-web-2', db: 'h-db-2' }));
  const containers = shopRunning().map((c) => (c.service === 'web' ? { ...c, status: 'exited' as const } : c));
  golden(up(shop, containers, { noRecreate: true }, { web: 'h-web-2' }),
    '#0 wait service:db service_started (dependency of web)',
    '#1 wait service:migrate service_completed_successfully (dependency of web)',
    '#2 start service:web:1 (not running) after #0,#1',
  );
});

test('forceRecreate and noRecreate together are refused', () => {
  assert.throws(() => up(shop, [], { forceRecreate: true, noRecreate: true }), /incompatible/);
});

const single = testProject('app', [testService('web')]);

test('scale up 1 → 3 creates and starts replicas 2 and 3', () => {
  golden(up(single, [testContainer('app', 'web', 1)], { scale: { web: 3 } }),
    '#0 create service:web:2 (not found)',
    '#1 create service:web:3 (not found)',
    '#2 start service:web:2 (not found) after #0',
    '#3 start service:web:3 (not found) after #1',
  );
});

test('scale up fills gaps in the numbering from 1', () => {
  golden(up(single, [testContainer('app', 'web', 1), testContainer('app', 'web', 3)], { scale: { web: 3 } }),
    '#0 create service:web:2 (not found)',
    '#1 start service:web:2 (not found) after #0',
  );
});

test('scale down 3 → 1 stops and removes the highest numbers; a stopped one needs no stop', () => {
  const containers = [1, 2, 3].map((n) => testContainer('app', 'web', n, n === 3 ? { status: 'exited', exitCode: 0 } : {}));
  golden(up(single, containers),
    '#0 stop service:web:2 (scaled down)',
    '#1 remove service:web:2 (scaled down) after #0',
    '#2 remove service:web:3 (scaled down)',
  );
});

test('scale down removes obsolete replicas before up-to-date ones (compose)', () => {
  const containers = [testContainer('app', 'web', 1, { configHash: 'old' }), testContainer('app', 'web', 2)];
  golden(up(single, containers),
    '#0 stop service:web:1 (scaled down)',
    '#1 remove service:web:1 (scaled down) after #0',
  );
});

test('deploy.replicas / scale from the model, --scale over it, 0 removes all', () => {
  const three = testProject('app', [testService('web', { scale: 3 })]);
  golden(up(three, [testContainer('app', 'web', 1), testContainer('app', 'web', 2), testContainer('app', 'web', 3)]));
  golden(up(three, [testContainer('app', 'web', 1)], { scale: { web: 0 } }),
    '#0 stop service:web:1 (scaled down)',
    '#1 remove service:web:1 (scaled down) after #0',
  );
});

test('a container stopped by the user is started again by up, as compose does', () => {
  golden(up(single, [testContainer('app', 'web', 1, { status: 'exited', exitCode: 137, stoppedByUser: true })]),
    '#0 start service:web:1 (not running)',
  );
});

test('a created, never started container is started; restarting and paused ones are left alone', () => {
  golden(up(single, [testContainer('app', 'web', 1, { status: 'created' })]), '#0 start service:web:1 (not running)');
  golden(up(single, [testContainer('app', 'web', 1, { status: 'restarting' })]));
  golden(up(single, [testContainer('app', 'web', 1, { status: 'paused' })]));
});

test('a dead container is replaced', () => {
  golden(up(single, [testContainer('app', 'web', 1, { status: 'dead' })]),
    '#0 remove service:web:1 (dead)',
    '#1 create service:web:1 (dead) after #0',
    '#2 start service:web:1 (dead) after #1',
  );
});

const withOrphans = (): ObservedContainer[] => [
  testContainer('app', 'web', 1),
  testContainer('app', 'old', 1),
  testContainer('app', 'gone', 1, { status: 'exited', exitCode: 0 }),
  testContainer('app', 'web', 2, { id: 'run1', oneoff: true }),
  testContainer('app', 'tools', 1, { id: 'tools1' }),
];
const withProfiles = testProject('app', [testService('web')], [testService('tools', { profiles: ['debug'] })]);

test('orphans are left alone without removeOrphans', () => {
  golden(up(withProfiles, withOrphans()));
});

test('removeOrphans stops and removes orphans first; one-off and disabled-profile containers are not orphans', () => {
  golden(up(withProfiles, withOrphans(), { removeOrphans: true }),
    '#0 remove service:gone:1 (orphan)',
    '#1 stop service:old:1 (orphan)',
    '#2 remove service:old:1 (orphan) after #1',
  );
});

test('a selection brings its dependencies along', () => {
  golden(up(shop, [], { services: ['migrate'] }),
    '#0 create service:db:1 (not found)',
    '#1 start service:db:1 (not found) after #0',
    '#2 create service:migrate:1 (not found) after #0',
    '#3 wait service:db service_healthy (dependency of migrate) after #1',
    '#4 start service:migrate:1 (not found) after #2,#3',
  );
});

test('a selection with noDeps touches and waits for nothing else', () => {
  golden(up(shop, [], { services: ['migrate'], noDeps: true }),
    '#0 create service:migrate:1 (not found)',
    '#1 start service:migrate:1 (not found) after #0',
  );
});

test('an unknown service in the selection or in --scale is an error', () => {
  assert.throws(() => up(shop, [], { services: ['nope'] }), /no such service: nope/);
  assert.throws(() => up(shop, [], { scale: { nope: 2 } }), /no such service: nope/);
});

test('noStart creates only, still in dependency order', () => {
  golden(up(shop, [], { noStart: true }),
    '#0 create service:db:1 (not found)',
    '#1 create service:migrate:1 (not found) after #0',
    '#2 create service:web:1 (not found) after #0,#1',
  );
});

test('a required: false dependency that does not exist is skipped; one that exists is waited for as optional', () => {
  const absent = testProject('app', [
    testService('web', { depends_on: { cache: dep('service_healthy', { required: false }), db: dep() } }),
    testService('db'),
  ]);
  golden(up(absent, []),
    '#0 create service:db:1 (not found)',
    '#1 start service:db:1 (not found) after #0',
    '#2 create service:web:1 (not found) after #0',
    '#3 wait service:db service_started (dependency of web) after #1',
    '#4 start service:web:1 (not found) after #2,#3',
  );
  const disabled = testProject('app', Object.values(absent.services), [testService('cache', { profiles: ['fast'] })]);
  golden(up(disabled, []),
    '#0 create service:db:1 (not found)',
    '#1 start service:db:1 (not found) after #0',
    '#2 create service:web:1 (not found) after #0',
    '#3 wait service:db service_started (dependency of web) after #1',
    '#4 start service:web:1 (not found) after #2,#3',
  );
  const present = testProject('app', [...Object.values(absent.services), testService('cache')]);
  golden(up(present, [testContainer('app', 'cache', 1), testContainer('app', 'db', 1)]),
    '#0 create service:web:1 (not found)',
    '#1 wait service:cache service_healthy (optional) (dependency of web)',
    '#2 wait service:db service_started (dependency of web)',
    '#3 start service:web:1 (not found) after #0,#1,#2',
  );
});

test('restart: true — recreating a dependency stops its dependent first and starts it after', () => {
  const project = testProject('app', [
    testService('db'),
    testService('api', { depends_on: { db: dep('service_healthy', { restart: true }) } }),
    testService('worker', { depends_on: { db: dep() } }),
  ]);
  const containers = ['db', 'api', 'worker'].map((n) => testContainer('app', n, 1));
  golden(up(project, containers, {}, { db: 'h-db-2' }),
    '#0 stop service:api:1 (dependency db recreated)',
    '#1 stop service:db:1 (config hash changed) after #0',
    '#2 remove service:db:1 (config hash changed) after #1',
    '#3 create service:db:1 (config hash changed) after #2',
    '#4 start service:db:1 (config hash changed) after #3',
    '#5 wait service:db service_healthy (dependency of api) after #4',
    '#6 start service:api:1 (dependency db recreated) after #0,#5',
  );
});

test('container_name names the single replica; scaling it is an error', () => {
  const project = testProject('app', [testService('web', { container_name: 'frontend' })]);
  golden(up(project, []),
    '#0 create service:web:1 (not found)',
    '#1 start service:web:1 (not found) after #0',
  );
  golden(up(project, [testContainer('app', 'web', 1, { name: 'frontend' })]));
  assert.throws(() => up(project, [], { scale: { web: 2 } }), /custom container name "frontend"/);
});

test('every dependency of an operation points to an earlier one', () => {
  const plan = up(shop, shopRunning(), { forceRecreate: true });
  for (const op of plan.operations) for (const d of op.dependsOn) assert.ok(d < op.id, `#${op.id} after #${d}`);
});

test('the observed state of another project is refused', () => {
  assert.throws(() => reconcile(shop, { projectName: 'other', containers: [] }, testHashes(shop), upOptions()), /observed state of project "other"/);
});
