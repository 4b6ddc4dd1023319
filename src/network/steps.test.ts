import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeSteps, vethSteps, renderSteps } from './steps.js';

test('a bridge with a gateway: address, route_localnet for loopback-published ports, up', () => {
  assert.equal(renderSteps(bridgeSteps({ bridge: 'bt-x', gateway4: '172.18.0.1/16' })),
    'bridge\tbt-x\t0\naddr\tbt-x\t172.18.0.1/16\nwrite\t/proc/sys/net/ipv4/conf/bt-x/route_localnet\t1\nup\tbt-x\n');
  assert.equal(renderSteps(bridgeSteps({ bridge: 'bt-i' })), 'bridge\tbt-i\t0\nup\tbt-i\n', 'no gateway given: no address');
});

test('an attachment: the pair is made with its far end in the namespace, configured there, then back home', () => {
  const steps = vethSteps({ hostVeth: 'vt-1', bridge: 'bt-x', netns: '/run/ns/c', ifName: 'eth0', mac: '02:42:ac:12:00:02', address4: '172.18.0.2/16', defaultVia4: '172.18.0.1' });
  assert.equal(renderSteps(steps), [
    'veth\tvt-1\teth0\t/run/ns/c\t0\t02:42:ac:12:00:02', 'master\tvt-1\tbt-x', 'write\t/sys/class/net/vt-1/brport/hairpin_mode\t1', 'up\tvt-1', 'ns\t/run/ns/c',
    '?write\t/proc/sys/net/ipv6/conf/eth0/disable_ipv6\t1', 'addr\teth0\t172.18.0.2/16', 'up\teth0',
    'route\tdefault\t172.18.0.1\teth0', 'ns\t-', ''].join('\n'));
  // repair replays the same steps, each tolerating "already so", but never a namespace switch
  const lenient = renderSteps(steps, true).split('\n');
  assert.deepEqual(lenient.filter((l) => l.startsWith('ns')), ['ns\t/run/ns/c', 'ns\t-']);
  assert.ok(lenient.filter((l) => l !== '' && !l.startsWith('ns')).every((l) => l.startsWith('?') && !l.startsWith('??')));
});

test('a field with a TAB or newline is refused, never passed on', () => {
  assert.throws(() => renderSteps([['del', 'a\tb']]), /TAB or newline/);
});
