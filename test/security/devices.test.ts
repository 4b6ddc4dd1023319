// Device access from inside a container (class: host devices through the device node namespace,
// e.g. /dev/kmsg writes into the host's kernel log, /dev/tty0 and vcs the host console, kvm,
// loop devices, world-writable nodes shipped in an image). The devices cgroup (v1) or the BPF
// device program (v2) must refuse every device outside Docker's allow-list, whatever node exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attackRoots, berth, berthOk } from './harness.js';
import { makeBusyboxRootfs } from '../helpers/env.js';
import { CgroupV2Driver } from '../../src/runtime/cgroups/v2.js';

const roots = attackRoots();

test('mknod of a host device works (as in Docker) but opening it does not: kmsg, tty0, vcs, loop, kvm, mem', async () => {
  const script = [
    'for d in "k c 1 11" "t c 4 0" "v c 7 0" "l b 7 0" "kvm c 10 232" "mem c 1 1" "fuse c 10 229"; do',
    '  set -- $d; mknod /tmp/$1 $2 $3 $4 || { echo "mknod $1 failed"; continue; }',
    '  if echo x 2>/dev/null >/tmp/$1; then echo "wrote $1"; else echo "denied $1"; fi',
    '  if head -c1 /tmp/$1 >/dev/null 2>&1; then echo "read $1"; fi',
    'done',
    'echo ok >/dev/null && head -c1 /dev/zero | wc -c',
  ].join('\n');
  const out = await berthOk(roots(), ['run', '--rm', 'bb', 'sh', '-c', script]);
  assert.equal(out, ['k', 't', 'v', 'l', 'kvm', 'mem', 'fuse'].map((d) => `denied ${d}\n`).join('') + '1\n');
});

test('a world-writable device node shipped in an image cannot be used, not even by root', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-devimg-'));
  try {
    makeBusyboxRootfs(dir);
    // a kmsg node, mode 666, inside the image's own /opt
    mkdirSync(join(dir, 'opt'));
    assert.equal(spawnSync('mknod', ['-m', '666', join(dir, 'opt', 'kmsg'), 'c', '1', '11']).status, 0);
    const tarFile = join(roots().dir, 'devimg.tar');
    // GNU tar (node-tar does not pack device nodes); its default format is GNU
    assert.equal(spawnSync('tar', ['-C', dir, '-cf', tarFile, '.']).status, 0);
    await berthOk(roots(), ['import', tarFile, 'devimg']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    const out = await berthOk(roots(), ['run', '--rm', 'devimg', 'sh', '-c', 'ls -l /opt/kmsg | cut -c1; echo x >/opt/kmsg && echo wrote; su app -s /bin/sh -c "echo y >/opt/kmsg && echo wrote-as-app"; echo done']);
    assert.equal(out, 'c\ndone\n');
  } finally {
    await berth(roots(), ['rmi', 'devimg']);
  }
});

// The v2 form, for real: this host is hybrid (cgroup v1 controllers and a cgroup2 hierarchy
// beside them), and a BPF device program attached to a cgroup2 directory is enforced for the
// processes in it whatever the v1 devices cgroup says. Skipped where there is no such cgroup2.
const unified = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((d) => existsSync(join(d, 'cgroup.controllers')));
test('v2: the BPF device program refuses kmsg and allows /dev/null for a process in the cgroup', { skip: unified === undefined && 'no cgroup2 hierarchy' }, async () => {
  const driver = new CgroupV2Driver({ root: unified! });
  const name = `berth-sec-${process.pid}/devices`;
  driver.create(name, {});
  try {
    const procs = join(unified!, name, 'cgroup.procs');
    const r = spawnSync('/bin/sh', ['-c', `echo $$ > ${procs}; echo x > /dev/null && echo null-ok; head -c1 /dev/kmsg >/dev/null 2>&1 || echo kmsg-denied`], { encoding: 'utf8' });
    assert.equal(r.stdout, 'null-ok\nkmsg-denied\n');
    assert.equal(readFileSync(procs, 'utf8'), '', 'the shell has exited: the cgroup is empty');
  } finally {
    await driver.remove(name);
    try { rmdirSync(join(unified!, `berth-sec-${process.pid}`)); } catch { /* not empty or gone */ }
  }
  writeFileSync('/dev/null', 'x'); // and the test process itself, outside the cgroup, is unaffected
});
