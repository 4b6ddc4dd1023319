import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkServiceNetworking, exposeList, flagsNetworkIntent, serviceNetworkIntent, serviceNetworkKeys } from './service-network.js';
import { networkCreateRequest } from './network-runner.js';
import { load } from '../spec/load.js';
import { memoryFiles } from '../spec/testing.js';
import { parsePortString } from '../spec/canonical/ports.js';
import { BerthError } from '../lib/errors.js';

async function project(yaml: string) {
  return load({ files: ['/p/compose.yaml'], env: {}, cwd: '/p' }, memoryFiles({ '/p/compose.yaml': yaml })).project;
}

const who = { containerId: 'c'.repeat(64), containerName: 'demo-web-1' };
const noJoin = (): string => { throw new Error('not joined'); };

test('a service joins its networks by priority then key, answering to its service, container and alias names', async () => {
  const p = await project(`name: demo
services:
  db: {image: bb}
  web:
    image: bb
    hostname: webhost
    mac_address: "02:42:ac:11:00:99"
    links: ["db:database"]
    networks:
      back: {aliases: [api], ipv4_address: 10.9.0.5}
      front: {priority: 10, interface_name: ext0}
networks:
  back: {}
  front: {name: edge}
`);
  const web = p.services.web!;
  assert.deepEqual(serviceNetworkKeys(web), ['front', 'back']);
  const intent = serviceNetworkIntent(p, web, { ...who, hostname: 'webhost' }, noJoin);
  assert.equal(intent.mode, 'bridge');
  assert.deepEqual(intent.endpoints.map((e) => e.network), ['edge', 'demo_back']);
  const [front, back] = intent.endpoints;
  assert.deepEqual(front!.names, ['demo-web-1', 'web', 'cccccccccccc', 'webhost']);
  assert.equal(front!.interfaceName, 'ext0');
  assert.equal(front!.macAddress, '02:42:ac:11:00:99', 'the service mac_address goes to the first network');
  assert.deepEqual(back!.aliases, ['api']);
  assert.equal(back!.ipv4Address, '10.9.0.5');
  // db is answered as "database" too (links' aliases)
  const db = serviceNetworkIntent(p, p.services.db!, { containerId: 'd'.repeat(64), containerName: 'demo-db-1' }, noJoin);
  assert.ok(db.endpoints[0]!.names.includes('database'));
  assert.deepEqual(db.endpoints.map((e) => e.network), ['demo_default']);
});

test('ports, expose, dns and extra_hosts are recorded as asked; a random host port stays open', async () => {
  const p = await project(`services:
  web:
    image: bb
    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp", "3000", "[::1]:0:53/udp"]
    expose: ["8125/udp", "7000-7001"]
    dns: [10.0.0.2]
    dns_search: [corp.example]
    dns_opt: [ndots:2]
    extra_hosts: ["gw:host-gateway"]
`);
  const intent = serviceNetworkIntent(p, p.services.web!, who, noJoin);
  assert.deepEqual(intent.ports, [
    { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: 8080, end: 8080 }, containerPort: { start: 80, end: 80 } },
    { protocol: 'udp', hostPort: { start: 9000, end: 9000 }, containerPort: { start: 9000, end: 9000 } },
    { protocol: 'udp', hostPort: { start: 9001, end: 9001 }, containerPort: { start: 9001, end: 9001 } },
    { protocol: 'tcp', containerPort: { start: 3000, end: 3000 } },
    { protocol: 'udp', hostIp: '::1', containerPort: { start: 53, end: 53 } },
  ]);
  assert.deepEqual(intent.expose, ['8125/udp', '7000/tcp', '7001/tcp']);
  assert.deepEqual([intent.dns, intent.dnsSearch, intent.dnsOptions, intent.extraHosts], [['10.0.0.2'], ['corp.example'], ['ndots:2'], ['gw=host-gateway']]);
});

test('network_mode: none and host have no endpoints; service: joins the named service\'s container', async () => {
  const p = await project(`services:
  web: {image: bb}
  a: {image: bb, network_mode: none}
  b: {image: bb, network_mode: host}
  c: {image: bb, network_mode: "service:web"}
`);
  assert.deepEqual(serviceNetworkIntent(p, p.services.a!, who, noJoin).endpoints, []);
  assert.equal(serviceNetworkIntent(p, p.services.b!, who, noJoin).mode, 'host');
  const c = serviceNetworkIntent(p, p.services.c!, who, (mode) => (mode === 'service:web' ? 'w'.repeat(64) : ''));
  assert.equal(c.mode, `container:${'w'.repeat(64)}`);
  assert.equal(c.joinedService, 'web');
});

test('what berth cannot honour is refused before anything is made, naming the key', async () => {
  const refused = async (yaml: string, message: RegExp): Promise<void> => {
    const p = await project(yaml);
    assert.throws(() => {
      for (const s of Object.values(p.services)) checkServiceNetworking(p, s);
      for (const k of Object.keys(p.networks)) networkCreateRequest(p, k);
    }, (err: unknown) => err instanceof BerthError && message.test(err.message));
  };
  await refused('services:\n  a:\n    image: bb\n    networks:\n      n: {link_local_ips: [169.254.8.8]}\nnetworks:\n  n: {}\n', /networks\.n\.link_local_ips is not supported/);
  await refused('services:\n  a:\n    image: bb\n    ports: ["80:80/sctp"]\n', /sctp ports are not supported/);
  await refused('services:\n  a: {image: bb}\nnetworks:\n  n: {driver: overlay}\n', /network "n": driver "overlay" is not supported/);
  await refused('services:\n  a: {image: bb}\nnetworks:\n  n: {driver_opts: {com.docker.network.bridge.name: x}}\n', /driver_opts "com\.docker\.network\.bridge\.name" is not supported/);
  await refused('services:\n  a: {image: bb}\nnetworks:\n  n: {driver_opts: {com.docker.network.driver.mtu: "9"}}\n', /must be an integer from 68 to 65535/);
  // what it can: mtu, ipam, internal, labels
  const ok = await project('name: x\nservices:\n  a: {image: bb}\nnetworks:\n  n:\n    internal: true\n    labels: {team: a}\n    driver_opts: {com.docker.network.driver.mtu: "1400"}\n    ipam: {config: [{subnet: 10.1.0.0/24, gateway: 10.1.0.254}]}\n');
  const req = networkCreateRequest(ok, 'n');
  const hash = req.labels?.['com.docker.compose.config-hash'] ?? '';
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(req, {
    name: 'x_n', internal: true, attachable: false, mtu: 1400,
    labels: { team: 'a', 'com.docker.compose.project': 'x', 'com.docker.compose.network': 'n', 'com.docker.compose.config-hash': hash },
    ipam: [{ subnet: '10.1.0.0/24', gateway: '10.1.0.254' }],
  });
  // the hash follows the config: same file, same hash; another subnet or label, another hash
  assert.equal(networkCreateRequest(await project('name: x\nservices:\n  a: {image: bb}\nnetworks:\n  n:\n    labels: {team: a}\n    internal: true\n    ipam: {config: [{gateway: 10.1.0.254, subnet: 10.1.0.0/24}]}\n    driver_opts: {com.docker.network.driver.mtu: "1400"}\n'), 'n').labels?.['com.docker.compose.config-hash'], hash);
  for (const changed of ['subnet: 10.2.0.0/24, gateway: 10.2.0.254', 'subnet: 10.1.0.0/24, gateway: 10.1.0.1']) {
    const other = await project(`name: x\nservices:\n  a: {image: bb}\nnetworks:\n  n:\n    internal: true\n    labels: {team: a}\n    driver_opts: {com.docker.network.driver.mtu: "1400"}\n    ipam: {config: [{${changed}}]}\n`);
    assert.notEqual(networkCreateRequest(other, 'n').labels?.['com.docker.compose.config-hash'], hash, changed);
  }
});

test("run's flags: -p and -P, --network, aliases refused on the default bridge", () => {
  const intent = flagsNetworkIntent({ publish: ['127.0.0.1:8080:80', '53/udp'], publishAll: true, expose: ['9000'] }, who, ['443/tcp'], parsePortString, noJoin);
  assert.equal(intent.mode, 'bridge');
  assert.equal(intent.endpoints[0]!.network, 'bridge');
  assert.deepEqual(intent.ports.map((p) => `${p.hostIp ?? ''}:${p.hostPort?.start ?? ''}->${p.containerPort.start}/${p.protocol}`),
    ['127.0.0.1:8080->80/tcp', ':->53/udp', ':->9000/tcp', ':->443/tcp']);
  assert.throws(() => flagsNetworkIntent({ networkAliases: ['x'] }, who, [], parsePortString, noJoin), /only for user defined networks/);
  assert.throws(() => flagsNetworkIntent({ publish: ['nope'] }, who, [], parsePortString, noJoin), /invalid argument "nope" for "-p, --publish" flag/);
  assert.equal(flagsNetworkIntent({ network: 'none' }, who, [], parsePortString, noJoin).mode, 'none');
  assert.deepEqual(flagsNetworkIntent({ network: 'mine', networkAliases: ['x'] }, who, [], parsePortString, noJoin).endpoints[0]!.names, ['demo-web-1', 'cccccccccccc', 'x']);
  assert.throws(() => exposeList(['80-70']), /ports are 1-65535/);
});
