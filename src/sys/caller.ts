// The system calls of the warm CLI (docs/warm-cli.md): who is on the other end of a unix socket
// (SO_PEERCRED, SO_PEERGROUPS), the descriptors it sent (recvmsg with SCM_RIGHTS), opening a file
// with that caller's credentials (per-thread setfsuid/setfsgid/setgroups around one open), and a
// terminal's termios; and the engine's side of a warm slot's claim (a socket pair, sendmsg with
// SCM_RIGHTS: docs/slots.md). koffi is loaded on first use, as in libc.ts.
import type koffiModule from 'koffi';
import { createRequire } from 'node:module';
import { SysError } from '../lib/errors.js';
import { errnoName } from './libc.js';

/** Who is connected: the kernel's word (SO_PEERCRED), taken when the peer connected. */
export interface Credentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  /** supplementary groups (SO_PEERGROUPS) */
  readonly groups: readonly number[];
}

/** What one recvmsg returned: bytes, and the descriptors that came with them (close-on-exec). */
export interface Received {
  readonly bytes: Buffer;
  readonly fds: readonly number[];
}

export interface CallerSys {
  peerCredentials(fd: number): Credentials;
  /**
   * One non-blocking recvmsg of at most `length` bytes with room for `maxFds` descriptors;
   * undefined when nothing is there yet (EAGAIN). Descriptors beyond `maxFds` are closed by the
   * kernel (MSG_CTRUNC), and that is reported as an error.
   */
  receive(fd: number, length: number, maxFds: number): Received | undefined;
  /**
   * open(2) of `path` with the caller's filesystem uid, gid and groups, on this thread only, then
   * back to ours: the kernel checks every directory on the way and the file itself as it would
   * for the caller. Throws SysError (`open`, path, errno) as fs.openSync would.
   */
  openAs(creds: Credentials, path: string, flags: number): number;
  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected descriptors, close-on-exec */
  socketPair(): readonly [number, number];
  /**
   * One blocking sendmsg of `bytes` with `fds` (SCM_RIGHTS) on the first byte. Throws SysError
   * (EPIPE when the peer is gone) or when fewer bytes were sent (a claim is far below a socket's
   * buffer, so a short send means something is wrong, not that the caller should go on).
   */
  sendWithFds(fd: number, bytes: Buffer, fds: readonly number[]): void;
  close(fd: number): void;
  /** fcntl(F_DUPFD_CLOEXEC): a second descriptor of the same open file description */
  duplicate(fd: number): number;
  /** the terminal's termios (60 bytes), for restoring */
  getTermios(fd: number): Buffer;
  setTermios(fd: number, termios: Buffer): void;
  /** libuv's raw mode (what Node's setRawMode does): no echo, no line editing, no signals, output processing kept */
  makeRaw(termios: Buffer): Buffer;
}


// <asm-generic/socket.h> and the per-architecture syscall numbers
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const SO_PEERGROUPS = 59;
const MSG_DONTWAIT = 0x40;
const MSG_CTRUNC = 0x8;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SYSCALLS = process.arch === 'arm64'
  ? { setfsuid: 151, setfsgid: 152, setgroups: 159 }
  : { setfsuid: 122, setfsgid: 123, setgroups: 116 };
// termios: c_iflag, c_oflag, c_cflag, c_lflag (u32 each), c_line, c_cc[32], then speeds
const TERMIOS_SIZE = 60;
const VTIME = 5;
const VMIN = 6;
const TCSADRAIN = 1;

let loaded: CallerSys | undefined;

export function callerSys(): CallerSys {
  return (loaded ??= createCallerSys());
}

function createCallerSys(): CallerSys {
  const koffi = createRequire(import.meta.url)('koffi') as typeof koffiModule;
  const lib = koffi.load('libc.so.6');
  const c = {
    getsockopt: lib.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)'),
    recvmsg: lib.func('intptr_t recvmsg(int fd, void *msg, int flags)'),
    sendmsg: lib.func('intptr_t sendmsg(int fd, void *msg, int flags)'),
    socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *fds)'),
    open: lib.func('int open(const char *path, int flags, uint32_t mode)'),
    close: lib.func('int close(int fd)'),
    // raw syscalls: glibc's setgroups() changes every thread of the process (it broadcasts the
    // change); the kernel's call changes only the calling one, which is what openAs needs
    setid: lib.func('long syscall(long number, long id)'),
    setgroups: lib.func('long syscall(long number, long count, const uint32_t *groups)'),
    getgroups: lib.func('int getgroups(int size, _Out_ uint32_t *list)'),
    tcgetattr: lib.func('int tcgetattr(int fd, _Out_ uint8_t *termios)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, int arg)'),
    tcsetattr: lib.func('int tcsetattr(int fd, int when, const uint8_t *termios)'),
  };
  /**
   * One zeroed C block for recvmsg/sendmsg: struct msghdr (56 bytes) pointing at one struct iovec
   * (16) over the data, and at the control buffer (none when controlLen is 0); then the control
   * buffer and the data. The caller frees `block`.
   */
  const messageBlock = (controlLen: number, dataLen: number): { block: unknown; view: Buffer; controlAt: number; dataAt: number } => {
    const total = 56 + 16 + controlLen + dataLen;
    const block = koffi.alloc('uint8', total);
    const view = Buffer.from(koffi.view(block, total));
    view.fill(0);
    const base = koffi.address(block);
    const iovAt = 56;
    const controlAt = iovAt + 16;
    const dataAt = controlAt + controlLen;
    // struct iovec { void *iov_base; size_t iov_len; }
    view.writeBigUInt64LE(base + BigInt(dataAt), iovAt);
    view.writeBigUInt64LE(BigInt(dataLen), iovAt + 8);
    // struct msghdr { name, namelen(+pad), iov, iovlen, control, controllen, flags }
    view.writeBigUInt64LE(base + BigInt(iovAt), 16);
    view.writeBigUInt64LE(1n, 24);
    if (controlLen > 0) {
      view.writeBigUInt64LE(base + BigInt(controlAt), 32);
      view.writeBigUInt64LE(BigInt(controlLen), 40);
    }
    return { block, view, controlAt, dataAt };
  };
  const fail = (syscall: string, path: string, errno = koffi.errno()): never => {
    throw new SysError(syscall, path, errnoName(errno));
  };
  // our own groups, put back after every openAs
  const ownGroups = (() => {
    const list = new Uint32Array(65536);
    const n = c.getgroups(list.length, list);
    if (n < 0) fail('getgroups', '');
    return list.slice(0, n);
  })();
  const ownUid = process.getuid?.() ?? 0;
  const ownGid = process.getgid?.() ?? 0;

  return {
    peerCredentials(fd) {
      const cred = Buffer.alloc(12);
      const len = new Uint32Array([12]);
      if (c.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, len) < 0) fail('getsockopt(SO_PEERCRED)', `fd ${fd}`);
      let groups: number[] = [];
      for (let size = 64; ; size *= 4) {
        const buf = new Uint32Array(size);
        const glen = new Uint32Array([size * 4]);
        if (c.getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, glen) === 0) {
          groups = [...buf.slice(0, glen[0]! / 4)];
          break;
        }
        if (errnoName(koffi.errno()) !== 'ERANGE' || size > 65536) fail('getsockopt(SO_PEERGROUPS)', `fd ${fd}`);
      }
      return { pid: cred.readInt32LE(0), uid: cred.readUInt32LE(4), gid: cred.readUInt32LE(8), groups };
    },

    receive(fd, length, maxFds) {
      const controlLen = 16 + 4 * maxFds + 8; // CMSG_SPACE(4 * maxFds), rounded up
      const { block, view, controlAt, dataAt } = messageBlock(controlLen, length);
      try {
        const n = Number(c.recvmsg(fd, block, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
        if (n < 0) {
          const errno = koffi.errno();
          if (errnoName(errno) === 'EAGAIN') return undefined;
          fail('recvmsg', `fd ${fd}`, errno);
        }
        const fds: number[] = [];
        const controlUsed = Number(view.readBigUInt64LE(40));
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; data… }, 8-aligned
        for (let at = 0; at + 16 <= controlUsed;) {
          const cmsgLen = Number(view.readBigUInt64LE(controlAt + at));
          if (cmsgLen < 16) break;
          const level = view.readInt32LE(controlAt + at + 8);
          const type = view.readInt32LE(controlAt + at + 12);
          if (level === SOL_SOCKET && type === SCM_RIGHTS) {
            for (let p = 16; p + 4 <= cmsgLen; p += 4) fds.push(view.readInt32LE(controlAt + at + p));
          }
          at += (cmsgLen + 7) & ~7;
        }
        const flags = view.readInt32LE(48);
        if ((flags & MSG_CTRUNC) !== 0) {
          for (const d of fds) c.close(d);
          throw new SysError('recvmsg', `fd ${fd}`, 'EMSGSIZE', `the peer sent more than ${maxFds} descriptors`);
        }
        return { bytes: Buffer.from(view.subarray(dataAt, dataAt + n)), fds };
      } finally {
        koffi.free(block);
      }
    },

    socketPair() {
      const fds = new Int32Array(2);
      if (c.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) fail('socketpair', '');
      return [fds[0]!, fds[1]!] as const;
    },

    sendWithFds(fd, bytes, fds) {
      const controlLen = fds.length > 0 ? 16 + ((4 * fds.length + 7) & ~7) : 0; // CMSG_SPACE
      const { block, view, controlAt, dataAt } = messageBlock(controlLen, bytes.length);
      try {
        bytes.copy(view, dataAt);
        if (fds.length > 0) {
          // struct cmsghdr { size_t cmsg_len = CMSG_LEN(4n); int level; int type; fds… }
          view.writeBigUInt64LE(BigInt(16 + 4 * fds.length), controlAt);
          view.writeInt32LE(SOL_SOCKET, controlAt + 8);
          view.writeInt32LE(SCM_RIGHTS, controlAt + 12);
          fds.forEach((d, i) => view.writeInt32LE(d, controlAt + 16 + 4 * i));
        }
        let n: number;
        do n = Number(c.sendmsg(fd, block, MSG_NOSIGNAL)); while (n < 0 && errnoName(koffi.errno()) === 'EINTR');
        if (n < 0) fail('sendmsg', `fd ${fd}`);
        if (n !== bytes.length) throw new SysError('sendmsg', `fd ${fd}`, 'EIO', `sendmsg on fd ${fd}: ${n} of ${bytes.length} bytes sent`);
      } finally {
        koffi.free(block);
      }
    },

    close(fd) {
      c.close(fd);
    },

    openAs(creds, path, flags) {
      if (creds.uid === ownUid && creds.gid === ownGid) {
        const fd = c.open(path, flags, 0o666);
        if (fd < 0) fail('open', path);
        return fd;
      }
      // Groups and gid first, the uid last; restored in reverse. (A fsuid moving away from 0 drops
      // the file capabilities -- DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER… -- from this thread's
      // effective set, and moving back to 0 restores them; CAP_SETGID is not among them.)
      const groups = Uint32Array.from(creds.groups);
      if (Number(c.setgroups(SYSCALLS.setgroups, groups.length, groups)) < 0) fail('setgroups', path);
      try {
        c.setid(SYSCALLS.setfsgid, creds.gid);
        c.setid(SYSCALLS.setfsuid, creds.uid);
        // setfsuid answers the previous value whether or not it changed anything: ask again
        if (Number(c.setid(SYSCALLS.setfsuid, creds.uid)) !== creds.uid || Number(c.setid(SYSCALLS.setfsgid, creds.gid)) !== creds.gid) {
          throw new SysError('setfsuid', path, 'EPERM', `cannot take the caller's credentials (uid ${creds.uid}) to open "${path}"`);
        }
        const fd = c.open(path, flags, 0o666);
        const errno = koffi.errno();
        if (fd < 0) fail('open', path, errno);
        return fd;
      } finally {
        c.setid(SYSCALLS.setfsuid, ownUid);
        c.setid(SYSCALLS.setfsgid, ownGid);
        c.setgroups(SYSCALLS.setgroups, ownGroups.length, ownGroups);
        if (Number(c.setid(SYSCALLS.setfsuid, ownUid)) !== ownUid) {
          // never go on with a thread that acts as someone else
          process.stderr.write('berth engine: could not restore its own filesystem credentials; exiting\n');
          process.abort();
        }
      }
    },

    duplicate(fd) {
      const F_DUPFD_CLOEXEC = 1030;
      const copy = c.fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (copy < 0) fail('fcntl(F_DUPFD_CLOEXEC)', `fd ${fd}`);
      return copy;
    },
    getTermios(fd) {
      const t = Buffer.alloc(TERMIOS_SIZE);
      if (c.tcgetattr(fd, t) < 0) fail('tcgetattr', `fd ${fd}`);
      return t;
    },
    setTermios(fd, termios) {
      if (c.tcsetattr(fd, TCSADRAIN, termios) < 0) fail('tcsetattr', `fd ${fd}`);
    },
    makeRaw(termios) {
      // libuv's UV_TTY_MODE_RAW (src/unix/tty.c), which Node's setRawMode(true) uses
      const t = Buffer.from(termios);
      const BRKINT = 0o2, ICRNL = 0o400, INPCK = 0o20, ISTRIP = 0o40, IXON = 0o2000;
      const ONLCR = 0o4, CS8 = 0o60, ECHO = 0o10, ICANON = 0o2, IEXTEN = 0o100000, ISIG = 0o1;
      t.writeUInt32LE(t.readUInt32LE(0) & ~(BRKINT | ICRNL | INPCK | ISTRIP | IXON), 0);
      t.writeUInt32LE(t.readUInt32LE(4) | ONLCR, 4);
      t.writeUInt32LE(t.readUInt32LE(8) | CS8, 8);
      t.writeUInt32LE(t.readUInt32LE(12) & ~(ECHO | ICANON | IEXTEN | ISIG), 12);
      t[17 + VMIN] = 1;
      t[17 + VTIME] = 0;
      return t;
    },
  };
}
