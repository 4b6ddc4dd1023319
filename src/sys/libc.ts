// Real Sys: libc through koffi. Loaded lazily (koffi costs ~10 ms to load), so verbs that need
// no raw syscall never pay for it. Errors become SysError with the syscall, the path and errno.
import type koffiModule from 'koffi';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { SysError } from '../lib/errors.js';
import type { Sys } from './sys.js';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) errnoNames.set(value, name);

// koffi is CommonJS: required synchronously, so that the first syscall can load it on demand.
const koffi = createRequire(import.meta.url)('koffi') as typeof koffiModule;
const lib = koffi.load('libc.so.6');
const c = {
  mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: lib.func('int umount2(const char *target, int flags)'),
  mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
  lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
};

function check(rc: number | bigint, syscall: string, path: string): void {
  if (Number(rc) >= 0) return;
  const errno = koffi.errno();
  throw new SysError(syscall, path, errnoNames.get(errno) ?? `errno ${errno}`);
}

export const libcSys: Sys = {
  mount(source, target, fstype, flags, data) {
    check(c.mount(source, target, fstype, flags, data), 'mount', target);
  },
  umount2(target, flags) {
    check(c.umount2(target, flags), 'umount2', target);
  },
  mknod(path, mode, dev) {
    check(c.mknod(path, mode, dev), 'mknod', path);
  },
  lsetxattr(path, name, value) {
    check(c.lsetxattr(path, name, value, value.length, 0), 'lsetxattr', path);
  },
  lgetxattr(path, name) {
    const buf = Buffer.alloc(65536);
    const n = Number(c.lgetxattr(path, name, buf, buf.length));
    if (n < 0) {
      const errno = koffi.errno();
      if (errnoNames.get(errno) === 'ENODATA') return undefined;
      throw new SysError('lgetxattr', path, errnoNames.get(errno) ?? `errno ${errno}`);
    }
    return buf.subarray(0, n);
  },
};
