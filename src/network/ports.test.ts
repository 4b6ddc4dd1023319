import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandPorts, choosePorts, type PortWant } from './ports.js';

const r = (start: number, end = start): { start: number; end: number } => ({ start, end });

test('expansion: all addresses on both families where the host has IPv6, ranges one to one', () => {
  assert.deepEqual(expandPorts([{ protocol: 'tcp', containerPort: r(80) }], true).map((w) => `${w.family}/${w.hostIp}/${w.containerPort}`), ['4//80', '6//80']);
  assert.deepEqual(expandPorts([{ protocol: 'tcp', containerPort: r(80) }], false).length, 1);
  const ranged = expandPorts([{ protocol: 'udp', hostIp: '127.0.0.1', hostPort: r(9000, 9001), containerPort: r(53, 54) }], true);
  assert.deepEqual(ranged.map((w) => `${w.hostPorts!.start}->${w.containerPort}`), ['9000->53', '9001->54']);
  assert.deepEqual(expandPorts([{ protocol: 'tcp', hostIp: '[::1]', containerPort: r(80) }], true)[0]!.family, 6);
  assert.throws(() => expandPorts([{ protocol: 'tcp', hostPort: r(1, 3), containerPort: r(80, 81) }], false), /don't match/);
  assert.throws(() => expandPorts([{ protocol: 'tcp', containerPort: r(0) }], false), /invalid container port/);
  assert.throws(() => expandPorts([{ protocol: 'tcp', containerPort: r(70000) }], false), /invalid container port/);
});

test('choice: a fixed port or the error Docker gives; random ports avoid taken ones; the IPv6 twin shares the port', async () => {
  const wants = expandPorts([{ protocol: 'tcp', containerPort: r(80) }, { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: r(8080), containerPort: r(81) }], true);
  const busy = new Set([40000]);
  const got = await choosePorts(wants, (_w: PortWant, p: number) => !busy.has(p), () => (40000 - 32768) / (60999 - 32768 + 1));
  assert.deepEqual(got.map((p) => `${p.family}/${p.hostIp}/${p.hostPort}->${p.containerPort}`), ['4//40001->80', '6//40001->80', '4/127.0.0.1/8080->81']);
  await assert.rejects(choosePorts(wants.slice(2), () => false, Math.random), /Bind for 127\.0\.0\.1:8080\/tcp failed: port is already allocated/);
  // a host range: the first free port of it
  const inRange = expandPorts([{ protocol: 'tcp', hostPort: r(9000, 9002), containerPort: r(80) }], false);
  assert.deepEqual((await choosePorts(inRange, (_w, p) => p === 9002, () => 0)).map((p) => p.hostPort), [9002]);
  // one request never maps two container ports to one host port
  const two = expandPorts([{ protocol: 'tcp', hostPort: r(9000, 9001), containerPort: r(80) }, { protocol: 'tcp', hostPort: r(9000, 9001), containerPort: r(81) }], false);
  assert.deepEqual((await choosePorts(two, () => true, () => 0)).map((p) => p.hostPort), [9000, 9001]);
});
