// RUN steps on a network, as `docker build` gives them, through the engine's networking (the
// same EngineNetworking and facility containers use): the default bridge with a way out and the
// host through its gateway, an existing network's containers by address and by name, host
// networking only with the network.host entitlement, and --network=none with lo only. All
// traffic stays on this machine: loopback, berth's own bridge gateway and the test's own
// container addresses. Each test leaves the host's links, routes and rules exactly as found.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, berth, berthOk, cleanupRoots, leftovers, type TestRoots } from '../helpers/env.js';
import { runNames, hostSnapshot, FakeUpstream, makeBench, importNetImage, startContainer, removeAll, ipOf, eventually, readIpForward, writeIpForward, waitTcp, type Bench } from '../helpers/network.js';
import { buildImage, type BuildOptions } from '../../src/build/builder.js';
import { EngineNetworking } from '../../src/engine/networking.js';
import { stepNetwork } from '../../src/engine/image-verbs.js';
import { lazySys } from '../../src/sys/index.js';
import type { ImageEvent } from '../../src/images/events.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : false;

let roots: TestRoots;
let bench: Bench;
let upstream: FakeUpstream;
let networking: EngineNetworking;
let snapshot: string;
let ipForward: string;
let work: string;
const names = runNames();

before(async () => {
  if (skip) return;
  roots = makeRoots();
  snapshot = hostSnapshot(names.tag);
  ipForward = readIpForward();
  upstream = new FakeUpstream({});
  await upstream.start();
  await importNetImage(roots, 'bbnet');
  bench = makeBench(roots, names, upstream.address);
  networking = new EngineNetworking(bench.facility, bench.runtime);
  work = mkdtempSync(join(roots.dir, 'ctx-'));
});

afterEach(async () => {
  if (skip) return;
  await removeAll(bench);
  for (const n of bench.facility.networks()) await bench.facility.removeNetwork(n.name);
  await eventually('berth-netd exits once nothing is left to serve', () => bench.facility.netd.pid() === undefined);
  assert.deepEqual(bench.facility.sandboxes(), [], 'every step sandbox was removed');
  assert.deepEqual(bench.runtime.list().map((v) => v.record.name), [], 'every step container was removed');
  assert.deepEqual(leftovers(roots), [], 'no mount, cgroup or process left');
  assert.equal(hostSnapshot(names.tag), snapshot, 'links, addresses, routes and rules are exactly as before');
});

after(async () => {
  if (skip) return;
  await upstream.stop();
  writeIpForward(ipForward);
  rmSync(work, { recursive: true, force: true });
  await berthOk(roots, ['rmi', 'bbnet']);
  await cleanupRoots(roots);
});

/** Builds `dockerfile` with the engine's step networks; returns the RUN output. */
async function build(dockerfile: string, extra: Partial<BuildOptions> = {}): Promise<{ output: string; id: string }> {
  const dir = mkdtempSync(join(work, 'c-'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  let output = '';
  const r = await buildImage({
    store: bench.images, runtime: bench.runtime, sys: lazySys, contextDir: dir, noCache: true,
    stepNetwork: stepNetwork(networking),
    onEvent: (e: ImageEvent) => { if (e.kind === 'output') output += e.text; },
    ...extra,
  });
  return { output, id: r.id };
}

/** A TCP server on host:0 that answers every connection with `text`. */
async function serve(host: string, text: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end(text));
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, () => resolve()); });
  return { server, port: (server.address() as { port: number }).port };
}

const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

test('default: a RUN step is on the default bridge with a route out, and reaches the host through its gateway (host-gateway in extra_hosts)', { skip }, async () => {
  const bridge = await networking.ensureDefaultBridge();
  const gateway = bridge.ipv4.gateway;
  const { server, port } = await serve(gateway, 'hello from the host\n');
  try {
    const { output } = await build([
      'FROM bbnet',
      `RUN ip -4 -o addr show eth0 | awk '{print "addr " $4}'; ip route | grep '^default'; nc -w 5 host.docker.internal ${port} </dev/null`,
    ].join('\n'), { extraHosts: ['host.docker.internal:host-gateway'] });
    const prefix = gateway.split('.').slice(0, 2).join('.');
    assert.match(output, new RegExp(`^addr ${prefix.replace('.', '\\.')}\\.`, 'm'), output);
    assert.match(output, new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} `, 'm'), output);
    assert.match(output, /^hello from the host$/m, output);
  } finally {
    await close(server);
  }
});

test('a named network: the step reaches a container on it by address and by name (compose build.network: NAME)', { skip }, async () => {
  await bench.facility.createNetwork({ name: 'front' });
  const web = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '80', '-h', '/www'], networks: [{ network: 'front', names: ['web'] }] });
  const ip = ipOf(bench, web, 'front');
  await waitTcp(ip, 80);
  const { output } = await build([
    'FROM bbnet',
    `RUN timeout 5 wget -q -O - http://${ip}/ && timeout 5 wget -q -O - http://web/`,
  ].join('\n'), { network: 'front' });
  assert.equal(output.split('ahoy from berth').length - 1, 2, output);
  await assert.rejects(build('FROM bbnet\nRUN true', { network: 'nosuchnet' }), /nosuchnet/);
});

test('--network=none has only lo; --network=host needs the entitlement and then sees the host\'s loopback', { skip }, async () => {
  const none = await build('FROM bbnet\nRUN --network=none ip -o link | awk -F": " \'{print "link " $2}\'');
  assert.deepEqual(none.output.trim().split('\n'), ['link lo'], none.output);
  await assert.rejects(build('FROM bbnet\nRUN --network=host true'), /Dockerfile:2: RUN --network=host needs the network\.host entitlement/);
  const { server, port } = await serve('127.0.0.1', 'hello from loopback\n');
  try {
    const { output } = await build(`FROM bbnet\nRUN --network=host nc -w 5 127.0.0.1 ${port} </dev/null`, { entitlements: ['network.host'] });
    assert.match(output, /^hello from loopback$/m, output);
  } finally {
    await close(server);
  }
});

test('through the engine: `berth build` gives RUN steps the default bridge, --add-host, --network=none, and refuses RUN --network=host without --allow', { skip }, async () => {
  // its own roots: the bench shares the network state dir of `roots`' engine, and would take the engine's default bridge away under it
  const own = makeRoots();
  try {
    await importNetImage(own, 'bbnet');
    const dir = mkdtempSync(join(own.dir, 'cli-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM bbnet\nRUN ip route | grep -c "^default via" && grep -c "^[0-9.]*\\s*gw$" /etc/hosts\n');
    const r = await berth(own, ['build', '--progress', 'plain', '--no-cache', '--add-host', 'gw:host-gateway', dir], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^#\d+ 1\n#\d+ 1$/m, r.stderr);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM bbnet\nRUN ip -o link | wc -l\n');
    const none = await berth(own, ['build', '--progress', 'plain', '--no-cache', '--network', 'none', dir], { timeoutMs: 60_000 });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /^#\d+ 1$/m, none.stderr);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM bbnet\nRUN --network=host true\n');
    const host = await berth(own, ['build', dir], { timeoutMs: 60_000 });
    assert.equal(host.code, 1);
    assert.match(host.stderr, /Dockerfile:2: RUN --network=host needs the network\.host entitlement/);
    assert.equal((await berthOk(own, ['build', '-q', '--allow', 'network.host', dir], { timeoutMs: 60_000 })).trim().length > 0, true);
    assert.equal((await berthOk(own, ['ps', '-aq'])).trim(), '', 'no step container is left');
    await berthOk(own, ['rmi', 'bbnet']);
  } finally {
    await cleanupRoots(own);
  }
});
