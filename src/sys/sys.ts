// The narrow set of system calls that Node makes itself. Everything that needs a syscall Node
// has no API for goes through this interface; `libc.ts` is the real one (koffi), `fake.ts`
// records calls for logic tests. Nothing outside src/sys imports koffi or node:child_process.

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MNT_DETACH = 0x2;

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export interface Sys {
  mount(source: string, target: string, fstype: string, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  /** mode includes the file type bits (S_IFCHR…); dev is makedev(major, minor). */
  mknod(path: string, mode: number, dev: number): void;
  lsetxattr(path: string, name: string, value: Uint8Array): void;
  /** undefined when the attribute is absent (ENODATA). */
  lgetxattr(path: string, name: string): Uint8Array | undefined;
  /**
   * A new pseudo-terminal pair (posix_openpt, grantpt, unlockpt, open of the slave), both ends
   * close-on-exec and neither a controlling terminal: the caller closes them.
   */
  openPty(): { readonly master: number; readonly slave: number };
  /** ioctl(TIOCSWINSZ) on a terminal fd (either end of a pty). */
  setWindowSize(fd: number, rows: number, columns: number): void;
}

export function makedev(major: number, minor: number): number {
  // glibc's encoding; exact for the small numbers device nodes use.
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}
