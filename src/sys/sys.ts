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

// open(2) flags and openat2(2) resolve flags (x86_64 and every architecture Linux shares them on).
export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

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
  /** the names of path's extended attributes (the link itself, not its target) */
  llistxattr(path: string): string[];
  /**
   * openat2(2): opens `path` relative to `dirfd` under the `resolve` rules (RESOLVE_IN_ROOT keeps
   * every symlink and ".." inside dirfd's directory). Returns a descriptor the caller closes with
   * fs.closeSync. The one door through which berth opens paths inside a container's root.
   */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /** syncfs(2): writes out everything of the filesystem holding fd (one call, not one per file) */
  syncfs(fd: number): void;
  /**
   * Loads `program` (BPF instructions) as a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it
   * to the cgroup v2 directory, replacing the one attached before (no BPF_F_ALLOW_MULTI).
   */
  attachDeviceProgram(cgroupDir: string, program: Uint8Array): void;
  /**
   * Marks every descriptor from `first` up close-on-exec (close_range CLOSE_RANGE_CLOEXEC), so
   * that nothing this process inherited reaches a program it starts.
   */
  cloexecFrom(first: number): void;
  /**
   * malloc_trim(3) with a pad of 0: glibc gives the free pages of every arena (the main one's top
   * by brk, the inside of every arena by MADV_DONTNEED) back to the kernel. True when it released
   * any. glibc only: elsewhere (musl) nothing is done and it returns false.
   */
  mallocTrim(): boolean;
}

export function makedev(major: number, minor: number): number {
  // glibc's encoding; exact for the small numbers device nodes use.
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}
