// The engine's mapping of a compose project onto src/watch (which services, which rules, the
// errors before anything starts) and the texts of its events. The watching itself is tested
// against real containers in test/integration/watch*.test.ts and test/e2e/watch.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Project, Service, WatchRule } from '../spec/model.js';
import { ignores } from '../watch/rules.js';
import { compileProject, reportEvent } from './watch.js';

const rule = (path: string, action: WatchRule['action'], target?: string): WatchRule =>
  ({ path, action, ...(target !== undefined ? { target } : {}), ignore: [], include: [], initial_sync: false });

function project(dir: string, services: Record<string, Partial<Service>>): Project {
  const out: Record<string, Service> = {};
  for (const [name, s] of Object.entries(services)) out[name] = { name, depends_on: {}, ...s } as unknown as Service;
  return {
    name: 'demo', working_dir: dir, compose_files: [join(dir, 'compose.yaml')], services: out, disabled_services: {}, networks: {}, volumes: {},
    secrets: {}, configs: {}, all_profiles: [], enabled_profiles: [], extensions: {}, unsupported: {},
  };
}

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-engine-watch-'));
  try { run(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('compileProject: every service with rules when none is named; named ones without rules are a warning; none at all is an error', () => withDir((dir) => {
  mkdirSync(join(dir, 'src'));
  const p = project(dir, {
    web: { develop: { watch: [rule(join(dir, 'src'), 'sync', '/app')] } },
    db: {},
  });
  const all = compileProject(p, []);
  assert.deepEqual([...new Set(all.compiled.rules.map((r) => r.service))], ['web']);
  assert.deepEqual(all.warnings, []);
  const named = compileProject(p, ['web', 'db']);
  assert.deepEqual(named.warnings, ['service "db" has no develop.watch rules: it is not watched']);
  assert.throws(() => compileProject(p, ['db']), /none of the selected services is configured for watch: add a develop.watch section to service "db"/);
  assert.throws(() => compileProject(p, ['nope']), /no such service: nope/);
}));

test('compileProject: a missing path is the error before anything starts; a rebuild rule of a service without a build section is named', () => withDir((dir) => {
  mkdirSync(join(dir, 'deps'));
  const missing = project(dir, { web: { develop: { watch: [rule(join(dir, 'nowhere'), 'sync', '/x')] } } });
  assert.throws(() => compileProject(missing, []), /service "web" develop\.watch\[0\]: path .*nowhere does not exist/);
  const rebuild = project(dir, { web: { develop: { watch: [rule(join(dir, 'deps'), 'rebuild')] } } });
  assert.match(compileProject(rebuild, []).warnings.join('\n'), /service "web" develop\.watch\[0\]: action rebuild, but the service has no build section/);
}));

test("compileProject: a built service's .dockerignore applies to its rules", () => withDir((dir) => {
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, '.dockerignore'), 'src/*.log\n');
  const p = project(dir, {
    web: { build: { context: dir, args: {}, labels: {}, extra_hosts: [], platforms: [], tags: [], cache_from: [], cache_to: [] } as unknown as Service['build'], develop: { watch: [rule(join(dir, 'src'), 'sync', '/app')] } },
  });
  const compiled = compileProject(p, []).compiled;
  const r = compiled.rules[0]!;
  assert.equal(r.service, 'web');
  assert.ok(compiled.services.get('web')?.buildKey, 'a built service has a build key');
  // the context's ignore file is compiled into the rule: a matching path is ignored
  assert.equal(ignores(r, join(dir, 'src', 'a.log')), true);
  assert.equal(ignores(r, join(dir, 'src', 'a.js')), false);
}));

test('reportEvent: the lines compose watch prints, per service', () => {
  const t = '2026-01-01T00:00:00.000Z';
  const synced = reportEvent({ kind: 'synced', service: 'web', replicas: 1, paths: ['/p/a', '/p/b', '/p/c'], stats: { written: 2, bytes: 10, removed: 1, dirs: 0, links: 0, unchanged: 0 }, ms: 4.4 }, t);
  assert.deepEqual(synced, { kind: 'watch', resourceId: 'service:web', action: 'synced', text: 'Syncing service "web" after 3 changed files (1 container: 2 written, 1 removed, 4 ms)', files: ['/p/a', '/p/b', '/p/c'], time: t });
  assert.equal(reportEvent({ kind: 'synced', service: 'web', replicas: 0, paths: ['/p/a'], stats: { written: 0, bytes: 0, removed: 0, dirs: 0, links: 0, unchanged: 0 }, ms: 1 }, t).text, 'Syncing service "web" after 1 changed file (no running container: nothing synced, 1 ms)');
  assert.equal(reportEvent({ kind: 'restarted', service: 'web', ms: 85.2 }, t).text, 'Restarted service "web" (85 ms)');
  assert.equal(reportEvent({ kind: 'error', service: 'web', message: 'boom' }, t).resourceId, 'service:web');
  assert.equal(reportEvent({ kind: 'executed', service: 'web', containerId: 'abcdef0123456789', command: ['make', 'x'], ms: 12 }, t).text, 'Ran "make x" in service "web" (abcdef012345, 12 ms)');
});
