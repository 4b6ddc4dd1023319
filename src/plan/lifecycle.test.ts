// Golden plans for down, stop, start and restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObservedContainer } from './observed.js';
import { planToString, type Plan } from './plan.js';
import { planDown, planRestart, planStart, planStop } from './reconcile.js';
import { dep, testContainer, testProject, testService } from './testing.js';

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
