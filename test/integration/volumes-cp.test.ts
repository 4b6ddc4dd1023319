// cp between the host and real containers (running and stopped), tar streams, the /etc escape,
// and diff. Each test leaves nothing behind.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, statSync, existsSync, readdirSync, readlinkSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { importBusybox, makeRoots, berthOk, cleanupRoots, stopEngine, type TestRoots } from '../helpers/env.js';
import { Harness } from './volumes-harness.js';
import { withContainerRoot, type ContainerFilesystem } from '../../src/volumes/view.js';
import { copyToContainer, copyFromContainer, tarFromContainer, tarToContainer } from '../../src/volumes/cp.js';
import { containerDiff, formatDiff } from '../../src/volumes/diff.js';

let roots: TestRoots;
let h: Harness;

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'bb');
  await stopEngine(roots);
  h = new Harness(roots);
});

afterEach(async () => {
  assert.deepEqual(await h.cleanup(), [], 'no mount, cgroup or process left behind');
  assert.deepEqual(existsSync(h.store.dir) ? readdirSync(h.store.dir).filter((n) => n.startsWith('.')) : [], [], 'no view or staging left');
});

after(async () => {
  await berthOk(roots, ['rmi', 'bb']);
  await cleanupRoots(roots);
});

function fsOf(id: string): ContainerFilesystem {
  const view = h.host.runtime.find(id);
  const running = view.observed.status === 'running';
  return {
    ...(running ? { pid: view.observed.started!.pid } : {}),
    overlayRoot: join(roots.root, 'overlay2'),
    layerId: view.record.layer.id,
    mounts: view.record.hostConfig.Mounts ?? [],
  };
}

const withRoot = <T>(id: string, fn: Parameters<typeof withContainerRoot<T>>[2]): Promise<T> =>
  withContainerRoot({ sys: h.sys, scratchDir: h.store.dir }, fsOf(id), fn);

const hash = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

async function sleeper(mounts: NonNullable<NonNullable<Parameters<Harness['create']>[2]>['mounts']> = []): Promise<string> {
  const { id } = await h.create('bb', ['sleep', '300'], { mounts });
  await h.start(id);
  return id;
}

async function exec(id: string, script: string): Promise<string> {
  const r = await h.host.runtime.execCaptured(id, { args: ['sh', '-c', script], env: [], tty: false, stdin: false }, { timeoutMs: 10_000, maxOutput: 1 << 20 });
  assert.equal(r.exitCode, 0, r.output);
  return r.output;
}

test('cp into a running container: files and directories, contents with "/.", root-owned unless archive', async () => {
  const id = await sleeper();
  const src = join(roots.dir, 'payload');
  mkdirSync(join(src, 'deep'), { recursive: true });
  writeFileSync(join(src, 'deep', 'f.txt'), 'payload\n');
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  chownSync(join(src, 'run.sh'), 1234, 1234);
  await withRoot(id, (root) => {
    copyToContainer(h.sys, root, src, '/opt');                    // /opt exists? no: created as /opt holding the content
    copyToContainer(h.sys, root, src, '/tmp');                    // into an existing directory: /tmp/payload
    copyToContainer(h.sys, root, `${src}/.`, '/root');            // the content only
    copyToContainer(h.sys, root, join(src, 'run.sh'), '/usr/bin/run-it');
    copyToContainer(h.sys, root, join(src, 'run.sh'), '/home/', { archive: true });
  });
  const out = await exec(id, 'cat /opt/deep/f.txt /tmp/payload/deep/f.txt /root/deep/f.txt; run-it; stat -c "%u %a" /usr/bin/run-it /home/run.sh');
  assert.equal(out, 'payload\npayload\npayload\nrun\n0 755\n1234 755\n');
  await assert.rejects(withRoot(id, (root) => copyToContainer(h.sys, root, src, '/usr/bin/run-it')), /cannot copy a directory to a file/);
  await assert.rejects(withRoot(id, (root) => copyToContainer(h.sys, root, join(src, 'run.sh'), '/no/such/dir/')), /must exist/);
  await assert.rejects(withRoot(id, (root) => copyToContainer(h.sys, root, join(src, 'missing'), '/tmp')), /could not find the file/);
});

test('cp out of a container, running and stopped, including what sits in its volumes', async () => {
  h.store.create({ name: 'cpvol' });
  const id = await sleeper([{ type: 'volume', source: 'cpvol', target: '/data', readOnly: false, nocopy: false }]);
  await exec(id, 'mkdir -p /srv/tree/a; echo one > /srv/tree/a/1; ln -s /etc/passwd /srv/tree/link; echo in-volume > /data/v; chown 1000:1000 /srv/tree/a/1; chmod 4755 /srv/tree/a/1');
  const out = join(roots.dir, 'out');
  mkdirSync(out);
  await withRoot(id, (root) => {
    copyFromContainer(h.sys, root, '/srv/tree', out);
    copyFromContainer(h.sys, root, '/data/v', join(out, 'v.txt'));
  });
  assert.equal(readFileSync(join(out, 'tree', 'a', '1'), 'utf8'), 'one\n');
  const st = statSync(join(out, 'tree', 'a', '1'));
  assert.equal(`${st.uid}:${st.gid}`, `${process.getuid!()}:${process.getgid!()}`, 'owned by the invoking user');
  assert.equal(st.mode & 0o7777, 0o755, 'no set-id bit reaches the host');
  assert.equal(readlinkSync(join(out, 'tree', 'link')), '/etc/passwd', 'a symlink stays a symlink');
  assert.equal(readFileSync(join(out, 'v.txt'), 'utf8'), 'in-volume\n', 'the volume seen as the container sees it');

  await h.host.runtime.stop(id, 1);
  await h.waitExited(id);
  const again = join(roots.dir, 'again');
  mkdirSync(again);
  await withRoot(id, (root) => {
    copyFromContainer(h.sys, root, '/srv/tree/.', again, { archive: true });
    copyFromContainer(h.sys, root, '/data/v', join(again, 'v.txt'));
    copyToContainer(h.sys, root, join(out, 'v.txt'), '/data/from-host');
  });
  assert.equal(statSync(join(again, 'a', '1')).uid, 1000, 'archive keeps owners');
  assert.equal(statSync(join(again, 'a', '1')).mode & 0o7777, 0o4755, 'and modes');
  assert.equal(readFileSync(join(again, 'v.txt'), 'utf8'), 'in-volume\n', 'a stopped container\'s volumes are in its view');
  assert.equal(readFileSync(join(h.store.dataDir('cpvol'), 'from-host'), 'utf8'), 'in-volume\n', 'a copy into a stopped container lands in its volume');
});

test('tar streams: a container path out as tar, a tar in, entries that climb out refused', async () => {
  const id = await sleeper();
  await exec(id, 'mkdir -p /src/d; echo x > /src/d/x; ln /src/d/x /src/d/hard; ln -s d/x /src/rel');
  const chunks: Buffer[] = [];
  await withRoot(id, (root) => { for (const c of tarFromContainer(root, '/src')) chunks.push(c); });
  const tarball = Buffer.concat(chunks);
  const { Parser } = await import('tar');
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const p = new Parser({ strict: true, onReadEntry: (e) => { names.push(`${e.type} ${e.path}${e.linkpath ? ` -> ${e.linkpath}` : ''}`); e.resume(); } });
    p.on('end', resolve);
    p.on('error', reject);
    p.end(tarball);
  });
  assert.deepEqual(names, ['Directory src/', 'Directory src/d/', 'File src/d/hard', 'Link src/d/x -> src/d/hard', 'SymbolicLink src/rel -> d/x'],
    'named from the source\'s base name; the second name of a file is a link entry');

  await withRoot(id, async (root) => {
    await exec(id, 'mkdir /dst');
    await tarToContainer(h.sys, root, '/dst', (async function* () { yield tarball; })());
  });
  assert.equal(await exec(id, 'cat /dst/src/d/x; readlink /dst/src/rel; stat -c %h /dst/src/d/x'), 'x\nd/x\n2\n');

  const { Header } = await import('tar');
  const evil = new Header({ path: '../../escape', type: 'File', size: 0, mode: 0o644, mtime: new Date() });
  evil.encode();
  await assert.rejects(withRoot(id, (root) => tarToContainer(h.sys, root, '/dst', (async function* () { yield Buffer.concat([evil.block!, Buffer.alloc(1024)]); })())), /leads outside \/dst/);
});

test('a container symlink pointing at /etc cannot make cp touch the host\'s /etc', async () => {
  const id = await sleeper();
  await exec(id, 'ln -s /etc /evil; ln -s ../../../../../../etc /climb; mkdir -p /t; ln -s /etc/shadow-berth-test /t/leaf');
  const hostEtc = readdirSync('/etc').sort();
  const passwd = hash('/etc/passwd');
  const file = join(roots.dir, 'marker');
  writeFileSync(file, 'written by cp\n');
  await withRoot(id, (root) => {
    copyToContainer(h.sys, root, file, '/evil/berth-cp-test');
    copyToContainer(h.sys, root, file, '/climb/berth-cp-test2');
    copyToContainer(h.sys, root, file, '/t/leaf');
    copyToContainer(h.sys, root, file, '/evil/passwd');
  });
  assert.deepEqual(readdirSync('/etc').sort(), hostEtc, 'nothing created in the host\'s /etc');
  assert.equal(hash('/etc/passwd'), passwd, 'the host\'s /etc/passwd is untouched');
  assert.equal(await exec(id, 'cat /etc/berth-cp-test /etc/berth-cp-test2 /etc/passwd; test -L /t/leaf && echo link || echo replaced'), 'written by cp\nwritten by cp\nwritten by cp\nreplaced\n',
    'the writes landed in the container\'s own /etc, and a symlink at the destination is replaced, not followed');
  // reading back through the symlink reads the container's file, never the host's
  const out = join(roots.dir, 'read-back');
  await withRoot(id, (root) => copyFromContainer(h.sys, root, '/climb/passwd', out));
  assert.equal(readFileSync(out, 'utf8'), 'written by cp\n');
  assert.equal(existsSync('/etc/shadow-berth-test'), false);
});

test('diff lists what the container added, changed and deleted, as docker diff prints it', async () => {
  const { id } = await h.create('bb', ['sh', '-c', 'echo new > /newfile; mkdir -p /var/new/dir; echo x >> /etc/passwd; rm /etc/group; rm -r /home/app; mkdir /home/app; echo fresh > /home/app/only'], {});
  assert.equal((await h.runToEnd(id)).exitCode, 0);
  const view = h.host.runtime.find(id);
  const upper = join(roots.root, 'overlay2', view.record.layer.id, 'diff');
  const text = formatDiff(containerDiff(h.sys, upper, view.record.layer.lower));
  assert.equal(text, [
    'C /etc', 'D /etc/group', 'C /etc/passwd', 'C /home', 'C /home/app', 'A /home/app/only', 'A /newfile', 'C /var', 'A /var/new', 'A /var/new/dir', '',
  ].join('\n'), 'sorted by path; the runtime\'s own mount points (/etc/hosts, /proc, …) are not listed');
});
