import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeProcess } from './process-spec.js';

const base = { command: [], env: [], hostname: 'abc', tty: false } as const;

test('image Entrypoint and Cmd are joined when the user gives no command', () => {
  const p = mergeProcess({ Entrypoint: ['/entry'], Cmd: ['serve', '-v'] }, base, {});
  assert.deepEqual(p.args, ['/entry', 'serve', '-v']);
});

test('a user command replaces the image Cmd but keeps its Entrypoint', () => {
  const p = mergeProcess({ Entrypoint: ['/entry'], Cmd: ['serve'] }, { ...base, command: ['x'] }, {});
  assert.deepEqual(p.args, ['/entry', 'x']);
});

test('--entrypoint replaces the entrypoint and drops the image Cmd', () => {
  const p = mergeProcess({ Entrypoint: ['/entry'], Cmd: ['serve'] }, { ...base, entrypoint: 'sh' }, {});
  assert.deepEqual(p.args, ['sh']);
});

test('--entrypoint "" clears the entrypoint and uses only the user command', () => {
  const p = mergeProcess({ Entrypoint: ['/entry'], Cmd: ['serve'] }, { ...base, entrypoint: '', command: ['ls'] }, {});
  assert.deepEqual(p.args, ['ls']);
});

test('no entrypoint and no command is an error', () => {
  assert.throws(() => mergeProcess({}, base, {}), /no command specified/);
});

test('env: image values, default PATH, HOSTNAME, user overrides by key, bare keys copied from the host', () => {
  const p = mergeProcess({ Env: ['A=1', 'B=2'], Cmd: ['x'] }, { ...base, env: ['B=3', 'HOME_X', 'MISSING'] }, { HOME_X: '/h' });
  assert.deepEqual(p.env, [`PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, 'A=1', 'B=3', 'HOSTNAME=abc', 'HOME_X=/h']);
});

test('image PATH is kept; tty adds TERM=xterm', () => {
  const p = mergeProcess({ Env: ['PATH=/bin'], Cmd: ['x'] }, { ...base, tty: true }, {});
  assert.deepEqual(p.env, ['PATH=/bin', 'HOSTNAME=abc', 'TERM=xterm']);
});

test('working dir and user: flag beats image beats default', () => {
  assert.equal(mergeProcess({ Cmd: ['x'] }, base, {}).cwd, '/');
  assert.equal(mergeProcess({ Cmd: ['x'], WorkingDir: '/app' }, base, {}).cwd, '/app');
  assert.equal(mergeProcess({ Cmd: ['x'], WorkingDir: '/app' }, { ...base, workdir: '/w' }, {}).cwd, '/w');
  assert.equal(mergeProcess({ Cmd: ['x'], User: 'nobody' }, base, {}).user, 'nobody');
  assert.equal(mergeProcess({ Cmd: ['x'], User: 'nobody' }, { ...base, user: '0:0' }, {}).user, '0:0');
  assert.throws(() => mergeProcess({ Cmd: ['x'] }, { ...base, workdir: 'rel' }, {}), /absolute path/);
});
