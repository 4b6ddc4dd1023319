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
import { randomBytes, sign as cryptoSign, X509Certificate } from 'node:crypto';
import type { ImageEvent } from '../../src/images/events.js';
import { BerthError } from '../../src/lib/errors.js';
import { makeBusyboxRootfs } from '../helpers/env.js';
import { haveRegistry, startRegistry, type TestRegistry } from '../helpers/registry.js';

const skip = !haveRegistry() ? 'docker-registry is not installed (apt-get install docker-registry)' : process.getuid?.() !== 0 ? 'needs root' : false;

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let registry: TestRegistry;
let work: string;
/** a busybox image imported once and pushed as <registry>/test/busybox:1 */

let seedStore: ImageStore;
/** an image with one 3 MiB incompressible layer, pushed as <registry>/test/big:1 */
let bigLayerDigest: string;
let bigLayerSize: number;
/** busybox's layer + a 3 MiB layer on top, pushed as <registry>/test/stacked:1 */
let stackedTopDigest: string;

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
  ({ store: seedStore } = newStore());
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
  // a two-layer image: busybox's layer, then another incompressible one
  const bb = seedStore.resolve(`${registry.host}/test/busybox:1`);
  const topDir = join(work, 'top');
  mkdirSync(topDir);
  writeFileSync(join(topDir, 'top.bin'), randomBytes(3 * 1024 * 1024));
  const topTar = join(work, 'top.tar.gz');
  await createTar({ file: topTar, cwd: topDir, portable: true, gzip: true }, ['.']);
  const top = await seedStore.addLayer({ file: topTar, label: 'top', parent: bb.layers[0].chainId, keep: 'copy' });
  stackedTopDigest = top.blob!.digest;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [bb.layers[0].diffId, top.diffId] } }));
  seedStore.commitConfig(config, [`${registry.host}/test/stacked:1`]);
  await pushImage(seedStore, `${registry.host}/test/stacked:1`, { ...access(), sys: lazySys });
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

/** Two images made by umoci (amd64 and arm64, one file each saying which), an OCI index over them, pushed by skopeo. */
async function seedIndex(name: string, opts: { zstd?: boolean } = {}): Promise<void> {
  const layout = join(work, `layout-${name}`);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  run('umoci', ['init', '--layout', layout]);
  for (const arch of ['amd64', 'arm64']) {
    const file = join(work, `${name}-${arch}.txt`);
    writeFileSync(file, `${arch}\n`);
    run('umoci', ['new', '--image', `${layout}:${arch}`]);
    // unpack + repack (umoci 0.4.7's `insert` writes a tar without its padding and end blocks)
    const bundle = join(work, `bundle-${name}-${arch}`);
    run('umoci', ['unpack', '--image', `${layout}:${arch}`, bundle]);
    writeFileSync(join(bundle, 'rootfs', 'platform.txt'), readFileSync(file));
    // Content unique to this seeding: skopeo's host-wide blob-info cache would otherwise know an
    // identical layer already in the registry (gzip, from another test or run) and reuse that blob
    // instead of compressing with --dest-compress-format.
    writeFileSync(join(bundle, 'rootfs', 'seed.txt'), `${name} ${randomBytes(16).toString('hex')}\n`);
    run('umoci', ['repack', '--image', `${layout}:${arch}`, bundle]);
    rmSync(bundle, { recursive: true, force: true });
    run('umoci', ['config', '--image', `${layout}:${arch}`, '--architecture', arch, '--os', 'linux']);
  }
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; size: number; mediaType: string; annotations: Record<string, string> }[] };
  const entries = index.manifests.map((m) => {
    const arch = m.annotations['org.opencontainers.image.ref.name'];
    return { mediaType: m.mediaType, digest: m.digest, size: m.size, platform: { architecture: arch, os: 'linux', ...(arch === 'arm64' ? { variant: 'v8' } : {}) } };
  });
  const blob = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
  writeFileSync(join(layout, 'blobs', 'sha256', sha(blob).slice(7)), blob);
  index.manifests.push({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(blob), size: blob.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } });
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  run('skopeo', ['copy', '--all', '--dest-tls-verify=false', ...(opts.zstd ? ['--dest-compress-format', 'zstd', '--dest-compress'] : []), `oci:${layout}:multi`, `docker://${registry.host}/test/${name}:1`]);
}

test('an OCI index made by umoci and pushed by skopeo resolves to this platform; --platform picks the other', { skip: skip || (spawnSync('skopeo', ['--version']).status !== 0 || spawnSync('umoci', ['--version']).status !== 0 ? 'skopeo or umoci not installed' : false) }, async () => {
  await seedIndex('multi');
  const { store } = newStore();
  const r = await pullImage(store, `${registry.host}/test/multi:1`, access({ platform: { os: 'linux', architecture: 'amd64' } }));
  const amd = store.resolve(r.id);
  assert.equal(amd.architecture, 'amd64');
  assert.equal(readFileSync(join(store.layerDiffDir(store.layer(amd.layers[0].chainId)!), 'platform.txt'), 'utf8'), 'amd64\n');
  const { store: other } = newStore();
  const a = await pullImage(other, `${registry.host}/test/multi:1`, access({ platform: { os: 'linux', architecture: 'arm64' } }));
  const arm = other.resolve(a.id);
  assert.equal(arm.architecture, 'arm64');
  assert.equal(readFileSync(join(other.layerDiffDir(other.layer(arm.layers[0].chainId)!), 'platform.txt'), 'utf8'), 'arm64\n');
  // the repo digest is the index's, the same for both platforms
  assert.equal(a.digest, r.digest);
  await assert.rejects(pullImage(newStore().store, `${registry.host}/test/multi:1`, access({ platform: { os: 'linux', architecture: 's390x' } })), /no manifest for linux\/s390x \(the image offers linux\/amd64, linux\/arm64\/v8\)/);
});

test('zstd-compressed layers (skopeo --dest-compress-format zstd) are pulled and kept as they came', { skip: skip || (spawnSync('skopeo', ['--version']).status !== 0 ? 'skopeo not installed' : false) }, async () => {
  await seedIndex('zstd', { zstd: true });
  const { store } = newStore();
  const r = await pullImage(store, `${registry.host}/test/zstd:1`, access({ platform: { os: 'linux', architecture: 'amd64' } }));
  const image = store.resolve(r.id);
  const meta = store.layer(image.layers[0].chainId)!;
  assert.equal(meta.blob?.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
  assert.equal(readFileSync(join(store.layerDiffDir(meta), 'platform.txt'), 'utf8'), 'amd64\n');
});

test('push sends only what the registry lacks: HEAD finds existing blobs, a sibling repository mounts them', { skip }, async () => {
  seedStore.tag(`${registry.host}/test/busybox:1`, `${registry.host}/test/busybox:2`);
  const again = await pushImage(seedStore, `${registry.host}/test/busybox:2`, { ...access(), sys: lazySys });
  assert.equal(again.uploaded, 0);
  seedStore.tag(`${registry.host}/test/busybox:1`, `${registry.host}/other/copy:1`);
  const events: ImageEvent[] = [];
  const mounted = await pushImage(seedStore, `${registry.host}/other/copy:1`, { ...access(), sys: lazySys, onEvent: (e) => events.push(e) });
  assert.equal(mounted.uploaded, 0);
  assert.ok(events.some((e) => e.kind === 'layer' && e.status === 'mounted' && e.text === 'Mounted from test/busybox'), JSON.stringify(events));
  const { store } = newStore();
  const r = await pullImage(store, `${registry.host}/other/copy:1`, access());
  assert.equal(r.id, seedStore.resolve(`${registry.host}/test/busybox:1`).id);
});

test('basic auth (htpasswd): refused without credentials, works after login, logout removes them', { skip }, async () => {
  const secured = await startRegistry({ users: { alice: 's3cret' } });
  const home = mkdtempSync(join(work, 'home-'));
  const configPath = join(home, '.docker', 'config.json');
  const withConfig = { hosts: { insecure: [] }, credentials: (domain: string) => credentialsFor(configPath, domain), timeoutMs: 10_000 };
  try {
    seedStore.tag(`${registry.host}/test/busybox:1`, `${secured.host}/team/bb:1`);
    await assert.rejects(pushImage(seedStore, `${secured.host}/team/bb:1`, { ...withConfig, sys: lazySys }), /authentication required \(berth login 127\.0\.0\.1:\d+\)/);
    await assert.rejects(login(secured.host, { username: 'alice', password: 'wrong' }, { hosts: { insecure: [] }, configPath }), /refused|wrong username or password/);
    assert.equal(existsSync(configPath), false);
    await login(secured.host, { username: 'alice', password: 's3cret' }, { hosts: { insecure: [] }, configPath });
    const written = JSON.parse(readFileSync(configPath, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(written.auths[secured.host].auth, 'base64').toString(), 'alice:s3cret');
    await pushImage(seedStore, `${secured.host}/team/bb:1`, { ...withConfig, sys: lazySys });
    const { store } = newStore();
    const r = await pullImage(store, `${secured.host}/team/bb:1`, withConfig);
    assert.equal(r.id, seedStore.resolve(`${registry.host}/test/busybox:1`).id);
    assert.deepEqual(logout(secured.host, { configPath }), { domain: secured.host, removed: true });
    await assert.rejects(pullImage(newStore().store, `${secured.host}/team/bb:1`, withConfig), /authentication required/);
  } finally {
    await secured.stop();
  }
});

test('anonymous bearer tokens: the WWW-Authenticate challenge is answered from its realm with the repository scope', { skip }, async () => {
  const scopes: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      scopes.push(...url.searchParams.getAll('scope'));
      assert.equal(url.searchParams.get('service'), 'berth-test');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token: `tok:${url.searchParams.getAll('scope').join(' ')}` }));
      return;
    }
    const scope = url.pathname.startsWith('/v2/test/busybox/') ? 'repository:test/busybox:pull' : undefined;
    const auth = req.headers.authorization ?? '';
    if (url.pathname !== '/v2/' && !(scope && auth === `Bearer tok:${scope}`)) {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${(server.address() as { port: number }).port}/token",service="berth-test",scope="${scope ?? ''}"` });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (url.pathname === '/v2/') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${(server.address() as { port: number }).port}/token",service="berth-test"` });
      res.end();
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const upstream = request({ host: '127.0.0.1', port: registry.port, path: req.url, method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const { store } = newStore();
    const r = await pullImage(store, `${host}/test/busybox:1`, access());
    assert.equal(r.id, seedStore.resolve(`${registry.host}/test/busybox:1`).id);
    assert.ok(scopes.includes('repository:test/busybox:pull'), JSON.stringify(scopes));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('layers already in the store are not downloaded; an interrupted pull keeps its finished layers', { skip }, async () => {
  const proxy = await startProxy({ digest: stackedTopDigest, cutAfter: 1024 * 1024 });
  try {
    const { root, store } = newStore();
    // the cut ends the first pull: busybox's layer is committed, the top one is a partial
    await assert.rejects(pullImage(store, `${proxy.host}/test/stacked:1`, access({ attempts: 1 })), /resumes/);
    assert.equal(storeContents(root).layers.length, 1);
    assert.deepEqual(storeContents(root).images, []);
    const events: ImageEvent[] = [];
    const r = await pullImage(store, `${proxy.host}/test/stacked:1`, access({ onEvent: (e) => events.push(e) }));
    assert.equal(r.id, seedStore.resolve(`${registry.host}/test/stacked:1`).id);
    const statuses = events.filter((e) => e.kind === 'layer' && (e.status === 'already exists' || e.status === 'waiting')).map((e) => (e as { status: string }).status);
    assert.deepEqual(statuses, ['already exists', 'waiting']);
    // the top blob: once cut, once resumed from where the cut left it
    assert.equal(proxy.blobRequests.length, 2);
    assert.match(proxy.blobRequests[1].range ?? '', /^bytes=\d+-$/);
  } finally {
    await proxy.close();
  }
});

/**
 * The registry's own token auth (`auth: token`): a token server here signs JWTs (RS256, x5c) with
 * a key whose certificate the registry trusts; the registry verifies them, scopes included.
 */
test('bearer tokens against the registry\'s own token auth: pull and push with the scopes it checks', { skip: skip || (spawnSync('openssl', ['version']).status !== 0 ? 'openssl is not installed' : false) }, async () => {
  const dir = mkdtempSync(join(work, 'token-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=berth-test-token'], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const key = readFileSync(keyFile);
  const certDer = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
  const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
  const requested: string[] = [];
  const tokenServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    requested.push(...scopes);
    const access = scopes.map((sc) => { const [type, name, actions] = sc.split(':'); return { type, name, actions: actions.split(',') }; });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
    const claims = b64url(JSON.stringify({ iss: 'berth-test-issuer', sub: 'anonymous', aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = b64url(cryptoSign('RSA-SHA256', Buffer.from(`${header}.${claims}`), key));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token: `${header}.${claims}.${signature}` }));
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(tokenServer.address() as { port: number }).port}/token`;
  const secured = await startRegistry({ token: { realm, service: 'berth-registry', issuer: 'berth-test-issuer', certFile } });
  try {
    seedStore.tag(`${registry.host}/test/busybox:1`, `${secured.host}/tok/bb:1`);
    await pushImage(seedStore, `${secured.host}/tok/bb:1`, { ...access(), sys: lazySys });
    assert.ok(requested.includes('repository:tok/bb:pull,push'), JSON.stringify(requested));
    const { store } = newStore();
    const r = await pullImage(store, `${secured.host}/tok/bb:1`, access());
    assert.equal(r.id, seedStore.resolve(`${registry.host}/test/busybox:1`).id);
    assert.ok(requested.includes('repository:tok/bb:pull'));
  } finally {
    await secured.stop();
    tokenServer.closeAllConnections();
    await new Promise<void>((resolve) => tokenServer.close(() => resolve()));
  }
});
