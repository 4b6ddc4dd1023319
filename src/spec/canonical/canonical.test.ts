// One test per short form: the short form, its long form, and YAML ↔ JSON round trips.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseDocument } from 'yaml';
import { canonicalPort, parsePortString } from './ports.js';
import { canonicalMount, parseVolumeString } from './volumes.js';
import { shellSplit, canonicalCommand } from './command.js';
import { parseBytes } from './bytes.js';
import { parseDuration, formatDuration } from './duration.js';
import { listOrDict, labels } from './environment.js';
import { canonicalDependsOn } from './depends-on.js';
import { canonicalHealthcheck } from './healthcheck.js';
import { parseRestart, fromDeployPolicy } from './restart.js';
import { canonicalResources, canonicalUlimits } from './resources.js';
import { canonicalBuild } from './build.js';
import { canonicalWatch } from './develop-watch.js';
import { FormError } from './form-error.js';

/** The value written as YAML and as JSON must give the same long form. */
function roundTrip<T>(yamlText: string, f: (v: unknown) => T): T {
  const fromYaml = f(parseDocument(yamlText).toJS());
  const fromJson = f(JSON.parse(JSON.stringify(parseDocument(yamlText).toJS())));
  assert.deepEqual(fromYaml, fromJson);
  return fromYaml;
}

test('ports: short forms', () => {
  assert.deepEqual(parsePortString('80'), [{ target: 80, protocol: 'tcp', mode: 'ingress' }]);
  assert.deepEqual(parsePortString('8080:80'), [{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }]);
  assert.deepEqual(parsePortString('127.0.0.1:8080:80/udp'), [{ target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'udp', mode: 'ingress' }]);
  assert.deepEqual(parsePortString('[::1]:8080:80'), [{ target: 80, published: '8080', host_ip: '::1', protocol: 'tcp', mode: 'ingress' }]);
  assert.deepEqual(parsePortString('127.0.0.1::80'), [{ target: 80, host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }]);
  assert.equal(parsePortString('9000-9005:9000-9005').length, 6);
  assert.deepEqual(parsePortString('9000-9001:8000-8001').map((p) => [p.published, p.target]), [['9000', 8000], ['9001', 8001]]);
  assert.deepEqual(parsePortString('8000-8010:80'), [{ target: 80, published: '8000-8010', protocol: 'tcp', mode: 'ingress' }]);
  assert.equal(parsePortString('3000-3002').length, 3);
  assert.throws(() => parsePortString('9000-9005:9000-9001'), FormError);
  assert.throws(() => parsePortString('abc'), FormError);
  assert.throws(() => parsePortString('80/icmp'), FormError);
  assert.throws(() => parsePortString('70000'), FormError);
});

test('ports: long form and YAML/JSON round trip', () => {
  const r = roundTrip('[{target: 80, published: "8080", host_ip: 0.0.0.0, protocol: udp, mode: host}, 443, "8443:443"]', (v) => (v as unknown[]).flatMap(canonicalPort));
  assert.deepEqual(r[0], { target: 80, published: '8080', host_ip: '0.0.0.0', protocol: 'udp', mode: 'host' });
  assert.deepEqual(r[1], { target: 443, protocol: 'tcp', mode: 'ingress' });
  assert.deepEqual(r[2], { target: 443, published: '8443', protocol: 'tcp', mode: 'ingress' });
});

test('volumes: short forms', () => {
  assert.deepEqual(parseVolumeString('./src:/app:ro'), { type: 'bind', source: './src', target: '/app', read_only: true, bind: { create_host_path: true } });
  assert.deepEqual(parseVolumeString('data:/var/lib/x'), { type: 'volume', source: 'data', target: '/var/lib/x', read_only: false, volume: { nocopy: false } });
  assert.deepEqual(parseVolumeString('/anon'), { type: 'volume', target: '/anon', read_only: false, volume: { nocopy: false } });
  assert.deepEqual(parseVolumeString('/host:/c:rw,z,rshared'), { type: 'bind', source: '/host', target: '/c', read_only: false, bind: { create_host_path: true, propagation: 'rshared', selinux: 'z' } });
  assert.equal(parseVolumeString('~/x:/x').type, 'bind');
  assert.equal(parseVolumeString('data:/d:nocopy').volume?.nocopy, true);
  assert.throws(() => parseVolumeString('a:/b:bogus'), FormError);
  assert.throws(() => parseVolumeString('a:b:c:d'), FormError);
});

test('volumes: long syntax with bind/volume/tmpfs options, round trip', () => {
  const r = roundTrip(`
- {type: bind, source: ./s, target: /t, read_only: true, bind: {create_host_path: false, propagation: rprivate}}
- {type: volume, source: v, target: /v, volume: {nocopy: true, subpath: sub}}
- {type: tmpfs, target: /tmp, tmpfs: {size: 64m, mode: "1777"}}
`, (v) => (v as unknown[]).map(canonicalMount));
  assert.deepEqual(r[0], { type: 'bind', source: './s', target: '/t', read_only: true, bind: { create_host_path: false, propagation: 'rprivate' } });
  assert.deepEqual(r[1], { type: 'volume', source: 'v', target: '/v', read_only: false, volume: { nocopy: true, subpath: 'sub' } });
  assert.deepEqual(r[2], { type: 'tmpfs', target: '/tmp', read_only: false, tmpfs: { size: 64 * 1024 * 1024, mode: 0o1777 } });
  assert.throws(() => canonicalMount({ type: 'bind', target: '/x' }), FormError);
  assert.throws(() => canonicalMount({ type: 'volume', source: 'v', target: '/x', bind: {} }), FormError);
});

test('volumes: create_host_path defaults to true in the long syntax too, as docker compose does', () => {
  // compose-go's ServiceVolumeBind.CreateHostPath is an OptOut (true unless written false), and a
  // long-syntax bind without `bind:` goes through Docker's Binds API, which creates the source.
  assert.equal(canonicalMount({ type: 'bind', source: './s', target: '/t' }).bind?.create_host_path, true);
  assert.equal(canonicalMount({ type: 'bind', source: './s', target: '/t', bind: { propagation: 'rslave' } }).bind?.create_host_path, true);
  assert.equal(canonicalMount({ type: 'bind', source: './s', target: '/t', bind: { create_host_path: false } }).bind?.create_host_path, false);
  assert.equal(canonicalMount({ type: 'bind', source: './s', target: '/t', bind: { recursive: 'writable' } }).bind?.recursive, 'writable');
});

test('command/entrypoint: strings split like a shell, lists kept', () => {
  assert.deepEqual(shellSplit(`echo "hello world" 'a b' c\\ d`), ['echo', 'hello world', 'a b', 'c d']);
  assert.deepEqual(shellSplit(`sh -c "echo \\"hi\\" \\$HOME"`), ['sh', '-c', 'echo "hi" $HOME']);
  assert.deepEqual(shellSplit('  a   b  '), ['a', 'b']);
  assert.deepEqual(shellSplit(`''`), ['']);
  assert.throws(() => shellSplit('"open'), FormError);
  assert.deepEqual(roundTrip('["a", "b c"]', canonicalCommand), ['a', 'b c']);
  assert.deepEqual(roundTrip('npm run dev', canonicalCommand), ['npm', 'run', 'dev']);
  assert.equal(canonicalCommand(null), null);
});

test('bytes: docker sizes', () => {
  assert.equal(parseBytes('512m'), 512 * 1024 ** 2);
  assert.equal(parseBytes('1g'), 1024 ** 3);
  assert.equal(parseBytes('1GB'), 1024 ** 3);
  assert.equal(parseBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseBytes('100kb'), 102400);
  assert.equal(parseBytes('1024'), 1024);
  assert.equal(parseBytes(2048), 2048);
  assert.throws(() => parseBytes('lots'), FormError);
});

test('durations: Go syntax in, milliseconds held, Go syntax out', () => {
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('10us'), 0.01);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('10'), FormError);
  assert.throws(() => parseDuration('1d'), FormError);
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(3_600_000), '1h0m0s');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(1500), '1.5s');
});

test('environment: list or mapping as one mapping', () => {
  const fromList = roundTrip('["A=1", "B=x=y", "C=", "D"]', (v) => listOrDict(v, '=', (n) => (n === 'D' ? 'd' : undefined)));
  assert.deepEqual(fromList, { A: '1', B: 'x=y', C: '', D: 'd' });
  const fromMap = roundTrip('{A: 1, B: true, C: "", D: null, E: 1.5}', (v) => listOrDict(v));
  assert.deepEqual(fromMap, { A: '1', B: 'true', C: '', D: null, E: '1.5' });
  assert.deepEqual(labels(['a.b=c', 'flag']), { 'a.b': 'c', flag: '' });
});

test('depends_on: list or mapping with condition, restart, required', () => {
  assert.deepEqual(roundTrip('[db, cache]', canonicalDependsOn), {
    db: { condition: 'service_started', restart: false, required: true },
    cache: { condition: 'service_started', restart: false, required: true },
  });
  assert.deepEqual(roundTrip('{db: {condition: service_healthy, restart: true}, x: {condition: service_completed_successfully, required: false}}', canonicalDependsOn), {
    db: { condition: 'service_healthy', restart: true, required: true },
    x: { condition: 'service_completed_successfully', restart: false, required: false },
  });
});

test('healthcheck: test forms and durations', () => {
  assert.deepEqual(canonicalHealthcheck({ test: 'curl -f http://x', interval: '1m30s', timeout: '10s', retries: 3, start_period: '40s', start_interval: '5s' }),
    { test: ['CMD-SHELL', 'curl -f http://x'], interval: 90_000, timeout: 10_000, start_period: 40_000, start_interval: 5000, retries: 3, disable: false });
  assert.deepEqual(canonicalHealthcheck({ test: ['CMD', 'curl', '-f', 'http://x'] }).test, ['CMD', 'curl', '-f', 'http://x']);
  assert.deepEqual(canonicalHealthcheck({ test: ['NONE'] }), { test: ['NONE'], disable: true });
  assert.deepEqual(canonicalHealthcheck({ disable: true }), { test: ['NONE'], disable: true });
  assert.throws(() => canonicalHealthcheck({ test: ['curl', 'x'] }), FormError);
  assert.throws(() => canonicalHealthcheck({ interval: '10' }), FormError);
});

test('restart and deploy.restart_policy', () => {
  assert.deepEqual(parseRestart('no'), { name: 'no', max_attempts: 0 });
  assert.deepEqual(parseRestart('always'), { name: 'always', max_attempts: 0 });
  assert.deepEqual(parseRestart('on-failure:3'), { name: 'on-failure', max_attempts: 3 });
  assert.deepEqual(parseRestart('unless-stopped'), { name: 'unless-stopped', max_attempts: 0 });
  assert.throws(() => parseRestart('sometimes'), FormError);
  assert.deepEqual(fromDeployPolicy({ condition: 'on-failure', max_attempts: 5, delay: '5s', window: '1m' }), { name: 'on-failure', max_attempts: 5, delay: 5000, window: 60_000 });
  assert.deepEqual(fromDeployPolicy({ condition: 'any' }), { name: 'always', max_attempts: 0 });
  assert.deepEqual(fromDeployPolicy({ condition: 'none' }), { name: 'no', max_attempts: 0 });
});

test('resources: service-level keys and deploy.resources as one', () => {
  const r = canonicalResources({ cpus: 0.5, mem_limit: '512m', cpu_shares: 512, pids_limit: 100, memswap_limit: '1g', cpuset: '0-1', ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 65535 } });
  assert.deepEqual(r, { cpus: 0.5, cpu_shares: 512, cpuset: '0-1', mem_limit: 512 * 1024 ** 2, memswap_limit: 1024 ** 3, pids_limit: 100, ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 65535, hard: 65535 } } });
  const d = canonicalResources({ deploy: { resources: { limits: { cpus: '0.25', memory: '1g', pids: 10 }, reservations: { memory: '256m' } } } });
  assert.deepEqual(d, { cpus: 0.25, mem_limit: 1024 ** 3, mem_reservation: 256 * 1024 ** 2, pids_limit: 10, ulimits: {} });
  assert.throws(() => canonicalResources({ cpus: 1, deploy: { resources: { limits: { cpus: 2 } } } }), FormError);
  assert.deepEqual(canonicalResources({ mem_limit: '1g', deploy: { resources: { limits: { memory: '1g' } } } }).mem_limit, 1024 ** 3);
  assert.throws(() => canonicalUlimits({ nofile: { soft: 10, hard: 5 } }), FormError);
});

test('build: short and long', () => {
  const rp = (p: string): string => (p.startsWith('/') ? p : `/proj/${p.replace(/^\.\/?/, '')}`.replace(/\/$/, '') || '/proj');
  const b = canonicalBuild('./app', rp, () => undefined, () => []);
  assert.equal(b.context, '/proj/app');
  assert.equal(b.dockerfile, 'Dockerfile');
  const l = canonicalBuild({ context: 'app', dockerfile: 'Dockerfile.dev', args: ['A=1', 'B'], target: 'dev' }, rp, (n) => (n === 'B' ? 'b' : undefined), () => []);
  assert.deepEqual([l.context, l.dockerfile, l.args, l.target], ['/proj/app', 'Dockerfile.dev', { A: '1', B: 'b' }, 'dev']);
  assert.equal(canonicalBuild('https://github.com/x/y.git', rp, () => undefined, () => []).context, 'https://github.com/x/y.git');
});

test('develop.watch rules', () => {
  const w = canonicalWatch([{ path: './src', action: 'sync', target: '/app', ignore: 'node_modules' }, { path: 'package.json', action: 'rebuild' }], (p) => `/p/${p}`, canonicalCommand, (e) => listOrDict(e));
  assert.deepEqual(w[0], { path: '/p/./src', action: 'sync', target: '/app', ignore: ['node_modules'], include: [], initial_sync: false });
  assert.equal(w[1]!.action, 'rebuild');
  assert.throws(() => canonicalWatch([{ path: 'x', action: 'sync' }], (p) => p, canonicalCommand, (e) => listOrDict(e)), FormError);
});
