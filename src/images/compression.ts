// Reading a tar file that may be compressed. The format is decided by magic bytes, never by
// file name or media type, because archives in the wild mislabel both. gzip (zlib) and zstd
// (fzstd: Node 20's zlib has no zstd) are decompressed; bzip2 and xz are recognised so the error
// says what the file is.
import { openSync, readSync, closeSync, createReadStream } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { Transform, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidArgument, Unsupported, fromNodeError, BerthError } from '../lib/errors.js';

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function detectCompression(head: Uint8Array): Compression {
  const at = (i: number) => (i < head.length ? head[i] : -1);
  if (at(0) === 0x1f && at(1) === 0x8b) return 'gzip';
  if (at(0) === 0x28 && at(1) === 0xb5 && at(2) === 0x2f && at(3) === 0xfd) return 'zstd';
  if (at(0) === 0x42 && at(1) === 0x5a && at(2) === 0x68) return 'bzip2';
  if (at(0) === 0xfd && at(1) === 0x37 && at(2) === 0x7a && at(3) === 0x58 && at(4) === 0x5a && at(5) === 0x00) return 'xz';
  return 'none';
}

export function sniffFile(path: string): Compression {
  const head = Buffer.alloc(6);
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const n = readSync(fd, head, 0, head.length, 0);
    return detectCompression(head.subarray(0, n));
  } catch (err) {
    throw fromNodeError(err, 'read', path);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** A tar file opened for one pass: the uncompressed bytes, and digests once the pass is over. */
export interface TarSource {
  readonly compression: Compression;
  /** the uncompressed tar bytes, in order; hashing happens as they are read */
  readonly chunks: AsyncIterable<Buffer>;
  /** "sha256:<hex>" of the file as stored (valid after `chunks` is exhausted) */
  fileDigest(): string;
  /** "sha256:<hex>" of the uncompressed tar: the layer's diffID (valid after `chunks` is exhausted) */
  tarDigest(): string;
}

/** Opens `path` for one streaming pass. `label` names the file in errors ("layer sha256:…"). */
export function openTar(path: string, label: string): TarSource {
  const compression = sniffFile(path);
  if (compression !== 'none' && compression !== 'gzip' && compression !== 'zstd') {
    throw new Unsupported(`${label}: ${compression}-compressed tar is not supported (only plain, gzip and zstd)`);
  }
  const fileHash = createHash('sha256');
  const tarHash = createHash('sha256');
  let fileHex: string | undefined;
  let tarHex: string | undefined;
  async function* read(): AsyncGenerator<Buffer> {
    let streamError: Error | undefined;
    const file = createReadStream(path);
    const tapFile = hashingTap(fileHash);
    const onEnd = (err: Error | null) => { if (err) streamError = err; };
    const last: Readable = compression === 'gzip'
      ? pipeline(file, tapFile, createGunzip(), onEnd)
      : compression === 'zstd'
        ? pipeline(file, tapFile, await createZstdDecompressor(), onEnd)
        : pipeline(file, tapFile, onEnd);
    try {
      for await (const chunk of last) {
        const buf = chunk as Buffer;
        tarHash.update(buf);
        yield buf;
      }
    } catch (err) {
      throw wrapStreamError(streamError ?? err, path, label);
    }
    if (streamError) throw wrapStreamError(streamError, path, label);
    fileHex = fileHash.digest('hex');
    tarHex = tarHash.digest('hex');
  }
  return {
    compression,
    chunks: read(),
    fileDigest() {
      if (fileHex === undefined) throw new BerthError('INTERNAL', `${label}: digest read before the end of the stream`);
      return `sha256:${fileHex}`;
    },
    tarDigest() {
      if (tarHex === undefined) throw new BerthError('INTERNAL', `${label}: digest read before the end of the stream`);
      return `sha256:${tarHex}`;
    },
  };
}

/**
 * A streaming zstd decoder (fzstd, pure JavaScript, loaded only when a zstd layer is met). Its
 * output chunks may alias its window buffer, so each one is copied before it is passed on.
 */
export async function createZstdDecompressor(): Promise<Transform> {
  const { Decompress } = await import('fzstd');
  let decoder: InstanceType<typeof Decompress> | undefined;
  let sawInput = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder ??= new Decompress((data) => { if (data.length > 0) this.push(Buffer.from(data)); });
        sawInput ||= chunk.length > 0;
        decoder.push(chunk);
        done();
      } catch (err) {
        done(zstdError(err));
      }
    },
    flush(done) {
      try {
        if (decoder && sawInput) decoder.push(new Uint8Array(0), true);
        done();
      } catch (err) {
        done(zstdError(err));
      }
    },
  });
}

function zstdError(err: unknown): Error {
  const e = new Error(`zstd: ${(err as Error)?.message ?? String(err)}`) as NodeJS.ErrnoException;
  e.code = 'ERR_ZSTD';
  return e;
}

function hashingTap(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

function wrapStreamError(err: unknown, path: string, label: string): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException;
  // zlib reports corrupt or truncated input with Z_* codes (or ERR_ codes on a short stream)
  if (typeof e?.code === 'string' && (e.code.startsWith('Z_') || e.code.startsWith('ERR_'))) {
    return new InvalidArgument(e.code === 'ERR_ZSTD' ? `${label}: ${e.message}` : `${label}: gzip: ${e.message}`);
  }
  return fromNodeError(err, 'read', path);
}
