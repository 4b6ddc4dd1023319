// `run -it` and `exec -it` through a real pty, driven by tmux as a person at a terminal would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importBusybox, makeRoots, berth, berthOk, cleanupRoots, berthBin, stopEngine, eventually, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;
const session = `berth-tty-${process.pid}`;
const haveTmux = spawnSync('tmux', ['-V']).status === 0;

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'bb');
});

after(async () => {
  spawnSync('tmux', ['kill-session', '-t', session]);
  const ids = (await berthOk(roots, ['ps', '-aq', '--no-trunc'])).split('\n').filter((l) => l !== '');
  if (ids.length > 0) await berthOk(roots, ['rm', '-f', ...ids]);
  await berthOk(roots, ['rmi', 'bb']);
  await cleanupRoots(roots);
});

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function screenShows(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  let screen = '';
  try {
    return await eventually(() => {
      screen = tmux('capture-pane', '-p', '-t', session);
      return pattern.test(screen) ? screen : undefined;
    }, timeoutMs, `the screen to show ${pattern}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}:\n${screen}`);
  }
}

function startInTmux(command: string): void {
  spawnSync('tmux', ['kill-session', '-t', session]); // a previous test's session, if it failed
  const env = Object.entries(roots.env).filter(([k]) => k.startsWith('BERTH_')).map(([k, v]) => `${k}=${v}`).join(' ');
  tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', `env ${env} ${berthBin} ${command}; echo "exited:$?"; sleep 30`);
}

test('run -it gives an interactive shell on a real pty: raw mode, window size, Ctrl-C and Ctrl-D reach the container', { skip: !haveTmux && 'tmux is not installed' }, async () => {
  startInTmux('run -it --rm --name ttyrun bb sh');
  await screenShows(/# ?$/m);
  tmux('send-keys', '-t', session, 'tty; stty size; echo $((6*7))', 'Enter');
  const screen = await screenShows(/^42\s*$/m);
  assert.match(screen, /^\/dev\/pts\/0\s*$/m, 'stdin is a pty inside the container');
  const size = tmux('display-message', '-p', '-t', session, '#{pane_height} #{pane_width}').trim();
  assert.match(screen, new RegExp(`^${size}\\s*$`, 'm'), 'the window size follows the terminal');
  tmux('send-keys', '-t', session, 'sleep 100', 'Enter');
  // Ctrl-C only once the sleep runs (as the container's processes show), so it is what it interrupts
  await eventually(async () => /sleep 100/.test((await berth(roots, ['top', 'ttyrun'])).stdout), 10_000, 'the sleep to run');
  tmux('send-keys', '-t', session, 'C-c');
  tmux('send-keys', '-t', session, 'echo after-interrupt', 'Enter');
  await screenShows(/^after-interrupt\s*$/m);
  tmux('send-keys', '-t', session, 'C-d');
  await screenShows(/exited:0/);
  tmux('kill-session', '-t', session);
});

test('up on a terminal draws one progress line per container (listr2) and ends with each one done', { skip: !haveTmux && 'tmux is not installed' }, async () => {
  const file = join(roots.dir, 'tty-compose.yaml');
  writeFileSync(file, 'name: ttyup\nservices:\n  a:\n    image: bb\n    init: true\n    command: ["sleep", "100"]\n  b:\n    image: bb\n    init: true\n    command: ["sleep", "100"]\n    depends_on: [a]\n');
  startInTmux(`up -d -f ${file}`);
  const screen = await screenShows(/exited:0/, 15_000);
  assert.match(screen, /✔ Container ttyup-a-1 {2}Started/);
  assert.match(screen, /✔ Container ttyup-b-1 {2}Started/);
  tmux('kill-session', '-t', session);
  await berthOk(roots, ['down', '-f', file, '-t', '1']);
  await stopEngine(roots);
});

test('exec -it opens a shell on a pty inside a running container', { skip: !haveTmux && 'tmux is not installed' }, async () => {
  await berthOk(roots, ['run', '-d', '--name', 'ttyhost', '--hostname', 'ttybox', 'bb', 'sleep', '100']);
  startInTmux('exec -it ttyhost sh');
  await screenShows(/# ?$/m);
  tmux('send-keys', '-t', session, 'hostname; tty', 'Enter');
  const screen = await screenShows(/^\/dev\/pts\/\d+\s*$/m);
  assert.match(screen, /^ttybox\s*$/m);
  tmux('send-keys', '-t', session, 'exit 5', 'Enter');
  await screenShows(/exited:5/);
  tmux('kill-session', '-t', session);
  assert.equal((await berth(roots, ['rm', '-f', 'ttyhost'])).code, 0);
});
