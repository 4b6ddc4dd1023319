// Watch against real containers (as root): the host tree and the container's tree must end equal
// after every kind of change, ignore rules must hold, a burst must be a handful of batches, a
// symlink in the container must not lead a sync out of it, and a process watching its files inside
// the container must see the sync. Every test has its own roots and leaves nothing behind.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync, rmSync, renameSync, chmodSync, symlinkSync, readFileSync, existsSync, lstatSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { realClock } from '../../src/lib/clock.js';
import { lazySys } from '../../src/sys/index.js';
import { compileRules, type WatchedService } from '../../src/watch/rules.js';
import { ProjectWatch } from '../../src/watch/session.js';
import type { WatchEffects, WatchReport, Replica } from '../../src/watch/actions.js';
import type { WatchRule } from '../../src/spec/model.js';
import { WatchHarness, hostListing, containerListing, eventually, listingDiff, helperPath } from './watch-harness.js';

const rule = (r: Partial<WatchRule> & Pick<WatchRule, 'path' | 'action'>): WatchRule => ({ ignore: [], include: [], initial_sync: false, ...r });

interface Watching {
  readonly watch: ProjectWatch;
  readonly reports: WatchReport[];
  readonly calls: string[];
}

/** A ProjectWatch over real containers; restart/exec/rebuild/recreate recorded unless given. */
function watchFor(h: WatchHarness, services: WatchedService[], containers: Record<string, string[]>, opts: { effects?: Partial<WatchEffects>; snapshotFile?: string } = {}): Watching {
  const kinds = new Map<string, 'dir' | 'file' | 'missing'>();
  for (const s of services) for (const r of s.rules) {
    let kind: 'dir' | 'file' | 'missing' = 'missing';
    try { kind = lstatSync(r.path).isDirectory() ? 'dir' : 'file'; } catch { /* missing */ }
    kinds.set(r.path, kind);
  }
  const ignoreFiles = new Map<string, { file: string; text: string }>();
  for (const s of services) {
    if (!s.build) continue;
    const file = join(s.build.context, '.dockerignore');
    if (existsSync(file)) ignoreFiles.set(s.name, { file, text: readFileSync(file, 'utf8') });
  }
  const project = compileRules({ services, pathKinds: kinds, ignoreFiles, composeFiles: [join(h.project, 'compose.yaml')] });
  const reports: WatchReport[] = [];
  const calls: string[] = [];
  const effects: WatchEffects = {
    replicas: async (svc) => (containers[svc] ?? []).map((id) => h.replica(id)),
    restartService: async (svc) => { calls.push(`restart ${svc}`); },
    execInService: async (svc, r: Replica, exec) => { calls.push(`exec ${svc} ${r.containerId.slice(0, 12)} ${exec.command.join(' ')}`); },
    rebuildService: async (key, svcs) => { calls.push(`build ${key} ${svcs.join(',')}`); },
    recreate: async (svcs) => { calls.push(`recreate ${svcs.join(',')}`); },
    ...opts.effects,
  };
  const watch = new ProjectWatch({
    sys: lazySys, clock: realClock, helperPath, project, effects, snapshotFile: opts.snapshotFile,
    onReport: (r) => { reports.push(r); if (r.kind === 'error') process.stderr.write(`watch error: ${r.message}\n`); },
  });
  return { watch, reports, calls };
}

function write(path: string, text: string, mode?: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  if (mode !== undefined) chmodSync(path, mode);
}

/** Waits until the container's /app (or `dir`) lists exactly as the host's src. */
async function sameTree(h: WatchHarness, id: string, src: string, what: string, dir = '/app', skip?: (rel: string) => boolean): Promise<void> {
  await eventually(what, 30_000, () => listingDiff(hostListing(src, skip), containerListing(h.replica(id).pid, dir)) || true);
}

test('edits, creations, deletions and renames of files and directories end in the same tree', async () => {
  const h = await WatchHarness.create();
  let w: Watching | undefined;
  try {
    const src = join(h.project, 'src');
    write(join(src, 'a.js'), 'one\n');
    write(join(src, 'lib', 'b.js'), 'two\n');
    write(join(src, 'lib', 'deep', 'c.txt'), 'three\n');
    write(join(src, 'bin', 'run.sh'), '#!/bin/sh\n', 0o755);
    const r = await h.start(['sleep', '1000000'], '1000:1000');
    w = watchFor(h, [{ name: 'web', dependsOn: {}, rules: [rule({ path: src, action: 'sync', target: '/app', initial_sync: true })] }], { web: [r.containerId] });
    await w.watch.start();
    await sameTree(h, r.containerId, src, 'initial sync');
    const owned = lstatSync(`/proc/${r.pid}/root/app/lib/deep/c.txt`);
    assert.deepEqual([owned.uid, owned.gid], [1000, 1000], 'files are the container user\'s');

    writeFileSync(join(src, 'a.js'), 'one, edited\n');
    await sameTree(h, r.containerId, src, 'an edit');
    write(join(src, 'new', 'x', 'y', 'z.js'), 'z\n');
    await sameTree(h, r.containerId, src, 'a file in new nested directories');
    rmSync(join(src, 'lib', 'b.js'));
    await sameTree(h, r.containerId, src, 'a deleted file');
    renameSync(join(src, 'a.js'), join(src, 'a2.js'));
    await sameTree(h, r.containerId, src, 'a renamed file');
    renameSync(join(src, 'lib'), join(src, 'lib2'));
    await sameTree(h, r.containerId, src, 'a renamed directory');
    chmodSync(join(src, 'bin', 'run.sh'), 0o700);
    chmodSync(join(src, 'bin'), 0o750);
    await sameTree(h, r.containerId, src, 'modes');
    rmSync(join(src, 'new'), { recursive: true });
    writeFileSync(join(src, 'new'), 'a file where a directory was\n');
    rmSync(join(src, 'a2.js'));
    write(join(src, 'a2.js', 'inner'), 'a directory where a file was\n');
    await sameTree(h, r.containerId, src, 'a directory replaced by a file and a file by a directory');
    symlinkSync('../bin/run.sh', join(src, 'link'));
    await sameTree(h, r.containerId, src, 'a symlink (copied as a symlink)');
    rmSync(join(src, 'lib2'), { recursive: true });
    await sameTree(h, r.containerId, src, 'a deleted tree');
    // the watched directory itself goes away (a branch without it) and comes back
    rmSync(src, { recursive: true });
    await eventually('the container follows the removal', 30_000, () => containerListing(h.replica(r.containerId).pid, '/app').length === 0);
    write(join(src, 'back.js'), 'back\n');
    await sameTree(h, r.containerId, src, 'the directory is back');
    assert.ok(!w.reports.some((x) => x.kind === 'error'), JSON.stringify(w.reports.filter((x) => x.kind === 'error')));
  } finally {
    await w?.watch.stop();
    await h.cleanup();
  }
});

test('ignore rules: .dockerignore with ! exceptions, the rule\'s ignore, editor files, .git, Dockerfile and compose files', async () => {
  const h = await WatchHarness.create();
  let w: Watching | undefined;
  try {
    const src = join(h.project, 'src');
    write(join(h.project, '.dockerignore'), 'src/**/*.log\n!src/**/keep.log\n');
    write(join(h.project, 'Dockerfile'), 'FROM bb\n');
    mkdirSync(src, { recursive: true });
    const r = await h.start(['sleep', '1000000']);
    w = watchFor(h, [{
      name: 'web', build: { context: h.project, dockerfile: 'Dockerfile' }, dependsOn: {},
      rules: [rule({ path: src, action: 'sync', target: '/app', ignore: ['tmp/'] }), rule({ path: h.project, action: 'rebuild', ignore: ['src/'] })],
    }], { web: [r.containerId] });
    await w.watch.start();
    const ignored = ['debug.log', 'sub/trace.log', 'tmp/scratch.txt', '.git/HEAD', '.main.js.swp', 'main.js~', '.#main.js', '4913', '.DS_Store', 'Dockerfile', 'compose.yaml'];
    for (const f of ignored) write(join(src, f), `${f}\n`);
    write(join(src, 'keep.log'), 'kept by the ! exception\n');
    write(join(src, 'sub', 'keep.log'), 'kept too\n');
    write(join(src, 'main.js'), 'main\n');
    // the sentinel is written last: once it is in, every earlier event was seen
    write(join(src, 'zz-sentinel'), 'last\n');
    // what the host has and the container must not: the ignored files and the directories that
    // hold nothing else
    const skip = (rel: string): boolean => ignored.includes(rel) || ['tmp', '.git'].some((d) => rel === d || rel.startsWith(`${d}/`));
    await eventually('the sentinel', 30_000, () => existsSync(`/proc/${h.replica(r.containerId).pid}/root/app/zz-sentinel`));
    await w.watch.settle();
    assert.equal(listingDiff(hostListing(src, skip), containerListing(h.replica(r.containerId).pid, '/app')), '');
    // a Dockerfile change is no sync, but it is the rebuild rule's business
    writeFileSync(join(h.project, 'Dockerfile'), 'FROM bb\nRUN true\n');
    await eventually('a rebuild', 30_000, () => w!.calls.includes('recreate web'));
    assert.deepEqual(w.calls, ['build service:web web', 'recreate web']);
  } finally {
    await w?.watch.stop();
    await h.cleanup();
  }
});

test('a burst of 3,000 files from another process (a branch switch) ends in the same tree in a handful of batches', async () => {
  const h = await WatchHarness.create();
  let w: Watching | undefined;
  try {
    const src = join(h.project, 'src');
    mkdirSync(src, { recursive: true });
    const r = await h.start(['sleep', '1000000']);
    w = watchFor(h, [{ name: 'web', dependsOn: {}, rules: [rule({ path: src, action: 'sync+restart', target: '/app' })] }], { web: [r.containerId] });
    await w.watch.start();
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', `const fs=require('fs');for(let d=0;d<30;d++){fs.mkdirSync(${JSON.stringify(src)}+'/d'+d);for(let f=0;f<100;f++)fs.writeFileSync(${JSON.stringify(src)}+'/d'+d+'/f'+f+'.js','export default '+d*100+f+';\\n')}`], { stdio: 'inherit' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
    });
    await sameTree(h, r.containerId, src, '3,000 files');
    const ms = Date.now() - t0;
    await w.watch.settle();
    const batches = w.reports.filter((x) => x.kind === 'batch').length;
    const restarts = w.calls.filter((c) => c === 'restart web').length;
    process.stderr.write(`# 3,000 files: ${batches} batches, ${restarts} restarts, ${ms} ms until the trees matched\n`);
    assert.ok(batches >= 1 && batches <= 25, `${batches} batches`);
    assert.equal(restarts, w.reports.filter((x) => x.kind === 'synced').length, 'one restart per batch that synced');
  } finally {
    await w?.watch.stop();
    await h.cleanup();
  }
});

test('a symlink in the container pointing at /etc cannot make a sync write the host\'s /etc', async () => {
  const h = await WatchHarness.create();
  let w: Watching | undefined;
  const hash = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
  const hostPasswd = hash('/etc/passwd');
  try {
    const src = join(h.project, 'src');
    const src2 = join(h.project, 'conf');
    write(join(src, 'evil', 'passwd'), 'root::0:0:pwned:/:/bin/sh\n');
    write(join(src2, 'berth-watch-probe'), 'written into the container\'s /etc only\n');
    const r = await h.start(['sh', '-c', 'mkdir -p /app && ln -s /etc /app/evil && ln -s /etc /etc-link && exec sleep 1000000']);
    await eventually('the container made its symlinks', 10_000, () => existsSync(`/proc/${r.pid}/root/etc-link`) && lstatSync(`/proc/${r.pid}/root/app/evil`).isSymbolicLink());
    const containerPasswd = hash(`/proc/${r.pid}/root/etc/passwd`);
    w = watchFor(h, [{ name: 'web', dependsOn: {}, rules: [
      rule({ path: src, action: 'sync', target: '/app', initial_sync: true }),
      // a target whose own path is a container symlink is resolved in the container's root
      rule({ path: src2, action: 'sync', target: '/etc-link/berth', initial_sync: true }),
    ] }], { web: [r.containerId] });
    await w.watch.start();
    await sameTree(h, r.containerId, src, 'the symlink replaced by the host\'s directory');
    assert.ok(lstatSync(`/proc/${r.pid}/root/app/evil`).isDirectory());
    assert.ok(existsSync(`/proc/${r.pid}/root/etc/berth/berth-watch-probe`), 'the container\'s /etc got the file');
    rmSync(join(src, 'evil', 'passwd'));
    await sameTree(h, r.containerId, src, 'a delete below the former symlink');
    assert.equal(hash(`/proc/${r.pid}/root/etc/passwd`), containerPasswd, 'the container\'s /etc/passwd untouched');
    assert.equal(hash('/etc/passwd'), hostPasswd, 'the host\'s /etc/passwd untouched');
    assert.ok(!existsSync('/etc/berth'), 'nothing written in the host\'s /etc');
    // and a symlink on the host side is never followed out of the tree: it is copied as a link
    symlinkSync('/etc/shadow', join(src, 'shadow'));
    await sameTree(h, r.containerId, src, 'a host symlink to /etc/shadow');
    assert.ok(lstatSync(`/proc/${r.pid}/root/app/shadow`).isSymbolicLink());
  } finally {
    await w?.watch.stop();
    await h.cleanup();
  }
});

test('a process inside the container watching its files (inotify) sees a synced change', async () => {
  const h = await WatchHarness.create();
  let w: Watching | undefined;
  try {
    const src = join(h.project, 'src');
    mkdirSync(src, { recursive: true });
    // Debian's busybox-static has no inotifyd: a static inotify watcher (native/test/watchprobe.c)
    const r = await h.start(['sh', '-c', 'mkdir -p /app && exec watch-probe /app']);
    await eventually('the in-container watcher is watching', 10_000, () => h.logs(r.containerId).includes('watching /app'));
    w = watchFor(h, [{ name: 'web', dependsOn: {}, rules: [rule({ path: src, action: 'sync', target: '/app' })] }], { web: [r.containerId] });
    await w.watch.start();
    writeFileSync(join(src, 'hello.txt'), 'hello\n');
    await eventually('the in-container watcher reports the synced file', 30_000, () => /close_write\thello\.txt/.test(h.logs(r.containerId)));
    assert.match(h.logs(r.containerId), /create\thello\.txt/);
    rmSync(join(src, 'hello.txt'));
    await eventually('and its deletion', 30_000, () => /delete\thello\.txt/.test(h.logs(r.containerId)));
  } finally {
    await w?.watch.stop();
    await h.cleanup();
  }
});

test('sync+restart restarts the container once per batch (a real restart), and the files survive it', async () => {
  const h = await WatchHarness.create();
  let w: Watching | undefined;
  try {
    const src = join(h.project, 'src');
    mkdirSync(src, { recursive: true });
    const r = await h.start(['sleep', '1000000']);
    let restarts = 0;
    w = watchFor(h, [{ name: 'web', dependsOn: {}, rules: [rule({ path: src, action: 'sync+restart', target: '/app' })] }], { web: [r.containerId] }, {
      effects: { restartService: async () => { restarts++; await h.runtime.stop(r.containerId, 1); await h.runtime.startDetached(r.containerId); } },
    });
    await w.watch.start();
    for (let i = 0; i < 200; i++) write(join(src, `m${i % 10}`, `f${i}.txt`), `${i}\n`);
    await sameTree(h, r.containerId, src, '200 files, then a restart');
    await w.watch.settle();
    const synced = w.reports.filter((x) => x.kind === 'synced').length;
    assert.equal(restarts, synced, 'one restart per batch that synced');
    assert.ok(restarts >= 1 && restarts <= 5, `${restarts} restarts for 200 files`);
    assert.notEqual(h.replica(r.containerId).pid, r.pid, 'the container was restarted');
  } finally {
    await w?.watch.stop();
    await h.cleanup();
  }
});

test('changes made while nothing watched are caught up from the saved snapshot (deletions and rebuilds too)', async () => {
  const h = await WatchHarness.create();
  let w: Watching | undefined;
  try {
    const src = join(h.project, 'src');
    const pkg = join(h.project, 'package.json');
    write(join(src, 'keep.js'), 'keep\n');
    write(join(src, 'edit.js'), 'before\n');
    write(join(src, 'gone.js'), 'deleted while down\n');
    write(pkg, '{}\n');
    const r = await h.start(['sleep', '1000000']);
    const snapshotFile = join(h.roots.dir, 'watch-state.json');
    const services = (initial: boolean): WatchedService[] => [
      { name: 'web', dependsOn: {}, rules: [rule({ path: src, action: 'sync', target: '/app', initial_sync: initial })] },
      { name: 'worker', buildKey: 'worker', dependsOn: {}, rules: [rule({ path: pkg, action: 'rebuild' })] },
    ];
    w = watchFor(h, services(true), { web: [r.containerId] }, { snapshotFile });
    await w.watch.start();
    await sameTree(h, r.containerId, src, 'initial sync');
    await w.watch.stop();
    w = undefined;
    // the engine is down: edits, a deletion, a new file, a dependency change
    writeFileSync(join(src, 'edit.js'), 'after\n');
    rmSync(join(src, 'gone.js'));
    write(join(src, 'new', 'file.js'), 'new\n');
    writeFileSync(pkg, '{"dependencies":{}}\n');
    w = watchFor(h, services(false), { web: [r.containerId] }, { snapshotFile });
    await w.watch.start();
    await sameTree(h, r.containerId, src, 'caught up');
    assert.ok(w.reports.some((x) => x.kind === 'caught-up'));
    assert.deepEqual(w.calls, ['build worker worker', 'recreate worker'], 'the package.json change while down asks for one rebuild');
  } finally {
    await w?.watch.stop();
    await h.cleanup();
  }
});
