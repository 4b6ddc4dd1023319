// The network facility on the real kernel, as root, with real containers started through
// src/runtime in the sandboxes it prepares: bridges, veths, addresses, isolation, internal
// networks, published ports, the embedded resolver, repair, and a host left exactly as found.
// All traffic stays on this machine: loopback and the test's own container addresses.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, berthOk, cleanupRoots, leftovers, type TestRoots } from '../helpers/env.js';
import {
  runNames, hostSnapshot, FakeUpstream, makeBench, importNetImage, startContainer, runToEnd, removeAll,
  removeContainer, ipOf, eventually, readIpForward, writeIpForward, waitTcp, RETRY, nativeBuild, type Bench,
} from '../helpers/network.js';

let roots: TestRoots;
let bench: Bench;
let upstream: FakeUpstream;
let snapshot: string;
let ipForward: string;
const names = runNames();

before(async () => {
  roots = makeRoots();
  snapshot = hostSnapshot(names.tag);
  ipForward = readIpForward();
  upstream = new FakeUpstream({ 'outside.example': '192.0.2.200' }, { domain: 'corp.example', ip: '198.51.100.7' });
  await upstream.start();
  await importNetImage(roots, 'bbnet');
  bench = makeBench(roots, names, upstream.address);
});

afterEach(async () => {
  await removeAll(bench);
  for (const n of bench.facility.networks()) await bench.facility.removeNetwork(n.name);
  await eventually('berth-netd exits once nothing is left to serve', () => bench.facility.netd.pid() === undefined);
  assert.deepEqual(leftovers(roots), [], 'no mount, cgroup or process left');
  assert.equal(hostSnapshot(names.tag), snapshot, 'links, addresses, routes and rules are exactly as before');
});

after(async () => {
  await upstream.stop();
  writeIpForward(ipForward);
  await berthOk(roots, ['rmi', 'bbnet']);
  await cleanupRoots(roots);
});

// The trailing `exit` keeps sh as PID 1: a lone command would be exec'd as PID 1, where the
// kernel ignores the signals `timeout` sends.
const sh = (script: string): string[] => ['sh', '-c', `${script}\nexit $?`];

test('two containers on one bridge talk by address and by name; a service name answers with every replica', async () => {
  await bench.facility.createNetwork({ name: 'front' });
  const web1 = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '80', '-h', '/www'], hostname: 'web1', networks: [{ network: 'front', names: ['web', 'proj-web-1', 'www-alias'] }] });
  const web2 = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '80', '-h', '/www'], networks: [{ network: 'front', names: ['web', 'proj-web-2'] }] });
  const ip1 = ipOf(bench, web1, 'front');
  const ip2 = ipOf(bench, web2, 'front');
  assert.notEqual(ip1, ip2);
  await waitTcp(ip1, 80);
  await waitTcp(ip2, 80);
  const r = await runToEnd(bench, {
    image: 'bbnet', networks: [{ network: 'front', names: ['client'] }],
    args: sh(`set -e
      cat /etc/resolv.conf
      timeout 5 wget -q -O - http://${ip1}/
      timeout 5 wget -q -O - http://proj-web-1/
      timeout 5 wget -q -O - http://www-alias/
      nslookup web 2>&1 | grep -A9 '^Name:' | grep '^Address' | sort
      ip -4 -o addr show eth0 | awk '{print $4}'
      ip route`),
  });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /^nameserver 127\.0\.0\.11$/m);
  assert.match(r.output, /^search corp\.example$/m);
  assert.match(r.output, /^options ndots:0$/m);
  assert.equal(r.output.split('ahoy from berth').length - 1, 3, r.output);
  const answered = [...r.output.matchAll(/^Address: (\S+)$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(answered, [ip1, ip2].sort(), 'the service name resolves to both replicas');
  const front = bench.facility.network('front');
  assert.match(r.output, new RegExp(`^default via ${front.ipv4.gateway.replace(/\./g, '\\.')} dev eth0`, 'm'));
});

test('networks are isolated from each other; a container on both reaches both', async () => {
  await bench.facility.createNetwork({ name: 'a' });
  await bench.facility.createNetwork({ name: 'b' });
  const server = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '80', '-h', '/www'], networks: [{ network: 'a', names: ['server'] }] });
  const ipA = ipOf(bench, server, 'a');
  await waitTcp(ipA, 80);
  const fromB = await runToEnd(bench, { image: 'bbnet', networks: [{ network: 'b', names: ['other'] }], args: sh(`timeout 3 wget -q -O - http://${ipA}/; echo "rc=$?"; nslookup server 2>&1 | grep -c "^Address: ${ipA}" || true`) });
  assert.match(fromB.output, /rc=[1-9]/, `a container on b cannot reach a: ${fromB.output}`);
  assert.doesNotMatch(fromB.output, /ahoy/);
  assert.match(fromB.output, /^0$/m, 'the name of a container on a does not resolve on b');
  // and the other way round (rule order must not depend on which bridge name sorts first)
  const serverB = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '80', '-h', '/www'], networks: [{ network: 'b', names: ['server-b'] }] });
  const ipB = ipOf(bench, serverB, 'b');
  await waitTcp(ipB, 80);
  const fromA = await runToEnd(bench, { image: 'bbnet', networks: [{ network: 'a', names: ['other-a'] }], args: sh(`timeout 3 wget -q -O - http://${ipB}/; echo "rc=$?"`) });
  assert.match(fromA.output, /rc=[1-9]/, `a container on a cannot reach b: ${fromA.output}`);
  const both = await runToEnd(bench, { image: 'bbnet', networks: [{ network: 'b', names: ['both'] }, { network: 'a', names: ['both'] }], args: sh(`timeout 5 wget -q -O - http://server/ && ip -o link | grep -c eth`) });
  assert.equal(both.code, 0, both.output);
  assert.match(both.output, /ahoy from berth\n2\n/);
});

test('an internal network has no way out: no route, no gateway, the host unreachable; its members still talk', async () => {
  await bench.facility.createNetwork({ name: 'open' });
  await bench.facility.createNetwork({ name: 'vault', internal: true });
  const gateway = bench.facility.network('open').ipv4.gateway;
  // a listener on the host, on the open network's gateway address (a host address on this machine)
  const hostServer: Server = createServer((s) => s.end('host says hi\n'));
  await new Promise<void>((r) => hostServer.listen(0, gateway, r));
  const port = (hostServer.address() as { port: number }).port;
  try {
    const open = await runToEnd(bench, { image: 'bbnet', networks: [{ network: 'open', names: ['o'] }], args: sh(`nc -w 3 ${gateway} ${port} </dev/null`) });
    assert.equal(open.output, 'host says hi\n', 'control: an ordinary network reaches the host');
    const db = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '80', '-h', '/www'], networks: [{ network: 'vault', names: ['db'] }] });
    const inside = await runToEnd(bench, {
      image: 'bbnet', networks: [{ network: 'vault', names: ['app'] }],
      args: sh(`${RETRY}ip route; echo ---; nc -w 3 ${gateway} ${port} </dev/null; echo "rc=$?"; retry timeout 5 wget -q -O - http://db/; nslookup outside.example 2>&1 | tail -3`),
    });
    assert.doesNotMatch(inside.output.split('---')[0]!, /default/, `no default route: ${inside.output}`);
    assert.doesNotMatch(inside.output, /host says hi/);
    assert.match(inside.output, /rc=[1-9]/);
    assert.match(inside.output, /ahoy from berth/, 'members of the internal network talk');
    assert.doesNotMatch(inside.output, /192\.0\.2\.200/, 'names from outside are not resolved for an internal-only container');
    assert.ok(!upstream.asked.includes('outside.example'), 'nothing was forwarded for it');
    void db;
  } finally {
    await new Promise((r) => hostServer.close(r));
  }
});

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function udpRoundTrip(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setInterval(() => s.send(payload, port, host), 200); // UDP: resend until answered
    const done = (err?: Error, v?: string): void => { clearInterval(timer); clearTimeout(deadline); s.close(); if (err) reject(err); else resolve(v!); };
    const deadline = setTimeout(() => done(new Error(`no UDP answer from ${host}:${port}`)), 5000);
    s.on('message', (m) => done(undefined, m.toString()));
    s.on('error', (e) => done(e));
    s.send(payload, port, host);
  });
}

test('published TCP and UDP ports answer from the host loopback, a random host port included', async () => {
  await bench.facility.createNetwork({ name: 'pub' });
  const web = await startContainer(bench, { image: 'bbnet', args: sh('probe udp-echo 7000 & exec httpd -f -p 80 -h /www'), networks: [{ network: 'pub', names: ['web'] }] });
  const free = await new Promise<number>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
  const published = await bench.facility.publish(web, [
    { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: free, end: free }, containerPort: { start: 80, end: 80 } },
    { protocol: 'tcp', containerPort: { start: 80, end: 80 } },
    { protocol: 'udp', hostIp: '127.0.0.1', containerPort: { start: 7000, end: 7000 } },
  ]);
  const fixed = published.find((p) => p.hostPort === free)!;
  assert.ok(fixed, JSON.stringify(published));
  const random = published.find((p) => p.protocol === 'tcp' && p.hostIp === '' && p.family === 4)!;
  assert.ok(random.hostPort >= 32768 && random.hostPort <= 60999, `random port in the ephemeral range: ${random.hostPort}`);
  const udp = published.find((p) => p.protocol === 'udp')!;
  await eventually('httpd listens', async () => (await httpGet('127.0.0.1', free).catch(() => '')) === 'ahoy from berth\n');
  assert.equal(await httpGet('127.0.0.1', random.hostPort), 'ahoy from berth\n');
  assert.equal(await udpRoundTrip('127.0.0.1', udp.hostPort, 'ping over udp'), 'ping over udp');
  // the port is held: nothing else on the host can bind it while it is published
  await assert.rejects(new Promise<void>((resolve, reject) => { const s = createServer(); s.once('error', reject); s.listen(random.hostPort, '0.0.0.0', () => s.close(() => resolve())); }), /EADDRINUSE/);
  // a host that has IPv6: [::1] reaches the container through the userland proxy
  const v6 = published.find((p) => p.family === 6 && p.protocol === 'tcp');
  if (v6) assert.equal(await httpGet('::1', v6.hostPort), 'ahoy from berth\n');
  // containers reach a published port through the host's address on their network (hairpin
  // for the publishing container itself, DNAT back into the bridge for another one)
  const gw = bench.facility.network('pub').ipv4.gateway;
  const viaHost = await runToEnd(bench, { image: 'bbnet', networks: [{ network: 'pub', names: ['peer'] }], args: sh(`timeout 5 wget -q -O - http://${gw}:${random.hostPort}/ 2>&1`) });
  assert.equal(viaHost.output, 'ahoy from berth\n', 'another container, through the host');
  const self = await runToEnd(bench, { image: 'bbnet', mode: { kind: 'container', containerId: web }, args: sh(`timeout 5 wget -q -O - http://${gw}:${random.hostPort}/ 2>&1`) });
  assert.equal(self.output, 'ahoy from berth\n', 'the publishing container itself (hairpin)');
  // a second container cannot take a port the first holds
  const other = await startContainer(bench, { image: 'bbnet', args: ['sleep', '60'], networks: [{ network: 'pub', names: ['other'] }] });
  await assert.rejects(bench.facility.publish(other, [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: free, end: free }, containerPort: { start: 80, end: 80 } }]), /already allocated/);
  // UDP through the IPv6 proxy, where the host has IPv6
  if (v6) {
    const [udp6] = await bench.facility.publish(web, [{ protocol: 'udp', hostIp: '::1', containerPort: { start: 7000, end: 7000 } }]);
    assert.equal(await udpRoundTrip('::1', udp6!.hostPort, 'ping over udp6'), 'ping over udp6');
  }
  // a port some host process listens on: refused before anything is recorded, naming the process
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const taken = (squatter.address() as { port: number }).port;
  try {
    await assert.rejects(bench.facility.checkPorts([{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: taken, end: taken }, containerPort: { start: 80, end: 80 } }]),
      new RegExp(`Bind for 127\\.0\\.0\\.1:${taken}/tcp failed: port is already allocated \\(held by process ${process.pid}, `));
  } finally {
    await new Promise((r) => squatter.close(r));
  }
  await bench.facility.unpublish(web);
  await assert.rejects(httpGet('127.0.0.1', free));
});

test('DNS: container names, aliases, search-domain wildcards (compose#12676), forwarding, extra_hosts and host-gateway', async () => {
  await bench.facility.createNetwork({ name: 'dns' });
  const db = await startContainer(bench, { image: 'bbnet', args: ['sleep', '300'], hostname: 'dbhost', networks: [{ network: 'dns', names: ['db', 'proj-db-1', 'dbhost', 'database'] }] });
  const dbIp = ipOf(bench, db, 'dns');
  const r = await runToEnd(bench, {
    image: 'bbnet', hostname: 'asker', networks: [{ network: 'dns', names: ['asker'] }],
    // ndots:5 makes the resolver try "db.corp.example" first, which the upstream's wildcard
    // answers: berth must still win for its own names
    dnsOptions: ['ndots:5'],
    extraHosts: ['static.example:10.1.2.3', 'gw:host-gateway'],
    args: sh(`for n in db proj-db-1 dbhost database db.corp.example DB; do printf "%s=" $n; nslookup $n 2>/dev/null | grep -A3 '^Name:' | awk '/^Address/ {print $2}' | head -1; done
      printf "outside="; nslookup outside.example 2>/dev/null | awk '/^Address/ {a=$2} END {print a}'
      printf "tcp="; probe dns-tcp 127.0.0.11 db
      cat /etc/hosts`),
  });
  assert.equal(r.code, 0, r.output);
  for (const n of ['db', 'proj-db-1', 'dbhost', 'database', 'db.corp.example', 'DB']) assert.match(r.output, new RegExp(`^${n}=${dbIp.replace(/\./g, '\\.')}$`, 'm'), `${n}: ${r.output}`);
  assert.match(r.output, /^outside=192\.0\.2\.200$/m, 'other names go to the host\'s upstream');
  assert.match(r.output, /^tcp=1 1$/m, 'over TCP too, two queries on one connection');
  assert.match(r.output, /^10\.1\.2\.3\tstatic\.example$/m);
  assert.match(r.output, new RegExp(`^${bench.facility.network('dns').ipv4.gateway.replace(/\./g, '\\.')}\\tgw$`, 'm'));
  assert.match(r.output, /\tasker$/m, 'own address and hostname in /etc/hosts');
});

test('network_mode none, host and container: which namespace the process joins', async () => {
  await bench.facility.createNetwork({ name: 'modes' });
  const none = await runToEnd(bench, { image: 'bbnet', mode: { kind: 'none' }, args: sh('ip -o link | wc -l') });
  assert.equal(none.output.trim(), '1', 'none: lo only');
  const host = await runToEnd(bench, { image: 'bbnet', mode: { kind: 'host' }, args: sh('readlink /proc/self/ns/net') });
  const { readlinkSync } = await import('node:fs');
  assert.equal(host.output.trim(), readlinkSync('/proc/self/ns/net'), 'host: the host\'s namespace');
  const owner = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '8080', '-h', '/www'], networks: [{ network: 'modes', names: ['owner'] }] });
  await waitTcp(ipOf(bench, owner, 'modes'), 8080);
  const joined = await runToEnd(bench, { image: 'bbnet', mode: { kind: 'container', containerId: owner }, args: sh('timeout 5 wget -q -O - http://127.0.0.1:8080/') });
  assert.equal(joined.output, 'ahoy from berth\n', 'container: shares the other container\'s namespace (its loopback)');
});

test('repair finishes or removes what a crash left at any point, and removes what no record explains', async () => {
  const f = bench.facility;
  const n = await f.createNetwork({ name: 'crashy' });
  const { execFileSync } = await import('node:child_process');
  // a stray veth and a stray namespace file with this run's names
  execFileSync('ip', ['link', 'add', `${names.vethPrefix}dead00`, 'type', 'veth', 'peer', 'name', `${names.vethPrefix}dead01`]);
  const netnsDir = join(roots.run, 'network', 'netns');
  mkdirSync(netnsDir, { recursive: true });
  writeFileSync(join(netnsDir, 'f'.repeat(64)), '');
  // a container whose sandbox was half removed (removing set, veth still there)
  const c = await startContainer(bench, { image: 'bbnet', args: ['sleep', '300'], networks: [{ network: 'crashy', names: ['c'] }] });
  const record = f.sandbox(c);
  writeFileSync(join(roots.run, 'network', 'sandboxes', `${c}.json`), JSON.stringify({ ...record, removing: true }));
  await bench.runtime.remove(c, { force: true });
  // a crash after the network's record and before its bridge: the bridge is made again
  execFileSync('ip', ['link', 'del', n.bridge]);
  const done = await f.repair();
  assert.ok(done.includes(`removed sandbox ${c.slice(0, 12)}`), done.join('\n'));
  assert.ok(done.some((d) => d.startsWith(`deleted link ${names.vethPrefix}dead0`)), done.join('\n'));
  assert.ok(done.includes(`deleted namespace ${'f'.repeat(64)}`), done.join('\n'));
  const { hostLinks } = await import('../../src/network/host.js');
  assert.ok(hostLinks().includes(n.bridge), 'the bridge of a recorded network is back');
  assert.deepEqual(hostLinks().filter((l) => l.startsWith(names.vethPrefix)), []);
  bench.containers.delete(c);
  // a network whose removal was interrupted is removed
  writeFileSync(join(roots.root, 'network', 'networks', 'crashy.json'), JSON.stringify({ ...f.network('crashy'), removing: true }));
  assert.deepEqual(await f.repair(), ['removed network crashy']);
  assert.ok(!hostLinks().includes(n.bridge));
});

test('a sandbox survives its creator: containers keep their addresses, names keep resolving after removal of others', async () => {
  await bench.facility.createNetwork({ name: 'follow' });
  const a = await startContainer(bench, { image: 'bbnet', args: ['sleep', '300'], networks: [{ network: 'follow', names: ['svc'] }] });
  const first = ipOf(bench, a, 'follow');
  await removeContainer(bench, a);
  // a recreated container gets a new address (serial allocation) and the name follows it
  const b = await startContainer(bench, { image: 'bbnet', args: ['sleep', '300'], networks: [{ network: 'follow', names: ['svc'] }] });
  const second = ipOf(bench, b, 'follow');
  assert.notEqual(second, first);
  const r = await runToEnd(bench, { image: 'bbnet', networks: [{ network: 'follow', names: ['q'] }], args: sh('nslookup svc 2>/dev/null | awk \'/^Address/ {a=$2} END {print a}\'') });
  assert.equal(r.output.trim(), second);
});

test('connect refuses what Docker refuses', async () => {
  await bench.facility.createNetwork({ name: 'strict', ipam: [{ subnet: '10.213.0.0/24', gateway: '10.213.0.254', ipRange: '10.213.0.128/25' }] });
  await assert.rejects(bench.facility.createNetwork({ name: 'strict' }), /already exists/);
  await assert.rejects(bench.facility.createNetwork({ name: 'overlap', ipam: [{ subnet: '10.213.0.0/16' }] }), /overlaps/);
  const c = await startContainer(bench, { image: 'bbnet', args: ['sleep', '300'], networks: [{ network: 'strict', names: ['x'], ipv4Address: '10.213.0.9' }] });
  assert.equal(ipOf(bench, c, 'strict'), '10.213.0.9');
  const d = await startContainer(bench, { image: 'bbnet', args: ['sleep', '300'], networks: [{ network: 'strict', names: ['y'] }] });
  assert.equal(ipOf(bench, d, 'strict'), '10.213.0.128', 'from ip_range');
  await assert.rejects(bench.facility.connect(d, 'strict', { names: [] }), /already exists/);
  await assert.rejects(bench.facility.removeNetwork('strict'), /active endpoints/);
});

test('an engine SIGKILL stops nothing: names resolve, the published port answers, a new engine repairs and goes on', async () => {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const script = fileURLToPath(new URL('../helpers/network-engine.js', import.meta.url));
  const engine = spawn(process.execPath, [script, JSON.stringify(roots), JSON.stringify(names), upstream.address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => engine.once('exit', r));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    engine.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; if (out.includes('\n')) resolve(out.split('\n')[0]!); });
    engine.once('exit', (code) => reject(new Error(`the stand-in engine exited ${code} before it was ready: ${out}`)));
  });
  const { id, hostPort, netd } = JSON.parse(line) as { id: string; hostPort: number; netd: number };
  bench.containers.add(id);
  engine.kill('SIGKILL');
  await exited;
  // no engine runs now
  assert.equal(bench.facility.netd.pid(), netd, 'berth-netd outlived the engine that started it');
  assert.equal(await httpGet('127.0.0.1', hostPort), 'ahoy from berth\n', 'the published port answers');
  const ask = await runToEnd(bench, { image: 'bbnet', networks: [{ network: 'survive', names: ['asker'] }], args: sh('timeout 5 wget -q -O - http://keeper/') });
  assert.equal(ask.output, 'ahoy from berth\n', 'the name resolves while no engine runs');
  // a new engine's repair keeps what is alive
  assert.deepEqual(await bench.facility.repair(), []);
  assert.equal(bench.facility.netd.pid(), netd, 'repair does not restart a live resolver');
  assert.equal(await httpGet('127.0.0.1', hostPort), 'ahoy from berth\n');
});

test('enable_ipv6: containers get an address from a ULA subnet, talk over IPv6, and their names have AAAA records', async () => {
  const n = await bench.facility.createNetwork({ name: 'six', enableIpv6: true });
  assert.ok(n.ipv6 && n.ipv6.subnet.startsWith('fd'), JSON.stringify(n.ipv6));
  const web = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '80', '-h', '/www'], networks: [{ network: 'six', names: ['web6'] }] });
  const v6 = bench.facility.sandbox(web).attachments[0]!.ipv6!.split('/')[0]!;
  await waitTcp(v6, 80);
  const r = await runToEnd(bench, { image: 'bbnet', networks: [{ network: 'six', names: ['c6'] }], args: sh(`timeout 5 wget -q -O - "http://[${v6}]/"; nslookup -type=AAAA web6 2>/dev/null | awk '/^Address/ {a=$2} END {print a}'; ip -6 route | grep -c default`) });
  assert.equal(r.output, `ahoy from berth\n${v6}\n1\n`);
});

test('two berth roots creating networks at the same moment never get the same subnet', async () => {
  const { NetworkFacility } = await import('../../src/network/facility.js');
  const { hostLinks } = await import('../../src/network/host.js');
  const other = runNames();
  const second = new NetworkFacility({
    stateDir: join(roots.dir, 'second', 'state'), runDir: join(roots.dir, 'second', 'run'),
    netBin: join(nativeBuild, 'berth-net'), netdBin: join(nativeBuild, 'berth-netd'),
    table: other.table, bridgePrefix: other.bridgePrefix, vethPrefix: other.vethPrefix, hostResolvConf: bench.resolvConf, env: roots.env,
  });
  try {
    const made = await Promise.all([
      bench.facility.createNetwork({ name: 'r1' }), second.createNetwork({ name: 'r2' }),
      bench.facility.createNetwork({ name: 'r3' }), second.createNetwork({ name: 'r4' }),
    ]);
    const subnets = made.map((n) => n.ipv4.subnet);
    assert.equal(new Set(subnets).size, 4, subnets.join(' '));
  } finally {
    for (const n of second.networks()) await second.removeNetwork(n.name);
  }
  assert.deepEqual(hostLinks().filter((l) => l.startsWith(other.bridgePrefix)), []);
});

void createConnection;
