// The pure parts of the volumes facility: local driver options, the tmpfs short form, mount order,
// secret/config targets, what looks like a file. The kernel-facing parts are tested as root in
// test/integration/volumes*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDriverOptions } from './driver-opts.js';
import { parseTmpfsShort, sortMounts, normalizeTarget } from './mounts.js';
import { grantTarget } from './file-grants.js';
import { looksLikeFile, numericOwner } from './bind-source.js';
import { validateVolumeName } from './store.js';
import { formatDiff } from './diff.js';

test('local driver options: plain, bind-style, tmpfs-style; anything else is a clear error', () => {
  assert.deepEqual(parseDriverOptions(undefined, {}), { kind: 'directory' });
  assert.deepEqual(parseDriverOptions('local', { type: 'none', o: 'bind', device: '/srv/data' }), { kind: 'bind', device: '/srv/data', readonly: false });
  assert.deepEqual(parseDriverOptions('local', { type: 'none', o: 'bind,ro', device: '/srv/data' }), { kind: 'bind', device: '/srv/data', readonly: true });
  assert.deepEqual(parseDriverOptions(undefined, { type: 'tmpfs', device: 'tmpfs', o: 'size=100m,uid=1000,noexec' }), { kind: 'tmpfs', data: 'size=100m,uid=1000', flags: ['noexec'] });
  assert.throws(() => parseDriverOptions('nfs', {}), /driver "nfs" is not supported/);
  assert.throws(() => parseDriverOptions(undefined, { type: 'nfs', o: 'addr=1.2.3.4', device: ':/x' }), /type "nfs" is not supported/);
  assert.throws(() => parseDriverOptions(undefined, { type: 'none', o: 'bind', device: 'relative' }), /absolute device/);
  assert.throws(() => parseDriverOptions(undefined, { type: 'none', device: '/x' }), /o: bind/);
  assert.throws(() => parseDriverOptions(undefined, { type: 'tmpfs', o: 'size=lots' }), /invalid tmpfs size/);
  assert.throws(() => parseDriverOptions(undefined, { type: 'tmpfs', o: 'exec_as=root' }), /unsupported tmpfs option/);
  assert.throws(() => parseDriverOptions(undefined, { colour: 'blue' }), /invalid option key/);
});

test('volume names follow Docker\'s rule', () => {
  assert.equal(validateVolumeName('db-data'), 'db-data');
  assert.equal(validateVolumeName('proj_db.1'), 'proj_db.1');
  for (const bad of ['a', '-x', '.hidden', 'a/b', 'a b', '..']) assert.throws(() => validateVolumeName(bad), /invalid characters/);
});

test('tmpfs short form: target, size, mode, ro, exec', () => {
  assert.deepEqual(parseTmpfsShort('/run'), { type: 'tmpfs', target: '/run', readOnly: false, exec: false });
  assert.deepEqual(parseTmpfsShort('/tmp:size=64m,mode=1770,exec'), { type: 'tmpfs', target: '/tmp', readOnly: false, exec: true, size: 64 << 20, mode: 0o1770 });
  assert.deepEqual(parseTmpfsShort('/c:ro,size=4096'), { type: 'tmpfs', target: '/c', readOnly: true, exec: false, size: 4096 });
  assert.throws(() => parseTmpfsShort('/x:size=big'), /invalid size/);
  assert.throws(() => parseTmpfsShort('/x:uid=1000'), /unsupported option/);
});

test('mounts are made shallowest first, keeping the written order among equals', () => {
  const order = sortMounts([{ target: '/data/sub' }, { target: '/run/secrets/a' }, { target: '/data' }, { target: '/run' }, { target: '/a' }]);
  assert.deepEqual(order.map((m) => m.target), ['/data', '/run', '/a', '/data/sub', '/run/secrets/a']);
  assert.equal(normalizeTarget('/data//x/../y/'), '/data/y');
  assert.throws(() => normalizeTarget('data'), /absolute/);
});

test('secret and config targets default as compose says', () => {
  assert.equal(grantTarget({ kind: 'secret', name: 'db', content: { data: '' } }), '/run/secrets/db');
  assert.equal(grantTarget({ kind: 'secret', name: 'db', target: 'pw', content: { data: '' } }), '/run/secrets/pw');
  assert.equal(grantTarget({ kind: 'secret', name: 'db', target: '/etc/pw', content: { data: '' } }), '/etc/pw');
  assert.equal(grantTarget({ kind: 'config', name: 'app', content: { data: '' } }), '/app');
  assert.equal(grantTarget({ kind: 'config', name: 'app', target: '/etc/app.conf', content: { data: '' } }), '/etc/app.conf');
});

test('a missing bind source that names a file is not turned into a directory', () => {
  assert.equal(looksLikeFile('/p/nginx.conf'), true);
  assert.equal(looksLikeFile('/p/.env'), false, 'a dot-file alone is ambiguous: a directory is created');
  assert.equal(looksLikeFile('/p/app.env'), true);
  assert.equal(looksLikeFile('/p/conf.d'), false);
  assert.equal(looksLikeFile('/p/data'), false);
  assert.deepEqual(numericOwner('1000'), { uid: 1000 });
  assert.deepEqual(numericOwner('1000:50'), { uid: 1000, gid: 50 });
  assert.equal(numericOwner('app'), undefined);
  assert.equal(numericOwner(undefined), undefined);
});

test('diff prints as docker diff does', () => {
  assert.equal(formatDiff([{ kind: 'C', path: '/etc' }, { kind: 'A', path: '/etc/x' }, { kind: 'D', path: '/etc/group' }]), 'C /etc\nA /etc/x\nD /etc/group\n');
});
