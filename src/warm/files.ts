// Files a warm command reads (compose files, .env, env_file, include) are read as the user who
// typed it, never as the engine (root): every path is opened with the caller's filesystem uid,
// gid and groups (sys/caller.ts openAs), so the kernel checks each directory on the way and the
// file itself exactly as it would have for a `berth` process of that user. A root caller reads as
// root, as its own process would.
import { closeSync, fstatSync, type Stats } from 'node:fs';
import { SysError } from '../lib/errors.js';
import { fileSource, type FileAccess, type FileSource } from '../spec/index.js';
import type { CallerSys, Credentials } from '../sys/caller.js';

const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

/** An fs error as node:fs throws it (the loader reads `code`). */
function asNodeError(err: unknown): Error {
  if (!(err instanceof SysError)) return err as Error;
  const e = new Error(`${err.errno}: ${err.syscall} '${err.path}'`) as NodeJS.ErrnoException;
  e.code = err.errno;
  e.syscall = err.syscall;
  e.path = err.path;
  return e;
}

export function callerAccess(sys: CallerSys, creds: Credentials): FileAccess {
  return {
    stat(path: string): Stats {
      let fd: number;
      try { fd = sys.openAs(creds, path, O_PATH | O_CLOEXEC); } catch (err) { throw asNodeError(err); }
      try { return fstatSync(fd); } finally { closeSync(fd); }
    },
    open(path: string, flags: number): number {
      try { return sys.openAs(creds, path, flags | O_CLOEXEC); } catch (err) { throw asNodeError(err); }
    },
  };
}

export function callerFiles(sys: CallerSys, creds: Credentials): FileSource {
  return fileSource(callerAccess(sys, creds));
}
