// Real Sys: libc through koffi. koffi costs ~10 ms to load, so it is required on the first
// syscall, not when this module is imported: verbs that make no raw syscall never pay for it.
// Errors become SysError with the syscall, the path and the errno name.
import type koffiModule from 'koffi';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { openSync, constants as fsConstants } from 'node:fs';
import { SysError } from '../lib/errors.js';
import type { Sys } from './sys.js';

/** openat2's number: 437 on every architecture (it came after the syscall tables were unified). */
const SYS_openat2 = 437;

// A number's first name: EAGAIN, not its alias EWOULDBLOCK that comes later in the table.
const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);

/** errno's name (EAGAIN, never the alias EWOULDBLOCK), as node:fs errors carry it in `code` */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

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
    llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
    syncfs: lib.func('int syncfs(int fd)'),
    // glibc 2.36 has no openat2 wrapper: the raw syscall. Declared with openat2's fixed arguments
    // rather than as variadic: koffi builds a variadic call's signature at every call (~0.5 ms,
    // measured), and on x86-64 and arm64 integer and pointer arguments travel in the same
    // registers either way (glibc's syscall() reads them with va_arg as longs).
    openat2: lib.func('long syscall(long number, int dirfd, const char *path, void *how, size_t size)'),
    open: lib.func('int open(const char *path, int flags)'),
    close: lib.func('int close(int fd)'),
    closeRange: lib.func('int close_range(unsigned int first, unsigned int last, int flags)'),
  };
  // glibc's own: absent from musl, where there is nothing to trim this way
  let mallocTrim: ((pad: number) => number) | undefined;
  try { mallocTrim = lib.func('int malloc_trim(size_t pad)') as (pad: number) => number; } catch { mallocTrim = undefined; }
  // union bpf_attr, the two members used (include/uapi/linux/bpf.h), padded to the size passed
  const ProgLoad = koffi.struct('berth_bpf_prog_load', {
    prog_type: 'uint32', insn_cnt: 'uint32', insns: 'const uint8_t *', license: 'const char *',
    log_level: 'uint32', log_size: 'uint32', log_buf: 'void *', kern_version: 'uint32', prog_flags: 'uint32',
    prog_name: koffi.array('char', 16), prog_ifindex: 'uint32', expected_attach_type: 'uint32', pad: koffi.array('uint8', 56),
  });
  const ProgAttach = koffi.struct('berth_bpf_prog_attach', {
    target_fd: 'uint32', attach_bpf_fd: 'uint32', attach_type: 'uint32', attach_flags: 'uint32', pad: koffi.array('uint8', 112),
  });
  const bpfLoad = lib.func('long syscall(long number, int cmd, berth_bpf_prog_load *attr, uint32_t size)');
  const bpfAttach = lib.func('long syscall(long number, int cmd, berth_bpf_prog_attach *attr, uint32_t size)');
  const fail = (syscall: string, path: string): never => {
    const errno = koffi.errno();
    throw new SysError(syscall, path, errnoNames.get(errno) ?? `errno ${errno}`);
  };
  const SYS_BPF = process.arch === 'arm64' ? 280 : 321;
  const BPF_PROG_LOAD = 5;
  const BPF_PROG_ATTACH = 8;
  const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
  const BPF_CGROUP_DEVICE = 6;
  const O_RDONLY_DIRECTORY_CLOEXEC = 0o200000 | 0o2000000;
  const CLOSE_RANGE_CLOEXEC = 1 << 2;
  return {
    attachDeviceProgram(cgroupDir, program) {
      const progFd = Number(bpfLoad(SYS_BPF, BPF_PROG_LOAD, {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE, insn_cnt: program.length / 8, insns: program, license: 'Apache-2.0',
        log_level: 0, log_size: 0, log_buf: null, kern_version: 0, prog_flags: 0, prog_name: 'berth_devices',
        prog_ifindex: 0, expected_attach_type: BPF_CGROUP_DEVICE, pad: [],
      }, koffi.sizeof(ProgLoad)));
      if (progFd < 0) fail('bpf(BPF_PROG_LOAD)', cgroupDir);
      try {
        const dirFd = c.open(cgroupDir, O_RDONLY_DIRECTORY_CLOEXEC);
        if (dirFd < 0) fail('open', cgroupDir);
        try {
          const rc = Number(bpfAttach(SYS_BPF, BPF_PROG_ATTACH, { target_fd: dirFd, attach_bpf_fd: progFd, attach_type: BPF_CGROUP_DEVICE, attach_flags: 0, pad: [] }, koffi.sizeof(ProgAttach)));
          if (rc < 0) fail('bpf(BPF_PROG_ATTACH)', cgroupDir);
        } finally {
          c.close(dirFd);
        }
      } finally {
        // the attachment holds the program; our descriptor is not needed any more
        c.close(progFd);
      }
    },
    mallocTrim() {
      return mallocTrim !== undefined && mallocTrim(0) === 1;
    },
    cloexecFrom(first) {
      if (c.closeRange(first, 0xffffffff, CLOSE_RANGE_CLOEXEC) < 0) fail('close_range', String(first));
    },
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
    llistxattr(path) {
      const buf = Buffer.alloc(65536);
      const n = Number(c.llistxattr(path, buf, buf.length));
      if (n < 0) {
        const name = errnoNames.get(koffi.errno());
        if (name === 'ENOTSUP' || name === 'EOPNOTSUPP') return [];
        fail('llistxattr', path);
      }
      return buf.subarray(0, n).toString('latin1').split('\0').filter((x) => x !== '');
    },
    syncfs(fd) {
      if (c.syncfs(fd) < 0) fail('syncfs', `fd ${fd}`);
    },
    openat2(dirfd, path, flags, mode, resolve) {
      // struct open_how { u64 flags; u64 mode; u64 resolve; }
      const how = Buffer.alloc(24);
      how.writeBigUInt64LE(BigInt(flags), 0);
      how.writeBigUInt64LE(BigInt(mode), 8);
      how.writeBigUInt64LE(BigInt(resolve), 16);
      for (;;) {
        const fd = Number(c.openat2(SYS_openat2, dirfd, path, how, how.length));
        if (fd >= 0) return fd;
        // EAGAIN: a concurrent rename raced the in-root walk (the kernel asks for a retry)
        if (errnoNames.get(koffi.errno()) !== 'EAGAIN') fail('openat2', path);
      }
    },
  };
}
