import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ID_RANGE, hostId, parseUsernsMode, resolveIdMap, subIdRange } from './userns.js';
import { buildSecurity, type SecurityHost } from './security.js';

test('userns modes: host (also empty) and remap; anything else names the accepted values', () => {
  assert.equal(parseUsernsMode(undefined), 'host');
  assert.equal(parseUsernsMode(''), 'host');
  assert.equal(parseUsernsMode('host'), 'host');
  assert.equal(parseUsernsMode(' remap '), 'remap');
  for (const bad of ['auto', 'keep-id', 'private', 'ns:/proc/1/ns/user', 'REMAP']) {
    assert.throws(() => parseUsernsMode(bad), /expected "host" .* or "remap"/);
  }
});

test('subuid(5) lines: the first berth entry, comments and malformed lines skipped', () => {
  assert.deepEqual(subIdRange('alice:100000:65536\n# berth:1:1\nberth:x:65536\nberth:300000:131072\nberth:1:65536\n'), { start: 300000, count: 131072 });
  assert.equal(subIdRange('alice:100000:65536\n'), undefined);
  assert.equal(subIdRange(''), undefined);
});

test('the range: the berth entries when both files have one, else the documented default', () => {
  assert.deepEqual(resolveIdMap({ subuid: undefined, subgid: undefined }), DEFAULT_ID_RANGE);
  assert.deepEqual(resolveIdMap({ subuid: 'alice:100000:65536\n', subgid: '' }), DEFAULT_ID_RANGE);
  assert.deepEqual(resolveIdMap({ subuid: 'berth:300000:131072\n', subgid: 'berth:400000:65536\n' }), { Uid: 300000, Gid: 400000, Count: 65536 });
  assert.throws(() => resolveIdMap({ subuid: 'berth:300000:65536\n', subgid: '' }), /in \/etc\/subuid but not in \/etc\/subgid/);
  assert.throws(() => resolveIdMap({ subuid: 'berth:0:65536\n', subgid: 'berth:0:65536\n' }), /must start above 0/);
  assert.throws(() => resolveIdMap({ subuid: 'berth:300000:1000\n', subgid: 'berth:300000:65536\n' }), /at least 65536 ids/);
  assert.throws(() => resolveIdMap({ subuid: 'berth:4294960000:65536\n', subgid: 'berth:300000:65536\n' }), /below 2\^32/);
});

test('host ids of container ids: inside the range shifted, beyond it unchanged (nobody inside)', () => {
  assert.equal(hostId(DEFAULT_ID_RANGE, 'uid', 0), 2_000_000_000);
  assert.equal(hostId({ Uid: 10, Gid: 20, Count: 5 }, 'gid', 4), 24);
  assert.equal(hostId({ Uid: 10, Gid: 20, Count: 5 }, 'uid', 5), 5);
});

const fakeHost = (subuid?: string, subgid?: string): SecurityHost => ({
  readFile: () => { throw new Error('no file'); },
  statDevice: () => ({ type: 'c', major: 10, minor: 229, mode: 0o660, uid: 0, gid: 6 }),
  readIdFiles: () => ({ subuid, subgid }),
});

test('buildSecurity records the mode and its range at create; privileged is refused as Docker refuses it', () => {
  const o = buildSecurity({ usernsMode: 'remap', baseDir: '/' }, fakeHost('berth:500000:65536\n', 'berth:600000:65536\n'));
  assert.equal(o.UsernsMode, 'remap');
  assert.deepEqual(o.IdMap, { Uid: 500000, Gid: 600000, Count: 65536 });
  const plain = buildSecurity({ usernsMode: 'host', baseDir: '/' }, fakeHost());
  assert.equal(plain.UsernsMode, undefined);
  assert.equal(plain.IdMap, undefined);
  assert.throws(() => buildSecurity({ usernsMode: 'remap', privileged: true, baseDir: '/' }, fakeHost()), /privileged mode is incompatible with user namespaces/);
});
