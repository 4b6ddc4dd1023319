// The image store on the real kernel, as root: docker-archive and OCI loading, import, shared
// layers, whiteouts under a real overlay mount, rmi semantics, and hostile layer tars. Every
// archive is built here, byte by byte, so hostile headers are exactly what the test says.
// Each test uses its own temporary BERTH_ROOT and checks that nothing is left mounted.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, existsSync, lstatSync, statSync,
  readlinkSync, mkdirSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lazySys } from '../../src/sys/index.js';
import { MS_RDONLY, MNT_DETACH, type Sys } from '../../src/sys/sys.js';
import { ImageStore, chainIds, type ImageRecord } from '../../src/images/store.js';
import { BerthError } from '../../src/lib/errors.js';

// ---- a small tar writer (test code): ustar headers, PAX records, nothing sanitised ----------

interface TarEntry {
  name: string;
  /** ustar typeflag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo */
  type?: string;
  data?: Buffer | string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** extra PAX records for this entry */
  pax?: Record<string, string>;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(fields: { name: string; type: string; size: number; mode: number; uid: number; gid: number; mtime: number; linkname: string; devmajor: number; devminor: number }): Buffer {
  const h = Buffer.alloc(512);
  h.write(fields.name, 0, 100, 'utf8');
  h.write(octal(fields.mode, 8), 100, 'latin1');
  h.write(octal(fields.uid, 8), 108, 'latin1');
  h.write(octal(fields.gid, 8), 116, 'latin1');
  h.write(octal(fields.size, 12), 124, 'latin1');
  h.write(octal(fields.mtime, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(fields.type, 156, 'latin1');
  h.write(fields.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write(octal(fields.devmajor, 8), 329, 'latin1');
  h.write(octal(fields.devminor, 8), 337, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

function makeTar(entries: TarEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? '0';
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const records = { ...(e.pax ?? {}) };
    let name = e.name;
    if (Buffer.byteLength(name) > 99) { records.path = name; name = name.slice(0, 99); }
    const paxText = Object.entries(records).map(([k, v]) => paxRecord(k, v)).join('');
    if (paxText !== '') {
      const body = Buffer.from(paxText);
      parts.push(header({ name: 'PaxHeader/x', type: 'x', size: body.length, mode: 0o644, uid: 0, gid: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0 }), pad(body));
    }
    parts.push(header({
      name, type, size: type === '0' ? data.length : 0, mode: e.mode ?? (type === '5' ? 0o755 : 0o644),
      uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? 1_700_000_000, linkname: e.linkname ?? '',
      devmajor: e.devmajor ?? 0, devminor: e.devminor ?? 0,
    }));
    if (type === '0' && data.length > 0) parts.push(pad(data));
  }
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hexOf = (d: string) => d.slice('sha256:'.length);

// ---- image archives built from layer tars ---------------------------------------------------

interface TestImage { tags: string[]; layers: Buffer[]; gzipLayers?: boolean; cmd?: string[]; created?: string }

function imageConfig(img: TestImage): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: img.created ?? '2024-01-02T03:04:05Z',
    config: { Cmd: img.cmd ?? ['sh'], Env: ['PATH=/bin'], WorkingDir: '/', Labels: { test: 'yes' } },
    rootfs: { type: 'layers', diff_ids: img.layers.map((l) => sha(l)) },
  }));
}

function dockerArchive(images: TestImage[]): Buffer {
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  const manifest = images.map((img) => {
    const config = imageConfig(img);
    const configName = `${hexOf(sha(config))}.json`;
    if (!seen.has(configName)) { seen.add(configName); entries.push({ name: configName, data: config }); }
    const layerNames = img.layers.map((layer) => {
      const stored = img.gzipLayers ? gzipSync(layer) : layer;
      const dir = hexOf(sha(stored));
      const name = `${dir}/layer.tar`;
      if (!seen.has(name)) {
        seen.add(name);
        entries.push({ name: `${dir}/`, type: '5' }, { name, data: stored });
      }
      return name;
    });
    return { Config: configName, RepoTags: img.tags, Layers: layerNames };
  });
  entries.push({ name: 'manifest.json', data: JSON.stringify(manifest) });
  return makeTar(entries);
}

function ociArchive(images: { refName?: string; image: TestImage }[]): Buffer {
  const entries: TarEntry[] = [{ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'blobs/', type: '5' }, { name: 'blobs/sha256/', type: '5' }];
  const seen = new Set<string>();
  const blob = (data: Buffer) => {
    const d = sha(data);
    if (!seen.has(d)) { seen.add(d); entries.push({ name: `blobs/sha256/${hexOf(d)}`, data }); }
    return { digest: d, size: data.length };
  };
  const manifests = images.map(({ refName, image }) => {
    const config = imageConfig(image);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(config) },
      layers: image.layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob(gzipSync(l)) })),
    }));
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json', ...blob(manifest),
      ...(refName ? { annotations: { 'org.opencontainers.image.ref.name': refName } } : {}),
    };
  });
  entries.push({ name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests }) });
  return makeTar(entries);
}

// ---- layers: a busybox rootfs and synthetic changes ------------------------------------------

const busybox = readFileSync('/bin/busybox');

/** Layer 1: a minimal busybox rootfs. */
function baseLayer(): Buffer {
  return makeTar([
    { name: './', type: '5', mode: 0o755 },
    { name: 'bin/', type: '5' },
    { name: 'bin/busybox', data: busybox, mode: 0o755 },
    { name: 'bin/sh', type: '2', linkname: 'busybox' },
    { name: 'bin/ls', type: '1', linkname: 'bin/busybox' },
    { name: 'etc/', type: '5' },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'etc/remove-me', data: 'deleted by layer 3\n' },
    { name: 'data/', type: '5', mode: 0o750, uid: 1000, gid: 1000 },
    { name: 'data/a', data: 'a from layer 1\n', uid: 1000, gid: 1000, mode: 0o640 },
    { name: 'tmp/', type: '5', mode: 0o1777 },
  ]);
}

/** Layer 2: adds files, a device node, an xattr and a forged trusted.overlay xattr. */
function secondLayer(): Buffer {
  return makeTar([
    { name: 'etc/', type: '5' },
    { name: 'etc/hello', data: 'hello from layer 2\n', pax: { 'SCHILY.xattr.user.berth': 'layer-two', 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
    { name: 'data/', type: '5', mode: 0o750, uid: 1000, gid: 1000 },
    { name: 'data/b', data: 'b from layer 2\n' },
    { name: 'dev/', type: '5' },
    { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'run.fifo', type: '6', mode: 0o600 },
  ]);
}

/** Layer 3: deletes etc/remove-me, makes data/ opaque with only c in it. */
function whiteoutLayer(): Buffer {
  return makeTar([
    { name: 'etc/', type: '5' },
    { name: 'etc/.wh.remove-me', data: '' },
    { name: 'data/', type: '5', mode: 0o750, uid: 1000, gid: 1000 },
    { name: 'data/.wh..wh..opq', data: '' },
    { name: 'data/c', data: 'c from layer 3\n' },
  ]);
}

// ---- harness ---------------------------------------------------------------------------------

interface Env { dir: string; root: string; sys: Sys; store: ImageStore; file(name: string, data: Buffer): string }

async function withStore(body: (env: Env) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-images-'));
  const sys = lazySys;
  const root = join(dir, 'root');
  mkdirSync(root);
  const store = new ImageStore({ root, sys });
  const file = (name: string, data: Buffer) => { const p = join(dir, name); writeFileSync(p, data); return p; };
  try {
    await body({ dir, root, sys, store, file });
  } finally {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(mounts, [], 'no mount left under the test root');
  }
}

/** overlay2 dirs that are image layers (the l/ link dir excluded). */
function layerDirs(root: string): string[] {
  const dir = join(root, 'overlay2');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n !== 'l').sort() : [];
}

function diffOf(root: string, layer: { cacheId: string }): string {
  return join(root, 'overlay2', layer.cacheId, 'diff');
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

// ---- tests -----------------------------------------------------------------------------------

test('load of a plain 3-layer docker-archive stores the layers, the config and the tag', async () => {
  await withStore(async ({ root, store, file }) => {
    const layers = [baseLayer(), secondLayer(), whiteoutLayer()];
    const { loaded, messages } = await store.load(file('bb.tar', dockerArchive([{ tags: ['busybox:latest'], layers }])));
    assert.deepEqual(messages, ['Loaded image: busybox:latest']);
    assert.equal(loaded.length, 1);
    const image = loaded[0];
    assert.equal(image.id, sha(imageConfig({ tags: [], layers })));
    assert.deepEqual(image.repoTags, ['busybox:latest']);
    assert.equal(image.created, '2024-01-02T03:04:05Z');
    assert.deepEqual(image.config.Cmd, ['sh']);
    assert.equal(image.architecture, 'amd64');
    assert.deepEqual(image.layers.map((l) => l.diffId), layers.map((l) => sha(l)));
    assert.deepEqual(image.layers.map((l) => l.chainId), chainIds(layers.map((l) => sha(l))));
    assert.deepEqual(image.layers.map((l) => l.cacheId), image.layers.map((l) => hexOf(l.chainId)));
    const fileBytes = busybox.length + 30 + 19 + 15 + 19 + 15 + 15;
    assert.equal(image.size, fileBytes);
    assert.deepEqual(layerDirs(root), image.layers.map((l) => l.cacheId).sort());

    // overlay2 layout: link and lower files, l/ short links
    const [l1, l2, l3] = image.layers;
    assert.equal(readFileSync(join(root, 'overlay2', l3.cacheId, 'lower'), 'utf8'), `l/${l2.link}:l/${l1.link}`);
    assert.equal(existsSync(join(root, 'overlay2', l1.cacheId, 'lower')), false);
    assert.equal(readlinkSync(join(root, 'overlay2', 'l', l1.link)), `../${l1.cacheId}/diff`);

    // files, modes, owners, links, times
    const d1 = diffOf(root, l1);
    assert.ok(readFileSync(join(d1, 'bin/busybox')).equals(busybox));
    assert.equal(statSync(join(d1, 'bin/busybox')).mode & 0o7777, 0o755);
    assert.equal(readlinkSync(join(d1, 'bin/sh')), 'busybox');
    assert.equal(statSync(join(d1, 'bin/ls')).ino, statSync(join(d1, 'bin/busybox')).ino);
    const dataStat = statSync(join(d1, 'data'));
    assert.equal(dataStat.uid, 1000);
    assert.equal(dataStat.mode & 0o7777, 0o750);
    assert.equal(dataStat.mtimeMs, 1_700_000_000_000, 'directory mtime survives its children');
    assert.equal(statSync(join(d1, 'data/a')).mode & 0o7777, 0o640);
    assert.equal(statSync(join(d1, 'tmp')).mode & 0o7777, 0o1777);
    assert.equal(statSync(join(d1, 'etc/passwd')).mtimeMs, 1_700_000_000_000);

    // device node, fifo, xattrs (the forged trusted.overlay.opaque is not applied)
    const d2 = diffOf(root, l2);
    const nullStat = lstatSync(join(d2, 'dev/null'));
    assert.ok(nullStat.isCharacterDevice());
    assert.equal(nullStat.rdev, (1 << 8) | 3);
    assert.equal(nullStat.mode & 0o7777, 0o666);
    assert.ok(lstatSync(join(d2, 'run.fifo')).isFIFO());
  });
});

test('xattrs: user.* from PAX is applied, trusted.* from the archive is not', async () => {
  await withStore(async ({ root, sys, store, file }) => {
    const layers = [baseLayer(), secondLayer()];
    const { loaded } = await store.load(file('x.tar', dockerArchive([{ tags: ['x:1'], layers }])));
    const hello = join(diffOf(root, loaded[0].layers[1]), 'etc/hello');
    assert.equal(Buffer.from(sys.lgetxattr(hello, 'user.berth') ?? []).toString(), 'layer-two');
    assert.equal(sys.lgetxattr(hello, 'trusted.overlay.opaque'), undefined);
  });
});

test('gzip archive with gzip layers loads the same content; a layer shared by two images is stored once', async () => {
  await withStore(async ({ root, store, file }) => {
    const base = baseLayer();
    const archive = dockerArchive([
      { tags: ['app:one'], layers: [base, secondLayer()], gzipLayers: true, cmd: ['one'] },
      { tags: ['app:two', 'other/app:v2'], layers: [base, whiteoutLayer()], gzipLayers: true, cmd: ['two'] },
    ]);
    const { loaded, messages } = await store.load(file('apps.tar.gz', gzipSync(archive)));
    assert.deepEqual(messages, ['Loaded image: app:one', 'Loaded image: app:two', 'Loaded image: other/app:v2']);
    assert.equal(loaded.length, 2);
    assert.equal(loaded[0].layers[0].chainId, loaded[1].layers[0].chainId);
    assert.equal(loaded[0].layers[0].cacheId, loaded[1].layers[0].cacheId);
    assert.deepEqual(loaded[1].repoTags, ['app:two', 'other/app:v2']);
    assert.equal(layerDirs(root).length, 3, 'base + two distinct top layers');
    assert.ok(readFileSync(join(diffOf(root, loaded[0].layers[0]), 'bin/busybox')).equals(busybox));

    // loading again changes nothing and extracts nothing new
    const again = await store.load(file('apps2.tar', archive));
    assert.deepEqual(again.loaded.map((r) => r.id), loaded.map((r) => r.id));
    assert.equal(layerDirs(root).length, 3);
    assert.equal(store.list().length, 2);
  });
});

test('OCI image-layout archive: tag from ref.name, an untagged image is loaded by id', async () => {
  await withStore(async ({ store, file }) => {
    const tagged: TestImage = { tags: [], layers: [baseLayer(), secondLayer()], cmd: ['oci'] };
    const untagged: TestImage = { tags: [], layers: [baseLayer()], cmd: ['untagged'] };
    const { loaded, messages } = await store.load(file('oci.tar', ociArchive([
      { refName: 'docker.io/library/busybox:oci', image: tagged },
      { image: untagged },
    ])));
    const untaggedId = sha(imageConfig(untagged));
    assert.deepEqual(messages, ['Loaded image: busybox:oci', `Loaded image ID: ${untaggedId}`]);
    assert.deepEqual(loaded[0].config.Cmd, ['oci']);
    assert.deepEqual(loaded[0].repoTags, ['busybox:oci']);
    assert.deepEqual(loaded[1].repoTags, []);
    assert.equal(store.resolve(untaggedId).id, untaggedId);
  });
});

test('whiteouts become a 0/0 char device and trusted.overlay.opaque; a real overlay mount hides lower content', async () => {
  await withStore(async ({ dir, root, sys, store, file }) => {
    const { loaded } = await store.load(file('w.tar', dockerArchive([{ tags: ['w:latest'], layers: [baseLayer(), secondLayer(), whiteoutLayer()] }])));
    const image = loaded[0];
    const d3 = diffOf(root, image.layers[2]);
    const wh = lstatSync(join(d3, 'etc/remove-me'));
    assert.ok(wh.isCharacterDevice(), 'whiteout is a character device');
    assert.equal(wh.rdev, 0);
    assert.equal(existsSync(join(d3, 'etc/.wh.remove-me')), false);
    assert.equal(Buffer.from(sys.lgetxattr(join(d3, 'data'), 'trusted.overlay.opaque') ?? []).toString(), 'y');
    assert.equal(existsSync(join(d3, 'data/.wh..wh..opq')), false);

    const merged = join(dir, 'merged');
    mkdirSync(merged);
    const lowerdir = [...image.layers].reverse().map((l) => diffOf(root, l)).join(':');
    sys.mount('overlay', merged, 'overlay', MS_RDONLY, `lowerdir=${lowerdir}`);
    try {
      assert.equal(existsSync(join(merged, 'etc/remove-me')), false, 'deleted file is gone');
      assert.equal(readFileSync(join(merged, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
      assert.equal(readFileSync(join(merged, 'etc/hello'), 'utf8'), 'hello from layer 2\n');
      assert.deepEqual(readdirSync(join(merged, 'data')), ['c'], 'opaque dir hides a and b from below');
      assert.ok(readFileSync(join(merged, 'bin/busybox')).equals(busybox));
    } finally {
      sys.umount2(merged, MNT_DETACH);
    }
  });
});

test('import of a plain rootfs tar (and a gzip one) makes a one-layer image with no default Cmd', async () => {
  await withStore(async ({ root, store, file }) => {
    const rootfs = baseLayer();
    const image = await store.import(file('rootfs.tar', rootfs), 'imported:v1', { config: { Env: ['A=1'], WorkingDir: '/tmp' } });
    assert.deepEqual(image.repoTags, ['imported:v1']);
    assert.equal(image.layers.length, 1);
    assert.equal(image.layers[0].diffId, sha(rootfs));
    assert.equal(image.config.Cmd, undefined);
    assert.deepEqual(image.config.Env, ['A=1']);
    assert.equal(image.os, 'linux');
    assert.ok(readFileSync(join(diffOf(root, image.layers[0]), 'bin/busybox')).equals(busybox));

    const gz = await store.import(file('rootfs.tar.gz', gzipSync(rootfs)), undefined);
    assert.deepEqual(gz.repoTags, []);
    assert.equal(gz.layers[0].chainId, image.layers[0].chainId, 'same content, same layer');
    assert.equal(layerDirs(root).length, 1);
    assert.deepEqual(readdirSync(join(root, 'image', 'tmp')), [], 'staging cleaned up');
  });
});

test('list and resolve by name, tag, full id, sha256: id and unique prefix; unknown is NotFound', async () => {
  await withStore(async ({ store, file }) => {
    const { loaded } = await store.load(file('a.tar', dockerArchive([
      { tags: ['busybox:latest', 'localhost:5000/bb:v1'], layers: [baseLayer()] },
      { tags: ['second:latest'], layers: [baseLayer(), secondLayer()], created: '2025-01-01T00:00:00Z' },
    ])));
    const [first, second] = loaded;
    assert.deepEqual(store.list().map((r) => r.id), [second.id, first.id], 'newest first');
    assert.equal(store.resolve('busybox').id, first.id);
    assert.equal(store.resolve('busybox:latest').id, first.id);
    assert.equal(store.resolve('docker.io/library/busybox:latest').id, first.id);
    assert.equal(store.resolve('localhost:5000/bb:v1').id, first.id);
    assert.equal(store.resolve(first.id).id, first.id);
    assert.equal(store.resolve(hexOf(first.id)).id, first.id);
    // shortest prefix that tells the two apart (at least 4 hex digits)
    let n = 4;
    while (hexOf(first.id).slice(0, n) === hexOf(second.id).slice(0, n)) n++;
    assert.equal(store.resolve(hexOf(first.id).slice(0, n)).id, first.id);
    assert.equal(store.resolve(`sha256:${hexOf(second.id).slice(0, n)}`).id, second.id);
    assert.throws(() => store.resolve('busybox:nope'), (e: unknown) => e instanceof BerthError && e.code === 'NOT_FOUND' && /no such image: busybox:nope/.test(e.message));
    assert.throws(() => store.resolve('abc'), (e: unknown) => e instanceof BerthError && e.code === 'NOT_FOUND');
  });
});

test('loading a tag that names another image moves the tag; the old image keeps its id', async () => {
  await withStore(async ({ store, file }) => {
    const old = (await store.load(file('1.tar', dockerArchive([{ tags: ['app:latest'], layers: [baseLayer()], cmd: ['old'] }])))).loaded[0];
    const { loaded, messages } = await store.load(file('2.tar', dockerArchive([{ tags: ['app:latest'], layers: [baseLayer()], cmd: ['new'] }])));
    assert.notEqual(loaded[0].id, old.id);
    assert.deepEqual(messages, [`The image app:latest already exists, renaming the old one with ID ${old.id} to empty string`, 'Loaded image: app:latest']);
    assert.equal(store.resolve('app').id, loaded[0].id);
    assert.deepEqual(store.resolve(old.id).repoTags, []);
  });
});

test('rmi: untag while other tags remain, delete with the last tag, layers refcounted', async () => {
  await withStore(async ({ root, store, file }) => {
    const base = baseLayer();
    const { loaded } = await store.load(file('a.tar', dockerArchive([
      { tags: ['one:latest', 'one:alias'], layers: [base, secondLayer()] },
      { tags: ['two:latest'], layers: [base, whiteoutLayer()] },
    ])));
    const [one, two] = loaded;
    const notUsed = () => false;
    assert.throws(() => store.remove(one.id, { inUse: notUsed }), (e: unknown) => e instanceof BerthError && e.code === 'CONFLICT' && /must be forced/.test(e.message));
    assert.deepEqual(store.remove('one:alias', { inUse: notUsed }), ['Untagged: one:alias']);
    assert.deepEqual(store.resolve(one.id).repoTags, ['one:latest']);
    assert.equal(layerDirs(root).length, 3);

    assert.deepEqual(store.remove('one', { inUse: notUsed }), ['Untagged: one:latest', `Deleted: ${one.id}`, `Deleted: ${one.layers[1].chainId}`]);
    assert.throws(() => store.resolve(one.id), (e: unknown) => e instanceof BerthError && e.code === 'NOT_FOUND');
    assert.deepEqual(layerDirs(root), [two.layers[0].cacheId, two.layers[1].cacheId].sort(), 'shared base layer kept');
    assert.ok(readFileSync(join(diffOf(root, two.layers[0]), 'bin/busybox')).equals(busybox));

    assert.deepEqual(store.remove(hexOf(two.id).slice(0, 12), { inUse: notUsed }), [
      'Untagged: two:latest', `Deleted: ${two.id}`, `Deleted: ${two.layers[1].chainId}`, `Deleted: ${two.layers[0].chainId}`,
    ]);
    assert.deepEqual(layerDirs(root), []);
    assert.deepEqual(readdirSync(join(root, 'overlay2', 'l')), [], 'short links removed');
    assert.deepEqual(store.list(), []);
  });
});

test('rmi of an image a container uses is a Conflict, even with force, and changes nothing', async () => {
  await withStore(async ({ root, store, file }) => {
    const { loaded } = await store.load(file('a.tar', dockerArchive([{ tags: ['used:latest', 'used:other'], layers: [baseLayer()] }])));
    const image = loaded[0];
    const inUse = (id: string) => id === image.id;
    // untagging one of two tags is allowed while in use: the image stays
    assert.deepEqual(store.remove('used:other', { inUse }), ['Untagged: used:other']);
    for (const force of [false, true]) {
      for (const ref of ['used', image.id]) {
        assert.throws(() => store.remove(ref, { inUse, force }), (e: unknown) => e instanceof BerthError && e.code === 'CONFLICT' && /being used by a container/.test(e.message));
      }
    }
    const after: ImageRecord = store.resolve('used');
    assert.deepEqual(after.repoTags, ['used:latest']);
    assert.equal(layerDirs(root).length, 1);
  });
});

// ---- hostile layers ---------------------------------------------------------------------------

/** Imports `layer`; asserts a clear error, no layer committed, staging cleaned. */
async function hostile(env: Env, name: string, layer: Buffer, code: string, pattern: RegExp): Promise<void> {
  await rejectsWith(env.store.import(env.file(name, layer), 'hostile:latest'), code, pattern);
  assert.deepEqual(layerDirs(env.root), [], `${name}: no layer committed`);
  assert.deepEqual(readdirSync(join(env.root, 'image', 'tmp')), [], `${name}: staging removed`);
  assert.deepEqual(env.store.list(), []);
}

test('hostile: "../escape" and "/abs/../../escape" are refused, nothing written outside', async () => {
  await withStore(async (env) => {
    const outside = join(env.dir, 'escape');
    // the layer is staged in <root>/image/tmp/layer-X/diff: enough "../" to reach env.dir
    const deep = '../../../../../escape';
    await hostile(env, 'dotdot.tar', makeTar([{ name: '../escape', data: 'x' }]), 'INVALID_ARGUMENT', /entry "\.\.\/escape": path escapes the layer root/);
    await hostile(env, 'deep.tar', makeTar([{ name: deep, data: 'x' }]), 'INVALID_ARGUMENT', /escapes the layer root/);
    await hostile(env, 'abs.tar', makeTar([{ name: '/abs/../../escape', data: 'x' }]), 'INVALID_ARGUMENT', /entry "\/abs\/\.\.\/\.\.\/escape": path escapes/);
    assert.equal(existsSync(outside), false);
    assert.equal(existsSync('/escape'), false);
  });
});

test('hostile: absolute names are made relative to the layer, as docker does', async () => {
  await withStore(async (env) => {
    const image = await env.store.import(env.file('abs.tar', makeTar([{ name: '/etc/berth-abs-test', data: 'inside' }])), 'abs:ok');
    assert.equal(readFileSync(join(diffOf(env.root, image.layers[0]), 'etc/berth-abs-test'), 'utf8'), 'inside');
    assert.equal(existsSync('/etc/berth-abs-test'), false);
  });
});

test('hostile: a symlink to outside, then a file through it, is refused', async () => {
  await withStore(async (env) => {
    const outside = join(env.dir, 'outside');
    mkdirSync(outside);
    await hostile(env, 'symlink.tar', makeTar([
      { name: 'evil', type: '2', linkname: outside },
      { name: 'evil/pwned', data: 'owned' },
    ]), 'INVALID_ARGUMENT', /entry "evil\/pwned": parent "evil" is a symbolic link/);
    assert.deepEqual(readdirSync(outside), []);
    // the same through a directory entry and a relative link
    await hostile(env, 'symlink-dir.tar', makeTar([
      { name: 'up', type: '2', linkname: '../../../../../outside' },
      { name: 'up/newdir/', type: '5' },
    ]), 'INVALID_ARGUMENT', /parent "up" is a symbolic link/);
    assert.deepEqual(readdirSync(outside), []);
  });
});

test('hostile: an existing symlink at the destination is replaced, never written through', async () => {
  await withStore(async (env) => {
    const victim = join(env.dir, 'victim');
    writeFileSync(victim, 'original');
    const image = await env.store.import(env.file('replace.tar', makeTar([
      { name: 'target', type: '2', linkname: victim },
      { name: 'target', data: 'new content' },
    ])), 'replace:ok');
    assert.equal(readFileSync(victim, 'utf8'), 'original');
    const inLayer = join(diffOf(env.root, image.layers[0]), 'target');
    assert.ok(lstatSync(inLayer).isFile());
    assert.equal(readFileSync(inLayer, 'utf8'), 'new content');
  });
});

test('hostile: hard links to /etc/passwd, to ../x, or through a symlink are refused', async () => {
  await withStore(async (env) => {
    const passwdBefore = readFileSync('/etc/passwd');
    const nlinkBefore = statSync('/etc/passwd').nlink;
    await hostile(env, 'hl-abs.tar', makeTar([{ name: 'passwd', type: '1', linkname: '/etc/passwd' }]),
      'INVALID_ARGUMENT', /entry "passwd": "etc" does not exist in the layer/);
    await hostile(env, 'hl-dotdot.tar', makeTar([{ name: 'x', type: '1', linkname: '../x' }]),
      'INVALID_ARGUMENT', /entry "x": hard link target "\.\.\/x" escapes the layer root/);
    await hostile(env, 'hl-symlink.tar', makeTar([
      { name: 'etcdir', type: '2', linkname: '/etc' },
      { name: 'stolen', type: '1', linkname: 'etcdir/passwd' },
    ]), 'INVALID_ARGUMENT', /entry "stolen": parent "etcdir" is a symbolic link/);
    await hostile(env, 'hl-to-symlink.tar', makeTar([
      { name: 'pw', type: '2', linkname: '/etc/passwd' },
      { name: 'stolen', type: '1', linkname: 'pw' },
    ]), 'INVALID_ARGUMENT', /entry "stolen": hard link target "pw" is not a regular file/);
    assert.ok(readFileSync('/etc/passwd').equals(passwdBefore));
    assert.equal(statSync('/etc/passwd').nlink, nlinkBefore, 'no new link to /etc/passwd');
  });
});

test('hostile: a huge declared size and a truncated archive give clear errors', async () => {
  await withStore(async (env) => {
    await hostile(env, 'huge.tar', makeTar([{ name: 'big', data: 'x', pax: { size: String(10 ** 15) } }]),
      'INVALID_ARGUMENT', /entry "big": declared size 1000000000000000 exceeds the layer's \d+-byte limit/);
    const whole = makeTar([{ name: 'file', data: Buffer.alloc(4096, 7) }], { end: false });
    await hostile(env, 'truncated.tar', whole.subarray(0, 512 + 1024), 'INVALID_ARGUMENT', /truncated/);
    await hostile(env, 'cut.tar', whole.subarray(0, 700), 'INVALID_ARGUMENT', /truncated/);
    await hostile(env, 'garbage.tar', Buffer.alloc(2048, 0x41), 'INVALID_ARGUMENT', /invalid tar archive/);
    const corrupt = gzipSync(makeTar([{ name: 'f', data: 'abc' }])).subarray(0, 30);
    await hostile(env, 'corrupt.tar.gz', corrupt, 'INVALID_ARGUMENT', /gzip/);
  });
});

test('hostile: a docker-archive layer whose content does not match its diffID is refused', async () => {
  await withStore(async (env) => {
    const archive = dockerArchive([{ tags: ['liar:latest'], layers: [baseLayer()] }]);
    // swap the layer bytes for another tar of identical length
    const honest = baseLayer();
    const liar = Buffer.from(archive);
    const at = liar.indexOf(honest.subarray(0, 512));
    assert.ok(at > 0);
    const other = makeTar([{ name: './', type: '5', mode: 0o700 }]);
    other.copy(liar, at);
    await rejectsWith(env.store.load(env.file('liar.tar', liar)), 'INVALID_ARGUMENT', /content has diffID sha256:[a-f0-9]{64}, the config says/);
    assert.deepEqual(layerDirs(env.root), []);
    assert.deepEqual(env.store.list(), []);
  });
});
