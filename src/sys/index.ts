// The door to the real Sys. `lazySys` binds libc (and loads koffi) on its first call, so code that
// holds a Sys but never makes a raw syscall (most verbs) never pays the ~10 ms koffi costs.
import type { Sys } from './sys.js';
import { createLibcSys } from './libc.js';

let real: Sys | undefined;
const load = (): Sys => (real ??= createLibcSys());

export const lazySys: Sys = {
  mount: (...a) => load().mount(...a),
  umount2: (...a) => load().umount2(...a),
  mknod: (...a) => load().mknod(...a),
  lsetxattr: (...a) => load().lsetxattr(...a),
  lgetxattr: (...a) => load().lgetxattr(...a),
  openPty: () => load().openPty(),
  setWindowSize: (...a) => load().setWindowSize(...a),
  llistxattr: (...a) => load().llistxattr(...a),
  openat2: (...a) => load().openat2(...a),
  syncfs: (...a) => load().syncfs(...a),
  attachDeviceProgram: (...a) => load().attachDeviceProgram(...a),
  cloexecFrom: (...a) => load().cloexecFrom(...a),
  mallocTrim: () => load().mallocTrim(),
};
