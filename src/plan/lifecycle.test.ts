// Golden plans for down, stop, start, restart, kill, pause and unpause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObservedContainer } from './observed.js';
import { planToString, type Plan } from './plan.js';
import { planDown, planKill, planPause, planRestart, planStart, planStop, planUnpause, reconcile } from './reconcile.js';
import { dep, testContainer, testHashes, testProject, testService, upOptions } from './testing.js';
import { InvalidArgument, NotFound } from '../lib/errors.js';

const golden = (plan: Plan, ...lines: string[]): void => {
  assert.equal(planToString(plan), lines.length > 0 ? lines.join('\n') + '\n' : '');
};

/** a depends on b, b depends on c */
const chain = testProject('app', [
  testService('a', { depends_on: { b: dep() } }),
  testService('b', { depends_on: { c: dep() } }),
  testService('c'),
]);
const chainRunning = (): ObservedContainer[] => ['a', 'b', 'c'].map((n) => testContainer('app', n, 1));
const observed = (containers: readonly ObservedContainer[]) => ({ projectName: 'app', containers });

test('down of a → b → c stops a, then b, then c; each container is removed after its own stop', () => {
  golden(planDown(chain, observed(chainRunning()), { removeOrphans: false }),
    '#0 stop service:a:1 (down)',
    '#1 remove service:a:1 (down) after #0',
    '#2 stop service:b:1 (down) after #0',
    '#3 remove service:b:1 (down) after #2',
    '#4 stop service:c:1 (down) after #2',
    '#5 remove service:c:1 (down) after #4',
  );
});

test('down passes the order through a service with nothing to stop', () => {
  const containers = chainRunning().map((c) => (c.service === 'b' ? { ...c, status: 'exited' as const } : c));
  golden(planDown(chain, observed(containers), { removeOrphans: false }),
    '#0 stop service:a:1 (down)',
    '#1 remove service:a:1 (down) after #0',
    '#2 remove service:b:1 (down) after #0',
    '#3 stop service:c:1 (down) after #0',
    '#4 remove service:c:1 (down) after #3',
  );
});

test('down without a project model removes every container of the project, in parallel', () => {
  golden(planDown(undefined, observed(chainRunning()), { removeOrphans: false }),
    '#0 stop service:a:1 (down)',
    '#1 remove service:a:1 (down) after #0',
    '#2 stop service:b:1 (down)',
    '#3 remove service:b:1 (down) after #2',
    '#4 stop service:c:1 (down)',
    '#5 remove service:c:1 (down) after #4',
  );
});

test('down leaves orphans and one-off containers without removeOrphans, and removes them with it', () => {
  const project = testProject('app', [testService('web')]);
  const containers = [
    testContainer('app', 'web', 1),
    testContainer('app', 'web', 2, { id: 'run-web', oneoff: true }),
    testContainer('app', 'old', 1),
    testContainer('app', 'old', 2, { id: 'run-old-done', oneoff: true, status: 'exited', exitCode: 0 }),
    testContainer('app', 'old', 3, { id: 'run-old-live', oneoff: true }),
  ];
  golden(planDown(project, observed(containers), { removeOrphans: false }),
    '#0 stop service:web:1 (down)',
    '#1 remove service:web:1 (down) after #0',
  );
  golden(planDown(project, observed(containers), { removeOrphans: true }),
    '#0 stop service:web:1 (down)',
    '#1 stop service:web:2 (one-off)',
    '#2 remove service:web:1 (down) after #0',
    '#3 remove service:web:2 (one-off) after #1',
    '#4 stop service:old:1 (orphan)',
    '#5 remove service:old:1 (orphan) after #4',
    '#6 remove service:old:2 (orphan)',
  );
});

test('stop of one service stops only it; stop of all goes in reverse dependency order', () => {
  golden(planStop(observed(chainRunning()), chain, ['b']), '#0 stop service:b:1 (stop)');
  golden(planStop(observed(chainRunning()), chain, []),
    '#0 stop service:a:1 (stop)',
    '#1 stop service:b:1 (stop) after #0',
    '#2 stop service:c:1 (stop) after #1',
  );
});

test('start of one service starts its dependencies first, waiting on each edge', () => {
  const stopped = chainRunning().map((c) => ({ ...c, status: 'exited' as const, exitCode: 0 }));
  golden(planStart(observed(stopped), chain, ['a']),
    '#0 start service:c:1 (not running)',
    '#1 wait service:c service_started (dependency of b) after #0',
    '#2 start service:b:1 (not running) after #1',
    '#3 wait service:b service_started (dependency of a) after #2',
    '#4 start service:a:1 (not running) after #3',
  );
  golden(planStart(observed(chainRunning()), chain, []));
});

test('restart follows restart: true edges only: dependents restart after the dependency is back', () => {
  const project = testProject('app', [
    testService('db'),
    testService('api', { depends_on: { db: dep('service_healthy', { restart: true }) } }),
    testService('worker', { depends_on: { db: dep() } }),
  ]);
  const containers = ['db', 'api', 'worker'].map((n) => testContainer('app', n, 1));
  golden(planRestart(observed(containers), project, ['db']),
    '#0 stop service:db:1 (restart)',
    '#1 start service:db:1 (restart) after #0',
    '#2 wait service:db service_healthy (dependency of api) after #1',
    '#3 stop service:api:1 (restart) after #2',
    '#4 start service:api:1 (restart) after #2,#3',
  );
  golden(planRestart(observed(containers), project, ['worker']),
    '#0 stop service:worker:1 (restart)',
    '#1 start service:worker:1 (restart) after #0',
  );
});

test('kill signals the running containers of the named services (all when none), at once, and names the signal', () => {
  const containers = [
    ...chainRunning(),
    testContainer('app', 'c', 2, { status: 'exited', exitCode: 0 }),
    testContainer('app', 'a', 2, { id: 'run-a', oneoff: true }),
  ];
  golden(planKill(observed(containers), chain, [], 'SIGTERM'),
    '#0 kill service:a:1 SIGTERM (kill)',
    '#1 kill service:b:1 SIGTERM (kill)',
    '#2 kill service:c:1 SIGTERM (kill)',
  );
  golden(planKill(observed(containers), chain, ['c'], 'KILL'), '#0 kill service:c:1 KILL (kill)');
  assert.throws(() => planKill(observed(containers), chain, ['nope'], 'KILL'), (e: unknown) => e instanceof NotFound && e.message === 'no such service: nope');
});

test('pause takes the running containers, unpause the paused ones', () => {
  const containers = [testContainer('app', 'a', 1), testContainer('app', 'b', 1, { status: 'paused' }), testContainer('app', 'c', 1, { status: 'exited', exitCode: 0 })];
  golden(planPause(observed(containers), chain, []), '#0 pause service:a:1 (pause)');
  golden(planUnpause(observed(containers), chain, []), '#0 unpause service:b:1 (unpause)');
  golden(planUnpause(observed(containers), chain, ['a']));
});

test('stop of a dependency chain waits level by level: each stop after its dependents have stopped', () => {
  // two dependents of b (a and d), each a level above it: b waits for both, c for b
  const project = testProject('app', [
    testService('a', { depends_on: { b: dep() } }),
    testService('d', { depends_on: { b: dep() } }),
    testService('b', { depends_on: { c: dep() } }),
    testService('c'),
  ]);
  const containers = ['a', 'b', 'c', 'd'].map((n) => testContainer('app', n, 1));
  golden(planStop(observed(containers), project, []),
    '#0 stop service:d:1 (stop)',
    '#1 stop service:a:1 (stop)',
    '#2 stop service:b:1 (stop) after #0,#1',
    '#3 stop service:c:1 (stop) after #2',
  );
});

test('a user mistake in a plan is an InvalidArgument, never a bug in berth', () => {
  const project = testProject('app', [testService('web', { container_name: 'fixed' })]);
  assert.throws(() => reconcile(project, observed([]), testHashes(project), upOptions({ scale: { web: 2 } })),
    (e: unknown) => e instanceof InvalidArgument && /custom container name "fixed"/.test(e.message));
  assert.throws(() => reconcile(project, observed([]), testHashes(project), upOptions({ forceRecreate: true, noRecreate: true })), InvalidArgument);
});

test('a network or volume is one resource of the plan: its id, and only create and remove', async () => {
  const { PlanBuilder } = await import('./builder.js');
  const plan = new PlanBuilder();
  const net = plan.add({ kind: 'create', service: '', number: 0, cause: 'not found', resource: { kind: 'network', name: 'backend' } });
  plan.add({ kind: 'create', service: 'db', number: 1, cause: 'not found', dependsOn: [net] });
  golden(plan.build(), '#0 create network:backend (not found)', '#1 create service:db:1 (not found) after #0');
  assert.throws(() => new PlanBuilder().add({ kind: 'start', service: '', number: 0, cause: 'x', resource: { kind: 'volume', name: 'data' } }), /can only be created or removed/);
});
