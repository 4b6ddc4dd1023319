// Test double: a temp-dir tree that imitates what kernfs does, so the drivers can be unit-tested
// without root. Only what the drivers rely on is imitated:
//   - mkdir creates the interface files the kernel would (v2: only for controllers the parent
//     delegated in cgroup.subtree_control; v1: those of the hierarchy's controllers);
//   - writes to a missing file fail with ENOENT (inherited from nodeCgroupFs: no O_CREAT);
//   - cgroup.subtree_control accepts "+c"/"-c" only for controllers in cgroup.controllers;
//   - cgroup.freeze is reflected in cgroup.events; rmdir removes the interface files, and
//     refuses (EBUSY) while cgroup.procs lists a pid or a child cgroup exists.
// Every write is recorded for assertions. Used only by *.test.ts.
import { mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { SysError } from '../../lib/errors.js';
import { nodeCgroupFs, type CgroupFs } from './fs.js';

export interface RecordedWrite { readonly path: string; readonly data: string }

export interface FakeTree {
  readonly fs: CgroupFs;
  readonly writes: RecordedWrite[];
}

/** v1 "unlimited" as the kernel prints it on 4 KiB pages */
export const V1_UNLIMITED = '9223372036854771712';

function words(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== '');
}

function writeFiles(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

function kernfsLike(populate: (dir: string) => void, onWrite: (path: string, data: string) => boolean): FakeTree {
  const writes: RecordedWrite[] = [];
  const fs: CgroupFs = {
    ...nodeCgroupFs,
    mkdir(path) {
      const made = nodeCgroupFs.mkdir(path);
      if (made) populate(path);
      return made;
    },
    rmdir(path) {
      const procs = words(readFileSync(join(path, 'cgroup.procs'), 'utf8'));
      const children = readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory());
      if (procs.length > 0 || children.length > 0) throw new SysError('rmdir', path, 'EBUSY');
      for (const f of readdirSync(path)) rmSync(join(path, f));
      rmdirSync(path);
    },
    write(path, data) {
      writes.push({ path, data });
      if (!onWrite(path, data)) nodeCgroupFs.write(path, data);
    },
  };
  return { fs, writes };
}

export interface FakeV2Options {
  /** what the root offers in cgroup.controllers */
  readonly controllers?: readonly string[];
  readonly cpus?: string;
  readonly mems?: string;
  /** whether memory.swap.max appears (swap accounting) */
  readonly swapAccounting?: boolean;
}

/** A cgroup2 root at `root` (an existing empty dir). */
export function fakeV2Tree(root: string, opts: FakeV2Options = {}): FakeTree {
  const cpus = opts.cpus ?? '0-3';
  const mems = opts.mems ?? '0';
  writeFiles(root, {
    'cgroup.controllers': (opts.controllers ?? ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids']).join(' ') + '\n',
    'cgroup.subtree_control': '\n',
    'cgroup.procs': '',
    'cpu.stat': 'usage_usec 0\n',
    'cpuset.cpus.effective': `${cpus}\n`,
    'cpuset.mems.effective': `${mems}\n`,
  });
  const populate = (dir: string): void => {
    const delegated = words(readFileSync(join(dirname(dir), 'cgroup.subtree_control'), 'utf8'));
    writeFiles(dir, {
      'cgroup.controllers': delegated.join(' ') + '\n',
      'cgroup.subtree_control': '\n',
      'cgroup.procs': '',
      'cgroup.freeze': '0\n',
      'cgroup.events': 'populated 0\nfrozen 0\n',
      'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
    });
    if (delegated.includes('cpu')) writeFiles(dir, { 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n' });
    if (delegated.includes('cpuset')) writeFiles(dir, { 'cpuset.cpus': '\n', 'cpuset.mems': '\n', 'cpuset.cpus.effective': `${cpus}\n`, 'cpuset.mems.effective': `${mems}\n` });
    if (delegated.includes('memory')) {
      writeFiles(dir, { 'memory.max': 'max\n', 'memory.current': '0\n', 'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n' });
      if (opts.swapAccounting ?? true) writeFiles(dir, { 'memory.swap.max': 'max\n' });
    }
    if (delegated.includes('pids')) writeFiles(dir, { 'pids.max': 'max\n', 'pids.current': '0\n' });
  };
  const onWrite = (path: string, data: string): boolean => {
    const dir = dirname(path);
    switch (basename(path)) {
      case 'cgroup.subtree_control': {
        const offered = words(readFileSync(join(dir, 'cgroup.controllers'), 'utf8'));
        const enabled = new Set(words(readFileSync(path, 'utf8')));
        for (const token of words(data)) {
          const name = token.slice(1);
          if (!offered.includes(name) || (token[0] !== '+' && token[0] !== '-')) throw new SysError('write', path, 'EINVAL');
          if (token[0] === '+') enabled.add(name); else enabled.delete(name);
        }
        writeFileSync(path, [...enabled].join(' ') + '\n');
        return true;
      }
      case 'cgroup.freeze':
        nodeCgroupFs.write(path, data);
        writeFileSync(join(dir, 'cgroup.events'), `populated 0\nfrozen ${data.trim() === '1' ? 1 : 0}\n`);
        return true;
      default:
        return false;
    }
  };
  return kernfsLike(populate, onWrite);
}

export interface FakeV1Options {
  /** hierarchy dir name (under `base`) → the controllers mounted there, e.g. { "cpu,cpuacct": ["cpu", "cpuacct"] } */
  readonly hierarchies: Readonly<Record<string, readonly string[]>>;
  readonly cpus?: string;
  readonly mems?: string;
  /** whether the memsw files exist (CONFIG_MEMCG_SWAP and swapaccount=1) */
  readonly swapAccounting?: boolean;
}

/** v1 hierarchies as dirs under `base`; returns their mount points keyed by controller, as detect.ts would. */
export function fakeV1Tree(base: string, opts: FakeV1Options): FakeTree & { mounts: Record<string, string> } {
  const cpus = opts.cpus ?? '0-3';
  const mems = opts.mems ?? '0';
  const mounts: Record<string, string> = {};
  const controllersOf = (dir: string): readonly string[] => opts.hierarchies[relative(base, dir).split('/')[0]!] ?? [];
  const files = (dir: string, root: boolean): void => {
    const controllers = controllersOf(dir);
    writeFiles(dir, { 'cgroup.procs': '', tasks: '', notify_on_release: '0\n' });
    if (controllers.includes('cpu')) writeFiles(dir, { 'cpu.shares': '1024\n', 'cpu.cfs_period_us': '100000\n', 'cpu.cfs_quota_us': '-1\n' });
    if (controllers.includes('cpuacct')) writeFiles(dir, { 'cpuacct.usage': '0\n' });
    // the root cpuset owns every CPU; a new child starts empty (hence the driver's copy-from-parent)
    if (controllers.includes('cpuset')) writeFiles(dir, { 'cpuset.cpus': root ? `${cpus}\n` : '\n', 'cpuset.mems': root ? `${mems}\n` : '\n', 'cpuset.effective_cpus': `${cpus}\n`, 'cpuset.effective_mems': `${mems}\n` });
    if (controllers.includes('memory')) {
      writeFiles(dir, {
        'memory.limit_in_bytes': `${V1_UNLIMITED}\n`,
        'memory.usage_in_bytes': '0\n',
        'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
        'memory.use_hierarchy': '1\n',
      });
      if (opts.swapAccounting ?? true) writeFiles(dir, { 'memory.memsw.limit_in_bytes': `${V1_UNLIMITED}\n` });
    }
    if (controllers.includes('pids') && !root) writeFiles(dir, { 'pids.max': 'max\n', 'pids.current': '0\n' });
    if (controllers.includes('freezer') && !root) writeFiles(dir, { 'freezer.state': 'THAWED\n' });
    // devices.allow/deny are write-only in the kernel; the fake keeps them as files the writes
    // land in, and maintains devices.list as the kernel would (a child starts with its parent's)
    if (controllers.includes('devices')) {
      writeFiles(dir, { 'devices.allow': '', 'devices.deny': '', 'devices.list': root ? 'a *:* rwm\n' : readFileSync(join(dirname(dir), 'devices.list'), 'utf8') });
    }
  };
  const onDevicesWrite = (path: string, data: string): boolean => {
    const list = join(dirname(path), 'devices.list');
    const line = data.trim();
    if (basename(path) === 'devices.deny') {
      if (line !== 'a') throw new SysError('write', path, 'EINVAL'); // the fake knows only "deny all"
      writeFileSync(list, '');
      return true;
    }
    if (basename(path) === 'devices.allow') {
      writeFileSync(list, line === 'a' ? 'a *:* rwm\n' : readFileSync(list, 'utf8') + line + '\n');
      return true;
    }
    return false;
  };
  for (const [dirName, controllers] of Object.entries(opts.hierarchies)) {
    const mount = join(base, dirName);
    mkdirSync(mount, { recursive: true });
    files(mount, true);
    for (const c of controllers) mounts[c] = mount;
  }
  const tree = kernfsLike((dir) => files(dir, false), onDevicesWrite);
  return { ...tree, mounts };
}
