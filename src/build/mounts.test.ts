import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseMount } from './mounts.js';

const parse = (text: string, workdir = '/app') => parseMount(text, 'Dockerfile:3', workdir, (v) => v.replace('$V', 'x'));

test('--mount: bind is the default type, read-only unless rw; a relative target is below WORKDIR', () => {
  assert.deepEqual(parse('target=src'), { type: 'bind', target: '/app/src', source: '', readonly: true });
  assert.deepEqual(parse('type=bind,src=a,dst=/b,from=build,rw'), { type: 'bind', target: '/b', source: 'a', from: 'build', readonly: false });
  assert.deepEqual(parse('type=bind,target=/b,readonly=false'), { type: 'bind', target: '/b', source: '', readonly: false });
});

test('--mount=type=cache: id defaults to the target, rw, mode 0755 root; options substituted', () => {
  assert.deepEqual(parse('type=cache,target=/root/.cache'), { type: 'cache', target: '/root/.cache', id: '/root/.cache', sharing: 'shared', source: '', readonly: false, mode: 0o755, uid: 0, gid: 0 });
  assert.deepEqual(parse('type=cache,target=/c,id=$V,sharing=locked,mode=0700,uid=1000,gid=1000,ro'), { type: 'cache', target: '/c', id: 'x', sharing: 'locked', source: '', readonly: true, mode: 0o700, uid: 1000, gid: 1000 });
});

test('--mount=type=secret and tmpfs', () => {
  assert.deepEqual(parse('type=secret,id=npm'), { type: 'secret', id: 'npm', target: '/run/secrets/npm', required: false, mode: 0o400, uid: 0, gid: 0 });
  assert.deepEqual(parse('type=secret,target=/etc/token,required'), { type: 'secret', id: 'token', target: '/etc/token', required: true, mode: 0o400, uid: 0, gid: 0 });
  assert.deepEqual(parse('type=tmpfs,target=/t,size=1048576'), { type: 'tmpfs', target: '/t', size: 1048576 });
});

test('--mount errors name the line and what was expected', () => {
  assert.throws(() => parse('type=cache'), /Dockerfile:3: --mount=type=cache needs a target/);
  assert.throws(() => parse('type=volume,target=/x'), /type "volume": expected bind, cache, secret or tmpfs/);
  assert.throws(() => parse('type=cache,target=/x,sharing=all'), /sharing=all: expected shared, private or locked/);
  assert.throws(() => parse('type=cache,target=/x,mode=999'), /mode=999: expected an octal mode/);
  assert.throws(() => parse('type=cache,target=/x,uid=-1'), /uid=-1: expected an integer/);
  assert.throws(() => parse('type=bind,target=/x,target=/y'), /target given twice/);
  assert.throws(() => parse('type=bind,target=/'), /target cannot be \//);
  assert.throws(() => parse('type=bind,target=/x,id=a'), /unknown option "id"/);
  assert.throws(() => parse('type=ssh'), /not supported/);
  assert.throws(() => parse(`type=bind,target=/${'a'.repeat(5000)}`), /longer than 4096/);
});
