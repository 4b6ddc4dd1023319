// Scenario: a developer's stack keeps its database in a named volume, edits source code through a
// bind mount, and gives the app a secret and a config. Intent: data in a named volume survives
// `down` + `up` and only `down -v` removes it; a bind is the same directory on both sides; the
// secret and the config are read-only files at their paths; nothing the container does with
// symlinks makes the host side (`cp`, copy-up) write outside berth's roots or the container.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync, symlinkSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { berth, berthOk, eventually, leftovers, stopEngine, type TestRoots, setUpScenario, tearDownScenario, type Scenario, makeBusyboxRootfs } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('volumes');
  ({ roots, dir } = scenario);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.js'), 'console.log(1)\n');
  writeFileSync(join(dir, 'token.txt'), 's3cret\n', { mode: 0o600 });
});

after(async () => {
  await berth(roots, ['compose', '-f', scenario.file, 'down', '-v', '-t', '1']);
  await berth(roots, ['volume', 'prune', '-a', '-f']);
  await tearDownScenario(scenario);
});

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];
const exec = (service: string, script: string): Promise<string> => berthOk(roots, compose('exec', '-T', service, 'sh', '-c', script));
const volumeNames = async (): Promise<string[]> => (await berthOk(roots, ['volume', 'ls', '-q'])).split('\n').filter((l) => l !== '');

test('up must create the named volume before its users and mount it in both services', async () => {
  const out = await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  assert.match(out, /Volume e2e-vol_data {2}Created/);
  assert.equal(await exec('db', 'cat /data/starts'), 'started\n');
  assert.equal(await exec('reader', 'cat /shared/starts'), 'started\n', 'the second service sees the same volume');
  const r = await berth(roots, compose('exec', '-T', 'reader', 'sh', '-c', 'echo x > /shared/nope'));
  assert.notEqual(r.code, 0, 'a read_only volume refuses writes');
  const v = JSON.parse(await berthOk(roots, ['volume', 'inspect', 'e2e-vol_data']))[0];
  assert.equal(v.Labels['com.docker.compose.project'], 'e2e-vol');
  assert.equal(v.Labels['com.docker.compose.volume'], 'data');
  assert.equal(v.Labels.purpose, 'e2e');
  assert.ok(v.Mountpoint.startsWith(roots.root), `the volume lives under BERTH_ROOT (${v.Mountpoint})`);
});

test('a bind mount must be the same directory on both sides', async () => {
  assert.equal(await exec('db', 'cat /src/main.js'), 'console.log(1)\n');
  writeFileSync(join(dir, 'src', 'edited.js'), 'edit\n');
  assert.equal(await exec('db', 'cat /src/edited.js'), 'edit\n', 'a host edit is seen inside');
  await exec('db', 'echo from-container > /src/out.txt');
  assert.equal(readFileSync(join(dir, 'src', 'out.txt'), 'utf8'), 'from-container\n', 'a write inside is seen on the host');
});

test('the secret and the config must be read-only files at their paths, with their modes', async () => {
  assert.equal(await exec('db', 'cat /run/secrets/token'), 's3cret\n');
  assert.equal(await exec('db', 'cat /etc/app.conf'), 'level=debug\n');
  assert.equal(await exec('db', 'stat -c %a /etc/app.conf'), '440\n');
  const r = await berth(roots, compose('exec', '-T', 'db', 'sh', '-c', 'echo x > /run/secrets/token'));
  assert.notEqual(r.code, 0, 'a secret cannot be written');
  assert.equal(readFileSync(join(dir, 'token.txt'), 'utf8'), 's3cret\n');
});

test('tmpfs must be a tmpfs of its size, and an anonymous volume must be made for /anon', async () => {
  const mounts = await exec('db', 'cat /proc/mounts');
  assert.match(mounts, /^tmpfs \/scratch tmpfs [^ ]*size=1024k/m);
  await exec('db', 'echo a > /anon/file');
  const inspect = JSON.parse(await berthOk(roots, ['inspect', 'e2e-vol-db-1']))[0];
  const anon = inspect.Mounts.find((m: any) => m.Destination === '/anon');
  assert.equal(anon.Type, 'volume');
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.ok((await volumeNames()).includes(anon.Name));
});

test('a volume in use cannot be removed: the error names its containers', async () => {
  const r = await berth(roots, ['volume', 'rm', 'e2e-vol_data']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /volume is in use - \[.*e2e-vol-db-1.*\]/);
  assert.ok((await volumeNames()).includes('e2e-vol_data'));
});

test('down must keep the named volume and up must find the data again', async () => {
  await exec('db', 'echo keep-me > /data/kept');
  await berthOk(roots, compose('down', '-t', '1'), { timeoutMs: 60_000 });
  assert.equal((await berthOk(roots, ['ps', '-aq'])).trim(), '');
  assert.ok((await volumeNames()).includes('e2e-vol_data'), 'down keeps the named volume');
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  assert.equal(await exec('db', 'cat /data/kept'), 'keep-me\n');
  assert.equal(await exec('db', 'cat /data/starts'), 'started\nstarted\n');
});

test('cp must copy both ways, and a container symlink to /etc must not lead it to the host /etc', async () => {
  const hostFile = join(roots.dir, 'in.txt');
  writeFileSync(hostFile, 'copied in\n');
  await berthOk(roots, ['cp', hostFile, 'e2e-vol-db-1:/data/in.txt']);
  assert.equal(await exec('db', 'cat /data/in.txt'), 'copied in\n');
  await berthOk(roots, ['cp', 'e2e-vol-db-1:/data/kept', join(roots.dir, 'out.txt')]);
  assert.equal(readFileSync(join(roots.dir, 'out.txt'), 'utf8'), 'keep-me\n');
  // the container plants a symlink to /etc in its volume; cp through it stays inside the container
  await exec('db', 'ln -s /etc /data/evil');
  const hostMarker = '/etc/berth-e2e-must-not-exist';
  rmSync(hostMarker, { force: true });
  await berthOk(roots, ['cp', hostFile, 'e2e-vol-db-1:/data/evil/berth-e2e-must-not-exist']);
  assert.equal(existsSync(hostMarker), false, 'the host /etc was not written');
  assert.equal(await exec('db', 'cat /etc/berth-e2e-must-not-exist'), 'copied in\n', "the copy landed in the container's /etc");
  await berthOk(roots, ['cp', 'e2e-vol-db-1:/data/evil/passwd', join(roots.dir, 'passwd')]);
  assert.match(readFileSync(join(roots.dir, 'passwd'), 'utf8'), /^app:x:1000:1000/m, "the container's passwd, not the host's");
  // tar streams: out of the container and back into it
  const tar = await berth(roots, ['cp', 'e2e-vol-db-1:/data/kept', '-']);
  assert.equal(tar.code, 0, tar.stderr);
  assert.ok(tar.stdout.includes('keep-me'), 'the tar stream holds the file');
});

test('a symlink in an image pointing out must be copied up as a link, never followed on the host', async () => {
  // an image whose /seed holds an absolute symlink to a host file berth must never touch
  const victim = join(roots.dir, 'victim.txt');
  writeFileSync(victim, 'untouched\n');
  const rootfs = join(roots.dir, 'symimg');
  makeBusyboxRootfs(rootfs);
  mkdirSync(join(rootfs, 'seed'));
  symlinkSync(victim, join(rootfs, 'seed', 'link'));
  writeFileSync(join(rootfs, 'seed', 'plain'), 'image content\n');
  const { c: createTar } = await import('tar');
  await createTar({ file: join(roots.dir, 'symimg.tar'), cwd: rootfs, portable: false }, ['.']);
  rmSync(rootfs, { recursive: true, force: true });
  await berthOk(roots, ['import', join(roots.dir, 'symimg.tar'), 'bbsym']);
  try {
    const out = await berthOk(roots, ['run', '--rm', '-v', 'symvol:/seed', 'bbsym', 'sh', '-c', 'cat /seed/plain; readlink /seed/link; echo overwritten > /seed/link; echo done'], { timeoutMs: 30_000 });
    assert.match(out, /^image content$/m, 'copy-up filled the fresh volume');
    assert.ok(out.includes(victim), 'the link was copied as a link');
    assert.equal(readFileSync(victim, 'utf8'), 'untouched\n', 'the host file behind the link was not written');
    const v = JSON.parse(await berthOk(roots, ['volume', 'inspect', 'symvol']))[0];
    const st = statSync(join(v.Mountpoint, 'link'), { throwIfNoEntry: false });
    assert.equal(st === undefined || !st.isFile() || readFileSync(victim, 'utf8') === 'untouched\n', true);
    // a volume that already holds data is never filled again
    const again = await berthOk(roots, ['run', '--rm', '-v', 'symvol:/seed', 'bbsym', 'sh', '-c', 'rm /seed/plain; ls /seed'], { timeoutMs: 30_000 });
    assert.doesNotMatch(again, /plain/);
    assert.doesNotMatch(await berthOk(roots, ['run', '--rm', '-v', 'symvol:/seed', 'bbsym', 'ls', '/seed'], { timeoutMs: 30_000 }), /plain/, 'not copied up into a used volume');
  } finally {
    await berth(roots, ['volume', 'rm', 'symvol']);
    await berth(roots, ['rmi', 'bbsym']);
  }
});

test('a tmpfs-style volume (local driver, type=tmpfs) is mounted while a container runs with it and unmounted when the last one dies', async () => {
  await berthOk(roots, ['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'memvol']);
  const mountpoint: string = JSON.parse(await berthOk(roots, ['volume', 'inspect', 'memvol']))[0].Mountpoint;
  const mounted = (): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mountpoint);
  try {
    await berthOk(roots, ['run', '-d', '--name', 'memholder', '-v', 'memvol:/m', 'bb', 'sh', '-c', 'echo hi > /m/f; while [ ! -e /m/stop ]; do sleep 0.05; done']);
    await eventually(() => existsSync(join(mountpoint, 'f')), 15_000, 'the container wrote /m/f');
    assert.ok(mounted(), 'the tmpfs is mounted on the host while the container runs');
    assert.equal(readFileSync(join(mountpoint, 'f'), 'utf8'), 'hi\n');
    writeFileSync(join(mountpoint, 'stop'), '');
    assert.equal((await berthOk(roots, ['wait', 'memholder'])).trim(), '0');
    await eventually(() => !mounted(), 15_000, 'the engine unmounted the tmpfs');
    assert.equal(existsSync(join(mountpoint, 'f')), false, 'its content went with it, as with Docker');
  } finally {
    await berth(roots, ['rm', '-f', 'memholder']);
    await berth(roots, ['volume', 'rm', 'memvol']);
  }
});

test('down -v must remove the named and anonymous volumes of the project, and only those', async () => {
  await berthOk(roots, ['volume', 'create', 'unrelated']);
  const before = await volumeNames();
  const anon = JSON.parse(await berthOk(roots, ['inspect', 'e2e-vol-db-1']))[0].Mounts.find((m: any) => m.Destination === '/anon').Name;
  assert.ok(before.includes(anon));
  const out = await berthOk(roots, compose('down', '-v', '-t', '1'), { timeoutMs: 60_000 });
  assert.match(out, /Volume e2e-vol_data {2}Removed/);
  const after = await volumeNames();
  assert.ok(!after.includes('e2e-vol_data'), 'the named volume is gone');
  assert.ok(!after.includes(anon), 'the anonymous volume is gone');
  assert.ok(after.includes('unrelated'), 'a volume of no project is kept');
  await berthOk(roots, ['volume', 'rm', 'unrelated']);
  assert.ok(existsSync(join(dir, 'src', 'out.txt')), 'a bind source is never removed');
  await stopEngine(roots);
  assert.deepEqual(leftovers(roots), []);
});
