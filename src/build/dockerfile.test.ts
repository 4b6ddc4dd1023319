import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseDockerfile, neededStages } from './dockerfile.js';
import { splitWords, expandWord, parsePairs } from './words.js';

test('directives, comments, continuations and every instruction', () => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1',
    '# escape=\\',
    'ARG BASE=busybox',
    '# a comment',
    'FROM ${BASE} AS build',
    'RUN echo one \\',
    '  # a comment inside a continuation',
    '  && echo two',
    'COPY --chown=1000:1000 --chmod=0644 a.txt b.txt /dst/',
    'ADD --link archive.tar.gz /opt/',
    'ENV A=1 B="two words"',
    'ENV LEGACY the rest of the line',
    'LABEL org.example.x="y z"',
    'EXPOSE 80/tcp 443',
    'WORKDIR /app',
    'USER app',
    'VOLUME ["/data"]',
    'STOPSIGNAL SIGINT',
    'HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost',
    'SHELL ["/bin/sh", "-ec"]',
    'ONBUILD RUN echo triggered',
    'MAINTAINER someone',
    'CMD ["sh", "-c", "echo hi"]',
    'ENTRYPOINT exec app',
    'FROM scratch',
    'COPY --from=build /app /app',
  ].join('\n'), 'ctx/Dockerfile');
  assert.equal(df.syntax, 'docker/dockerfile:1');
  assert.equal(df.globalArgs.length, 1);
  assert.equal(df.stages.length, 2);
  const s = df.stages[0];
  assert.equal(s.name, 'build');
  assert.equal(s.base, '${BASE}');
  const [run, copy, add] = s.instructions;
  assert.equal(run.args, 'echo one   && echo two');
  assert.equal(run.line, 6);
  assert.deepEqual(copy.flags, { chown: ['1000:1000'], chmod: ['0644'] });
  assert.deepEqual(add.flags, { link: ['true'] });
  assert.deepEqual(s.instructions.find((i) => i.keyword === 'CMD')?.json, ['sh', '-c', 'echo hi']);
  assert.equal(s.instructions.find((i) => i.keyword === 'ENTRYPOINT')?.json, undefined);
  assert.equal(s.instructions.find((i) => i.keyword === 'ONBUILD')?.trigger?.keyword, 'RUN');
  assert.equal(df.stages[1].instructions[0].flags.from?.[0], 'build');
});

test('heredocs: bodies, <<- strips tabs, a quoted delimiter turns substitution off', () => {
  const df = parseDockerfile('FROM busybox\nRUN <<EOF\necho a\necho $HOME\nEOF\nCOPY <<-"END" /etc/x\n\tline $X\n\tEND\nRUN true\n');
  const [run, copy, last] = df.stages[0].instructions;
  assert.deepEqual(run.heredocs, [{ name: 'EOF', content: 'echo a\necho $HOME\n', expand: true }]);
  assert.deepEqual(copy.heredocs, [{ name: 'END', content: 'line $X\n', expand: false }]);
  assert.equal(last.args, 'true');
  assert.equal(last.line, 9);
});

test('escape=` changes the continuation character', () => {
  const df = parseDockerfile('# escape=`\nFROM busybox\nRUN echo a `\n  b\nCOPY c:\\path\\x /y\n');
  assert.equal(df.escape, '`');
  assert.equal(df.stages[0].instructions[0].args, 'echo a   b');
  assert.equal(df.stages[0].instructions[1].args, 'c:\\path\\x /y');
});

test('errors name the file and the line', () => {
  const bad: [string, RegExp][] = [
    ['FROM busybox\nFROBNICATE x\n', /df:2: unknown instruction: FROBNICATE$/],
    ['RUN echo\nFROM busybox\n', /df:1: RUN before the first FROM/],
    ['FROM busybox\nCOPY --frm=a b c\n', /df:2: unknown flag --frm for COPY$/],
    ['FROM busybox\nRUN <<EOF\necho\n', /df:2: heredoc <<EOF is not terminated/],
    ['FROM busybox\nCOPY onlyone\n', /df:2: COPY needs at least one source and a destination$/],
    ['FROM busybox\nSHELL /bin/sh\n', /df:2: SHELL needs a JSON array/],
    ['FROM busybox AS a\nFROM busybox AS A\n', /df:2: duplicate stage name "a"$/],
    ['# escape=x\nFROM busybox\n', /df:1: invalid escape token "x"/],
    ['FROM busybox\nENV A="unterminated\n', /df:2: unmatched double quote/],
    ['FROM busybox\nHEALTHCHECK --interval=1s\n', /df:2: HEALTHCHECK needs CMD or NONE$/],
    ['FROM busybox\nONBUILD FROM x\n', /df:2: FROM is not allowed as an ONBUILD trigger$/],
    ['ARG X\n', /df:1: no FROM instruction/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseDockerfile(text, 'df'), re, text);
});

test('needed stages follow FROM and COPY --from, and skip the rest', () => {
  const df = parseDockerfile('FROM busybox AS a\nFROM busybox AS unused\nFROM a AS b\nFROM busybox AS c\nCOPY --from=b /x /x\nRUN --mount=type=bind,from=0,target=/m true\n');
  assert.deepEqual(neededStages(df, df.stages[3]).map((s) => s.name), ['a', 'b', 'c']);
});

test('words: quotes, escapes and ${} forms', () => {
  const scope = new Map([['A', 'x'], ['E', '']]);
  assert.deepEqual(splitWords(`a "b c" 'd $A' $A \${A}y \${E:-def} \${A:+alt} \${NO-unset} e\\ f`, scope, '\\', 'w'), ['a', 'b c', 'd $A', 'x', 'xy', 'def', 'alt', 'unset', 'e f']);
  assert.equal(expandWord('"/app/$A"', scope, '\\', 'w'), '/app/x');
  assert.deepEqual(parsePairs('K=1 L="2 3"', scope, '\\', 'w', { legacy: true }), [['K', '1'], ['L', '2 3']]);
  assert.deepEqual(parsePairs('K the value', scope, '\\', 'w', { legacy: true }), [['K', 'the value']]);
  assert.throws(() => expandWord('${NOPE:?must be set}', scope, '\\', 'df:3'), /df:3: NOPE: must be set/);
});
