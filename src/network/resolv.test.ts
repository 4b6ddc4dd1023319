import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResolvConf, renderResolvConf, parseExtraHosts, renderHosts, upstreams } from './resolv.js';

const resolved = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example lab.example\n';

test('the host resolver configuration is read; a loopback resolver is kept for the forwarder', () => {
  const host = parseResolvConf(`# comment\n${resolved}nameserver fe80::1%eth0\n`);
  assert.deepEqual(host, { nameservers: ['127.0.0.53', 'fe80::1'], search: ['corp.example', 'lab.example'], options: ['edns0', 'trust-ad'] });
  // the resolver forwards from the host's namespace, where 127.0.0.53 is reachable
  assert.deepEqual(upstreams(host, undefined), ['127.0.0.53', 'fe80::1']);
  assert.deepEqual(upstreams(host, ['10.0.0.2']), ['10.0.0.2']);
  assert.throws(() => upstreams(host, ['not-an-ip']), /invalid IPv4 address/);
});

test('a container on a berth network asks the embedded resolver, with Docker\'s ndots:0', () => {
  const host = parseResolvConf(resolved);
  assert.equal(renderResolvConf(host, { embedded: true }), 'nameserver 127.0.0.11\nsearch corp.example lab.example\noptions edns0 trust-ad ndots:0\n');
  assert.equal(renderResolvConf(host, { embedded: true, dnsSearch: ['.'], dnsOptions: ['ndots:2'] }), 'nameserver 127.0.0.11\noptions ndots:2\n');
});

test('network_mode none: the host\'s servers without loopback ones', () => {
  const host = parseResolvConf('nameserver 127.0.0.53\nnameserver 10.9.9.9\n');
  assert.equal(renderResolvConf(host, { embedded: false }), 'nameserver 10.9.9.9\n');
  assert.equal(renderResolvConf(host, { embedded: false, dns: ['1.1.1.1'] }), 'nameserver 1.1.1.1\n');
});

test('extra_hosts in every form, host-gateway, and /etc/hosts', () => {
  const extra = parseExtraHosts(['a.example:10.1.1.1', 'b.example=10.1.1.2', 'v6.example:[::1]', 'gw:host-gateway'], '172.18.0.1');
  assert.deepEqual(extra.map((e) => `${e.host} ${e.ip}`), ['a.example 10.1.1.1', 'b.example 10.1.1.2', 'v6.example ::1', 'gw 172.18.0.1']);
  assert.throws(() => parseExtraHosts(['gw:host-gateway'], undefined), /host-gateway needs a network/);
  assert.throws(() => parseExtraHosts(['nocolon'], undefined), /expected host:ip/);
  const hosts = renderHosts({ ip: '172.18.0.2', hostname: 'web', domainname: 'corp.example' }, extra.slice(0, 1));
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(hosts, /^172\.18\.0\.2\tweb\.corp\.example web\n10\.1\.1\.1\ta\.example\n$/m);
});
