// Hostile layer archives (class: image content that makes the runtime write where or what it
// must not). A GNU-format tar's device node must be created with its own numbers (it came out
// as 0:0, an overlay whiteout that hid the path in the merged rootfs); a layer that would fill
// the disk (a gzip bomb: a few MB that inflate to gigabytes) must stop with a clear error while
// the disk still has its reserve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractLayer } from '../../src/images/extract.js';
import { lazySys } from '../../src/sys/index.js';
import { SysError } from '../../src/lib/errors.js';

function tarHeader(name: string, type: string, size: number, extra: (block: Buffer) => void = () => undefined): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 'latin1');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar  \0', 257, 'latin1'); // GNU magic + version
  extra(block);
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return block;
}

async function* chunks(...parts: Buffer[]): AsyncIterable<Buffer> {
  for (const p of parts) yield p;
}

test('GNU-format device nodes keep their major:minor (not 0:0, an overlay whiteout)', async () => {
  const dest = mkdtempSync(join(tmpdir(), 'berth-gnu-'));
  try {
    // built by GNU tar itself, whose default format is GNU
    const src = join(dest, 'src');
    mkdirSync(join(src, 'dev'), { recursive: true });
    assert.equal(spawnSync('mknod', [join(src, 'dev', 'null2'), 'c', '1', '3']).status, 0);
    assert.equal(spawnSync('mknod', [join(src, 'dev', 'loop9'), 'b', '7', '9']).status, 0);
    const tar = spawnSync('tar', ['-C', src, '-cf', '-', 'dev']).stdout as Buffer;
    assert.equal(tar.toString('latin1', 512 + 257, 512 + 265), 'ustar  \0', 'GNU tar wrote a GNU header');
    const layer = join(dest, 'layer');
    mkdirSync(layer);
    await extractLayer(chunks(tar), layer, { sys: lazySys, privileged: true, label: 'layer gnu' });
    const c = lstatSync(join(layer, 'dev', 'null2'));
    assert.ok(c.isCharacterDevice());
    assert.equal(c.rdev, (1 << 8) | 3);
    const b = lstatSync(join(layer, 'dev', 'loop9'));
    assert.ok(b.isBlockDevice());
    assert.equal(b.rdev, (7 << 8) | 9);
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
});

test('a layer that would fill the disk stops with a clear error, the reserve kept', async () => {
  const dest = mkdtempSync(join(tmpdir(), 'berth-fill-'));
  try {
    const s = statfsSync(dest);
    const free = s.bavail * s.bsize;
    // make "the disk" 48 MiB big for this test: the reserve is everything but 48 MiB
    const reserve = free - 48 * 1024 ** 2;
    const size = 512 * 1024 ** 2; // a 512 MiB file, streamed as zeros (what a gzip bomb inflates to)
    async function* bomb(): AsyncIterable<Buffer> {
      yield tarHeader('bomb', '0', size);
      const zeros = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < size / zeros.length; i++) yield zeros;
    }
    const layer = join(dest, 'layer');
    mkdirSync(layer);
    await assert.rejects(extractLayer(bomb(), layer, { sys: lazySys, privileged: true, label: 'layer bomb', limits: { minFreeBytes: reserve } }), (err: unknown) => {
      assert.ok(err instanceof SysError);
      assert.equal(err.errno, 'ENOSPC');
      assert.match(err.message, /^layer bomb: not enough disk space: \d+ bytes free on the filesystem of ".*" after \d+ bytes of the layer; berth keeps \d+ bytes free$/);
      return true;
    });
    const written = lstatSync(join(layer, 'bomb')).size;
    assert.ok(written < 80 * 1024 ** 2, `stopped early (${written} bytes written)`);
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
});

test('the documented maximum: a stream above maxStreamBytes is refused', async () => {
  const dest = mkdtempSync(join(tmpdir(), 'berth-max-'));
  try {
    const layer = join(dest, 'layer');
    mkdirSync(layer);
    const big = tarHeader('f', '0', 4 * 1024 * 1024);
    await assert.rejects(
      extractLayer(chunks(big, Buffer.alloc(4 * 1024 * 1024)), layer, { sys: lazySys, privileged: true, label: 'layer big', limits: { maxStreamBytes: 1024 * 1024 } }),
      /layer big: tar stream larger than the 1048576-byte limit/,
    );
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
});
