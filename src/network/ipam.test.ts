import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseAddress, formatAddress, parseCidr, formatCidr, overlaps, contains, pickSubnet, planSubnet,
  nextAddress, claimAddress, macFromIpv4, validateMac, pickUlaSubnet, DEFAULT_POOLS, type Cidr,
} from './ipam.js';

const cidrs = (...t: string[]): Cidr[] => t.map(parseCidr);

test('addresses round-trip, IPv6 in RFC 5952 form', () => {
  for (const a of ['0.0.0.0', '10.1.2.3', '255.255.255.255', '::', '::1', 'fd00::2', '2001:db8::1:0:0:1', 'fe80::42:aff:fec7:2', '1:2:3:4:5:6:7:8']) {
    assert.equal(formatAddress(parseAddress(a)), a);
  }
  assert.equal(formatAddress(parseAddress('2001:0db8:0000:0000:0000:0000:0000:0001')), '2001:db8::1');
  assert.equal(formatAddress(parseAddress('::ffff:1.2.3.4')), '::ffff:102:304');
  for (const bad of ['1.2.3', '1.2.3.256', 'a.b.c.d', '1::2::3', '1:2:3:4:5:6:7', '12345::', '1.2.3.4/8']) {
    assert.throws(() => parseAddress(bad), /invalid IPv[46] address/, bad);
  }
});

test('CIDRs are normalized to their network address; bad prefixes are refused', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/16')), '10.1.0.0/16');
  assert.equal(formatCidr(parseCidr('fd00:1:2:3::9/64')), 'fd00:1:2:3::/64');
  assert.throws(() => parseCidr('10.0.0.0/33'), /bad prefix length/);
  assert.throws(() => parseCidr('10.0.0.0'), /expected address\/prefix/);
});

test('overlap and containment', () => {
  assert.equal(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.20.0.0/16')), true);
  assert.equal(overlaps(parseCidr('10.20.0.0/16'), parseCidr('10.21.0.0/16')), false);
  assert.equal(overlaps(parseCidr('10.0.0.0/8'), parseCidr('fd00::/8')), false, 'families never overlap');
  assert.equal(contains(parseCidr('172.18.0.0/16'), parseAddress('172.18.255.254')), true);
  assert.equal(contains(parseCidr('172.18.0.0/16'), parseAddress('172.19.0.1')), false);
});

test('a picked subnet overlaps no host route and no other berth network', () => {
  assert.equal(formatCidr(pickSubnet(DEFAULT_POOLS, [])!), '172.17.0.0/16');
  // the host's default route says nothing; its eth0 network and docker0 do
  const inUse = cidrs('0.0.0.0/0', '192.0.2.0/24', '172.17.0.0/16', '172.18.0.0/16');
  assert.equal(formatCidr(pickSubnet(DEFAULT_POOLS, inUse)!), '172.19.0.0/16');
  // a host route that covers several pool subnets is skipped as a whole
  assert.equal(formatCidr(pickSubnet(DEFAULT_POOLS, cidrs('172.16.0.0/12'))!), '192.168.0.0/20');
  // a small route inside a candidate is enough to skip it
  assert.equal(formatCidr(pickSubnet(DEFAULT_POOLS, cidrs('172.17.3.4/32'))!), '172.18.0.0/16');
  // full pools: undefined (the facility turns it into a clear error)
  assert.equal(pickSubnet([{ base: '10.0.0.0/23', size: 24 }], cidrs('10.0.0.0/24', '10.0.1.0/24')), undefined);
  assert.equal(formatCidr(pickSubnet([{ base: '10.0.0.0/23', size: 24 }], cidrs('10.0.0.0/24'))!), '10.0.1.0/24');
});

test('a ULA subnet is a random fd00::/8 /64 that avoids what is in use', () => {
  let n = 0n;
  const seq = (): bigint => [0x1234567890n, 0xabcdef0123n][Number(n++)]!;
  const first = pickUlaSubnet(seq, []);
  assert.equal(formatCidr(first), 'fd12:3456:7890::/64');
  n = 0n;
  assert.equal(formatCidr(pickUlaSubnet(seq, [first])), 'fdab:cdef:123::/64');
});

test('subnet plans: gateway defaults to the first host, validation of gateway and ip_range', () => {
  const p = planSubnet(parseCidr('172.28.0.0/16'));
  assert.equal(formatAddress(p.gateway), '172.28.0.1');
  assert.equal(formatCidr(p.range), '172.28.0.0/16');
  const q = planSubnet(parseCidr('172.28.0.0/16'), '172.28.5.254', '172.28.5.0/24');
  assert.equal(formatAddress(q.gateway), '172.28.5.254');
  assert.throws(() => planSubnet(parseCidr('172.28.0.0/16'), '172.29.0.1'), /not a usable address/);
  assert.throws(() => planSubnet(parseCidr('172.28.0.0/16'), '172.28.0.0'), /not a usable address/);
  assert.throws(() => planSubnet(parseCidr('172.28.0.0/16'), '172.28.255.255'), /not a usable address/);
  assert.throws(() => planSubnet(parseCidr('172.28.0.0/16'), undefined, '172.0.0.0/8'), /not inside subnet/);
  assert.throws(() => planSubnet(parseCidr('10.0.0.0/31')), /too small/);
});

test('addresses are handed out serially, skipping the gateway, network and broadcast', () => {
  const p = planSubnet(parseCidr('10.9.0.0/29')); // .0 network, .1 gateway, .7 broadcast
  const used = new Set<bigint>();
  const got: string[] = [];
  let lastV: bigint | undefined;
  for (;;) {
    const a = nextAddress(p, used, lastV);
    if (!a) break;
    used.add(a.value);
    lastV = a.value;
    got.push(formatAddress(a));
  }
  assert.deepEqual(got, ['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
  // a released address is not reused before the range wraps
  used.delete(parseAddress('10.9.0.3').value);
  used.delete(parseAddress('10.9.0.5').value);
  assert.equal(formatAddress(nextAddress(p, used, parseAddress('10.9.0.4').value)!), '10.9.0.5');
  assert.equal(formatAddress(nextAddress(p, used, parseAddress('10.9.0.6').value)!), '10.9.0.3');
});

test('ip_range limits container addresses; a requested address is checked', () => {
  const p = planSubnet(parseCidr('172.28.0.0/16'), undefined, '172.28.5.0/24');
  // as in Docker, only the subnet's own network and broadcast addresses are skipped
  assert.equal(formatAddress(nextAddress(p, new Set())!), '172.28.5.0');
  const used = new Set([parseAddress('172.28.0.9').value]);
  assert.equal(formatAddress(claimAddress(p, used, '172.28.0.10')), '172.28.0.10', 'a requested address may lie outside ip_range, as in Docker');
  assert.throws(() => claimAddress(p, used, '172.28.0.9'), /already in use/);
  assert.throws(() => claimAddress(p, used, '172.28.0.1'), /gateway/);
  assert.throws(() => claimAddress(p, used, '10.0.0.1'), /not a usable address/);
});

test('IPv6 allocation', () => {
  const p = planSubnet(parseCidr('fd00:1::/64'));
  assert.equal(formatAddress(p.gateway), 'fd00:1::1');
  assert.equal(formatAddress(nextAddress(p, new Set())!), 'fd00:1::2');
});

test('MAC addresses', () => {
  assert.equal(macFromIpv4(parseAddress('172.17.0.2')), '02:42:ac:11:00:02');
  assert.equal(validateMac('02:42:AC:11:00:02'), '02:42:ac:11:00:02');
  assert.throws(() => validateMac('01:00:5e:00:00:01'), /multicast/);
  assert.throws(() => validateMac('02:42:ac:11:00'), /invalid MAC/);
});
