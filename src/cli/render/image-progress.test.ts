import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Chalk } from 'chalk';
import { PlainImageProgress, imageProgressFor } from './image-progress.js';

const t = '2026-01-01T00:00:00Z';

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8').on('data', (s: string) => { text += s; });
  return { out, text: () => text };
}

test('plain progress: one line per layer state (not per chunk), steps numbered with their output, in docker words', async () => {
  const { out, text } = capture();
  const p = new PlainImageProgress(out, new Chalk({ level: 0 }));
  p.emit({ kind: 'message', resourceId: 'pull:bb:1', text: '1: Pulling from e2e/bb', time: t });
  p.emit({ kind: 'layer', resourceId: 'pull:bb:1', id: 'aaaaaaaaaaaa', status: 'waiting', time: t });
  for (const current of [10, 20, 30]) p.emit({ kind: 'layer', resourceId: 'pull:bb:1', id: 'aaaaaaaaaaaa', status: 'downloading', current, total: 30, time: t });
  p.emit({ kind: 'layer', resourceId: 'pull:bb:1', id: 'aaaaaaaaaaaa', status: 'pull complete', time: t });
  p.emit({ kind: 'step', resourceId: 'build:s:1', name: '[s 1/2] RUN make', status: 'started', time: t });
  p.emit({ kind: 'output', resourceId: 'build:s:1', stream: 'stdout', text: 'cc a.c\ncc b.c\n', time: t });
  p.emit({ kind: 'step', resourceId: 'build:s:1', name: '[s 1/2] RUN make', status: 'done', seconds: 1.24, time: t });
  p.emit({ kind: 'step', resourceId: 'build:s:2', name: '[s 2/2] COPY . /', status: 'cached', time: t });
  await p.done();
  assert.equal(text(), [
    '1: Pulling from e2e/bb', 'aaaaaaaaaaaa: Waiting', 'aaaaaaaaaaaa: Downloading', 'aaaaaaaaaaaa: Pull complete',
    '#1 [s 1/2] RUN make', '#1 cc a.c', '#1 cc b.c', '#1 DONE 1.2s', '#2 [s 2/2] COPY . /', '#2 CACHED', '',
  ].join('\n'));
});

test('a stream that is not a terminal, or a terminal of no width, gets plain lines', () => {
  const c = new Chalk({ level: 0 });
  assert.ok(imageProgressFor(new PassThrough(), new PassThrough(), c) instanceof PlainImageProgress);
  const zero = Object.assign(new PassThrough(), { isTTY: true, columns: 0 });
  assert.ok(imageProgressFor(zero, zero, c) instanceof PlainImageProgress);
  const sized = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
  assert.ok(!(imageProgressFor(sized, sized, c) instanceof PlainImageProgress));
  assert.ok(imageProgressFor(sized, sized, c, true) instanceof PlainImageProgress, '--progress plain');
});
