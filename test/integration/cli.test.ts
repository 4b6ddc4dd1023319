// The CLI's public surface and its answers to bad input: clear one-line errors, Docker's exit
// codes, never a stack trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, berth, cleanupRoots, repoRoot, stopEngine, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;
before(() => { roots = makeRoots(); });
after(() => cleanupRoots(roots));

const VERBS = ['run', 'create', 'start', 'exec', 'ps', 'logs', 'stop', 'kill', 'rm', 'inspect', 'images', 'load', 'import', 'rmi', 'config', 'convert', 'up', 'down', 'watch', 'ls',
  'compose', 'pause', 'unpause', 'update', 'top', 'wait', 'stats', 'info', 'version', 'engine', 'volume', 'cp', 'diff',
  'pull', 'push', 'build', 'save', 'tag', 'history', 'commit', 'login', 'logout', 'image', 'network', 'port'];

test('--version prints the package version', async () => {
  const r = await berth(roots, ['--version']);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  assert.equal(r.stdout, `berth version ${pkg.version}\n`);
  assert.equal(r.code, 0);
});

test('--help lists exactly the verbs berth has today', async () => {
  const r = await berth(roots, ['--help']);
  assert.equal(r.code, 0);
  const listed = [...r.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((v) => v !== 'help');
  assert.deepEqual(listed.sort(), [...VERBS].sort());
});

test('run --help pins the run flags', async () => {
  const r = await berth(roots, ['run', '--help']);
  for (const flag of ['--rm', '--detach', '--name', '--env', '--workdir', '--user', '--hostname', '--init', '--memory', '--memory-swap',
    '--cpu-shares', '--cpus', '--cpuset-cpus', '--pids-limit', '--stop-signal', '--entrypoint', '--interactive', '--tty', '--restart',
    '--health-cmd', '--health-interval', '--health-timeout', '--health-retries', '--health-start-period', '--health-start-interval', '--no-healthcheck',
    '--volume', '--mount', '--tmpfs', '--volumes-from']) {
    assert.match(r.stdout, new RegExp(`${flag}\\b`), `run has ${flag}`);
  }
});

function assertCleanError(r: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('bad input gets a clear error and a non-zero exit, never a stack trace', async () => {
  assertCleanError(await berth(roots, ['run', '--pull', 'never', 'no-such-image', 'true']), 125, /no such image: no-such-image/);
  assertCleanError(await berth(roots, ['run', '-m', 'lots', 'x', 'true']), 125, /invalid memory limit: "lots"/);
  assertCleanError(await berth(roots, ['run', '--cpus', '-1', 'x', 'true']), 125, /cpus/);
  assertCleanError(await berth(roots, ['run', '--bogus', 'x']), 125, /unknown option '--bogus'/);
  assertCleanError(await berth(roots, ['rm', 'nope']), 1, /no such container: nope/);
  assertCleanError(await berth(roots, ['logs', 'nope']), 125, /no such container: nope/);
  assertCleanError(await berth(roots, ['load', '-i', '/nonexistent.tar']), 125, /nonexistent\.tar/);
  assertCleanError(await berth(roots, ['stop', '-t', 'soon', 'x']), 125, /invalid argument "soon"/);
});

test('an unknown verb or flag prints one line and a suggestion, not the whole usage', async () => {
  const verb = await berth(roots, ['rnu', 'bb']);
  assert.equal(verb.code, 125);
  assert.equal(verb.stdout, '');
  assert.equal(verb.stderr, "error: unknown command 'rnu'\n(Did you mean run?)\n");
  const flag = await berth(roots, ['ps', '--al']);
  assert.equal(flag.code, 125);
  assert.equal(flag.stderr, "error: unknown option '--al'\n(Did you mean --all?)\n");
  const compose = await berth(roots, ['compose', 'upp']);
  assert.match(compose.stderr, /^error: unknown command 'upp'\n\(Did you mean up\?\)\n$/);
});

test('engine status says when no engine runs; version and info start one and answer as docker does; engine stop stops it', async () => {
  await stopEngine(roots); // the earlier tests' verbs started one
  const none = await berth(roots, ['engine', 'status']);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /^Engine: not running/);
  const version = await berth(roots, ['version', '--format', '{{.Client.Version}} {{.Server.Version}} {{.Server.ApiVersion}}']);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  assert.equal(version.stdout, `${pkg.version} ${pkg.version} 1\n`);
  const info = JSON.parse((await berth(roots, ['info', '--format', 'json'])).stdout);
  assert.equal(info.Driver, 'overlay2');
  assert.equal(info.Containers, 0);
  assert.equal(info.Images, 0);
  assert.ok(['1', '2'].includes(info.CgroupVersion));
  assert.ok(['v1', 'v2', 'hybrid'].includes(info.CgroupMode));
  assert.equal(info.RootDir, roots.root);
  const status = JSON.parse((await berth(roots, ['engine', 'status', '--format', 'json'])).stdout);
  assert.ok(status.Pid > 0);
  assert.ok(status.RssBytes > 0);
  assert.ok(status.HeapUsedBytes > 0 && status.HeapUsedBytes <= status.HeapTotalBytes, 'the JS heap in use, within the heap reserved');
  assert.ok(status.ExternalBytes >= status.ArrayBuffersBytes && status.ArrayBuffersBytes >= 0);
  // started by a client with a capped young generation (issue 17: V8's default let it hold ~30 MiB)
  assert.ok(readFileSync(`/proc/${status.Pid}/cmdline`, 'utf8').split('\0').includes('--max-semi-space-size=2'), 'the engine runs with its node flags');
  assert.equal(typeof status.EventLoopDelay.P99Ms, 'number');
  const stop = await berth(roots, ['engine', 'stop']);
  assert.equal(stop.code, 0);
  assert.match(stop.stdout, new RegExp(`^Stopped the engine \\(pid ${status.Pid}\\)`));
  assert.equal((await berth(roots, ['engine', 'status'])).code, 1, 'gone');
  assert.match((await berth(roots, ['engine', 'stop'])).stdout, /^No engine is running/);
});

test('engine --install-unit writes a systemd unit that runs this berth and never stops containers with it', async () => {
  const unit = join(roots.dir, 'berth.service');
  const r = await berth(roots, ['engine', '--install-unit', unit]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(unit, 'utf8');
  assert.match(text, new RegExp(`^ExecStart=${process.execPath} --max-semi-space-size=2 ${join(repoRoot, 'bin', 'berth.mjs')} engine$`, 'm'));
  assert.match(text, /^KillMode=process$/m);
  assert.match(text, new RegExp(`^Environment=MALLOC_ARENA_MAX=${roots.env.MALLOC_ARENA_MAX ?? '2'}$`, 'm'), 'the unit gives the engine ENGINE_ENV');
  assert.match(text, new RegExp(`^Environment=BERTH_ROOT=${roots.root}$`, 'm'));
  assert.match(text, /^WantedBy=multi-user\.target$/m);
});
