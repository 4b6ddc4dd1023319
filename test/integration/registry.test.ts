// Pull and push against a real registry (Debian's docker-registry) on loopback, started here.
// Seeded with images berth pushes, and with an OCI index skopeo builds (an implementation berth
// did not write). Every test uses its own store roots and checks what the store holds.
import { test, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, readdirSync, existsSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { lazySys } from '../../src/sys/index.js';
import { ImageStore } from '../../src/images/store.js';
import { pullImage, type PullOptions } from '../../src/images/registry/pull.js';
import { pushImage } from '../../src/images/registry/push.js';
import { login, logout } from '../../src/images/registry/login.js';
import { credentialsFor } from '../../src/images/registry/credentials.js';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { ImageEvent } from '../../src/images/events.js';
import { BerthError } from '../../src/lib/errors.js';
import { makeBusyboxRootfs } from '../helpers/env.js';
import { haveRegistry, startRegistry, freePort, type TestRegistry } from '../helpers/registry.js';

const skip = !haveRegistry() ? 'docker-registry is not installed (apt-get install docker-registry)' : process.getuid?.() !== 0 ? 'needs root' : false;

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let registry: TestRegistry;
let work: string;
/** a busybox image imported once and pushed as <registry>/test/busybox:1 */
let seedRoot: string;
let seedStore: ImageStore;
/** an image with one 3 MiB incompressible layer, pushed as <registry>/test/big:1 */
let bigLayerDigest: string;
let bigLayerSize: number;

function newStore(): { root: string; store: ImageStore } {
  const root = mkdtempSync(join(work, 'root-'));
  return { root, store: new ImageStore({ root, sys: lazySys }) };
}

function access(extra: Partial<PullOptions> = {}): PullOptions {
  return { hosts: { insecure: [] }, credentials: () => undefined, timeoutMs: 10_000, ...extra };
}

/** Only what the store committed: configs, layer records, blobs, and anything left in downloads/. */
function storeContents(root: string): { images: string[]; layers: string[]; blobs: string[]; downloads: string[] } {
  const list = (p: string) => (existsSync(p) ? readdirSync(p).sort() : []);
  return {
    images: list(join(root, 'image', 'imagedb', 'content', 'sha256')),
    layers: list(join(root, 'image', 'layerdb', 'sha256')),
    blobs: list(join(root, 'image', 'blobs', 'sha256')),
    downloads: list(join(root, 'image', 'downloads')),
  };
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'berth-registry-test-'));
  registry = await startRegistry();
  ({ root: seedRoot, store: seedStore } = newStore());
  const rootfs = join(work, 'rootfs');
  mkdirSync(rootfs);
  makeBusyboxRootfs(rootfs);
  const { c: createTar } = await import('tar');
  const file = join(work, 'busybox.tar');
  await createTar({ file, cwd: rootfs, portable: false, gzip: true }, ['.']);
  await seedStore.import(file, `${registry.host}/test/busybox:1`, { config: { Cmd: ['sh'] } });
  await pushImage(seedStore, `${registry.host}/test/busybox:1`, { ...access(), sys: lazySys });
  const bigDir = join(work, 'big');
  mkdirSync(bigDir);
  writeFileSync(join(bigDir, 'big.bin'), randomBytes(3 * 1024 * 1024));
  const bigTar = join(work, 'big.tar.gz');
  await createTar({ file: bigTar, cwd: bigDir, portable: true, gzip: true }, ['.']);
  const big = await seedStore.import(bigTar, `${registry.host}/test/big:1`);
  const meta = seedStore.layer(big.layers[0].chainId)!;
  bigLayerDigest = meta.blob!.digest;
  bigLayerSize = meta.blob!.size;
  await pushImage(seedStore, `${registry.host}/test/big:1`, { ...access(), sys: lazySys });
});

/**
 * An HTTP proxy in front of the registry on another loopback port. `onBlob` may rewrite what a
 * blob GET sends: cut the connection after some bytes, or flip a byte.
 */
interface Proxy { host: string; blobRequests: { digest: string; range: string | undefined; bytes: number }[]; close(): Promise<void> }
async function startProxy(mode: { cutAfter?: number; corrupt?: boolean; digest: string }): Promise<Proxy> {
  const blobRequests: Proxy['blobRequests'] = [];
  let cut = false;
  const server: Server = createServer((req, res) => {
    const isTarget = req.method === 'GET' && req.url?.endsWith(`/blobs/${mode.digest}`);
    const upstream = request({ host: '127.0.0.1', port: registry.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (!isTarget || up.statusCode! >= 300) { up.pipe(res); return; }
      const record = { digest: mode.digest, range: req.headers.range as string | undefined, bytes: 0 };
      blobRequests.push(record);
      up.on('data', (chunk: Buffer) => {
        if (mode.cutAfter !== undefined && !cut && record.bytes + chunk.length > mode.cutAfter) {
          cut = true;
          res.write(chunk.subarray(0, mode.cutAfter - record.bytes));
          record.bytes = mode.cutAfter;
          up.destroy();
          res.socket?.destroy();
          return;
        }
        if (mode.corrupt && record.bytes === 0) { chunk = Buffer.from(chunk); chunk[chunk.length - 1] ^= 0xff; }
        record.bytes += chunk.length;
        res.write(chunk);
      });
      up.on('end', () => res.end());
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    host: `127.0.0.1:${port}`,
    blobRequests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

after(async () => {
  if (skip) return;
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('push then pull: the same image id, tag and repo digest, layers extracted', { skip }, async () => {
  const { root, store } = newStore();
  const events: ImageEvent[] = [];
  const r = await pullImage(store, `${registry.host}/test/busybox:1`, access({ onEvent: (e) => events.push(e) }));
  const seeded = seedStore.resolve(`${registry.host}/test/busybox:1`);
  assert.equal(r.id, seeded.id);
  assert.equal(r.downloaded, true);
  const image = store.resolve(`${registry.host}/test/busybox:1`);
  assert.equal(image.id, seeded.id);
  assert.deepEqual(image.repoDigests, [`${registry.host}/test/busybox@${r.digest}`]);
  const diff = store.layerDiffDir(store.layer(image.layers[0].chainId)!);
  assert.ok(existsSync(join(diff, 'bin', 'busybox')));
  assert.ok(events.some((e) => e.kind === 'layer' && e.status === 'pull complete'));
  assert.deepEqual(storeContents(root).downloads, []);
  // a second pull finds it all in the store
  const again = await pullImage(store, `${registry.host}/test/busybox:1`, access());
  assert.equal(again.downloaded, false);
  // by digest
  const { store: byDigest } = newStore();
  const d = await pullImage(byDigest, `${registry.host}/test/busybox@${r.digest}`, access());
  assert.equal(d.id, seeded.id);
  assert.equal(byDigest.resolve(`${registry.host}/test/busybox@${r.digest}`).id, seeded.id);
  assert.deepEqual(byDigest.resolve(d.id).repoTags, []);
});

/** The second blob request continued from what the first delivered (at most `cut` bytes): no byte sent twice. */
function assertResumed(proxy: Proxy, cut: number): void {
  const m = /^bytes=(\d+)-$/.exec(proxy.blobRequests[1].range ?? '');
  assert.ok(m, `second request has no range: ${JSON.stringify(proxy.blobRequests)}`);
  const from = Number(m[1]);
  assert.ok(from > 0 && from <= cut, `resumed at ${from}, cut at ${cut}`);
  assert.equal(proxy.blobRequests[1].bytes, bigLayerSize - from);
}

test('a connection cut mid-layer resumes with a range request; nothing is downloaded twice', { skip }, async () => {
  const proxy = await startProxy({ digest: bigLayerDigest, cutAfter: Math.floor(bigLayerSize / 2) });
  try {
    const { root, store } = newStore();
    const events: ImageEvent[] = [];
    const r = await pullImage(store, `${proxy.host}/test/big:1`, access({ onEvent: (e) => events.push(e) }));
    assert.equal(r.id, seedStore.resolve(`${registry.host}/test/big:1`).id);
    assert.equal(proxy.blobRequests.length, 2, JSON.stringify(proxy.blobRequests));
    assert.equal(proxy.blobRequests[0].range, undefined);
    assertResumed(proxy, Math.floor(bigLayerSize / 2));
    assert.ok(events.some((e) => e.kind === 'layer' && e.status === 'retrying'));
    assert.deepEqual(storeContents(root).downloads, []);
  } finally {
    await proxy.close();
  }
});

test('an interrupted pull leaves nothing that looks complete; the next pull resumes the partial blob', { skip }, async () => {
  const proxy = await startProxy({ digest: bigLayerDigest, cutAfter: Math.floor(bigLayerSize / 3) });
  try {
    const { root, store } = newStore();
    // one attempt only: the cut ends the pull
    await assert.rejects(pullImage(store, `${proxy.host}/test/big:1`, access({ attempts: 1 })), /attempts|resumes/);
    const left = storeContents(root);
    assert.deepEqual(left.images, []);
    assert.deepEqual(left.layers, []);
    assert.deepEqual(left.downloads, [`${bigLayerDigest.slice(7)}.partial`]);
    assert.throws(() => store.resolve(`${proxy.host}/test/big:1`), /no such image/);
    const r = await pullImage(store, `${proxy.host}/test/big:1`, access());
    assert.equal(r.id, seedStore.resolve(`${registry.host}/test/big:1`).id);
    assertResumed(proxy, Math.floor(bigLayerSize / 3));
  } finally {
    await proxy.close();
  }
});

test('a blob that does not match its digest is refused and nothing is stored', { skip }, async () => {
  const proxy = await startProxy({ digest: bigLayerDigest, corrupt: true });
  try {
    const { root, store } = newStore();
    await assert.rejects(pullImage(store, `${proxy.host}/test/big:1`, access()), (err: Error) => {
      assert.ok(err instanceof BerthError, String(err));
      assert.match(err.message, /hash to sha256:[0-9a-f]{64}: refused, nothing stored/);
      return true;
    });
    assert.deepEqual(storeContents(root), { images: [], layers: [], blobs: [], downloads: [] });
  } finally {
    await proxy.close();
  }
});
