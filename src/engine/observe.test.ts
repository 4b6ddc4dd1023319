// Observed state as the planner and depends_on see it: health before the monitor has spoken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { observedContainer, projectViews } from './observe.js';
import type { ContainerRuntime, ContainerView, RuntimeState } from '../runtime/container.js';
import type { ContainerStatus } from '../runtime/state.js';

function view(status: ContainerStatus, healthTest?: readonly string[]): ContainerView {
  return {
    record: {
      id: 'c1', name: 'p-db-1', stoppedByUser: false,
      config: { Labels: { 'com.docker.compose.service': 'db' }, ...(healthTest ? { Healthcheck: { Test: healthTest } } : {}) },
    },
    observed: { status, ...(status === 'running' ? { started: { startedAt: new Date(0).toISOString() } } : {}) },
    bundle: '/nonexistent',
  } as unknown as ContainerView;
}

const runtime = (state: RuntimeState): ContainerRuntime => ({ runtimeState: () => state }) as unknown as ContainerRuntime;

test('a running container created with a check is "starting" until its monitor writes a state', () => {
  assert.equal(observedContainer(runtime({}), view('running', ['CMD-SHELL', 'true'])).health, 'starting');
  assert.equal(observedContainer(runtime({ health: { status: 'healthy', failingStreak: 0, log: [] } }), view('running', ['CMD', 'true'])).health, 'healthy');
});

test('no check (none recorded, NONE, or empty) stays undefined; a created container has no health yet', () => {
  assert.equal(observedContainer(runtime({}), view('running')).health, undefined);
  assert.equal(observedContainer(runtime({}), view('running', ['NONE'])).health, undefined);
  assert.equal(observedContainer(runtime({}), view('running', [])).health, undefined);
  assert.equal(observedContainer(runtime({}), view('created', ['CMD', 'true'])).health, undefined);
});

test('projectViews: a project\'s containers, newest first; a container of another project is read once, then skipped', () => {
  const make = (id: string, project: string | undefined, created: string, extra: Partial<ContainerView> = {}): ContainerView => ({
    record: { id, name: id, created, config: { Labels: project !== undefined ? { 'com.docker.compose.project': project } : {} } },
    observed: { status: 'running' },
    bundle: `/nonexistent/${id}`,
    ...extra,
  }) as unknown as ContainerView;
  const containers = new Map<string, ContainerView>([
    ['a1', make('a1', 'a', '2026-01-01T00:00:01Z')],
    ['a2', make('a2', 'a', '2026-01-01T00:00:02Z')],
    ['b1', make('b1', 'b', '2026-01-01T00:00:03Z')],
    ['x1', make('x1', undefined, '2026-01-01T00:00:04Z')],
    ['bad', make('bad', undefined, '2026-01-01T00:00:05Z', { problem: 'corrupt' })],
  ]);
  const reads: string[] = [];
  const rt = {
    ids: () => [...containers.keys()],
    view: (id: string) => { reads.push(id); return containers.get(id); },
  } as unknown as ContainerRuntime;
  assert.deepEqual(projectViews(rt, 'a').map((v) => v.record.id), ['a2', 'a1']);
  assert.deepEqual(reads.sort(), ['a1', 'a2', 'b1', 'bad', 'x1']);
  reads.length = 0;
  assert.deepEqual(projectViews(rt, 'a').map((v) => v.record.id), ['a2', 'a1']);
  assert.deepEqual(reads.sort(), ['a1', 'a2', 'bad'], 'its own containers read again (their state changes), a placeholder too, the others not');
  // a new container of the project is seen; one removed is gone
  containers.set('a3', make('a3', 'a', '2026-01-01T00:00:06Z'));
  containers.delete('a1');
  assert.deepEqual(projectViews(rt, 'a').map((v) => v.record.id), ['a3', 'a2']);
  assert.deepEqual(projectViews(rt, 'b').map((v) => v.record.id), ['b1']);
});
