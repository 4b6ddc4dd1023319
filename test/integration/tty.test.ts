// `run -it` and `exec -it` through a real pty, driven by tmux as a person at a terminal would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importBusybox, makeRoots, berth, berthOk, cleanupRoots, berthBin, stopEngine, eventually, type TestRoots } from '../helpers/env.js';
import { haveTmux, TmuxSession } from '../helpers/tmux.js';

let roots: TestRoots;
let term: TmuxSession;
const session = `berth-tty-${process.pid}`;

before(async () => {
  roots = makeRoots();
  term = new TmuxSession(session, roots);
  await importBusybox(roots, 'bb');
});

after(async () => {
  term.kill();
  const ids = (await berthOk(roots, ['ps', '-aq', '--no-trunc'])).split('\n').filter((l) => l !== '');
  if (ids.length > 0) await berthOk(roots, ['rm', '-f', ...ids]);
  await berthOk(roots, ['rmi', 'bb']);
  await cleanupRoots(roots);
});

const tmux = (...args: string[]): string => term.tmux(...args);
const screenShows = (pattern: RegExp, timeoutMs = 10_000): Promise<string> => term.shows(pattern, timeoutMs);
const startInTmux = (command: string): void => term.start(`${berthBin} ${command}; echo "exited:$?"; sleep 30`);

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
