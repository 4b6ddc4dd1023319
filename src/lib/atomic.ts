// Atomic state files: write a temporary sibling, fsync it, rename over the target, fsync the
// directory. A crash at any point leaves either the old content or the new, never a torn file.
// `durable: false` skips the two fsyncs: the rename still makes a process crash (SIGKILL) leave
// the old content or the new; only a host crash may lose the last write. For files that are
// rewritten often and whose loss is harmless (the launch file, the engine's per-container state).
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, readFileSync, fstatSync, lstatSync, constants } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { fromNodeError, SysError } from './errors.js';

export interface WriteOptions { readonly mode?: number; readonly durable?: boolean }

export function writeFileAtomic(path: string, data: string | Uint8Array, modeOrOptions: number | WriteOptions = 0o644): void {
  const { mode = 0o644, durable = true } = typeof modeOrOptions === 'number' ? { mode: modeOrOptions } : modeOrOptions;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd = -1;
  try {
    // O_NOFOLLOW: the temporary name is predictable; a symlink planted there must not be followed
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw fromNodeError(err, 'write', path);
  }
  if (!durable) return;
  try {
    const dfd = openSync(dirname(path), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* directory fsync is best effort on filesystems that refuse it */ }
}

export function writeJsonAtomic(path: string, value: unknown, options: WriteOptions = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', options);
}

/** Reads a JSON file; undefined when it does not exist. */
export function readJson<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromNodeError(err, 'read', path);
  }
  return JSON.parse(text) as T;
}

/**
 * A directory berth keeps its own files in (BERTH_RUN): it must be owned by this user and writable
 * by nobody else, or anyone could plant a symlink or a FIFO in it before berth opens a file there.
 * A missing directory is fine (the caller creates it).
 */
export function checkPrivateDir(dir: string): void {
  let st;
  try { st = lstatSync(dir); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromNodeError(err, 'lstat', dir);
  }
  const uid = process.geteuid?.() ?? 0;
  if (!st.isDirectory()) throw new SysError('open', dir, 'ENOTDIR', `"${dir}" is not a directory`);
  if (st.uid !== uid) throw new SysError('open', dir, 'EPERM', `"${dir}" is owned by uid ${st.uid}, not by this user (${uid}): refusing to use it`);
  if ((st.mode & 0o022) !== 0) throw new SysError('open', dir, 'EPERM', `"${dir}" is writable by others (mode ${(st.mode & 0o7777).toString(8)}): refusing to use it`);
}

/**
 * Opens a log file for appending: never through a symlink (O_NOFOLLOW), and only a regular file
 * owned by this user (checked on the open descriptor, so nothing can be swapped in between).
 */
export function openOwnedForAppend(path: string, mode = 0o640): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (err) {
    throw fromNodeError(err, 'open', path);
  }
  const st = fstatSync(fd);
  const uid = process.geteuid?.() ?? 0;
  if (!st.isFile() || st.uid !== uid) {
    closeSync(fd);
    throw new SysError('open', path, 'EPERM', `"${path}" is not a regular file owned by this user: refusing to write to it`);
  }
  return fd;
}
