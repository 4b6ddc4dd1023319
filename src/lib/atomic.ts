// Atomic state files: write a temporary sibling, fsync it, rename over the target, fsync the
// directory. A crash at any point leaves either the old content or the new, never a torn file.
// `durable: false` skips the two fsyncs: the rename still makes a process crash (SIGKILL) leave
// the old content or the new; only a host crash may lose the last write. For files that are
// rewritten often and whose loss is harmless (the launch file, the engine's per-container state).
import { openSync, writeSync, linkSync, fsyncSync, closeSync, renameSync, unlinkSync, readFileSync, fstatSync, lstatSync, constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fromNodeError, SysError } from './errors.js';

/**
 * A temporary sibling of `path` unique to this write: the pid alone is not enough, since two
 * writers in one process (a health probe's state and an exit's, a verb and the supervisor) may
 * write the same file, and one's cleanup must never remove the other's file. The `.tmp` suffix
 * and the leading dot let repair recognise a write that a crash interrupted (isTemporaryName).
 */
export function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Whether a directory entry is a temporary file of an interrupted atomic write. */
export function isTemporaryName(name: string): boolean {
  return /^\..+\.\d+(\.[0-9a-f]{12})?\.tmp$/.test(name);
}

export interface WriteOptions { readonly mode?: number; readonly durable?: boolean }

export function writeFileAtomic(path: string, data: string | Uint8Array, modeOrOptions: number | WriteOptions = 0o644): void {
  const { mode = 0o644, durable = true } = typeof modeOrOptions === 'number' ? { mode: modeOrOptions } : modeOrOptions;
  const tmp = temporaryName(path);
  let fd = -1;
  try {
    // O_EXCL | O_NOFOLLOW: nothing planted at the temporary name is ever followed or reused
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
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

/**
 * writeFileAtomic off the event loop: the same steps on libuv's thread pool, so the two fsyncs
 * (tens of ms each on a busy disk) hold no request up. For the writes of an async path that
 * many run at once (a create of each service of an `up`).
 */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = temporaryName(path);
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      await fh.writeFile(data); // loops until all is written, as writeAll
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw fromNodeError(err, 'write', path);
  }
  try {
    const dir = await open(dirname(path), 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  } catch { /* directory fsync is best effort on filesystems that refuse it */ }
}

export function writeJsonAtomicAsync(path: string, value: unknown, mode?: number): Promise<void> {
  return writeFileAtomicAsync(path, JSON.stringify(value, null, 2) + '\n', mode);
}

/** write(2) may write less than asked (a filesystem almost full): go on until all is written or it fails. */
function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/**
 * Creates `path` holding `data`, failing with EEXIST when it exists — and never leaving an empty
 * or partial file under that name: the content is written to a temporary name first, then
 * link(2)ed (which never replaces a file) to `path`. A crash leaves either no file or the whole
 * one (plus, at worst, a temporary file that repair removes).
 */
export function createFileExclusive(path: string, data: string, mode = 0o644): void {
  const tmp = temporaryName(path);
  let fd = -1;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    writeAll(fd, Buffer.from(data));
    closeSync(fd);
    fd = -1;
    linkSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw err;
    throw fromNodeError(err, 'write', path);
  } finally {
    try { unlinkSync(tmp); } catch { /* not made */ }
  }
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
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CorruptFile(path, text.length === 0 ? 'it is empty' : `it is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * A state file berth cannot read: empty, truncated, garbage. Its message names the file, so that
 * whoever shows it (ps -a's status, the engine log) tells the user which file is bad.
 */
export class CorruptFile extends SysError {
  constructor(path: string, why: string) {
    super('read', path, 'EBADMSG', `"${path}" is corrupt: ${why}`);
    this.name = 'CorruptFile';
  }
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
