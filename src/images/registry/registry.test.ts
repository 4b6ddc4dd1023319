// The pure parts of the registry client: manifests and platform choice, auth challenges,
// config.json keys, where a registry is reached.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest, selectManifest, hostPlatform, parsePlatform, MEDIA, type Descriptor } from './manifest.js';
import { parseChallenge, keyDomain, credentialsFor, storeCredentials, removeCredentials } from './credentials.js';
import { endpointFor, registryHosts } from './hosts.js';
import { registryDomain } from './login.js';
import { serverDomain } from '../../lib/docker-config.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const desc = (arch: string, variant?: string, extra: Partial<Descriptor> = {}): Descriptor => ({
  mediaType: MEDIA.ociManifest, digest: d(arch.length.toString(16).slice(-1)), size: 1, platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) }, ...extra,
});

test('platform choice: exact variant first, arm64 without a variant is v8, attestations never', () => {
  const list = [desc('amd64'), desc('arm64'), desc('arm', 'v6'), desc('arm', 'v7'),
    { mediaType: MEDIA.ociManifest, digest: d('e'), size: 1, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }];
  assert.equal(selectManifest(list, { os: 'linux', architecture: 'amd64' })?.platform?.architecture, 'amd64');
  assert.equal(selectManifest(list, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.platform?.architecture, 'arm64');
  assert.equal(selectManifest(list, { os: 'linux', architecture: 'arm', variant: 'v7' })?.platform?.variant, 'v7');
  assert.equal(selectManifest([desc('arm', 'v6')], { os: 'linux', architecture: 'arm', variant: 'v7' })?.platform?.variant, 'v6');
  assert.equal(selectManifest([desc('arm', 'v7')], { os: 'linux', architecture: 'arm', variant: 'v6' }), undefined);
  assert.equal(selectManifest(list, { os: 'linux', architecture: 's390x' }), undefined);
  assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(hostPlatform('arm', 'CPU architecture: 7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/aarch64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.throws(() => parsePlatform('linux/'), /invalid platform/);
});

test('manifests: docker v2 and OCI, indexes, schema 1 and artifacts refused with a reason', () => {
  const m = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.dockerManifest, config: { mediaType: MEDIA.dockerConfig, digest: d('a'), size: 2 }, layers: [{ mediaType: MEDIA.dockerLayerGzip, digest: d('b'), size: 3 }] })), undefined, 'm');
  assert.equal(m.kind, 'manifest');
  const i = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [desc('amd64')] })), MEDIA.ociIndex, 'i');
  assert.equal(i.kind, 'index');
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1}'), undefined, 'old'), /schema 1 is not supported/);
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.cncf.helm.config.v1+json', config: { mediaType: 'x', digest: d('a'), size: 1 }, layers: [] })), undefined, 'chart'), /not an image manifest/);
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: 'sha512:abc', size: 1 }, layers: [] })), undefined, 'x'), /only sha256/);
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: d('a'), size: 1 }, layers: [{ mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: d('b'), size: 1 }] })), undefined, 'w'), /non-distributable/);
});

test('WWW-Authenticate challenges, quoted and not', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), {
    scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm=berth'), { scheme: 'basic', params: { realm: 'berth' } });
  assert.deepEqual(parseChallenge('Bearer realm="a,b",error="x \\"y\\""')?.params, { realm: 'a,b', error: 'x "y"' });
});

test('a server address has one domain for login (checked) and logout (not): Docker Hub\'s names, hosts with ports, URLs', () => {
  for (const [server, domain] of [[undefined, 'docker.io'], ['', 'docker.io'], ['https://index.docker.io/v1/', 'docker.io'], ['registry-1.docker.io', 'docker.io'], ['docker.io', 'docker.io'], ['localhost:5000', 'localhost:5000'], ['http://127.0.0.1:5000/v2/', '127.0.0.1:5000'], ['ghcr.io', 'ghcr.io']] as const) {
    assert.equal(registryDomain(server), domain, String(server));
    assert.equal(serverDomain(server), domain, String(server));
  }
  assert.throws(() => registryDomain('not a host'), /"not a host" is not a registry address/);
});

test('config.json: keys by domain, base64 auth, login keeps other keys, logout removes', () => {
  assert.equal(keyDomain('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(keyDomain('localhost:5000'), 'localhost:5000');
  assert.equal(keyDomain('http://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
  const dir = mkdtempSync(join(tmpdir(), 'berth-cred-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('me:pw').toString('base64') } }, credsStore: 'desktop', psFormat: 'x' }));
    assert.deepEqual(credentialsFor(file, 'docker.io'), { username: 'me', password: 'pw' });
    assert.equal(credentialsFor(file, 'localhost:5000'), undefined);
    const notes = storeCredentials(file, 'localhost:5000', { username: 'a', password: 'b:c' });
    assert.match(notes[0], /credential helper "desktop"/);
    assert.deepEqual(credentialsFor(file, 'localhost:5000'), { username: 'a', password: 'b:c' });
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).psFormat, 'x');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(removeCredentials(file, 'localhost:5000'), true);
    assert.equal(removeCredentials(file, 'localhost:5000'), false);
    assert.deepEqual(credentialsFor(file, 'docker.io'), { username: 'me', password: 'pw' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('endpoints: docker.io is registry-1, loopback is plain HTTP, insecure tries HTTPS first', () => {
  const hosts = registryHosts({ BERTH_INSECURE_REGISTRIES: 'reg.lan:5000, other' });
  assert.deepEqual(hosts.insecure, ['reg.lan:5000', 'other']);
  assert.deepEqual(endpointFor('docker.io', hosts).bases.map(String), ['https://registry-1.docker.io/']);
  assert.deepEqual(endpointFor('localhost:5000', hosts).bases.map(String), ['http://localhost:5000/']);
  assert.deepEqual(endpointFor('127.0.0.1:5000', hosts).bases.map(String), ['http://127.0.0.1:5000/']);
  assert.deepEqual(endpointFor('reg.lan:5000', hosts).bases.map(String), ['https://reg.lan:5000/', 'http://reg.lan:5000/']);
  assert.deepEqual(endpointFor('ghcr.io', hosts).bases.map(String), ['https://ghcr.io/']);
  const dir = mkdtempSync(join(tmpdir(), 'berth-hosts-'));
  try {
    writeFileSync(join(dir, 'daemon.json'), '{"insecure-registries": ["file.lan"]}');
    assert.deepEqual(registryHosts({}, join(dir, 'daemon.json')).insecure, ['file.lan']);
    writeFileSync(join(dir, 'bad.json'), '{"insecure-registries": "nope"}');
    assert.throws(() => registryHosts({}, join(dir, 'bad.json')), /must be a list/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
