// The warm CLI at a real terminal (docs/warm-cli.md), warm and cold side by side in tmux. Intent:
// what used to tell the two apart on a terminal no longer does — listr2's progress lines are cut
// at the caller's terminal width, not at 80 columns, and Ctrl-Z stops a following command (the
// shell reports it stopped, nothing more reaches the screen) until `fg` lets it go on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { berthBin, berthOk, cleanupRoots, eventually, importBusybox, makeRoots, removeAllContainers, stopEngine, type TestRoots } from '../helpers/env.js';
import { haveTmux, TmuxSession } from '../helpers/tmux.js';

let roots: TestRoots;
let term: TmuxSession;
const skip = !haveTmux && 'tmux is not installed';

before(async () => {
  roots = makeRoots();
  term = new TmuxSession(`berth-warm-tty-${process.pid}`, roots);
  await importBusybox(roots, 'bb');
});

after(async () => {
  term.kill();
  await removeAllContainers(roots);
  await berthOk(roots, ['rmi', 'bb']);
  await stopEngine(roots);
  await cleanupRoots(roots);
});

const way = (cold: boolean): string => (cold ? 'cold' : 'warm');

test('up on a 150-column terminal: each progress line whole on one line, warm as cold (not cut at 80)', { skip }, async () => {
  const service = `a-service-whose-name-is-long-enough-to-pass-eighty-columns-${'x'.repeat(24)}`;
  const file = join(roots.dir, 'wide-compose.yaml');
  writeFileSync(file, `name: wide\nservices:\n  ${service}:\n    image: bb\n    init: true\n    command: ["sleep", "100"]\n`);
  const line = `✔ Container wide-${service}-1  Started`;
  assert.ok(line.length > 100, 'the line is longer than 80 columns');
  for (const cold of [false, true]) {
    term.start(`env BERTH_NO_WARM=${cold ? 1 : ''} ${berthBin} up -d -f ${file}; echo "exited:$?"; sleep 30`, 150, 20);
    const screen = await term.shows(/exited:\d+/, 30_000);
    assert.match(screen, /exited:0/, `${way(cold)}:\n${screen}`);
    assert.ok(screen.split('\n').some((l) => l.trimEnd() === line), `${way(cold)}: the whole line on one line:\n${screen}`);
    term.kill();
    await berthOk(roots, ['down', '-f', file, '-t', '1']);
  }
});

/** The pids of the `berth logs -f NAME` processes (the launcher, or the Node CLI it became). */
function followers(name: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let argv: string[];
    try { argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (argv.includes('logs') && argv.includes('-f') && argv.includes(name) && argv.some((a) => a.endsWith('berth') || a.endsWith('berth.mjs'))) out.push(Number(pid));
  }
  return out;
}

/** The process's state letter (R, S, T: stopped…), or undefined once it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch { return undefined; }
}

const highestTick = (text: string): number => Math.max(0, ...[...text.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));

test('Ctrl-Z stops logs -f (the shell says Stopped, nothing more is drawn) and fg goes on, warm as cold', { skip }, async () => {
  await berthOk(roots, ['run', '-d', '--name', 'ticker', '--network', 'none', 'bb', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done']);
  for (const cold of [false, true]) {
    // an interactive shell with job control, as a person's
    term.start(`PS1='$ ' bash --norc --noprofile -i`, 100, 30);
    await term.shows(/^\$\s*$/m);
    term.send(`env ${term.envWords({ BERTH_NO_WARM: cold ? '1' : '' })} ${berthBin} logs -f ticker`, 'Enter');
    await term.shows(/tick \d+/, 30_000);
    const pid = await eventually(() => followers('ticker')[0], 10_000, 'the logs -f process');
    term.send('C-z');
    const stopped = await term.shows(/Stopped/, 10_000);
    await eventually(() => stateOf(pid) === 'T', 10_000, `${way(cold)}: the process stopped by the kernel`);
    const shown = highestTick(stopped);
    // the container goes on ticking; none of it may reach the screen while stopped
    await eventually(async () => highestTick(await berthOk(roots, ['logs', '--tail', '1', 'ticker'])) >= shown + 5, 15_000, 'five more ticks');
    assert.equal(highestTick(term.screen()), shown, `${way(cold)}: nothing drawn while stopped:\n${term.screen()}`);
    assert.match(term.screen(), /^\$\s*$/m, 'the shell has the terminal');
    term.send('fg', 'Enter');
    await term.shows(new RegExp(`tick (${shown + 5}|${shown + 6}|${shown + 7}|${shown + 8}|${shown + 9})\\b`), 15_000);
    assert.notEqual(stateOf(pid), 'T', `${way(cold)}: running again`);
    term.send('C-c');
    await eventually(() => stateOf(pid) === undefined, 10_000, `${way(cold)}: logs -f to end on Ctrl-C`);
    term.kill();
  }
});
