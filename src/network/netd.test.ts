import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEndpoint } from './netd.js';

// The same sample is parsed by native/test/test_netd.c: both sides agree on the format.
const sample = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native', 'test', 'sample.endpoint');

test('an endpoint file renders exactly as the shared sample berth-netd parses', () => {
  const text = renderEndpoint({
    netns: '/run/berth/network/netns/0123',
    upstreams: ['127.0.0.53', 'fd00::53'],
    search: ['Corp.Example'],
    networks: [{ id: 'net1', names: ['Web', 'proj-web-1'], addresses: ['172.18.0.2', 'fd00:1::2'] }, { id: 'net2', names: ['web'], addresses: ['172.19.0.5'] }],
    holds: [{ protocol: 'tcp', hostIp: '', family: 4, port: 8080 }, { protocol: 'tcp', hostIp: '', family: 6, port: 8080 }],
    proxies: [{ protocol: 'tcp', hostIp: '', port: 8080, target: '172.18.0.2', targetPort: 80 }],
  });
  assert.equal(text, readFileSync(sample, 'utf8'));
});

test('an empty field is refused', () => {
  assert.throws(() => renderEndpoint({ netns: '', upstreams: [], search: [], networks: [], holds: [], proxies: [] }), /malformed netd record/);
});
