import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependentsOf, reverseOrder, topologicalOrder, withDependencies } from './graph.js';
import { dep, testProject, testService } from './testing.js';

const project = testProject('app', [
  testService('web', { depends_on: { api: dep(), cache: dep('service_started', { required: false }) } }),
  testService('api', { depends_on: { db: dep('service_healthy', { restart: true }), queue: dep() } }),
  testService('db'),
  testService('queue'),
  testService('lonely'),
], [testService('queue-ui', { profiles: ['debug'], depends_on: { queue: dep() } })]);

test('topological order puts dependencies first, ties by name', () => {
  assert.deepEqual(topologicalOrder(project), ['db', 'queue', 'api', 'lonely', 'web']);
  assert.deepEqual(reverseOrder(project), ['web', 'lonely', 'api', 'queue', 'db']);
  assert.deepEqual(topologicalOrder(project, ['web', 'db']), ['db', 'web']);
});

test('a selection with its transitive dependencies; a required: false dependency only when it exists', () => {
  assert.deepEqual([...withDependencies(project, ['web'])].sort(), ['api', 'db', 'queue', 'web']);
  const withCache = testProject('app', [...Object.values(project.services), testService('cache')]);
  assert.deepEqual([...withDependencies(withCache, ['web'])].sort(), ['api', 'cache', 'db', 'queue', 'web']);
});

test('a required dependency disabled by profiles is enabled; one that exists nowhere is an error', () => {
  const p = testProject('app', [testService('web', { depends_on: { db: dep() } })], [testService('db', { profiles: ['x'] })]);
  assert.deepEqual([...withDependencies(p, ['web'])].sort(), ['db', 'web']);
  assert.deepEqual(topologicalOrder(p, ['web', 'db']), ['db', 'web']);
  const broken = testProject('app', [testService('web', { depends_on: { db: dep() } })]);
  assert.throws(() => withDependencies(broken, ['web']), /depends on undefined service "db"/);
});

test('dependents, all or through restart: true edges only', () => {
  assert.deepEqual(dependentsOf(project, 'queue'), ['api']);
  assert.deepEqual(dependentsOf(project, 'queue', () => true, ['api', 'queue-ui']), ['api', 'queue-ui']);
  assert.deepEqual(dependentsOf(project, 'db', (d) => d.restart), ['api']);
  assert.deepEqual(dependentsOf(project, 'queue', (d) => d.restart), []);
});

test('a cycle is reported by name', () => {
  const cyclic = testProject('app', [
    testService('a', { depends_on: { b: dep() } }),
    testService('b', { depends_on: { c: dep() } }),
    testService('c', { depends_on: { a: dep() } }),
  ]);
  assert.throws(() => topologicalOrder(cyclic), { message: 'dependency cycle: a -> b -> c -> a' });
});
