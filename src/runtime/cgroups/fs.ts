// File operations on a cgroup filesystem, behind a small interface so a test can run a driver
// against a temp-dir tree whose fake imitates what kernfs does on mkdir/rmdir. The drivers get
// every path from their own roots; nothing here knows where cgroupfs is mounted.
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fromNodeError, InvalidArgument, SysError } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';

export interface CgroupFs {
  /** whole file as text; throws SysError (ENOENT included) */
  read(path: string): string;
  /**
   * Writes `data` in one write(2). Opens O_WRONLY|O_TRUNC and never O_CREAT: on cgroupfs every
   * interface file exists or the kernel does not offer it, so a missing file must fail (ENOENT)
   * rather than quietly become a regular file, in a real tree and in a fake one alike.
   */
  write(path: string, data: string): void;
  exists(path: string): boolean;
  /** true when it made the dir, false when it already existed */
  mkdir(path: string): boolean;
  /** throws SysError (EBUSY while tasks remain; ENOENT when absent) */
  rmdir(path: string): void;
  /** names of the sub-directories (child cgroups); [] when `path` is absent */
  subdirs(path: string): string[];
}

export const nodeCgroupFs: CgroupFs = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw fromNodeError(err, 'read', path);
    }
  },
  write(path, data) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
    } catch (err) {
      throw fromNodeError(err, 'open', path);
    }
    try {
      writeSync(fd, data);
    } catch (err) {
      // the kernel's verdict on the value (EINVAL, EBUSY…) arrives here; name the value too
      const e = fromNodeError(err, 'write', path);
      throw e instanceof SysError ? new SysError('write', path, e.errno, `write ${JSON.stringify(data)} to "${path}": ${e.errno}`) : e;
    } finally {
      closeSync(fd);
    }
  },
  exists(path) {
    return existsSync(path);
  },
  mkdir(path) {
    try {
      mkdirSync(path, { mode: 0o755 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fromNodeError(err, 'mkdir', path);
    }
  },
  rmdir(path) {
    try {
      rmdirSync(path);
    } catch (err) {
      throw fromNodeError(err, 'rmdir', path);
    }
  },
  subdirs(path) {
    try {
      return readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fromNodeError(err, 'readdir', path);
    }
  },
};

/** "berth/<id>" → ["berth", "<id>"]; rejects anything that could escape the hierarchy root. */
export function nameSegments(name: string): string[] {
  const segments = name.split('/');
  if (name === '' || segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) {
    throw new InvalidArgument(`invalid cgroup name ${JSON.stringify(name)}: expected relative path segments like "berth/<id>"`);
  }
  return segments;
}

/** Error code of a SysError (or Node error), for the few errnos a driver reacts to. */
export function errnoOf(err: unknown): string | undefined {
  if (err instanceof SysError) return err.errno;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Removes `dir` and every cgroup below it, deepest first. A cgroup whose last tasks are still
 * exiting answers rmdir with EBUSY for a moment after they die; retry for up to `budgetMs`,
 * waiting on the clock between tries (never blocking the thread: the engine's event loop runs
 * every other container meanwhile).
 */
export async function removeTree(fs: CgroupFs, dir: string, budgetMs: number, clock: Clock): Promise<void> {
  for (const child of fs.subdirs(dir)) await removeTree(fs, join(dir, child), budgetMs, clock);
  const deadline = clock.now() + budgetMs;
  let delay = 5;
  for (;;) {
    try {
      fs.rmdir(dir);
      return;
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'ENOENT') return;
      if (errno !== 'EBUSY' || clock.now() >= deadline) throw err;
    }
    await clock.sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * Removes a tree that was just made and never held a task (the failure path of create): rmdir
 * cannot answer EBUSY for it, so one try per dir, deepest first, and no waiting.
 */
export function removeFreshTree(fs: CgroupFs, dir: string): void {
  for (const child of fs.subdirs(dir)) removeFreshTree(fs, join(dir, child));
  try {
    fs.rmdir(dir);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
  }
}

/** "key value" lines (memory.events, cpu.stat, memory.oom_control) → the value of `key`, or undefined. */
export function keyedValue(text: string, key: string): number | undefined {
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v);
  }
  return undefined;
}

/** cgroup.procs text → pids */
export function parsePids(text: string): number[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => Number(l.trim()));
}
