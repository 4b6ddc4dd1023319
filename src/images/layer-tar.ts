// A layer directory in the store's format (overlayfs whiteouts) → a layer tar in the
// distribution format (`.wh.` files), as docker's overlay2 driver writes a diff:
//   a 0/0 character device NAME          → an empty file `.wh.NAME`
//   a directory with trusted.overlay.opaque=y → the directory, then `DIR/.wh..wh..opq`
// The tar is a pure function of the tree (names sorted bytewise, no atime/ctime, uid/gid as
// stored, no user or group names), so the same tree always gives the same diffID: the build
// cache and push rely on it. Hard links within the tree become tar hard links.
//
// The upper dir of a container may carry other overlayfs state (redirect, metacopy) only if the
// kernel was told to make it; berth's mounts never ask, and a tree that has it is refused rather
// than written wrong.
import { lstatSync, readdirSync, readlinkSync, readFileSync, createReadStream, createWriteStream, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { Header } from 'tar';
import { InvalidArgument, Unsupported, fromNodeError } from '../lib/errors.js';
import type { Sys } from '../sys/sys.js';

const BLOCK = 512;
const SMALL_FILE = 1024 * 1024;

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

interface EntryHeader {
  path: string;
  type: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkpath?: string;
  devmaj?: number;
  devmin?: number;
  xattrs?: Map<string, Buffer>;
}

/** The header block(s) of one entry: a PAX header first when a field does not fit ustar. */
export function encodeHeader(e: EntryHeader): Buffer {
  const mtime = new Date(Math.floor(e.mtime.getTime() / 1000) * 1000);
  const header = new Header({
    path: e.path, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size, mtime, type: e.type,
    linkpath: e.linkpath ?? '', uname: '', gname: '', devmaj: e.devmaj ?? 0, devmin: e.devmin ?? 0,
  });
  const block = Buffer.alloc(BLOCK);
  const needPax = header.encode(block, 0);
  const records: Buffer[] = [];
  if (needPax) {
    if (Buffer.byteLength(e.path) > 99) records.push(paxRecord('path', Buffer.from(e.path)));
    if (e.linkpath !== undefined && Buffer.byteLength(e.linkpath) > 99) records.push(paxRecord('linkpath', Buffer.from(e.linkpath)));
    if (e.size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(e.size))));
    if (e.uid > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
    if (e.gid > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
  }
  for (const [k, v] of [...(e.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : 1))) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  if (records.length === 0) return block;
  const body = Buffer.concat(records);
  const paxHeader = Buffer.alloc(BLOCK);
  new Header({ path: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime, type: 'ExtendedHeader', linkpath: '', uname: '', gname: '', devmaj: 0, devmin: 0 }).encode(paxHeader, 0);
  return Buffer.concat([paxHeader, body, padding(body.length), block]);
}

/** Linux major/minor from st_rdev (glibc's encoding). */
function major(dev: number): number { return ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff); }
function minor(dev: number): number { return (dev & 0xff) | ((dev >>> 12) & ~0xff); }

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;

/** Options of a tree walk. */
export interface LayerTarOptions {
  /** reads security.capability and overlay markers */
  readonly sys: Pick<Sys, 'lgetxattr'>;
  /** notes about entries not written (sockets) */
  readonly skipped?: string[];
  /** relative paths left out when they are empty regular files (the runtime's mount stubs) */
  readonly excludeEmptyFiles?: readonly string[];
}

function xattrsOf(sys: Pick<Sys, 'lgetxattr'>, abs: string, isSymlink: boolean): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (isSymlink) return out;
  const cap = sys.lgetxattr(abs, 'security.capability');
  if (cap !== undefined) out.set('security.capability', Buffer.from(cap));
  return out;
}

/**
 * Yields the layer tar of `dir`, block by block. `dir` must not change while it is read (a
 * stopped container's upper dir, a staged COPY).
 */
export async function* layerTar(dir: string, opts: LayerTarOptions): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  const sys = opts.sys;
  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const abs = rel === '' ? dir : join(dir, rel);
    let names: string[];
    try { names = readdirSync(abs); } catch (err) { throw fromNodeError(err, 'readdir', abs); }
    names.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const childAbs = join(abs, name);
      let st: Stats;
      try { st = lstatSync(childAbs); } catch (err) { throw fromNodeError(err, 'lstat', childAbs); }
      const fmt = st.mode & S_IFMT;
      if (st.isFile() && st.size === 0 && opts.excludeEmptyFiles?.includes(childRel)) continue;
      const base = { uid: st.uid, gid: st.gid, mtime: st.mtime, mode: st.mode & 0o7777 };
      if (fmt === S_IFCHR && st.rdev === 0) {
        // an overlayfs whiteout
        yield encodeHeader({ ...base, path: rel === '' ? `.wh.${name}` : `${rel}/.wh.${name}`, type: 'File', size: 0, mode: 0o600, uid: 0, gid: 0 });
        continue;
      }
      if (st.isDirectory()) {
        for (const marker of ['trusted.overlay.redirect', 'trusted.overlay.metacopy']) {
          if (sys.lgetxattr(childAbs, marker) !== undefined) throw new Unsupported(`${childAbs}: overlayfs ${marker.slice(16)} state cannot be written as a layer (mount with redirect_dir=off,metacopy=off)`);
        }
        yield encodeHeader({ ...base, path: `${childRel}/`, type: 'Directory', size: 0, xattrs: xattrsOf(sys, childAbs, false) });
        const opaque = sys.lgetxattr(childAbs, 'trusted.overlay.opaque');
        if (opaque !== undefined && Buffer.from(opaque).toString() === 'y') {
          yield encodeHeader({ path: `${childRel}/.wh..wh..opq`, type: 'File', size: 0, mode: 0o600, uid: 0, gid: 0, mtime: st.mtime });
        }
        yield* walk(childRel);
        continue;
      }
      if (st.isSymbolicLink()) {
        let target: string;
        try { target = readlinkSync(childAbs); } catch (err) { throw fromNodeError(err, 'readlink', childAbs); }
        yield encodeHeader({ ...base, path: childRel, type: 'SymbolicLink', size: 0, linkpath: target });
        continue;
      }
      if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1) {
          const first = links.get(key);
          if (first !== undefined) {
            yield encodeHeader({ ...base, path: childRel, type: 'Link', size: 0, linkpath: first });
            continue;
          }
          links.set(key, childRel);
        }
        yield encodeHeader({ ...base, path: childRel, type: 'File', size: st.size, xattrs: xattrsOf(sys, childAbs, false) });
        if (st.size <= SMALL_FILE) {
          // one read: a stream per small file costs more than the copy
          const data = readFileSync(childAbs);
          if (data.length !== st.size) throw new InvalidArgument(`${childAbs}: changed size while it was read into a layer`);
          yield data;
          yield padding(st.size);
          continue;
        }
        let written = 0;
        for await (const chunk of createReadStream(childAbs)) {
          const buf = chunk as Buffer;
          const room = st.size - written;
          if (room <= 0) break;
          const part = buf.length > room ? buf.subarray(0, room) : buf;
          written += part.length;
          yield part;
        }
        if (written !== st.size) throw new InvalidArgument(`${childAbs}: changed size while it was read into a layer`);
        yield padding(st.size);
        continue;
      }
      if (fmt === S_IFCHR || fmt === S_IFBLK) {
        yield encodeHeader({ ...base, path: childRel, type: fmt === S_IFCHR ? 'CharacterDevice' : 'BlockDevice', size: 0, devmaj: major(st.rdev), devmin: minor(st.rdev) });
        continue;
      }
      if (fmt === S_IFIFO) {
        yield encodeHeader({ ...base, path: childRel, type: 'FIFO', size: 0 });
        continue;
      }
      if (fmt === S_IFSOCK) opts.skipped?.push(`${childRel}: socket not written to the layer`);
    }
  }
  yield* walk('');
  yield Buffer.alloc(BLOCK * 2);
}

export interface WrittenLayer {
  /** sha256 of the uncompressed tar */
  readonly diffId: string;
  /** sha256 of the file written */
  readonly blobDigest: string;
  readonly blobSize: number;
  /** bytes of the uncompressed tar */
  readonly tarSize: number;
}

/**
 * Writes `dir` as a gzip-compressed layer blob to `outFile` (level 1 by default: layers are
 * written on every build step, and speed matters more there than a few percent of size).
 */
export async function writeLayerBlob(dir: string, outFile: string, opts: LayerTarOptions & { readonly gzipLevel?: number }): Promise<WrittenLayer> {
  const tarHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let tarSize = 0;
  let blobSize = 0;
  const gzip = createGzip({ level: opts.gzipLevel ?? 1 });
  const out = createWriteStream(outFile, { mode: 0o600 });
  const finished = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', (err) => reject(fromNodeError(err, 'write', outFile)));
    gzip.on('error', reject);
  });
  gzip.on('data', (chunk: Buffer) => {
    blobHash.update(chunk);
    blobSize += chunk.length;
    if (!out.write(chunk)) { gzip.pause(); out.once('drain', () => gzip.resume()); }
  });
  gzip.on('end', () => out.end());
  // zlib compresses each write on the thread pool: batch the many small header and file chunks
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    const data = batch.length === 1 ? batch[0] : Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    if (!gzip.write(data)) await new Promise<void>((resolve) => gzip.once('drain', () => resolve()));
  };
  try {
    for await (const chunk of layerTar(dir, opts)) {
      if (chunk.length === 0) continue;
      tarHash.update(chunk);
      tarSize += chunk.length;
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= 256 * 1024) await flush();
    }
    await flush();
  } catch (err) {
    gzip.destroy();
    out.destroy();
    throw err;
  }
  gzip.end();
  await finished;
  return { diffId: `sha256:${tarHash.digest('hex')}`, blobDigest: `sha256:${blobHash.digest('hex')}`, blobSize, tarSize };
}
