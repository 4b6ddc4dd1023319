// The warm CLI (docs/warm-cli.md): `bin/berth` is a native launcher that hands the command to the
// running engine, or runs the Node CLI when none answers. Intent: a user cannot tell the two
// apart except by the time it takes — same bytes on stdout and stderr, same exit codes, signals
// reach the same places — while a client that dies takes its engine-side work with it, an engine
// that stops mid-command is reported, and only the engine's own user (root) is served in-process.
// (The whole CLI suite also runs both ways: test/run.mjs repeats the CLI's files with BERTH_NO_WARM=1.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { callerFiles } from '../../src/warm/files.js';
import { callerSys } from '../../src/sys/caller.js';
import { berthBin, berthOk, cleanupRoots, engineStatus, eventually, importBusybox, makeRoots, removeAllContainers, repoRoot, stopEngine, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;
let project: string;

interface Outcome { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `berth args…` in `cwd`, through the launcher; `cold` makes it run the Node CLI (BERTH_NO_WARM=1). */
function run(args: readonly string[], opts: { cold?: boolean; input?: string; cwd?: string } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const env = { ...roots.env, BERTH_NO_WARM: opts.cold ? '1' : '' };
    const child = spawn(berthBin, [...args], { env, cwd: opts.cwd ?? project, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`berth ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`)); }, 60_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
    child.stdin.on('error', () => undefined); // a command that reads nothing may be gone before stdin is closed
    if (opts.input !== undefined) child.stdin.end(opts.input); else child.stdin.end();
  });
}

/** The engine's log lines of commands it ran (or handed back) for a launcher. */
function warmLines(): string[] {
  return readFileSync(join(roots.run, 'engine.log'), 'utf8').split('\n').filter((l) => l.includes('warm cli: uid '));
}

/** Runs `args` warm, then cold; asserts the warm run was served by the engine and both gave the same bytes and code. */
async function same(args: readonly string[], opts: { input?: string; cwd?: string } = {}): Promise<Outcome> {
  const before = warmLines().length;
  const warm = await run(args, opts);
  const served = warmLines().slice(before);
  assert.equal(served.length, 1, `one warm command for berth ${args.join(' ')}, the engine logged: ${served.join('\n')}`);
  assert.match(served[0]!, / → (exit|signal) /, `berth ${args.join(' ')} ran in the engine: ${served[0]}`);
  const cold = await run(args, { ...opts, cold: true });
  assert.equal(warmLines().length, before + 1, 'BERTH_NO_WARM=1 runs the Node CLI');
  assert.deepEqual(warm, cold, `berth ${args.join(' ')}: the warm and the Node CLI differ`);
  return warm;
}

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'bb');
  project = join(roots.dir, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'compose.yaml'), [
    'name: warm',
    'services:',
    '  web:',
    '    image: bb',
    '    command: ["sh", "-c", "echo hello $${GREETING}; sleep 1000"]',
    '    environment:',
    '      GREETING: ${GREETING:-unset}',
    '    stop_grace_period: 1s',
    '',
  ].join('\n'));
  writeFileSync(join(project, '.env'), 'GREETING=from-dotenv\n');
  writeFileSync(join(project, 'broken.yaml'), 'services:\n  web:\n    image: bb\n    ports: 3\n');
  // the engine runs and serves the launcher's socket
  await berthOk(roots, ['ps']);
  await eventually(async () => { await run(['ps']); return warmLines().length > 0; }, 15_000, 'the engine to serve the warm socket');
  await berthOk(roots, ['run', '--name', 'printer', 'bb', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done']);
  await berthOk(roots, ['run', '-d', '--name', 'ticker', 'bb', 'sh', '-c', 'echo started; exec sleep 1000']);
});

after(async () => {
  await run(['down', '-t', '1'], { cold: true });
  await removeAllContainers(roots);
  await berthOk(roots, ['rmi', 'bb']);
  await cleanupRoots(roots);
});

test('ps, logs, inspect, images and their errors: the same bytes and exit codes warm and cold', async () => {
  await same(['ps', '-a', '--format', '{{.Names}} {{.Image}} {{.Command}}']);
  assert.equal((await same(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').length, 2);
  const logs = await same(['logs', '--tail', '3', 'printer']);
  assert.equal(logs.stdout, 'line 3\nline 4\nline 5\n');
  await same(['inspect', '--format', '{{.State.ExitCode}} {{.Config.Cmd}}', 'printer']);
  await same(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  const missing = await same(['logs', 'nosuch']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no such container/);
  const badFlag = await same(['ps', '--bogus']);
  assert.notEqual(badFlag.code, 0);
  const badVerb = await same(['frobnicate']);
  assert.notEqual(badVerb.code, 0);
  await same(['--version']);
  await same(['ps', '--help']);
});

test('run --rm: output streams, stdin and the exit code are the same warm and cold', async () => {
  const r = await same(['run', '--rm', 'bb', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  const cat = await same(['run', '--rm', '-i', 'bb', 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'piped in\n' });
  assert.equal(cat.stdout, 'PIPED IN\ndone\n');
  const missing = await same(['run', '--rm', 'bb', '/no/such/binary']);
  assert.notEqual(missing.code, 0);
});

test('save to a pipe: the whole archive and exit 0, every time, the same warm and cold', async () => {
  // a last write that fitted under the stream's high-water mark never emitted 'drain', and the
  // warm command waited for it at its exit: about one warm save in four hung
  const cold = await same(['save', 'bb']);
  assert.equal(cold.code, 0);
  assert.ok(cold.stdout.length > 1_000_000, 'the archive');
  for (let i = 0; i < 8; i++) {
    const warm = await run(['save', 'bb']);
    assert.deepEqual([warm.code, warm.stdout.length, warm.stdout === cold.stdout], [0, cold.stdout.length, true], `warm save #${i + 2}`);
  }
});

test('config reads the project\'s .env from the caller\'s directory; a broken file gets the same located error', async () => {
  const cfg = await same(['config']);
  assert.match(cfg.stdout, /GREETING: from-dotenv/);
  const broken = await same(['config', '-f', 'broken.yaml']);
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /broken\.yaml:4:\d+/);
  const absent = await same(['config'], { cwd: roots.dir });
  assert.notEqual(absent.code, 0);
});

test('up -d, then a no-op up -d and compose ps, the same warm and cold', async () => {
  const up = await run(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  assert.match(warmLines().at(-1)!, /: up -d → exit 0/);
  await same(['up', '-d']);
  await same(['compose', 'ps', '--services']);
  await same(['compose', 'ps', '-q']);
  await eventually(async () => (await run(['compose', 'logs', 'web'])).stdout.includes('hello from-dotenv'), 10_000, 'web\'s first line');
  await same(['compose', 'logs', '--no-log-prefix', 'web']);
});

/** A `berth …` that runs until the test ends it. */
function background(args: readonly string[], cold = false): { child: ChildProcess; out: () => string; err: () => string; closed: Promise<Outcome> } {
  const env = { ...roots.env, BERTH_NO_WARM: cold ? '1' : '' };
  const child = spawn(berthBin, [...args], { env, cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const closed = new Promise<Outcome>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, out: () => stdout, err: () => stderr, closed };
}

test('Ctrl-C reaches an attached container the same way warm and cold', async () => {
  for (const cold of [false, true]) {
    const b = background(['run', '--rm', 'bb', 'sh', '-c', 'trap "echo got INT; exit 7" INT; echo ready; while :; do sleep 0.1; done'], cold);
    await eventually(() => b.out().includes('ready'), 30_000, 'the container to trap SIGINT');
    b.child.kill('SIGINT');
    const r = await b.closed;
    assert.deepEqual([r.code, r.stdout], [7, 'ready\ngot INT\n'], `${cold ? 'cold' : 'warm'}: ${r.stderr}`);
  }
});

test('Ctrl-C during an attached up stops the project the same way warm and cold', async () => {
  const dir = join(roots.dir, 'attached');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'compose.yaml'), 'name: attached\nservices:\n  talk:\n    image: bb\n    command: ["sh", "-c", "echo hello attached; exec sleep 1000"]\n    stop_grace_period: 1s\n');
  const seen: Outcome[] = [];
  for (const cold of [false, true]) {
    const env = { ...roots.env, BERTH_NO_WARM: cold ? '1' : '' };
    const child = spawn(berthBin, ['up'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
    child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
    const closed = new Promise<Outcome>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    await eventually(() => stdout.includes('hello attached'), 30_000, `${cold ? 'cold' : 'warm'} up to attach`);
    child.kill('SIGINT');
    const r = await closed;
    seen.push(r);
    assert.match(r.stdout, /Gracefully stopping\.\.\./, r.stderr);
    const running = await run(['compose', 'ps', '-q'], { cwd: dir });
    assert.equal(running.stdout, '', `${cold ? 'cold' : 'warm'}: the project is stopped`);
    assert.equal((await run(['down', '-t', '1'], { cwd: dir })).code, 0);
  }
  assert.deepEqual(seen.map((r) => [r.code, r.signal]), [[130, null], [130, null]]);
});

test('a launcher killed mid-command leaves no work running in the engine', async () => {
  const events = background(['compose', 'events']);
  const follow = background(['logs', '-f', 'ticker']);
  await eventually(async () => (await engineStatus(roots)).EventSubscribers >= 1, 15_000, 'the warm events client to subscribe');
  await eventually(() => follow.out().includes('started'), 15_000, 'logs -f to print');
  events.child.kill('SIGKILL');
  follow.child.kill('SIGKILL');
  await Promise.all([events.closed, follow.closed]);
  await eventually(async () => (await engineStatus(roots)).EventSubscribers === 0, 15_000, 'the engine to drop the dead client\'s subscription');
  await eventually(() => warmLines().filter((l) => /: (logs -f|compose events) → client gone/.test(l)).length === 2, 15_000, `both sessions to end as "client gone" (${warmLines().slice(-3).join(' | ')})`);
});

test('an engine that stops mid-command: the launcher says so and exits 125; the next command falls back and starts one', async () => {
  const follow = background(['logs', '-f', 'ticker']);
  await eventually(() => follow.out().includes('started'), 15_000, 'logs -f to print');
  await stopEngine(roots);
  const r = await follow.closed;
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /the engine closed the connection before the command finished/);
  // nothing answers the launcher's socket now: the Node CLI runs, starts an engine, and answers
  const ps = await run(['ps', '-aq', '--no-trunc']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.equal(ps.stdout.trim().split('\n').length, 3);
  await eventually(async () => { const before = warmLines().length; await run(['ps']); return warmLines().length > before; }, 15_000, 'the new engine to serve the launcher');
});

test('only the engine\'s user is served in the engine: another uid gets the Node CLI of its own', async () => {
  // a package of our own that nobody (65534) may run: the launcher, and a bin/berth.mjs that
  // says which way the command went
  const pkg = mkdtempSync(join(tmpdir(), 'berth-warm-pkg-'));
  try {
    chmodSync(pkg, 0o755);
    mkdirSync(join(pkg, 'native', 'build'), { recursive: true, mode: 0o755 });
    mkdirSync(join(pkg, 'bin'), { mode: 0o755 });
    copyFileSync(join(repoRoot, 'native', 'build', 'berth'), join(pkg, 'native', 'build', 'berth'));
    chmodSync(join(pkg, 'native', 'build', 'berth'), 0o755);
    writeFileSync(join(pkg, 'bin', 'berth.mjs'), 'process.stdout.write(`node cli as ${process.getuid()}: ${process.argv.slice(2).join(" ")}\\n`);\n', { mode: 0o644 });
    // the kernel would refuse nobody at connect (0660 root:root); let it in to see the engine refuse
    const socket = join(roots.run, 'berth-cli.sock');
    chmodSync(roots.dir, 0o711);
    chmodSync(socket, 0o666);
    const before = warmLines().length;
    const r = await new Promise<Outcome>((resolve) => {
      const child = spawn(join(pkg, 'native', 'build', 'berth'), ['ps'], { uid: 65534, gid: 65534, env: { ...roots.env, BERTH_NO_WARM: '' }, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
      child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    chmodSync(socket, 0o660);
    chmodSync(roots.dir, 0o700);
    assert.equal(r.stdout, 'node cli as 65534: ps\n', r.stderr);
    const served = warmLines().slice(before);
    assert.equal(served.length, 1);
    assert.match(served[0]!, /uid 65534 .*: ps → the Node CLI \(uid 65534 is not the engine's user\)/);
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});

test('files read for a caller are opened with its uid, gid and groups (each directory and the file checked by the kernel)', () => {
  const sys = callerSys();
  const dir = mkdtempSync(join(tmpdir(), 'berth-warm-files-'));
  try {
    chmodSync(dir, 0o755);
    const secret = join(dir, 'private');
    mkdirSync(secret, { mode: 0o700 });
    writeFileSync(join(secret, 'compose.yaml'), 'services: {}\n', { mode: 0o644 });
    const shared = join(dir, 'group-only.yaml');
    writeFileSync(shared, 'services: {}\n', { mode: 0o640 });
    chownSync(shared, 0, 4242);
    const nobody = { pid: process.pid, uid: 65534, gid: 65534, groups: [] as number[] };
    const member = { ...nobody, groups: [4242] };
    const root = { pid: process.pid, uid: 0, gid: 0, groups: [0] };
    // a directory the caller may not search hides the (world-readable) file in it
    assert.throws(() => callerFiles(sys, nobody).read(join(secret, 'compose.yaml')), /cannot be read \(EACCES\)/);
    assert.equal(callerFiles(sys, nobody).isFile(join(secret, 'compose.yaml')), false);
    assert.equal(callerFiles(sys, root).read(join(secret, 'compose.yaml')), 'services: {}\n');
    // the file's group is the caller's only through its supplementary groups
    assert.throws(() => callerFiles(sys, nobody).read(shared), /EACCES/);
    assert.equal(callerFiles(sys, member).read(shared), 'services: {}\n');
    // and this process is itself again: root reads what only root may
    assert.equal(readFileSync(join(secret, 'compose.yaml'), 'utf8'), 'services: {}\n');
    chmodSync(shared, 0o600);
    assert.equal(readFileSync(shared, 'utf8'), 'services: {}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
