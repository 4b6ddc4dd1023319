import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execute, type OperationRunner } from './executor.js';
import type { Operation, Plan } from '../plan/plan.js';
import type { EngineEvent } from '../api/types.js';

const op = (id: number, kind: Operation['kind'], resourceId: string, dependsOn: number[], extra: Partial<Operation> = {}): Operation => ({
  id, kind, resourceId, service: resourceId.split(':')[1]!, number: Number(resourceId.split(':')[2] ?? 0), cause: 'test', dependsOn, ...extra,
});

/** A runner that records the order of calls and lets each one finish when the test says so. */
function recordingRunner(opts: { fail?: string[] } = {}) {
  const log: string[] = [];
  const pending = new Map<string, () => void>();
  const step = (name: string) => new Promise<void>((resolve, reject) => {
    log.push(`begin ${name}`);
    pending.set(name, () => {
      log.push(`end ${name}`);
      if (opts.fail?.includes(name)) reject(new Error(`${name} failed`)); else resolve();
    });
  });
  const runner: OperationRunner = {
    create: async (o) => { await step(`create ${o.resourceId}`); return `id-${o.resourceId}`; },
    start: (o, id) => step(`start ${o.resourceId} ${id}`),
    stop: (o, id) => step(`stop ${o.resourceId} ${id}`),
    remove: (o, id) => step(`remove ${o.resourceId} ${id}`),
    kill: (o, id) => step(`kill ${o.resourceId} ${id} ${o.signal}`),
    pause: (o, id) => step(`pause ${o.resourceId} ${id}`),
    unpause: (o, id) => step(`unpause ${o.resourceId} ${id}`),
    wait: (o) => step(`wait ${o.resourceId}`),
  };
  const finish = async (name: string): Promise<void> => {
    for (let i = 0; i < 50 && !pending.has(name); i++) await new Promise((r) => setImmediate(r));
    const f = pending.get(name);
    assert.ok(f, `${name} was started (log: ${log.join('; ')})`);
    pending.delete(name);
    f();
    await new Promise((r) => setImmediate(r));
  };
  return { runner, log, finish, running: () => [...pending.keys()] };
}

test('independent operations run at once; a dependent waits for its dependencies; new ids flow from create to start', async () => {
  const plan: Plan = { operations: [op(0, 'create', 'service:a:1', []), op(1, 'create', 'service:b:1', []), op(2, 'start', 'service:a:1', [0]), op(3, 'start', 'service:b:1', [1, 2])] };
  const r = recordingRunner();
  const events: EngineEvent[] = [];
  const done = execute(plan, r.runner, (e) => events.push(e), new AbortController().signal);
  for (let i = 0; i < 50 && r.running().length < 2; i++) await new Promise((res) => setImmediate(res));
  assert.deepEqual(r.running().sort(), ['create service:a:1', 'create service:b:1'], 'both creates run in parallel');
  await r.finish('create service:b:1');
  assert.deepEqual(r.running(), ['create service:a:1'], 'b cannot start before a is started');
  await r.finish('create service:a:1');
  await r.finish('start service:a:1 id-service:a:1');
  await r.finish('start service:b:1 id-service:b:1');
  const result = await done;
  assert.deepEqual(result.failed, []);
  assert.equal(result.containers.get('service:b:1'), 'id-service:b:1');
  assert.deepEqual(events.filter((e) => e.kind === 'operation' && e.status === 'done').map((e) => (e as { text: string }).text), ['Created', 'Created', 'Started', 'Started']);
});

test('a failed operation skips its dependents, and the others go on', async () => {
  const plan: Plan = { operations: [op(0, 'create', 'service:a:1', []), op(1, 'start', 'service:a:1', [0]), op(2, 'create', 'service:b:1', [])] };
  const r = recordingRunner({ fail: ['create service:a:1'] });
  const done = execute(plan, r.runner, () => undefined, new AbortController().signal);
  await r.finish('create service:a:1');
  await r.finish('create service:b:1');
  const result = await done;
  assert.deepEqual(result.failed.map((f) => f.op.id), [0]);
  assert.ok(!r.log.some((l) => l.startsWith('begin start')), 'the dependent start never ran');
});

test('an optional (required: false) dependency that fails is a warning and its dependents still run', async () => {
  const plan: Plan = { operations: [op(0, 'wait', 'service:db', [], { condition: 'service_healthy', required: false }), op(1, 'start', 'service:web:1', [0], { containerId: 'w' })] };
  const r = recordingRunner({ fail: ['wait service:db'] });
  const events: EngineEvent[] = [];
  const done = execute(plan, r.runner, (e) => events.push(e), new AbortController().signal);
  await r.finish('wait service:db');
  await r.finish('start service:web:1 w');
  const result = await done;
  assert.deepEqual(result.failed, []);
  assert.ok(events.some((e) => e.kind === 'warning' && /optional dependency not met/.test(e.text)));
});

test('an empty plan finishes at once', async () => {
  const result = await execute({ operations: [] }, recordingRunner().runner, () => undefined, new AbortController().signal);
  assert.deepEqual(result.failed, []);
});

test('network and volume operations go to their own runners, ordered with the containers like any operation', async () => {
  const plan: Plan = { operations: [op(0, 'create', 'network:backend', []), op(1, 'create', 'volume:db-data', []), op(2, 'create', 'service:db:1', [0, 1]), op(3, 'remove', 'network:backend', [2])] };
  const r = recordingRunner();
  const calls: string[] = [];
  const resources = {
    network: { create: async (o: Operation) => { calls.push(`create ${o.resourceId}`); }, remove: async (o: Operation) => { calls.push(`remove ${o.resourceId}`); } },
    volume: { create: async (o: Operation) => { calls.push(`create ${o.resourceId}`); }, remove: async () => undefined },
  };
  const done = execute(plan, { ...r.runner, resources }, () => undefined, new AbortController().signal);
  await r.finish('create service:db:1');
  const result = await done;
  assert.deepEqual(result.failed, []);
  assert.deepEqual(calls, ['create network:backend', 'create volume:db-data', 'remove network:backend']);
  // a kind the engine has no runner for is a bug of the engine, reported as the operation's failure
  const missing = await execute({ operations: [op(0, 'create', 'volume:x', [])] }, recordingRunner().runner, () => undefined, new AbortController().signal);
  assert.match(missing.failed[0]!.error.message, /no runner for volume operations \(volume:x\)/);
});

test('a cancelled walk starts nothing more, lets what is in progress finish, and resolves only then', async () => {
  const plan: Plan = { operations: [
    op(0, 'create', 'service:a:1', []), op(1, 'create', 'service:b:1', []),
    op(2, 'start', 'service:a:1', [0]), op(3, 'start', 'service:b:1', [1]), op(4, 'create', 'service:c:1', [2]),
  ] };
  const r = recordingRunner();
  const events: EngineEvent[] = [];
  const ctl = new AbortController();
  let resolved = false;
  const done = execute(plan, r.runner, (e) => events.push(e), ctl.signal).then((x) => { resolved = true; return x; });
  for (let i = 0; i < 50 && r.running().length < 2; i++) await new Promise((res) => setImmediate(res));
  await r.finish('create service:a:1');
  await new Promise((res) => setImmediate(res));
  ctl.abort(new Error('cancelled by the client'));
  // b's create and a's start were in progress: they finish; nothing else begins
  for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
  assert.equal(resolved, false, 'not resolved while operations are in progress');
  await r.finish('create service:b:1');
  assert.equal(resolved, false);
  await r.finish('start service:a:1 id-service:a:1');
  const result = await done;
  assert.deepEqual(r.log, ['begin create service:a:1', 'begin create service:b:1', 'end create service:a:1', 'begin start service:a:1 id-service:a:1', 'end create service:b:1', 'end start service:a:1 id-service:a:1']);
  assert.equal(result.notStarted, 2, 'b\'s start and c\'s create');
  assert.equal(result.inProgressAtCancel, 2);
  assert.deepEqual(result.failed, []);
  assert.ok(!events.some((e) => e.kind === 'operation' && e.status === 'failed'), 'what was not started is not shown as failed');
});

test('operations made ready at once begin one per turn of the event loop, in order, so that timers and I/O run between them', async () => {
  const n = 30;
  const plan: Plan = { operations: Array.from({ length: n }, (_, i) => op(i, 'create', `service:s${i}:1`, [])) };
  // a counter that moves once per turn of the event loop (an immediate queued from an immediate runs on the next turn)
  let turns = 0;
  let ticking = true;
  const tick = (): void => { turns++; if (ticking) setImmediate(tick); };
  setImmediate(tick);
  const began: { service: string; turn: number }[] = [];
  const timerFiredAt: number[] = [];
  const timer = setInterval(() => timerFiredAt.push(began.length), 0);
  const runner: OperationRunner = {
    ...recordingRunner().runner,
    create: async (o) => {
      began.push({ service: o.service, turn: turns });
      // the synchronous part of a create: a few ms of work no other callback can interrupt
      const until = Date.now() + 2;
      while (Date.now() < until) { /* busy */ }
      return `id-${o.resourceId}`;
    },
  };
  try {
    const result = await execute(plan, runner, () => undefined, new AbortController().signal);
    assert.deepEqual(result.failed, []);
  } finally {
    ticking = false;
    clearInterval(timer);
  }
  assert.deepEqual(began.map((b) => b.service), plan.operations.map((o) => o.service), 'in the order they became ready');
  assert.equal(new Set(began.map((b) => b.turn)).size, n, `each on a turn of its own: ${JSON.stringify(began.map((b) => b.turn))}`);
  assert.ok(timerFiredAt.some((k) => k > 0 && k < n), `a timer ran while the creates were beginning (it ran after ${JSON.stringify(timerFiredAt)} had begun)`);
});
