// Scenario: a developer brings up a stack whose services talk over networks (test/e2e/network/).
// Intent: web reaches db by service name, the host reaches web's published port on 127.0.0.1,
// networks keep their members apart (an internal one has no way out), names follow replicas and
// recreated containers, DNS and published ports outlive an engine SIGKILL, a port conflict fails
// `up` with nothing created, the network verbs answer as docker's do, and `down` leaves no
// bridge, veth, namespace, rule or process behind. All traffic stays on this machine: loopback
// and the project's own container addresses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get } from 'node:http';
import { createServer, type Server } from 'node:net';
import { spawnSync } from 'node:child_process';
import { berth, berthOk, eventually, leftovers, networkLeftovers, poolNamespaces, processGone, type TestRoots, setUpScenario, tearDownScenario, type Scenario } from '../helpers/env.js';

let scenario: Scenario;
let roots: TestRoots;
let dir: string;

before(async () => {
  scenario = await setUpScenario('network');
  ({ roots, dir } = scenario);
});

after(async () => {
  // a network a failed test left (network create) goes before the leftovers check
  for (const n of ['e2e-net-front', 'e2e-net-spare']) await berth(roots, ['network', 'rm', n]);
  await tearDownScenario(scenario);
});

const compose = (...args: string[]): string[] => ['compose', '-f', join(dir, 'compose.yaml'), ...args];

async function inspect(name: string): Promise<any> {
  return JSON.parse(await berthOk(roots, ['inspect', name]))[0];
}

/** The container's address on one of the project's networks. */
async function addressOn(container: string, network: string): Promise<string> {
  const ip = (await inspect(container)).NetworkSettings.Networks[network]?.IPAddress;
  assert.ok(ip, `${container} has an address on ${network}`);
  return ip;
}

/**
 * Runs a shell script in a container; the script's own retry loop (every 0.1 s, 5 s at most)
 * waits for a server that is still starting. Busybox's wget -T crashes (a busybox bug), hence
 * `timeout`.
 */
async function sh(container: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return berth(roots, ['exec', container, 'sh', '-c', script], { timeoutMs: 30_000 });
}
const retry = (cmd: string): string => `i=0; until ${cmd}; do i=$((i+1)); [ $i -ge 50 ] && exit 1; sleep 0.1; done`;

/** GET http://127.0.0.1:<port><path> from the host. */
function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

async function webPort(): Promise<number> {
  const out = (await berthOk(roots, compose('port', 'web', '80'))).trim();
  const m = /^127\.0\.0\.1:(\d+)$/.exec(out);
  assert.ok(m, `compose port prints 127.0.0.1:PORT, got ${JSON.stringify(out)}`);
  return Number(m[1]);
}

test('up -d must create the project networks before the containers, web must reach db by service name and the host web\'s published port', async () => {
  const out = await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  for (const n of ['default', 'back', 'other']) assert.match(out, new RegExp(`Network e2e-net_${n} {2}Created`));
  assert.ok(out.indexOf('Network e2e-net_default  Created') < out.indexOf('Container e2e-net-db-1  Created'), 'the network is created before the container');

  const ls = await berthOk(roots, ['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
  for (const n of ['back', 'default', 'other']) assert.match(ls, new RegExp(`^e2e-net_${n} bridge$`, 'm'));

  // web → db by service name, answered by db's own container
  const dbHost = (await inspect('e2e-net-db-1')).Config.Hostname;
  const r = await sh('e2e-net-web-1', retry('wget -q -O - http://db:5432/hostname'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), dbHost);

  // the host → web through the port published on 127.0.0.1 (a random host port, read back)
  const port = await webPort();
  assert.equal((await eventually(() => httpGet(port, '/hostname'), 10_000, 'web to answer on its published port')).trim(), 'webhost');
  assert.match(await berthOk(roots, ['port', 'e2e-net-web-1']), new RegExp(`^80/tcp -> 127\\.0\\.0\\.1:${port}$`, 'm'));
  const ps = (await berthOk(roots, compose('ps', '--format', 'json'))).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(ps.find((c: any) => c.Service === 'web').Ports, `127.0.0.1:${port}->80/tcp`);
  assert.deepEqual(ps.find((c: any) => c.Service === 'web').Publishers, [{ URL: '127.0.0.1', TargetPort: 80, PublishedPort: port, Protocol: 'tcp' }]);

  const web = await inspect('e2e-net-web-1');
  assert.deepEqual(Object.keys(web.NetworkSettings.Networks).sort(), ['e2e-net_back', 'e2e-net_default']);
  assert.deepEqual(web.NetworkSettings.Ports['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(port) }]);
});

test('the names a service answers to must resolve on shared networks only; extra_hosts and the sidecar\'s namespace must apply', async () => {
  // web reaches cache by its alias on the internal network
  const cache = await sh('e2e-net-web-1', retry('wget -q -O - http://kv:6379/hostname'));
  assert.equal(cache.code, 0, cache.stderr);
  assert.equal(cache.stdout.trim(), (await inspect('e2e-net-cache-1')).Config.Hostname);
  // the container name and the hostname resolve too
  for (const name of ['e2e-net-db-1', 'webhost']) {
    const r = await sh('e2e-net-web-1', `nslookup ${name} 127.0.0.11`);
    assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
  }
  // host-gateway is the gateway of web's first network with one (default; back is internal)
  const gw = (await inspect('e2e-net-web-1')).NetworkSettings.Networks['e2e-net_default'].Gateway;
  assert.match((await sh('e2e-net-web-1', 'cat /etc/hosts')).stdout, new RegExp(`^${gw.replace(/\./g, '\\.')}\\s+gw\\.example$`, 'm'));
  // the sidecar shares web's namespace (network_mode: service:web): web's server is on its loopback
  const side = await sh('e2e-net-sidecar-1', retry('wget -q -O - http://127.0.0.1:80/hostname'));
  assert.equal(side.code, 0, side.stderr);
  assert.equal(side.stdout.trim(), 'webhost');
});

test('a container on another network must not resolve nor reach the project\'s services', async () => {
  const r = await sh('e2e-net-outsider-1', 'nslookup db 127.0.0.11');
  assert.notEqual(r.code, 0, `db must not resolve for the outsider: ${r.stdout}`);
  const dbIp = await addressOn('e2e-net-db-1', 'e2e-net_default');
  const reach = await sh('e2e-net-outsider-1', `timeout 2 wget -q -O - http://${dbIp}:5432/hostname; echo "rc=$?"`);
  assert.match(reach.stdout, /rc=[1-9]/, `db's address must be unreachable from another network: ${reach.stdout}`);
  // …while web, on db's network, reaches the same address (the server answers)
  const ok = await sh('e2e-net-web-1', retry(`wget -q -O - http://${dbIp}:5432/hostname`));
  assert.equal(ok.code, 0, ok.stderr);
});

test('a container only on an internal network must have no way out', async () => {
  const routes = await sh('e2e-net-cache-1', 'ip route');
  assert.equal(routes.code, 0, routes.stderr);
  assert.doesNotMatch(routes.stdout, /default/, 'no default route');
  // web's address on the default network is another network's: unreachable
  const webIp = await addressOn('e2e-net-web-1', 'e2e-net_default');
  const reach = await sh('e2e-net-cache-1', `timeout 2 wget -q -O - http://${webIp}:80/hostname; echo "rc=$?"`);
  assert.match(reach.stdout, /rc=[1-9]/, reach.stdout);
  // outside names are refused, not forwarded
  const outside = await sh('e2e-net-cache-1', 'nslookup outside.invalid 127.0.0.11');
  assert.notEqual(outside.code, 0);
});

test('a scaled service must answer by name on every replica, and names must follow a recreated container', async () => {
  await berthOk(roots, compose('up', '-d', '--scale', 'db=2'), { timeoutMs: 60_000 });
  const ips = [await addressOn('e2e-net-db-1', 'e2e-net_default'), await addressOn('e2e-net-db-2', 'e2e-net_default')].sort();
  const r = await sh('e2e-net-web-1', 'nslookup db 127.0.0.11');
  assert.equal(r.code, 0, r.stderr);
  const answered = [...r.stdout.matchAll(/Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]!).filter((a) => a !== '127.0.0.11').sort();
  assert.deepEqual(answered, ips);
  for (const ip of ips) {
    const hit = await sh('e2e-net-web-1', retry(`wget -q -O - http://${ip}:5432/hostname`));
    assert.equal(hit.code, 0, `replica at ${ip}: ${hit.stderr}`);
  }

  // a changed db is recreated with a new address; db's name follows it
  await berthOk(roots, compose('up', '-d', '--scale', 'db=1'), { timeoutMs: 60_000, env: { GENERATION: '2' } });
  const fresh = await inspect('e2e-net-db-1');
  assert.ok(fresh.Config.Env.includes('GENERATION=2'));
  const ip = await addressOn('e2e-net-db-1', 'e2e-net_default');
  const after = await sh('e2e-net-web-1', 'nslookup db 127.0.0.11');
  assert.deepEqual([...after.stdout.matchAll(/Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]!).filter((a) => a !== '127.0.0.11'), [ip]);
  const hit = await sh('e2e-net-web-1', retry('wget -q -O - http://db:5432/hostname'));
  assert.equal(hit.stdout.trim(), fresh.Config.Hostname);
});

test('a network whose config changed must be recreated with the containers on it, and nothing else touched', async () => {
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  const ids = async (): Promise<Record<string, string>> => Object.fromEntries(await Promise.all(['web', 'db', 'cache', 'outsider'].map(async (s) => [s, (await inspect(`e2e-net-${s}-1`)).Id as string])));
  const networkId = async (): Promise<string> => JSON.parse(await berthOk(roots, ['network', 'inspect', 'e2e-net_other']))[0].Id;
  const before = await ids();
  const otherBefore = await networkId();
  const out = await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000, env: { TEAM: 'core' } });
  assert.match(out, /Network e2e-net_other +Removed/);
  assert.match(out, /Network e2e-net_other +Created/);
  const n = JSON.parse(await berthOk(roots, ['network', 'inspect', 'e2e-net_other']))[0];
  assert.equal(n.Labels.team, 'core');
  assert.notEqual(n.Id, otherBefore);
  const after = await ids();
  assert.notEqual(after.outsider, before.outsider, 'the container on the network was recreated');
  assert.equal((await inspect('e2e-net-outsider-1')).State.Status, 'running');
  assert.deepEqual(Object.keys((await inspect('e2e-net-outsider-1')).NetworkSettings.Networks), ['e2e-net_other']);
  for (const s of ['web', 'db', 'cache']) assert.equal(after[s], before[s], `${s} is not on the network and is kept`);
  // and back: the same file with the same variables changes nothing the second time
  await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 });
  const back = await networkId();
  assert.equal(await networkId(), back);
  assert.doesNotMatch(await berthOk(roots, compose('up', '-d'), { timeoutMs: 60_000 }), /Network e2e-net_other/);
});

test('DNS and the published port must keep answering while the engine is SIGKILLed, and the next engine must change nothing', async () => {
  const port = await webPort();
  const web = await inspect('e2e-net-web-1');
  const netns = web.NetworkSettings.SandboxKey;
  assert.ok(netns, 'web has a namespace file');
  const dbIp = await addressOn('e2e-net-db-1', 'e2e-net_default');
  const before = networkSnapshot();
  const enginePid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8'));
  process.kill(enginePid, 'SIGKILL');
  await eventually(() => processGone(enginePid), 10_000, 'the engine to die');

  // no engine: the port answers (kernel NAT), and a name resolves inside web's namespace
  assert.equal((await httpGet(port, '/hostname')).trim(), 'webhost');
  const dns = spawnSync('nsenter', [`--net=${netns}`, '/bin/busybox', 'nslookup', 'db', '127.0.0.11'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(dns.status, 0, dns.stdout + dns.stderr);
  assert.match(dns.stdout, new RegExp(`^Address: ${dbIp.replace(/\./g, '\\.')}$`, 'm'));

  // the next verb starts an engine whose repair finds nothing to do
  await berthOk(roots, compose('ps'));
  assert.equal(networkSnapshot(), before);
  assert.equal((await httpGet(port, '/hostname')).trim(), 'webhost');
});

test('a published port that is in use must fail up before anything is created, naming the port', async () => {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as { port: number }).port;
  try {
    const file = join(dir, 'conflict.yaml');
    writeFileSync(file, `name: e2e-net-conflict\nservices:\n  a:\n    image: bb\n    command: ["sleep", "1000"]\n  b:\n    image: bb\n    command: ["sleep", "1000"]\n    ports: ["127.0.0.1:${port}:80"]\n`);
    const r = await berth(roots, ['compose', '-f', file, 'up', '-d'], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}/tcp failed: port is already allocated`));
    assert.match(r.stderr, new RegExp(`held by process ${process.pid}`), 'the holder is named');
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    assert.equal((await berthOk(roots, ['compose', '-f', file, 'ps', '-a', '-q'])).trim(), '', 'no container was created');
    assert.doesNotMatch(await berthOk(roots, ['network', 'ls']), /e2e-net-conflict/, 'no network was created');
  } finally {
    holder.close();
  }
});

test('the network verbs and run --network/-p must behave as docker\'s', async () => {
  const id = (await berthOk(roots, ['network', 'create', '--subnet', '10.231.7.0/24', '--label', 'x=y', 'e2e-net-front'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const dup = await berth(roots, ['network', 'create', 'e2e-net-front']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /already exists/);
  const doc = JSON.parse(await berthOk(roots, ['network', 'inspect', 'e2e-net-front']))[0];
  assert.equal(doc.Id, id);
  assert.deepEqual(doc.IPAM.Config, [{ Subnet: '10.231.7.0/24', Gateway: '10.231.7.1' }]);
  assert.deepEqual(doc.Labels, { x: 'y' });

  await berthOk(roots, ['run', '-d', '--name', 'e2e-net-solo', '--network', 'e2e-net-front', '--network-alias', 'solo-alias', '-p', '127.0.0.1::80', 'bb', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(await berthOk(roots, ['port', 'e2e-net-solo', '80']))![1]);
  assert.ok((await eventually(() => httpGet(port, '/group'), 10_000, 'the solo container on its published port')).startsWith('root:'));
  assert.ok((await berthOk(roots, ['network', 'inspect', '-f', '{{json .Containers}}', 'e2e-net-front'])).includes('"Name":"e2e-net-solo"'));
  // a one-off container on the same network reaches it by alias
  const oneOff = await berth(roots, ['run', '--rm', '--network', 'e2e-net-front', 'bb', 'sh', '-c', retry('wget -q -O - http://solo-alias/group >/dev/null')], { timeoutMs: 30_000 });
  assert.equal(oneOff.code, 0, oneOff.stderr);

  // connect web to it: the solo container now reaches web by its service name; disconnect undoes it
  await berthOk(roots, ['network', 'connect', 'e2e-net-front', 'e2e-net-web-1']);
  const reached = await sh('e2e-net-solo', retry('wget -q -O - http://web/hostname'));
  assert.equal(reached.stdout.trim(), 'webhost');
  const busy = await berth(roots, ['network', 'rm', 'e2e-net-front']);
  assert.notEqual(busy.code, 0);
  assert.match(busy.stderr, /active endpoints/);
  await berthOk(roots, ['network', 'disconnect', 'e2e-net-front', 'e2e-net-web-1']);
  assert.equal((await inspect('e2e-net-web-1')).NetworkSettings.Networks['e2e-net-front'], undefined);
  assert.notEqual((await sh('e2e-net-solo', 'nslookup web 127.0.0.11')).code, 0, 'web no longer resolves on the network it left');

  await berthOk(roots, ['rm', '-f', 'e2e-net-solo']);
  await berthOk(roots, ['network', 'create', 'e2e-net-spare']);
  const pruned = await berthOk(roots, ['network', 'prune', '-f']);
  assert.match(pruned, /^e2e-net-front$/m);
  assert.match(pruned, /^e2e-net-spare$/m);
  assert.doesNotMatch(pruned, /e2e-net_default/, 'a network in use is kept');
  const missing = await berth(roots, ['network', 'rm', 'e2e-net-front']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found/);
});

test('unsupported network settings must fail with a clear error naming the key', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'name: e2e-net-bad\nservices:\n  a:\n    image: bb\n    command: ["true"]\n    networks: [over]\nnetworks:\n  over:\n    driver: overlay\n');
  const r = await berth(roots, ['compose', '-f', file, 'up', '-d'], { timeoutMs: 60_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /network "over": driver "overlay" is not supported/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  assert.equal((await berthOk(roots, ['compose', '-f', file, 'ps', '-a', '-q'])).trim(), '');
  const ext = join(dir, 'external.yaml');
  writeFileSync(ext, 'name: e2e-net-ext\nservices:\n  a:\n    image: bb\n    command: ["true"]\n    networks: [shared]\nnetworks:\n  shared:\n    external: true\n    name: e2e-net-nowhere\n');
  const e = await berth(roots, ['compose', '-f', ext, 'up', '-d'], { timeoutMs: 60_000 });
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /e2e-net-nowhere declared as external, but could not be found/);
});

test('down must remove the containers, then the networks, and leave no bridge, veth, namespace, rule or process', async () => {
  const out = await berthOk(roots, compose('down', '-t', '1'), { timeoutMs: 60_000 });
  for (const n of ['default', 'back', 'other']) assert.match(out, new RegExp(`Network e2e-net_${n} {2}Removed`));
  assert.ok(out.indexOf('Network e2e-net_default  Removed') > out.indexOf('Container e2e-net-db-1  Removed'), 'the network goes after its containers');
  assert.deepEqual(networkLeftovers(roots), []);
  assert.deepEqual(leftovers(roots), []);
  // the engine's idle pre-made sandboxes (src/network/pool.ts) are no container's
  const pool = new Set(poolNamespaces(roots));
  const netns = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((mp) => mp.startsWith(`${roots.run}/network/netns/`) && !pool.has(mp));
  assert.deepEqual(netns, [], 'no namespace file of a container is mounted');
  assert.doesNotMatch(await berthOk(roots, ['network', 'ls']), /e2e-net/);
});

/** This run's links, addresses, routes and rules: the `ip` and `nft` views of its tag. */
function networkSnapshot(): string {
  const tag = roots.netTag;
  const run = (cmd: string, args: string[]): string => spawnSync(cmd, args, { encoding: 'utf8' }).stdout;
  // timers and lifetimes tick by themselves, the kernel's IPv6 link-local addresses change
  // state on their own (tentative until duplicate address detection ends), and a bridge made a
  // moment ago goes from operstate UNKNOWN to UP by itself once its port forwards: left out
  const ours = (text: string): string => text.split('\n').filter((l) => l.includes(`t${tag}`) && !l.includes(' inet6 fe80:'))
    .map((l) => l.replace(/(\w+_timer|valid_lft|preferred_lft)\s+\S+/g, '').replace(/ state (UP|UNKNOWN) mode /, ' state - mode ')).join('\n');
  return [ours(run('ip', ['-o', '-d', 'link'])), ours(run('ip', ['-o', 'addr'])), ours(run('ip', ['route'])), run('nft', ['list', 'table', 'inet', `berth_test_${tag}`])].join('\n##\n');
}
