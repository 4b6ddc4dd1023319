// Issue 17's "memory that returns", the parts a test can hold: the engine a client starts gets
// ENGINE_ENV (MALLOC_ARENA_MAX), and an engine left alone hands glibc's free memory back
// (malloc_trim from its idle hook, engine/main.ts). The RSS figures themselves are bench/soak.ts's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, berthOk, cleanupRoots, eventually, stopEngine, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;
before(() => { roots = makeRoots(); });
after(() => cleanupRoots(roots));

const enginePid = (): number => Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim());
const environ = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
const idleLines = (pid: number): string[] => readFileSync(join(roots.run, 'engine.log'), 'utf8').split('\n').filter((l) => l.includes(`engine[${pid}] idle:`));

test('an engine a client starts has MALLOC_ARENA_MAX, and trims malloc once it is idle, and again after the next request', async () => {
  await berthOk(roots, ['ps', '-a']); // starts one
  const pid = enginePid();
  assert.ok(environ(pid).includes(`MALLOC_ARENA_MAX=${roots.env.MALLOC_ARENA_MAX ?? '2'}`), 'the engine runs with ENGINE_ENV');
  const first = await eventually(() => idleLines(pid)[0], 30_000, 'the engine to log its first idle spell');
  assert.match(first, /idle: RSS \d+\.\d MiB, \d+\.\d after malloc_trim$/);
  // a request starts a new quiet spell: one more trim after it
  await berthOk(roots, ['ps', '-a']);
  await eventually(() => idleLines(pid).length >= 2 || undefined, 30_000, 'the second idle spell');
  assert.ok(idleLines(pid).every((l) => / after malloc_trim$/.test(l)));
});

test("the caller's MALLOC_ARENA_MAX wins over ENGINE_ENV's", async () => {
  await stopEngine(roots);
  await berthOk(roots, ['ps', '-a'], { env: { MALLOC_ARENA_MAX: '3' } });
  assert.ok(environ(enginePid()).includes('MALLOC_ARENA_MAX=3'));
  await stopEngine(roots);
});
