import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { compileIgnore, ignoreFileCandidates } from './dockerignore.js';

const excluded = (text: string, paths: string[]) => {
  const m = compileIgnore(text);
  return paths.filter((p) => m.excludes(p));
};

test('plain names, directories exclude what is below them, leading slash and ./ are cleaned', () => {
  assert.deepEqual(excluded('node_modules\n/build\n./tmp/\n', ['node_modules', 'node_modules/a/b.js', 'src/node_modules', 'build/x', 'tmp/y', 'buildx']), ['node_modules', 'node_modules/a/b.js', 'build/x', 'tmp/y']);
});

test('* and ? stay within one path component; ** crosses directories, zero included', () => {
  assert.deepEqual(excluded('*.log\n', ['a.log', 'dir/a.log']), ['a.log']);
  assert.deepEqual(excluded('*/*.log\n', ['a.log', 'dir/a.log', 'x/y/a.log']), ['dir/a.log']);
  assert.deepEqual(excluded('**/*.log\n', ['a.log', 'dir/a.log', 'x/y/a.log', 'a.txt']), ['a.log', 'dir/a.log', 'x/y/a.log']);
  assert.deepEqual(excluded('a/**/b\n', ['a/b', 'a/x/b', 'a/x/y/b', 'b']), ['a/b', 'a/x/b', 'a/x/y/b']);
  assert.deepEqual(excluded('file?.txt\n', ['file1.txt', 'file12.txt', 'file/.txt']), ['file1.txt']);
  assert.deepEqual(excluded('[ab].txt\n[^ab].md\n', ['a.txt', 'c.txt', 'a.md', 'c.md']), ['a.txt', 'c.md']);
});

test('! exceptions re-include, and the last matching line decides', () => {
  assert.deepEqual(excluded('*.md\n!README.md\n', ['a.md', 'README.md']), ['a.md']);
  assert.deepEqual(excluded('!README.md\n*.md\n', ['a.md', 'README.md']), ['a.md', 'README.md']);
  assert.deepEqual(excluded('docs\n!docs/keep.txt\n', ['docs/a.txt', 'docs/keep.txt']), ['docs/a.txt']);
  assert.deepEqual(excluded('**\n!src\n!package.json\n', ['src/a.ts', 'package.json', 'README.md', 'test/x']), ['README.md', 'test/x']);
});

test('comments, blank lines, escapes; an exception keeps its directory walkable', () => {
  assert.deepEqual(excluded('# a comment\n\n  spaced.txt  \n\\#hash\n', ['# a comment', 'spaced.txt', '#hash']), ['spaced.txt', '#hash']);
  const m = compileIgnore('docs\n!docs/keep.txt\nbuild\n');
  assert.equal(m.canSkipDirectory('docs'), false);
  assert.equal(m.canSkipDirectory('build'), true);
});

test('errors name the file and line', () => {
  assert.throws(() => compileIgnore('ok\n!\n', 'ctx/.dockerignore'), /ctx\/\.dockerignore:2: illegal exclusion pattern/);
  assert.throws(() => compileIgnore('a[b\n', 'x'), /x:1: pattern "a\[b" has an unclosed "\["/);
});

test('<Dockerfile>.dockerignore comes before the context root .dockerignore', () => {
  assert.deepEqual(ignoreFileCandidates('/ctx', '/ctx/build/app.Dockerfile'), ['/ctx/build/app.Dockerfile.dockerignore', '/ctx/.dockerignore']);
});
