// Scenario: a developer's service runs as an unprivileged user and uses compose's lifecycle hooks
// (post_start, pre_stop) to do root's work around it. Intent: `up` returns once the post_start
// hooks have run, as the hook's user, in its working_dir, with its environment, and with every
// capability when privileged; `stop` and `restart` run pre_stop before the stop; a failing
// post_start fails `up` naming the hook with its output; a failing pre_stop is a warning and the
// container still stops (docker compose's stop fails there, which blocks `down`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { berth, berthOk, eventually, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let s: Scenario;
before(async () => { s = await setUpScenario('hooks'); });
after(() => tearDownScenario(s));

const compose = (...args: string[]): string[] => ['compose', '-f', s.file, ...args];
const log = (): string => readFileSync(join(s.dir, 'out', 'log'), 'utf8');
const status = async (name: string): Promise<string> => JSON.parse(await berthOk(s.roots, ['inspect', name]))[0].State.Status;
const hostBnd = (): string => /^CapBnd:\s+(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;

test('up must return once the post_start hooks have run, each as its user, in its working_dir, with its environment and privileges', async () => {
  await berthOk(s.roots, compose('up', '-d'), { timeoutMs: 60_000 });
  // no wait: up's answer is the proof that the hooks ran
  assert.equal(log(), `post_start uid=0 cwd=/tmp greeting=hello\n${hostBnd()}\n`);
  // the service itself runs as its own user, without those capabilities
  assert.equal(await berthOk(s.roots, compose('exec', '-T', 'app', 'id', '-u')), '1000\n');
  // compose exec -d and --privileged (as the hooks' privileged): in the background, every capability
  // (for root: an unprivileged user's capabilities go at its execve, with Docker too)
  assert.equal(await berthOk(s.roots, compose('exec', '-d', '--privileged', '-u', '0', 'app', 'sh', '-c', 'grep CapEff /proc/self/status | cut -f2 > /tmp/detached')), '');
  await eventually(async () => (await berth(s.roots, compose('exec', '-T', 'app', 'cat', '/tmp/detached'))).stdout === `${hostBnd()}\n`, 15_000, 'the detached privileged exec to write its file');
  const rendered = await berthOk(s.roots, compose('config'));
  assert.match(rendered, /post_start:\n\s+- command:\n\s+- sh\n\s+- -c\n\s+- echo post_start/);
  assert.match(rendered, /privileged: true/);
});

test('restart and stop must run pre_stop before stopping; restart runs post_start again', async () => {
  await berthOk(s.roots, compose('restart', 'app'), { timeoutMs: 60_000 });
  assert.equal(log(), `post_start uid=0 cwd=/tmp greeting=hello\n${hostBnd()}\npre_stop uid=0\npost_start uid=0 cwd=/tmp greeting=hello\n${hostBnd()}\n`);
  await berthOk(s.roots, compose('stop', 'app'), { timeoutMs: 60_000 });
  assert.match(log(), /pre_stop uid=0\n$/);
  assert.equal(await status('e2e-hooks-app-1'), 'exited');
  // a start by hand (not by a compose verb) runs no hook: the log is as it was
  const before = log();
  await berthOk(s.roots, ['start', 'e2e-hooks-app-1']);
  await berthOk(s.roots, ['stop', '-t', '1', 'e2e-hooks-app-1']);
  assert.equal(log(), before);
});

test('a failing post_start must fail up with the hook named and its output; a failing pre_stop warns and the stop goes on', async () => {
  const up = await berth(s.roots, compose('--profile', 'failing', 'up', '-d', 'failing'), { timeoutMs: 60_000 });
  assert.notEqual(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout + up.stderr, /service "failing": post_start\[0\] \(sh -c echo step 1 done; echo REASON_ON_STDERR >&2; exit 7\) exited with status 7:\s+step 1 done\s+REASON_ON_STDERR/);
  assert.doesNotMatch(up.stderr, /bug in berth|at .*\.js/);
  // as in compose, the container that started keeps running
  assert.equal(await status('e2e-hooks-failing-1'), 'running');
  const stop = await berth(s.roots, compose('--profile', 'failing', 'stop', 'failing'), { timeoutMs: 60_000 });
  assert.equal(stop.code, 0, stop.stdout + stop.stderr);
  assert.match(stop.stdout + stop.stderr, /service "failing": pre_stop\[0\] \(sh -c exit 9\) exited with status 9 \(the container is stopped anyway\)/);
  assert.equal(await status('e2e-hooks-failing-1'), 'exited');
});

test('compose run must run the service\'s post_start hooks once after the one-off starts, attached or detached (docker/compose#13607)', async () => {
  const oneoff = (): string => { try { return readFileSync(join(s.dir, 'out', 'oneoff'), 'utf8'); } catch { return ''; } };
  // attached: the hook runs beside the command, which waits for the hook's line (its own deadline is the CLI's timeout)
  const attached = await berthOk(s.roots, compose('--profile', 'oneoff', 'run', '--rm', '-T', 'oneoff', 'sh', '-c', 'while [ ! -s /out/oneoff ]; do sleep 0.05; done; cat /out/oneoff; hostname'), { timeoutMs: 60_000 });
  const [line, hostname] = attached.trimEnd().split('\n');
  assert.equal(line, `post_start ${hostname}`);
  // detached: run -d answers once the hooks have run
  const name = (await berthOk(s.roots, compose('--profile', 'oneoff', 'run', '-d', 'oneoff'), { timeoutMs: 60_000 })).trim();
  const id = JSON.parse(await berthOk(s.roots, ['inspect', name]))[0].Config.Hostname as string;
  assert.equal(oneoff(), `post_start ${hostname}\npost_start ${id}\n`);
  // once: a later start of the same one-off runs none
  await berthOk(s.roots, ['stop', '-t', '1', name]);
  await berthOk(s.roots, ['start', name]);
  assert.equal(oneoff(), `post_start ${hostname}\npost_start ${id}\n`);
  await berthOk(s.roots, ['rm', '-f', name]);
  // a failing hook fails the run, naming the hook; the one-off keeps running, as with up
  const failed = await berth(s.roots, compose('--profile', 'failing', 'run', '-d', '--name', 'e2e-hooks-failing-run', 'failing'), { timeoutMs: 60_000 });
  assert.notEqual(failed.code, 0, failed.stdout + failed.stderr);
  assert.match(failed.stderr, /service "failing": post_start\[0\] \(sh -c echo step 1 done; echo REASON_ON_STDERR >&2; exit 7\) exited with status 7:\s+step 1 done\s+REASON_ON_STDERR/);
  assert.doesNotMatch(failed.stderr, /bug in berth|at .*\.js/);
  assert.equal(await status('e2e-hooks-failing-run'), 'running');
  await berthOk(s.roots, ['rm', '-f', 'e2e-hooks-failing-run']);
});
