// Observed state as the planner and depends_on see it: health before the monitor has spoken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { observedContainer } from './observe.js';
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
