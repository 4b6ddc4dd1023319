// The door to the real Sys. `lazySys` loads koffi and binds libc on its first call, so code that
// holds a Sys but never makes a raw syscall (most verbs) never pays the ~10 ms koffi costs.
import { createRequire } from 'node:module';
import type { Sys } from './sys.js';

let real: Sys | undefined;
function load(): Sys {
  // libc.js is ESM without top-level await, which Node ≥ 20.19 can require() synchronously.
  if (!real) real = (createRequire(import.meta.url)('./libc.js') as { libcSys: Sys }).libcSys;
  return real;
}

export const lazySys: Sys = {
  mount: (...a) => load().mount(...a),
  umount2: (...a) => load().umount2(...a),
  mknod: (...a) => load().mknod(...a),
  lsetxattr: (...a) => load().lsetxattr(...a),
  lgetxattr: (...a) => load().lgetxattr(...a),
};

/** Kept for callers that prefer to await the binding up front. */
export async function loadSys(): Promise<Sys> {
  if (!real) real = (await import('./libc.js')).libcSys;
  return real;
}
