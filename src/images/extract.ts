// Safe extraction of one layer tar into a fresh, empty layer `diff` directory. This is the
// security boundary between an untrusted archive and the host: no entry may create, modify or
// learn about anything outside `dest`.
//
// The invariants, and how each is kept:
// 1. Names are cleaned lexically before anything touches the disk. Leading '/' are stripped (as
//    docker does), '.' and empty components dropped, '..' pops a component; a '..' that would
//    climb above the layer root is an error. `/abs/../../escape` is therefore an error too
//    (docker would clean it to `/escape`; we refuse it, as the brief for berth asks).
// 2. Symlinks are never followed while extracting. Every parent component of every path is
//    lstat'ed: a missing one is created as a 0755 directory, a real directory is walked into,
//    and a symlink (or any non-directory) is an error naming the entry. A layer that contains
//    `lib -> usr/lib` and then `lib/x` is refused rather than resolved: tar writers that walk a
//    filesystem never produce it, so it only comes from hand-made or hostile archives.
//    Checking path strings is sound here because `dest` is fresh and this process is the only
//    writer: a parent verified to be a real directory stays one until this code replaces it.
// 3. An existing entry at the destination is removed (lstat + rm, which unlinks a symlink
//    rather than following it) before the new one is created with O_CREAT|O_EXCL|O_NOFOLLOW;
//    a directory over a directory is kept and merged, as tar does.
// 4. Hard links must name a regular file already extracted into this layer, with the same
//    cleaning and parent rules; links to anything else are an error.
// 5. Symlink targets are stored verbatim: they are only resolved inside the container later,
//    where the container's root is `/`.
// 6. Device nodes and fifos are created (sys.mknod) only when the extraction is privileged
//    (root); otherwise they are skipped and listed in `skipped`. Whiteouts always need mknod
//    and fail without privilege: a layer missing its deletions would be silently wrong.
// 7. Sizes and counts are capped (see ExtractLimits); the caps name the entry that broke them.
//    The free space of the filesystem holding `dest` is checked as the uncompressed stream grows
//    (every CHECK_FREE_EVERY bytes): extraction stops with a clear error before the disk would
//    fill, whatever the archive declares (a 3 MB gzip bomb otherwise wrote 3.2 GB).
// 8. Device numbers are read from GNU-format headers too (node-tar reads devmajor/devminor only
//    from POSIX ustar headers, and a GNU tar's device node came out as 0:0 -- an overlay whiteout
//    that hid the path instead of creating it): see gnuDeviceNumbers below.
//
// Whiteouts are converted to the overlayfs format, as docker's overlay2 driver does:
// `.wh.NAME` becomes a 0/0 character device NAME, `.wh..wh..opq` sets trusted.overlay.opaque=y
// on its directory, and other `.wh..wh.*` (AUFS bookkeeping such as `.wh..wh.plnk`) are skipped.
//
// Reading the tar is node-tar's Parser; writing is done here. node-tar drops PAX records it does
// not know, so extended attributes are read from the raw PAX text node-tar hands out with its
// 'meta' event. That text has been decoded as UTF-8, so an xattr value that is not valid UTF-8
// cannot be recovered from SCHILY.xattr.*; such a value is skipped (and listed in `skipped`)
// rather than written corrupted. LIBARCHIVE.xattr.* records (base64) carry binary values intact
// and are preferred when present.
import {
  statfsSync, lstatSync, mkdirSync, rmSync, openSync, writeSync, closeSync, fchownSync, fchmodSync, futimesSync,
  lchownSync, chmodSync, lutimesSync, symlinkSync, linkSync, constants, type Stats,
} from 'node:fs';
import { join } from 'node:path';
// Parser from its own module, not from the package index (a bundled copy with its own Header):
// the Header patched below must be the one this Parser uses.
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { Header } from 'tar/header';
import { BerthError, InvalidArgument, SysError, fromNodeError } from '../lib/errors.js';
import { S_IFCHR, S_IFBLK, S_IFIFO, makedev, type Sys } from '../sys/sys.js';

export interface ExtractLimits {
  /** entries in one layer, directories and metadata-only entries included */
  readonly maxEntries: number;
  /** bytes in a cleaned entry name or link target (PATH_MAX) */
  readonly maxPathBytes: number;
  /** bytes in one name component (NAME_MAX) */
  readonly maxComponentBytes: number;
  /** total bytes of regular-file content in the layer; checked against declared sizes before writing */
  readonly maxTotalBytes: number;
  /** uncompressed tar bytes read, padding and headers included (bounds gzip bombs of empty entries) */
  readonly maxStreamBytes: number;
  /** bytes that must stay free on the filesystem of `dest`; extraction stops before going below */
  readonly minFreeBytes: number;
}

/** The documented maximum (docs/security.md): a layer of 32 GiB of files, a 48 GiB tar stream. */
export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxEntries: 1_000_000,
  maxPathBytes: 4096,
  maxComponentBytes: 255,
  maxTotalBytes: 32 * 1024 ** 3,
  maxStreamBytes: 48 * 1024 ** 3,
  minFreeBytes: 256 * 1024 ** 2,
};

/** How often (in uncompressed bytes) the free space under `dest` is checked. */
const CHECK_FREE_EVERY = 16 * 1024 ** 2;

/** bytes available to an unprivileged writer... and to root, which berth is: f_bavail either way */
function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

export interface ExtractOptions {
  readonly sys: Sys;
  /** true when running as root: chown, device nodes and fifos are applied only then */
  readonly privileged: boolean;
  /** names the layer in errors: "layer sha256:…", "import rootfs.tar" */
  readonly label: string;
  readonly limits?: Partial<ExtractLimits>;
}

export interface ExtractResult {
  /** bytes of regular-file content written */
  readonly size: number;
  /** tar entries processed (metadata headers not counted) */
  readonly entries: number;
  /** human-readable notes for entries or attributes deliberately not applied */
  readonly skipped: readonly string[];
}

// Extended attributes a layer may set. trusted.* would let an archive forge overlayfs state
// (trusted.overlay.opaque, .redirect, .metacopy); the other security.* belong to LSMs.
function xattrAllowed(name: string): boolean {
  return name.startsWith('user.') || name === 'security.capability'
    || name === 'system.posix_acl_access' || name === 'system.posix_acl_default';
}

const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';

/**
 * Extracts the uncompressed tar in `chunks` into `dest`, which must be an existing, empty
 * directory owned by this process. On error `dest` is left partly written: the caller deletes it.
 */
export async function extractLayer(chunks: AsyncIterable<Buffer>, dest: string, options: ExtractOptions): Promise<ExtractResult> {
  const limits: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS, ...options.limits };
  const writer = new LayerWriter(dest, options, limits);
  const parser = new Parser({ strict: true });
  parser.on('meta', (text: string) => writer.onMeta(text));
  parser.on('entry', (entry: ReadEntry) => writer.onEntry(entry));
  parser.on('ignoredEntry', (entry: ReadEntry) => writer.onIgnored(entry));
  let allZero = true;
  const done = new Promise<void>((resolve) => {
    parser.on('end', () => resolve());
    parser.on('error', (err: Error & { tarCode?: string }) => {
      // An empty layer is commonly stored as 1024 zero bytes (or nothing): valid for docker,
      // "unrecognized archive format" for node-tar.
      if (!(allZero && /Unrecognized archive format/.test(err.message))) writer.failWithParserError(err);
      resolve();
    });
  });
  let streamed = 0;
  let nextFreeCheck = 0;
  try {
    for await (const chunk of chunks) {
      streamed += chunk.length;
      if (streamed > limits.maxStreamBytes) {
        throw new InvalidArgument(`${options.label}: tar stream larger than the ${limits.maxStreamBytes}-byte limit`);
      }
      if (streamed >= nextFreeCheck) {
        // the chunk about to be written may become files: it must fit above the reserve
        const free = freeBytes(dest);
        if (free - chunk.length < limits.minFreeBytes) {
          throw new SysError('write', dest, 'ENOSPC', `${options.label}: not enough disk space: ${free} bytes free on the filesystem of "${dest}" after ${streamed - chunk.length} bytes of the layer; berth keeps ${limits.minFreeBytes} bytes free`);
        }
        nextFreeCheck = streamed + CHECK_FREE_EVERY;
      }
      if (allZero && !isAllZero(chunk)) allZero = false;
      parser.write(chunk);
      if (writer.failure) break;
    }
  } catch (err) {
    writer.fail(err);
  }
  if (!writer.failure) {
    if (streamed % 512 !== 0 && !allZero) {
      writer.fail(new InvalidArgument(`${options.label}: truncated tar archive (${streamed} bytes is not a whole number of 512-byte blocks)`));
    } else {
      parser.end();
      await done;
    }
  }
  return writer.finish();
}

/**
 * GNU tar writes device numbers at the same offsets as POSIX ustar (devmajor at 329, devminor at
 * 337, octal), under the magic "ustar  \0" that node-tar does not read them for. Header.decode is
 * wrapped once so that a GNU header's numbers are read too; anything else is left to node-tar.
 */
function readGnuDeviceNumbers(): void {
  const proto = Header.prototype as unknown as { decode(buf: Buffer, off: number, ...rest: unknown[]): void; berthGnuDevices?: true };
  if (proto.berthGnuDevices) return;
  const decode = proto.decode;
  proto.decode = function (this: Header, buf: Buffer, off: number, ...rest: unknown[]): void {
    decode.call(this, buf, off, ...rest);
    const at = off || 0;
    const isDevice = this.type === 'CharacterDevice' || this.type === 'BlockDevice';
    if (isDevice && buf.toString('latin1', at + 257, at + 265) === 'ustar  \0') {
      const octal = (start: number): number | undefined => {
        const text = buf.toString('latin1', at + start, at + start + 8).replace(/[\0 ]+$/, '').trim();
        return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
      };
      this.devmaj = octal(329) ?? this.devmaj;
      this.devmin = octal(337) ?? this.devmin;
    }
  };
  proto.berthGnuDevices = true;
}
readGnuDeviceNumbers();

function isAllZero(chunk: Buffer): boolean {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return false;
  return true;
}

interface PendingDirTimes {
  readonly components: readonly string[];
  readonly atime: Date;
  readonly mtime: Date;
}

class LayerWriter {
  failure: BerthError | undefined;
  private size = 0;
  private entries = 0;
  private readonly skipped: string[] = [];
  /** xattrs from the PAX header just read, for the entry that follows it */
  private pendingXattrs: Map<string, Buffer> | undefined;
  /** directory mtimes are set last: creating children would change them again */
  private dirTimes: PendingDirTimes[] = [];
  /** the file being written, so a failure mid-body can close it */
  private openFd = -1;

  constructor(
    private readonly dest: string,
    private readonly options: ExtractOptions,
    private readonly limits: ExtractLimits,
  ) {}

  fail(err: unknown): void {
    if (this.openFd >= 0) {
      try { closeSync(this.openFd); } catch { /* the first error is the one to report */ }
      this.openFd = -1;
    }
    if (this.failure) return;
    this.failure = err instanceof BerthError ? err : fromNodeError(err, 'extract', this.dest);
  }

  failWithParserError(err: Error & { tarCode?: string }): void {
    const what = /Truncated input/.test(err.message) ? 'truncated tar archive' : 'invalid tar archive';
    this.fail(new InvalidArgument(`${this.options.label}: ${what}: ${err.message.replace(/^TAR_[A-Z_]+: /, '')}`));
  }

  finish(): ExtractResult {
    if (this.failure) throw this.failure;
    // Deepest first, so setting a child's times never disturbs a parent already set.
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const { components, atime, mtime } = this.dirTimes[i];
      // Defence in depth: only touch it if every component is still a real directory.
      if (!this.isRealDirectoryChain(components)) continue;
      const abs = join(this.dest, ...components);
      try { lutimesSync(abs, atime, mtime); } catch (err) { throw fromNodeError(err, 'lutimes', abs); }
    }
    return { size: this.size, entries: this.entries, skipped: this.skipped };
  }

  onMeta(text: string): void {
    if (this.failure) return;
    const xattrs = parsePaxXattrs(text, (note) => this.skipped.push(note));
    if (xattrs.size === 0) return;
    this.pendingXattrs = new Map([...(this.pendingXattrs ?? []), ...xattrs]);
  }

  onIgnored(entry: ReadEntry): void {
    this.pendingXattrs = undefined;
    entry.resume();
    if (this.failure) return;
    if (entry.meta) {
      this.fail(new InvalidArgument(`${this.options.label}: entry "${entry.path}": extended header of ${entry.size} bytes is larger than allowed`));
      return;
    }
    if (entry.type === 'SparseFile') {
      this.fail(new InvalidArgument(`${this.options.label}: entry "${entry.path}": GNU sparse files are not supported`));
      return;
    }
    this.skipped.push(`entry "${entry.path}": tar entry type ${entry.type} skipped`);
  }

  onEntry(entry: ReadEntry): void {
    const xattrs = this.pendingXattrs;
    this.pendingXattrs = undefined;
    if (this.failure) {
      entry.resume();
      return;
    }
    try {
      this.entries++;
      if (this.entries > this.limits.maxEntries) {
        throw this.invalid(entry.path, `more than ${this.limits.maxEntries} entries in one layer`);
      }
      this.extractEntry(entry, xattrs ?? new Map());
    } catch (err) {
      this.fail(err);
      entry.resume();
    }
  }

  private invalid(name: string, why: string): InvalidArgument {
    return new InvalidArgument(`${this.options.label}: entry "${name}": ${why}`);
  }

  /** Invariant 1: lexical cleaning; returns the components below the layer root. */
  private clean(name: string, what: string, entryName: string = name): string[] {
    if (name.includes('\0')) throw this.invalid(entryName, `${what} contains a NUL byte`);
    if (Buffer.byteLength(name) > this.limits.maxPathBytes) {
      throw this.invalid(entryName.slice(0, 64) + '…', `${what} longer than ${this.limits.maxPathBytes} bytes`);
    }
    const out: string[] = [];
    for (const part of name.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (out.length === 0) throw this.invalid(entryName, `${what} escapes the layer root`);
        out.pop();
        continue;
      }
      if (Buffer.byteLength(part) > this.limits.maxComponentBytes) {
        throw this.invalid(entryName, `${what} has a component longer than ${this.limits.maxComponentBytes} bytes`);
      }
      out.push(part);
    }
    return out;
  }

  private lstatOrUndefined(abs: string): Stats | undefined {
    try {
      return lstatSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fromNodeError(err, 'lstat', abs);
    }
  }

  /** Invariant 2: every component is a real directory, created (0755) when `create` and missing. */
  private walkDirectories(name: string, components: readonly string[], create: boolean): string {
    let abs = this.dest;
    for (let i = 0; i < components.length; i++) {
      abs = join(abs, components[i]);
      const st = this.lstatOrUndefined(abs);
      if (st === undefined) {
        if (!create) throw this.invalid(name, `"${components.slice(0, i + 1).join('/')}" does not exist in the layer`);
        try { mkdirSync(abs, 0o755); } catch (err) { throw fromNodeError(err, 'mkdir', abs); }
        continue;
      }
      if (st.isDirectory()) continue;
      const rel = components.slice(0, i + 1).join('/');
      if (st.isSymbolicLink()) throw this.invalid(name, `parent "${rel}" is a symbolic link; refusing to write through it`);
      throw this.invalid(name, `parent "${rel}" is not a directory`);
    }
    return abs;
  }

  private isRealDirectoryChain(components: readonly string[]): boolean {
    let abs = this.dest;
    for (const c of [...components]) {
      abs = join(abs, c);
      const st = this.lstatOrUndefined(abs);
      if (!st || !st.isDirectory()) return false;
    }
    return true;
  }

  /** Invariant 3: removes what is at `components` (never following it); keeps a directory when asked. */
  private clearDestination(components: readonly string[], keepDirectory: boolean): 'kept' | 'clear' {
    const abs = join(this.dest, ...components);
    const st = this.lstatOrUndefined(abs);
    if (st === undefined) return 'clear';
    if (keepDirectory && st.isDirectory()) return 'kept';
    try { rmSync(abs, { recursive: true, force: true }); } catch (err) { throw fromNodeError(err, 'rm', abs); }
    const prefix = components.join('/') + '/';
    this.dirTimes = this.dirTimes.filter((d) => {
      const rel = d.components.join('/');
      return rel !== components.join('/') && !rel.startsWith(prefix);
    });
    return 'clear';
  }

  private extractEntry(entry: ReadEntry, xattrs: Map<string, Buffer>): void {
    const name = entry.path;
    const components = this.clean(name, 'path');
    const base = components[components.length - 1];
    const parents = components.slice(0, -1);

    if (components.some((c, i) => c.startsWith(WHITEOUT_META_PREFIX) && !(i === components.length - 1 && c === WHITEOUT_OPAQUE))) {
      this.skipped.push(`entry "${name}": whiteout metadata skipped`);
      entry.resume();
      return;
    }
    if (base === WHITEOUT_OPAQUE) {
      const dirAbs = this.walkDirectories(name, parents, true);
      this.options.sys.lsetxattr(dirAbs, 'trusted.overlay.opaque', Buffer.from('y'));
      entry.resume();
      return;
    }
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) {
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      if (hidden === '' || hidden === '.' || hidden === '..') throw this.invalid(name, 'whiteout names nothing');
      const target = [...parents, hidden];
      this.walkDirectories(name, parents, true);
      this.clearDestination(target, false);
      const abs = join(this.dest, ...target);
      // overlayfs whiteout: a character device with device number 0/0 and no permission bits
      this.options.sys.mknod(abs, S_IFCHR, makedev(0, 0));
      if (this.options.privileged) this.chown(abs, entry);
      entry.resume();
      return;
    }

    switch (entry.type) {
      case 'Directory':
      case 'GNUDumpDir':
        this.writeDirectory(entry, components, xattrs);
        entry.resume();
        return;
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        if (components.length === 0) throw this.invalid(name, 'a file cannot replace the layer root');
        this.writeFile(entry, components, xattrs);
        return;
      case 'SymbolicLink':
        if (components.length === 0) throw this.invalid(name, 'a symbolic link cannot replace the layer root');
        this.writeSymlink(entry, components, xattrs);
        entry.resume();
        return;
      case 'Link':
        if (components.length === 0) throw this.invalid(name, 'a hard link cannot replace the layer root');
        this.writeHardLink(entry, components);
        entry.resume();
        return;
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO':
        if (components.length === 0) throw this.invalid(name, 'a device cannot replace the layer root');
        this.writeNode(entry, components, xattrs);
        entry.resume();
        return;
      default:
        this.skipped.push(`entry "${name}": tar entry type ${entry.type} skipped`);
        entry.resume();
    }
  }

  private writeDirectory(entry: ReadEntry, components: string[], xattrs: Map<string, Buffer>): void {
    this.walkDirectories(entry.path, components.slice(0, -1), true);
    const abs = join(this.dest, ...components);
    if (components.length > 0 && this.clearDestination(components, true) === 'clear') {
      try { mkdirSync(abs, 0o700); } catch (err) { throw fromNodeError(err, 'mkdir', abs); }
    }
    if (this.options.privileged) this.chown(abs, entry);
    // chmod follows symlinks; `abs` was just lstat'ed or created as a real directory
    try { chmodSync(abs, (entry.mode ?? 0o755) & 0o7777); } catch (err) { throw fromNodeError(err, 'chmod', abs); }
    this.setXattrs(abs, entry.path, xattrs);
    const mtime = entry.mtime ?? new Date(0);
    this.dirTimes.push({ components, atime: entry.atime ?? mtime, mtime });
  }

  private writeFile(entry: ReadEntry, components: string[], xattrs: Map<string, Buffer>): void {
    const declared = entry.size;
    if (!Number.isSafeInteger(declared) || declared < 0) throw this.invalid(entry.path, `invalid size ${declared}`);
    if (this.size + declared > this.limits.maxTotalBytes) {
      throw this.invalid(entry.path, `declared size ${declared} exceeds the layer's ${this.limits.maxTotalBytes}-byte limit`);
    }
    this.size += declared;
    this.walkDirectories(entry.path, components.slice(0, -1), true);
    this.clearDestination(components, false);
    const abs = join(this.dest, ...components);
    let fd: number;
    try {
      fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw fromNodeError(err, 'open', abs);
    }
    this.openFd = fd;
    let written = 0;
    entry.on('data', (chunk: Buffer) => {
      if (this.failure) return;
      try {
        let offset = 0;
        while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
        written += chunk.length;
      } catch (err) {
        this.fail(fromNodeError(err, 'write', abs));
      }
    });
    entry.on('end', () => {
      if (this.failure) return;
      try {
        if (written !== declared) throw this.invalid(entry.path, `truncated: ${written} of ${declared} bytes`);
        if (this.options.privileged) {
          try { fchownSync(fd, entry.uid ?? 0, entry.gid ?? 0); } catch (err) { throw fromNodeError(err, 'fchown', abs); }
        }
        // after chown, which clears set-id bits
        try { fchmodSync(fd, (entry.mode ?? 0o644) & 0o7777); } catch (err) { throw fromNodeError(err, 'fchmod', abs); }
        this.setXattrs(abs, entry.path, xattrs);
        const mtime = entry.mtime ?? new Date(0);
        try { futimesSync(fd, entry.atime ?? mtime, mtime); } catch (err) { throw fromNodeError(err, 'futimes', abs); }
        closeSync(fd);
        this.openFd = -1;
      } catch (err) {
        this.fail(err);
      }
    });
  }

  private writeSymlink(entry: ReadEntry, components: string[], xattrs: Map<string, Buffer>): void {
    const target = entry.linkpath ?? '';
    if (target === '' || Buffer.byteLength(target) > this.limits.maxPathBytes || target.includes('\0')) {
      throw this.invalid(entry.path, 'symbolic link target is empty, too long or contains NUL');
    }
    this.walkDirectories(entry.path, components.slice(0, -1), true);
    this.clearDestination(components, false);
    const abs = join(this.dest, ...components);
    try { symlinkSync(target, abs); } catch (err) { throw fromNodeError(err, 'symlink', abs); }
    if (this.options.privileged) this.chown(abs, entry);
    this.setXattrs(abs, entry.path, xattrs);
    const mtime = entry.mtime ?? new Date(0);
    try { lutimesSync(abs, entry.atime ?? mtime, mtime); } catch (err) { throw fromNodeError(err, 'lutimes', abs); }
  }

  private writeHardLink(entry: ReadEntry, components: string[]): void {
    const targetComponents = this.clean(entry.linkpath ?? '', `hard link target "${entry.linkpath ?? ''}"`, entry.path);
    if (targetComponents.length === 0) throw this.invalid(entry.path, 'hard link to the layer root');
    if (targetComponents.join('/') === components.join('/')) throw this.invalid(entry.path, 'hard link to itself');
    this.walkDirectories(entry.path, components.slice(0, -1), true);
    this.clearDestination(components, false);
    // The target is checked after the destination is cleared: clearing may have removed it.
    const targetAbs = this.walkDirectories(entry.path, targetComponents.slice(0, -1), false);
    const targetFile = join(targetAbs, targetComponents[targetComponents.length - 1]);
    const st = this.lstatOrUndefined(targetFile);
    if (st === undefined) throw this.invalid(entry.path, `hard link target "${entry.linkpath}" is not in the layer`);
    if (!st.isFile()) throw this.invalid(entry.path, `hard link target "${entry.linkpath}" is not a regular file`);
    const abs = join(this.dest, ...components);
    // link(2) without AT_SYMLINK_FOLLOW never dereferences; the target is a regular file anyway
    try { linkSync(targetFile, abs); } catch (err) { throw fromNodeError(err, 'link', abs); }
  }

  private writeNode(entry: ReadEntry, components: string[], xattrs: Map<string, Buffer>): void {
    if (!this.options.privileged) {
      this.skipped.push(`entry "${entry.path}": ${entry.type} not created (needs root)`);
      return;
    }
    this.walkDirectories(entry.path, components.slice(0, -1), true);
    this.clearDestination(components, false);
    const abs = join(this.dest, ...components);
    const typeBits = entry.type === 'CharacterDevice' ? S_IFCHR : entry.type === 'BlockDevice' ? S_IFBLK : S_IFIFO;
    const dev = entry.type === 'FIFO' ? 0 : makedev(entry.header.devmaj ?? 0, entry.header.devmin ?? 0);
    this.options.sys.mknod(abs, typeBits | ((entry.mode ?? 0o644) & 0o7777), dev);
    this.chown(abs, entry);
    // mknod applied the umask; chmod does not open the node, and `abs` is the node just made
    try { chmodSync(abs, (entry.mode ?? 0o644) & 0o7777); } catch (err) { throw fromNodeError(err, 'chmod', abs); }
    this.setXattrs(abs, entry.path, xattrs);
    const mtime = entry.mtime ?? new Date(0);
    try { lutimesSync(abs, entry.atime ?? mtime, mtime); } catch (err) { throw fromNodeError(err, 'lutimes', abs); }
  }

  private chown(abs: string, entry: ReadEntry): void {
    try { lchownSync(abs, entry.uid ?? 0, entry.gid ?? 0); } catch (err) { throw fromNodeError(err, 'lchown', abs); }
  }

  private setXattrs(abs: string, name: string, xattrs: Map<string, Buffer>): void {
    for (const [key, value] of xattrs) {
      if (!xattrAllowed(key)) {
        this.skipped.push(`entry "${name}": xattr ${key} not applied (namespace not allowed in layers)`);
        continue;
      }
      try {
        this.options.sys.lsetxattr(abs, key, value);
      } catch (err) {
        const errno = (err as { errno?: string }).errno;
        // user.* is refused on symlinks and some filesystems lack xattrs: note it, carry on
        if (errno === 'EPERM' || errno === 'ENOTSUP' || errno === 'EOPNOTSUPP') {
          this.skipped.push(`entry "${name}": xattr ${key} not applied (${errno})`);
          continue;
        }
        throw err;
      }
    }
  }
}

/**
 * Extracts xattrs from the text of a PAX extended header. Records are `<len> <key>=<value>\n`
 * with `len` counting bytes. The text may also be a GNU long name (not PAX at all): the first
 * record then fails to parse and nothing is returned.
 */
export function parsePaxXattrs(text: string, note: (message: string) => void): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const fromLibarchive = new Set<string>();
  const buf = Buffer.from(text, 'utf8');
  let pos = 0;
  let records = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    const length = space > pos ? Number(buf.subarray(pos, space).toString('latin1')) : NaN;
    const end = pos + length;
    if (!Number.isSafeInteger(length) || length <= 0 || end > buf.length || buf[end - 1] !== 0x0a) {
      if (records > 0) note('pax header: unreadable record (binary xattr values are not supported); remaining records skipped');
      break;
    }
    const record = buf.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) break;
    const key = record.subarray(0, eq).toString('utf8');
    const value = record.subarray(eq + 1);
    records++;
    pos = end;
    if (key.startsWith('LIBARCHIVE.xattr.')) {
      const name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      out.set(name, Buffer.from(value.toString('latin1'), 'base64'));
      fromLibarchive.add(name);
    } else if (key.startsWith('SCHILY.xattr.')) {
      const name = key.slice('SCHILY.xattr.'.length);
      if (fromLibarchive.has(name)) continue;
      // U+FFFD means the value was not valid UTF-8 and node-tar's decoding lost bytes
      if (value.includes(Buffer.from('\uFFFD', 'utf8'))) {
        note(`pax header: xattr ${name} has a binary value that cannot be read; skipped`);
        continue;
      }
      out.set(name, Buffer.from(value));
    }
  }
  return out;
}
