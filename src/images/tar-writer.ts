// Writes a tar of named in-memory or on-disk files (for `save`): headers from layer-tar.ts's
// encoder, every entry a root-owned 0644 regular file or 0755 directory with a fixed mtime, so
// the same images always save to the same bytes.
import { createReadStream, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { encodeHeader } from './layer-tar.js';

const EPOCH = new Date(0);

export class TarWriter {
  private readonly dirs = new Set<string>();
  /** bytes written so far */
  bytes = 0;
  constructor(private readonly out: Writable) {}

  private async write(buf: Buffer): Promise<void> {
    if (buf.length === 0) return;
    this.bytes += buf.length;
    if (!this.out.write(buf)) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  async directory(path: string): Promise<void> {
    if (this.dirs.has(path)) return;
    this.dirs.add(path);
    await this.write(encodeHeader({ path: `${path}/`, type: 'Directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: EPOCH }));
  }

  async buffer(path: string, data: Buffer): Promise<void> {
    await this.write(encodeHeader({ path, type: 'File', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: EPOCH }));
    await this.write(data);
    await this.write(pad(data.length));
  }

  async file(path: string, source: string): Promise<void> {
    const size = statSync(source).size;
    await this.write(encodeHeader({ path, type: 'File', mode: 0o644, uid: 0, gid: 0, size, mtime: EPOCH }));
    let written = 0;
    for await (const chunk of createReadStream(source, { end: size - 1 })) {
      written += (chunk as Buffer).length;
      await this.write(chunk as Buffer);
    }
    if (size > 0 && written !== size) throw new Error(`${source} changed size while it was saved`);
    await this.write(pad(size));
  }

  async end(): Promise<void> {
    await this.write(Buffer.alloc(1024));
    await new Promise<void>((resolve, reject) => { this.out.on('error', reject); this.out.end(() => resolve()); });
  }
}

function pad(size: number): Buffer {
  const rest = size % 512;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(512 - rest);
}
