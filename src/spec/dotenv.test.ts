import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseDotenv, DotenvError } from './dotenv.js';

test('.env: plain, export, comments, quotes, escapes, interpolation', () => {
  const text = [
    '# comment', '', 'A=1', 'export B = two ', "C='single $A \\n'", 'D="double ${A}\\nnext"', 'E=val # trailing comment',
    'F=with#hash', 'G=${A}-${B}', 'H=', 'I="multi', 'line"', 'J: colon',
  ].join('\n');
  const m = parseDotenv(text);
  assert.equal(m.get('A'), '1');
  assert.equal(m.get('B'), 'two');
  assert.equal(m.get('C'), 'single $A \\n');
  assert.equal(m.get('D'), 'double 1\nnext');
  assert.equal(m.get('E'), 'val');
  assert.equal(m.get('F'), 'with#hash');
  assert.equal(m.get('G'), '1-two');
  assert.equal(m.get('H'), '');
  assert.equal(m.get('I'), 'multi\nline');
  assert.equal(m.get('J'), 'colon');
});

test('.env: a bare name takes its value from the environment', () => {
  const m = parseDotenv('HOME\nNOPE\n', (n) => (n === 'HOME' ? '/root' : undefined));
  assert.equal(m.get('HOME'), '/root');
  assert.equal(m.has('NOPE'), false);
});

test('.env: errors carry a line', () => {
  assert.throws(() => parseDotenv('A=1\n=2\n'), (e: unknown) => e instanceof DotenvError && e.line === 2);
  assert.throws(() => parseDotenv('A="open\n'), DotenvError);
});
