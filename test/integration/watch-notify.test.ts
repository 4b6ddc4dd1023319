// The notifier (berth-notify + src/watch/notify.ts) on its own, as root: what it reports, what it
// never follows, and that it starts when a directory cannot be watched.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, writeFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lazySys } from '../../src/sys/index.js';
import { MS_BIND, MNT_DETACH } from '../../src/sys/sys.js';
import { Notifier, type NotifyEvent } from '../../src/watch/notify.js';
import { eventually, helperPath } from './watch-harness.js';

function notifierOn(dir: string, events: NotifyEvent[]): Notifier {
  return new Notifier({ sys: lazySys, helperPath, roots: [{ path: dir, recursive: true }], shouldWatch: () => true, onEvent: (e) => events.push(e) });
}

const paths = (events: readonly NotifyEvent[], kind: NotifyEvent['kind']): string[] => events.filter((e) => e.kind === kind).map((e) => ('path' in e ? e.path : ''));

test('a moved directory is reported gone and new, and later writes in it carry its new path', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-notify-'));
  const events: NotifyEvent[] = [];
  const n = notifierOn(base, events);
  try {
    mkdirSync(join(base, 'a', 'inner'), { recursive: true });
    await n.start();
    renameSync(join(base, 'a'), join(base, 'b'));
    writeFileSync(join(base, 'b', 'inner', 'x.js'), 'x\n');
    await eventually('the write below the moved directory', 10_000, () => paths(events, 'change').includes('b/inner/x.js'));
    assert.ok(paths(events, 'gone').includes('a'));
    assert.ok(paths(events, 'dir').includes('b'));
    assert.ok(!events.some((e) => 'path' in e && e.path.startsWith('a/')), 'nothing reported under the old path');
  } finally { await n.stop(); rmSync(base, { recursive: true, force: true }); }
});

test('a symlink to a directory outside is never followed', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-notify-'));
  const tree = join(base, 'tree');
  const outside = join(base, 'outside');
  mkdirSync(tree);
  mkdirSync(outside);
  symlinkSync(outside, join(tree, 'link'));
  const events: NotifyEvent[] = [];
  const n = notifierOn(tree, events);
  try {
    await n.start();
    assert.equal(n.watched, 1, 'only the tree itself is watched');
    writeFileSync(join(outside, 'secret'), 's\n');
    writeFileSync(join(tree, 'sentinel'), 'written after the outside file\n');
    await eventually('the sentinel', 10_000, () => paths(events, 'change').includes('sentinel'));
    assert.ok(!events.some((e) => 'path' in e && e.path.includes('secret')), JSON.stringify(events));
  } finally { await n.stop(); rmSync(base, { recursive: true, force: true }); }
});

test('a directory reached twice (the tree bind-mounted inside itself) is watched once and start completes', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-notify-'));
  const mnt = join(base, 'sub', 'mnt');
  mkdirSync(mnt, { recursive: true });
  lazySys.mount(base, mnt, '', MS_BIND, null);
  const events: NotifyEvent[] = [];
  const n = notifierOn(base, events);
  try {
    await n.start();
    assert.equal(n.watched, 2, 'the root and sub: the mount shows the root again and is refused as already watched');
  } finally {
    await n.stop();
    lazySys.umount2(mnt, MNT_DETACH);
    rmSync(base, { recursive: true, force: true });
  }
});
