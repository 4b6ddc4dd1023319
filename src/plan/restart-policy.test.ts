import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RestartPolicy } from '../spec/model.js';
import { decideRestart, restartOnEngineStart, type ExitedContainer } from './restart-policy.js';

const no: RestartPolicy = { name: 'no', max_attempts: 0 };
const always: RestartPolicy = { name: 'always', max_attempts: 0 };
const unlessStopped: RestartPolicy = { name: 'unless-stopped', max_attempts: 0 };
const onFailure: RestartPolicy = { name: 'on-failure', max_attempts: 0 };
const onFailure3: RestartPolicy = { name: 'on-failure', max_attempts: 3 };

/** exited after a 1 s run */
const exit = (fields: Partial<ExitedContainer> = {}): ExitedContainer =>
  ({ exitCode: 1, stoppedByUser: false, restartCount: 0, startedAt: 50_000, finishedAt: 51_000, ...fields });

test('each policy, by exit code and user stop', () => {
  const cases: [RestartPolicy, Partial<ExitedContainer>, boolean][] = [
    [no, { exitCode: 1 }, false],
    [no, { exitCode: 0 }, false],
    [always, { exitCode: 0 }, true],
    [always, { exitCode: 1 }, true],
    [always, { exitCode: 137, stoppedByUser: true }, false],
    [unlessStopped, { exitCode: 0 }, true],
    [unlessStopped, { exitCode: 1 }, true],
    [unlessStopped, { exitCode: 0, stoppedByUser: true }, false],
    [onFailure, { exitCode: 0 }, false],
    [onFailure, { exitCode: 1 }, true],
    [onFailure, { exitCode: 1, restartCount: 1000 }, true],
    [onFailure, { exitCode: 143, stoppedByUser: true }, false],
    [onFailure3, { exitCode: 1, restartCount: 2 }, true],
    [onFailure3, { exitCode: 1, restartCount: 3 }, false],
  ];
  for (const [policy, c, expected] of cases) {
    assert.equal(decideRestart(policy, exit(c), { backoffMs: 0 }).restart, expected, `${policy.name}:${policy.max_attempts} ${JSON.stringify(c)}`);
  }
  assert.deepEqual(decideRestart(always, exit({ stoppedByUser: true }), { backoffMs: 0 }), { restart: false, reason: 'stopped by the user' });
});

test('the back-off starts at 100 ms and doubles up to one minute', () => {
  const delays: number[] = [];
  let backoffMs = 0;
  for (let i = 0; i < 13; i++) {
    const d = decideRestart(always, exit(), { backoffMs });
    assert.ok(d.restart);
    delays.push(d.delayMs);
    backoffMs = d.nextBackoffMs;
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000, 60000]);
});

test('a run of 10 s or more starts the back-off over; the restart count is kept', () => {
  const short = decideRestart(always, exit({ startedAt: 0, finishedAt: 9_999 }), { backoffMs: 6400 });
  assert.ok(short.restart);
  assert.equal(short.delayMs, 12800);
  assert.equal(short.backoffReset, false);
  const long = decideRestart(always, exit({ startedAt: 0, finishedAt: 10_000, restartCount: 7 }), { backoffMs: 60000 });
  assert.deepEqual(long, { restart: true, delayMs: 100, nextBackoffMs: 100, resetCount: false, backoffReset: true });
});

test('on-failure:3 gives up after three restarts', () => {
  let restartCount = 0;
  let backoffMs = 0;
  const delays: number[] = [];
  for (;;) {
    const d = decideRestart(onFailure3, exit({ restartCount }), { backoffMs });
    if (!d.restart) {
      assert.equal(d.reason, 'maximum restart count 3 reached');
      break;
    }
    delays.push(d.delayMs);
    backoffMs = d.nextBackoffMs;
    restartCount++; // the engine counts the restart, as Docker's RestartCount
  }
  assert.deepEqual(delays, [100, 200, 400]);
  assert.equal(restartCount, 3);
});

test('engine start brings back always (even after a user stop) and unless-stopped (unless the user stopped it)', () => {
  const cases: [RestartPolicy, { wasRunning: boolean; stoppedByUser: boolean; startedBefore?: boolean }, boolean][] = [
    [always, { wasRunning: true, stoppedByUser: false }, true],
    [always, { wasRunning: false, stoppedByUser: true }, true],
    [always, { wasRunning: false, stoppedByUser: false, startedBefore: false }, false],
    [unlessStopped, { wasRunning: true, stoppedByUser: false }, true],
    [unlessStopped, { wasRunning: false, stoppedByUser: true }, false],
    [onFailure, { wasRunning: true, stoppedByUser: false }, false],
    [no, { wasRunning: true, stoppedByUser: false }, false],
  ];
  for (const [policy, c, expected] of cases) {
    assert.equal(restartOnEngineStart(policy, c).restart, expected, `${policy.name} ${JSON.stringify(c)}`);
  }
});
