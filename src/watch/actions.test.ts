import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ManualClock } from '../lib/clock.js';
import { recordingSys } from '../sys/fake.js';
import type { WatchRule } from '../spec/model.js';
import { compileRules, planBatch, type WatchedService } from './rules.js';
import { applyPlan, type WatchEffects, type WatchReport, type Replica } from './actions.js';

const rule = (r: Partial<WatchRule> & Pick<WatchRule, 'path' | 'action'>): WatchRule => ({ ignore: [], include: [], initial_sync: false, ...r });

/** Effects that record each call in order; `fail` names calls that throw. */
function recordingEffects(replicas: Record<string, readonly Replica[]>, fail: readonly string[] = []): WatchEffects & { calls: string[] } {
  const calls: string[] = [];
  const act = async (call: string): Promise<void> => {
    calls.push(call);
    if (fail.includes(call)) throw new Error(`${call} failed`);
  };
  return {
    calls,
    replicas: async (s) => replicas[s] ?? [],
    restartService: (s) => act(`restart ${s}`),
    execInService: (s, r, e) => act(`exec ${s}/${r.containerId} ${e.command.join(' ')}`),
    rebuildService: (k, s) => act(`build ${k} [${s.join(' ')}]`),
    recreate: (s) => act(`recreate ${s.join(' ')}`),
  };
}

const services: WatchedService[] = [
  { name: 'api', buildKey: 'img-api', dependsOn: {}, rules: [
    rule({ path: '/p/api/package.json', action: 'rebuild' }),
    rule({ path: '/p/api/conf', action: 'restart' }),
    rule({ path: '/p/api/hooks', action: 'sync+exec', target: '/hooks', exec: { command: ['make', 'assets'], privileged: false, environment: {} } }),
  ] },
  { name: 'jobs', buildKey: 'img-api', dependsOn: { api: { restart: false } }, rules: [] },
  { name: 'proxy', dependsOn: { api: { restart: true } }, rules: [rule({ path: '/p/proxy.conf', action: 'restart' })] },
];
const project = compileRules({
  services,
  pathKinds: new Map([['/p/api/package.json', 'file'], ['/p/api/conf', 'dir'], ['/p/api/hooks', 'dir'], ['/p/proxy.conf', 'file']]),
  ignoreFiles: new Map(),
  composeFiles: [],
});

function context(effects: WatchEffects): { ctx: Parameters<typeof applyPlan>[0]; reports: WatchReport[] } {
  const reports: WatchReport[] = [];
  return { ctx: { sys: recordingSys(), clock: new ManualClock(), effects, report: (r) => reports.push(r) }, reports };
}

test('restart without sync: once per batch however many files, with depends_on.restart dependents', async () => {
  const effects = recordingEffects({});
  const { ctx, reports } = context(effects);
  await applyPlan(ctx, planBatch(project, ['/p/api/conf/a.ini', '/p/api/conf/b.ini', '/p/api/conf/c/d.ini']));
  assert.deepEqual(effects.calls, ['restart api', 'restart proxy']);
  assert.deepEqual(reports.map((r) => r.kind), ['restarted', 'restarted']);
});

test('rebuild: one build for the services sharing the image, one recreate with the restart dependents', async () => {
  const effects = recordingEffects({});
  const { ctx } = context(effects);
  await applyPlan(ctx, planBatch(project, ['/p/api/package.json', '/p/api/conf/a.ini', '/p/proxy.conf']));
  assert.deepEqual(effects.calls, ['build img-api [api jobs]', 'recreate api jobs proxy']);
});

test('a failed build keeps the running containers: no recreate, an error reported', async () => {
  const effects = recordingEffects({}, ['build img-api [api jobs]']);
  const { ctx, reports } = context(effects);
  await applyPlan(ctx, planBatch(project, ['/p/api/package.json']));
  assert.deepEqual(effects.calls, ['build img-api [api jobs]'], 'proxy is not recreated for a build that failed');
  const err = reports.find((r) => r.kind === 'error');
  assert.ok(err && err.kind === 'error' && /rebuild of api, jobs failed, the running containers are kept/.test(err.message));
});

test('sync+exec runs its command once per batch in every running replica, after the sync', async () => {
  const effects = recordingEffects({ api: [{ containerId: 'c1', pid: 1 }, { containerId: 'c2', pid: 2 }] });
  // a sync into a replica needs its root: the recording Sys has none, so the sync reports an
  // error per replica, and the exec still runs (a failed replica does not stop the batch)
  const { ctx, reports } = context(effects);
  await applyPlan(ctx, planBatch(project, ['/p/api/hooks/a.js', '/p/api/hooks/b.js']));
  assert.deepEqual(effects.calls, ['exec api/c1 make assets', 'exec api/c2 make assets']);
  assert.equal(reports.filter((r) => r.kind === 'error').length, 2);
  assert.deepEqual(reports.filter((r) => r.kind === 'executed').map((r) => r.kind === 'executed' && r.containerId), ['c1', 'c2']);
});

test('a restart that fails is reported and the next step still runs', async () => {
  const effects = recordingEffects({}, ['restart api']);
  const { ctx, reports } = context(effects);
  await applyPlan(ctx, planBatch(project, ['/p/api/conf/x']));
  assert.deepEqual(effects.calls, ['restart api', 'restart proxy']);
  assert.equal(reports.filter((r) => r.kind === 'error').length, 1);
});
