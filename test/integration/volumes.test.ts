// Volumes, bind mounts, tmpfs, secrets and configs on real containers (root, real kernel), through
// the runtime directly. Each test leaves no container, volume, mount, cgroup or process behind.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, statSync, symlinkSync, existsSync, readdirSync, lstatSync, readlinkSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { importBusybox, makeRoots, berthOk, cleanupRoots, stopEngine, type TestRoots } from '../helpers/env.js';
import { Harness, importSeedImage } from './volumes-harness.js';
import { BerthError } from '../../src/lib/errors.js';

let roots: TestRoots;
let h: Harness;

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'bb');
  await importSeedImage(roots, 'seed');
  await stopEngine(roots);
  h = new Harness(roots);
});

afterEach(async () => {
  assert.deepEqual(await h.cleanup(), [], 'no mount, cgroup or process left behind');
  assert.deepEqual(existsSync(h.store.dir) ? readdirSync(h.store.dir).filter((n) => n.startsWith('.')) : [], [], 'no staging left in the volume store');
});

after(async () => {
  await berthOk(roots, ['rmi', 'bb', 'seed']);
  await cleanupRoots(roots);
});

const vol = (source: string | undefined, target: string, extra: Partial<{ readOnly: boolean; nocopy: boolean; subpath: string }> = {}) =>
  ({ type: 'volume' as const, ...(source !== undefined ? { source } : {}), target, readOnly: extra.readOnly ?? false, nocopy: extra.nocopy ?? false, ...(extra.subpath ? { subpath: extra.subpath } : {}) });

test('data written into a named volume outlives its container and is seen by another', async () => {
  h.store.create({ name: 'db-data', labels: { 'com.docker.compose.project': 'p' } });
  const writer = await h.run('bb', ['sh', '-c', 'echo kept > /var/lib/db/row; id -u > /var/lib/db/owner'], { mounts: [vol('db-data', '/var/lib/db')] });
  assert.equal(writer.exitCode, 0, writer.stderr);
  assert.deepEqual(h.store.users('db-data'), [writer.id], 'the volume knows its user');
  await h.remove(writer.id);
  assert.deepEqual(h.store.users('db-data'), []);
  assert.equal(h.store.get('db-data').labels['com.docker.compose.project'], 'p');

  const reader = await h.run('bb', ['cat', '/srv/row'], { mounts: [vol('db-data', '/srv')] });
  assert.equal(reader.stdout, 'kept\n');
  // two containers at once see each other's writes
  const a = await h.create('bb', ['sh', '-c', 'echo from-a > /shared/a; while [ ! -e /shared/b ]; do sleep 0.05; done; cat /shared/b'], { mounts: [vol('db-data', '/shared')] });
  const b = await h.create('bb', ['sh', '-c', 'while [ ! -e /shared/a ]; do sleep 0.05; done; cat /shared/a; echo from-b > /shared/b'], { mounts: [vol('db-data', '/shared')] });
  await h.start(a.id);
  await h.start(b.id);
  await h.waitExited(a.id);
  await h.waitExited(b.id);
  assert.equal(h.output(a.id).stdout, 'from-b\n');
  assert.equal(h.output(b.id).stdout, 'from-a\n');
  assert.deepEqual(h.store.users('db-data').sort(), [a.id, b.id, reader.id].sort());
});

test('a volume in use cannot be removed (the error names the containers); prune takes anonymous volumes only unless all', async () => {
  h.store.create({ name: 'busy' });
  h.store.create({ name: 'idle' });
  const c = await h.create('bb', ['true'], { mounts: [vol('busy', '/busy'), vol(undefined, '/anon')] });
  await assert.rejects(h.store.remove('busy'), (err: unknown) => err instanceof BerthError && err.code === 'CONFLICT' && err.message.includes(c.id) && /volume is in use/.test(err.message));
  const anon = c.prepared.volumes.find((v) => v.anonymous)!;
  assert.equal(h.store.get(anon.name).labels['com.docker.volume.anonymous'], '');
  h.store.create({}); // an unused anonymous volume
  const pruned = await h.store.prune();
  assert.equal(pruned.removed.length, 1, 'the unused anonymous volume only');
  assert.ok(h.store.find(anon.name), 'an anonymous volume in use is kept');
  assert.deepEqual((await h.store.prune({ all: true })).removed, ['idle']);
  await h.remove(c.id);
  assert.equal(h.store.find(anon.name), undefined, 'removing the container (rm -v) removed its anonymous volume');
  assert.ok(h.store.find('busy'), 'named volumes survive their container');
  await assert.rejects(h.store.remove('nope'), /no such volume/);
  await h.store.remove('nope', { force: true });
});

test('copy-up fills a new empty volume with the image content, owners, modes, links and xattrs kept, never following image symlinks', async () => {
  // an xattr on the image's file (node-tar writes none): set in the layer directory itself
  const { lowerDirs } = await h.layers('seed');
  const layerFile = lowerDirs.map((d) => join(d, 'seed', 'a.txt')).find((p) => existsSync(p))!;
  h.sys.lsetxattr(layerFile, 'user.origin', Buffer.from('image'));
  if (!existsSync(join(layerFile, '..', 'hard.txt'))) linkSync(layerFile, join(layerFile, '..', 'hard.txt'));

  const c = await h.create('seed', ['true'], { mounts: [vol('fresh', '/seed')] });
  assert.equal(c.prepared.volumes[0]!.copyUp, 'copied');
  const data = h.store.dataDir('fresh');
  const root = statSync(data);
  assert.equal(root.mode & 0o7777, 0o750, 'the volume root takes the image directory\'s mode');
  assert.equal(`${root.uid}:${root.gid}`, '1000:1000', 'and its owner');
  const a = statSync(join(data, 'a.txt'));
  assert.equal(a.mode & 0o7777, 0o640);
  assert.equal(`${a.uid}:${a.gid}`, '1000:1000');
  assert.equal(readFileSync(join(data, 'a.txt'), 'utf8'), 'alpha\n');
  assert.equal(statSync(join(data, 'hard.txt')).ino, a.ino, 'hard links stay hard links');
  assert.equal(statSync(join(data, 'sub')).mode & 0o7777, 0o700);
  assert.equal(readlinkSync(join(data, 'etc-link')), '/etc', 'a symlink is copied as a symlink, not followed');
  assert.ok(lstatSync(join(data, 'etc-link')).isSymbolicLink());
  assert.equal(Buffer.from(h.sys.lgetxattr(join(data, 'a.txt'), 'user.origin') ?? []).toString(), 'image', 'xattrs kept');

  // the container sees it; a write into the volume stays
  const ran = await h.runToEnd(c.id);
  assert.equal(ran.exitCode, 0);
  writeFileSync(join(data, 'a.txt'), 'changed by the app\n');

  // a used volume is never copied into again; the image path through a symlink (/data -> /seed) resolves in the image
  const again = await h.create('seed', ['cat', '/seed/a.txt'], { mounts: [vol('fresh', '/seed')] });
  assert.equal(again.prepared.volumes[0]!.copyUp, 'not-empty');
  assert.equal((await h.runToEnd(again.id)).stdout, 'changed by the app\n');
  const viaLink = await h.create('seed', ['ls', '/data/sub'], { mounts: [vol('other', '/data')] });
  assert.equal(viaLink.prepared.volumes[0]!.copyUp, 'copied');
  assert.equal(readFileSync(join(h.store.dataDir('other'), 'sub', 'b.txt'), 'utf8'), 'beta\n');

  // nocopy, and a target the image has nothing at
  const none = await h.create('seed', ['true'], { mounts: [vol('empty1', '/seed', { nocopy: true }), vol('empty2', '/nothing-here')] });
  assert.deepEqual(none.prepared.volumes.map((v) => v.copyUp), ['nocopy', 'no-content']);
  assert.deepEqual(readdirSync(h.store.dataDir('empty1')), []);
  assert.deepEqual(readdirSync(h.store.dataDir('empty2')), []);
});

test('bind mounts: edits are seen both ways, read_only refuses writes, subpath stays inside', async () => {
  const src = join(h.project, 'src');
  mkdirSync(join(src, 'nested'), { recursive: true });
  writeFileSync(join(src, 'index.txt'), 'v1\n');
  const c = await h.create('bb', ['sh', '-c', 'while [ "$(cat /app/index.txt)" != v2 ]; do sleep 0.05; done; echo seen; echo from-container > /app/out.txt'], {
    mounts: [{ type: 'bind', source: './src', target: '/app', readOnly: false, createHostPath: true }],
  });
  await h.start(c.id);
  writeFileSync(join(src, 'index.txt'), 'v2\n');
  assert.equal(await h.waitExited(c.id), 0);
  assert.equal(h.output(c.id).stdout, 'seen\n');
  assert.equal(readFileSync(join(src, 'out.txt'), 'utf8'), 'from-container\n');

  const ro = await h.run('bb', ['sh', '-c', 'cat /app/index.txt; echo x > /app/nope'], {
    mounts: [{ type: 'bind', source: src, target: '/app', readOnly: true, createHostPath: false }],
  });
  assert.notEqual(ro.exitCode, 0);
  assert.match(ro.stderr, /Read-only file system/);
  assert.equal(ro.stdout, 'v2\n');
  assert.equal(existsSync(join(src, 'nope')), false);

  h.store.create({ name: 'withsub' });
  mkdirSync(join(h.store.dataDir('withsub'), 'part'));
  writeFileSync(join(h.store.dataDir('withsub'), 'part', 'x'), 'sub\n');
  symlinkSync('/etc', join(h.store.dataDir('withsub'), 'out'));
  const sub = await h.run('bb', ['cat', '/p/x'], { mounts: [vol('withsub', '/p', { subpath: 'part' })] });
  assert.equal(sub.stdout, 'sub\n');
  const escape = await h.create('bb', ['ls', '/p'], { mounts: [vol('withsub', '/p', { subpath: 'out' })] });
  await assert.rejects(h.start(escape.id), /subpath out/, 'a subpath through a symlink leaving the volume is refused by the shim');
});

test('bind sources: create_host_path owned by the numeric user, a missing file and a symlink out of the project are clear errors', async () => {
  const made = await h.run('bb', ['sh', '-c', 'id -u; touch /cache/ok && echo wrote'], {
    user: '4321:4322',
    mounts: [{ type: 'bind', source: './cache/deep', target: '/cache', readOnly: false, createHostPath: true }],
  });
  assert.equal(made.stdout, '4321\nwrote\n', made.stderr);
  for (const dir of ['cache', 'cache/deep']) {
    const st = statSync(join(h.project, dir));
    assert.equal(`${st.uid}:${st.gid}`, '4321:4322', `${dir} is owned by the service's user`);
  }
  await assert.rejects(h.create('bb', ['true'], { mounts: [{ type: 'bind', source: './nginx.conf', target: '/etc/nginx/nginx.conf', readOnly: true, createHostPath: true }] }),
    /nginx\.conf does not exist, and berth creates missing directories, not files/);
  assert.equal(existsSync(join(h.project, 'nginx.conf')), false, 'no directory invented');
  symlinkSync('/etc', join(h.project, 'sneaky'));
  await assert.rejects(h.create('bb', ['true'], { mounts: [{ type: 'bind', source: './sneaky', target: '/x', readOnly: false, createHostPath: true }] }),
    /leads through a symlink to \/etc, outside the project directory/);
  await assert.rejects(h.create('bb', ['true'], { mounts: [{ type: 'bind', source: './sneaky/new-dir', target: '/x', readOnly: false, createHostPath: true }] }),
    /outside the project directory/);
  assert.equal(existsSync('/etc/new-dir'), false, 'nothing created through the symlink');
  await assert.rejects(h.create('bb', ['true'], { mounts: [{ type: 'bind', source: '/no/such/dir', target: '/x', readOnly: false, createHostPath: false }] }),
    /bind source path does not exist: \/no\/such\/dir/);
  // a path written outside the project goes where it was written, even through a symlink
  mkdirSync(join(roots.dir, 'elsewhere'));
  symlinkSync(join(roots.dir, 'elsewhere'), join(roots.dir, 'link-to-elsewhere'));
  const ok = await h.create('bb', ['true'], { mounts: [{ type: 'bind', source: join(roots.dir, 'link-to-elsewhere'), target: '/x', readOnly: true, createHostPath: false, selinux: 'z' }] });
  assert.equal(ok.prepared.mounts[0]!.type === 'bind' && ok.prepared.mounts[0]!.source, join(roots.dir, 'link-to-elsewhere'));
  assert.match(ok.prepared.warnings.join('\n'), /SELinux label option "z" has no effect/);
  assert.deepEqual(h.store.list(), [], 'a failed create left no volume');
});

test('tmpfs mounts are empty at every start and honour size and mode', async () => {
  const c = await h.create('bb', ['sh', '-c', 'ls -A /scratch; stat -c "%a" /scratch; echo x > /scratch/mark; dd if=/dev/zero of=/scratch/big bs=1024 count=200 2>&1; grep " /scratch " /proc/mounts'], {
    mounts: [{ type: 'tmpfs', target: '/scratch', size: 100 * 1024, mode: 0o1770, readOnly: false }],
  });
  const first = await h.runToEnd(c.id);
  const lines = first.stdout.split('\n');
  assert.equal(lines[0], '1770', 'empty and with its mode');
  assert.match(first.stdout, /No space left on device/, 'a 200 KiB write does not fit in 100 KiB');
  assert.match(first.stdout, /tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec/);
  assert.match(first.stdout, /size=100k/);
  const second = await h.runToEnd(c.id);
  assert.equal(second.stdout.split('\n')[0], '1770', 'the file written at the first start is gone');
});

test('secrets and configs are readable at their paths with their owners and modes, read-only', async () => {
  const file = join(h.project, 'db_password.txt');
  writeFileSync(file, 's3cret\n', { mode: 0o600 });
  const { id } = await h.create('bb', ['sh', '-c', 'for f in /run/secrets/db_password /run/secrets/api /app.conf /etc/x/named.conf; do echo "$(stat -c "%a %u %g" $f) $(cat $f)"; done; echo no > /run/secrets/api'], {
    grants: [
      { kind: 'secret', name: 'db_password', content: { file } },
      { kind: 'secret', name: 'api', content: { data: 'token-from-env' }, uid: 1000, gid: 1000, mode: 0o400 },
      { kind: 'config', name: 'app.conf', content: { data: 'port=80' } },
      { kind: 'config', name: 'named', target: '/etc/x/named.conf', content: { data: 'named' }, mode: 0o640 },
    ],
  });
  const r = await h.runToEnd(id);
  assert.equal(r.stdout, '444 0 0 s3cret\n400 1000 1000 token-from-env\n444 0 0 port=80\n640 0 0 named\n');
  assert.match(r.stderr, /Read-only file system/);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the host file itself is untouched');
  // an edited secret is what the next start reads
  writeFileSync(file, 'rotated\n');
  assert.match((await h.runToEnd(id)).stdout, /^444 0 0 rotated$/m);
});

test('tmpfs- and bind-style volumes (local driver options)', async () => {
  h.store.create({ name: 'mem', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,mode=0770' } });
  const dev = join(h.project, 'device-dir');
  mkdirSync(dev);
  h.store.create({ name: 'onhost', driverOpts: { type: 'none', o: 'bind', device: dev } });
  // the container writes, then holds the volume until the host has read what it wrote
  const { id } = await h.create('seed', ['sh', '-c', 'echo hi > /m/f; stat -c %a /m; echo there > /h/g; ls /h; while [ ! -e /m/done ]; do sleep 0.05; done'], { mounts: [vol('mem', '/m'), vol('onhost', '/h')] });
  await h.start(id);
  const written = join(h.store.dataDir('mem'), 'f');
  await h.eventually('the container wrote /m/f', 10_000, () => existsSync(written));
  assert.equal(readFileSync(written, 'utf8'), 'hi\n', 'the tmpfs is mounted on the host while a container holds it');
  writeFileSync(join(h.store.dataDir('mem'), 'done'), '');
  assert.equal(await h.waitExited(id), 0);
  const r = h.output(id);
  assert.equal(readFileSync(join(dev, 'g'), 'utf8'), 'there\n', 'a bind-style volume is the host directory');
  assert.equal(r.stdout.split('\n')[0], '770');
  assert.deepEqual(h.store.deactivateUnused(new Set()), ['mem'], 'nobody running uses it: unmounted');
  assert.equal(existsSync(join(h.store.dataDir('mem'), 'f')), false);
  assert.throws(() => h.store.create({ name: 'mem', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' } }), /different driver options/);
  assert.deepEqual(h.store.create({ name: 'mem', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,mode=0770' } }).name, 'mem', 'same options: the existing volume');
});

test('bind propagation: rslave receives mounts the host makes below the source, the default (rprivate) does not', async () => {
  const { MS_REC } = await import('../../src/sys/sys.js');
  const MS_SHARED = 0x100000;
  const shared = join(roots.dir, 'shared');
  mkdirSync(shared);
  h.sys.mount('tmpfs', shared, 'tmpfs', 0, 'size=1m');
  try {
    h.sys.mount('', shared, '', MS_SHARED | MS_REC, null);
    mkdirSync(join(shared, 'later'));
    const script = 'while [ ! -e /ev/later/marker ] && [ ! -e /stop ]; do sleep 0.05; done; cat /ev/later/marker 2>/dev/null || echo none';
    const slave = await h.create('bb', ['sh', '-c', script], { mounts: [{ type: 'bind', source: shared, target: '/ev', readOnly: false, propagation: 'rslave', createHostPath: false }] });
    // /ev/go is written on the shared tmpfs itself (seen by both) after the host's mount: then the
    // private bind looks, so its "none" is not an answer given too early
    const priv = await h.create('bb', ['sh', '-c', 'while [ ! -e /ev/go ]; do sleep 0.05; done; cat /ev/later/marker 2>/dev/null || echo none'], { mounts: [{ type: 'bind', source: shared, target: '/ev', readOnly: false, createHostPath: false }] });
    await h.start(slave.id);
    await h.start(priv.id);
    const later = join(shared, 'later');
    h.sys.mount('tmpfs', later, 'tmpfs', 0, 'size=1m');
    try {
      writeFileSync(join(later, 'marker'), 'propagated\n');
      writeFileSync(join(shared, 'go'), '');
      assert.equal(await h.waitExited(slave.id), 0);
      assert.equal(h.output(slave.id).stdout, 'propagated\n', 'a mount made on the host below an rslave source appears in the container');
      await h.waitExited(priv.id);
      assert.equal(h.output(priv.id).stdout, 'none\n', 'an rprivate bind does not receive it');
    } finally { h.sys.umount2(later, 0x2); }
  } finally { h.sys.umount2(shared, 0x2); }
});
