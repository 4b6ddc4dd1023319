// Real Sys: libc through koffi. koffi costs ~10 ms to load, so it is required on the first
// syscall, not when this module is imported: verbs that make no raw syscall never pay for it.
// Errors become SysError with the syscall, the path and the errno name.
import type koffiModule from 'koffi';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { openSync, constants as fsConstants } from 'node:fs';
import { SysError } from '../lib/errors.js';
import type { Sys } from './sys.js';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) errnoNames.set(value, name);

// <fcntl.h> and <asm-generic/ioctls.h> values, the same on x86_64 and aarch64
const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const O_CLOEXEC = 0o2000000;
const TIOCSWINSZ = 0x5414;

export function createLibcSys(): Sys {
  // koffi is CommonJS: required synchronously (an external of the CLI bundle, found in node_modules).
  const koffi = createRequire(import.meta.url)('koffi') as typeof koffiModule;
  const lib = koffi.load('libc.so.6');
  const c = {
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    posix_openpt: lib.func('int posix_openpt(int flags)'),
    grantpt: lib.func('int grantpt(int fd)'),
    unlockpt: lib.func('int unlockpt(int fd)'),
    ptsname_r: lib.func('int ptsname_r(int fd, _Out_ char *buf, size_t len)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
    close: lib.func('int close(int fd)'),
  };
  const fail = (syscall: string, path: string): never => {
    const errno = koffi.errno();
    throw new SysError(syscall, path, errnoNames.get(errno) ?? `errno ${errno}`);
  };
  return {
    mount(source, target, fstype, flags, data) {
      if (c.mount(source, target, fstype, flags, data) < 0) fail('mount', target);
    },
    umount2(target, flags) {
      if (c.umount2(target, flags) < 0) fail('umount2', target);
    },
    mknod(path, mode, dev) {
      if (c.mknod(path, mode, dev) < 0) fail('mknod', path);
    },
    lsetxattr(path, name, value) {
      if (c.lsetxattr(path, name, value, value.length, 0) < 0) fail('lsetxattr', path);
    },
    lgetxattr(path, name) {
      const buf = Buffer.alloc(65536);
      const n = Number(c.lgetxattr(path, name, buf, buf.length));
      if (n < 0) {
        if (errnoNames.get(koffi.errno()) === 'ENODATA') return undefined;
        fail('lgetxattr', path);
      }
      return buf.subarray(0, n);
    },
    openPty() {
      const master = c.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (master < 0) fail('posix_openpt', '/dev/ptmx');
      try {
        if (c.grantpt(master) < 0) fail('grantpt', '/dev/ptmx');
        if (c.unlockpt(master) < 0) fail('unlockpt', '/dev/ptmx');
        const name = Buffer.alloc(128);
        const err = c.ptsname_r(master, name, name.length);
        if (err !== 0) throw new SysError('ptsname_r', '/dev/ptmx', errnoNames.get(err) ?? `errno ${err}`);
        const path = name.toString('utf8', 0, name.indexOf(0));
        let slave: number;
        // Node opens with O_CLOEXEC; O_NOCTTY keeps it from becoming anyone's controlling terminal
        try { slave = openSync(path, fsConstants.O_RDWR | fsConstants.O_NOCTTY); } catch (e) { throw new SysError('open', path, (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN'); }
        return { master, slave };
      } catch (err) {
        c.close(master);
        throw err;
      }
    },
    setWindowSize(fd, rows, columns) {
      // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }
      const ws = Buffer.alloc(8);
      ws.writeUInt16LE(Math.max(0, Math.min(rows, 0xffff)), 0);
      ws.writeUInt16LE(Math.max(0, Math.min(columns, 0xffff)), 2);
      if (c.ioctl(fd, TIOCSWINSZ, ws) < 0) fail('ioctl(TIOCSWINSZ)', `fd ${fd}`);
    },
  };
}
