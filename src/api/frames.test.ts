// The attach framing: frames survive any split of the byte stream, big payloads are cut to
// MAX_FRAME, and a peer announcing more than that is refused before anything is buffered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME, FrameReader, MAX_FRAME, encodeFrames, encodeJsonFrame, frameJson } from './frames.js';

test('frames come out whole however the bytes are cut', () => {
  const bytes = Buffer.concat([
    ...encodeFrames(FRAME.STDOUT, Buffer.from('hello')),
    encodeJsonFrame(FRAME.CONTROL, { kind: 'resize', size: { rows: 2, columns: 3 } }),
    ...encodeFrames(FRAME.STDIN_EOF),
  ]);
  for (const cut of [1, 3, 7, 8, 9, bytes.length]) {
    const reader = new FrameReader();
    const frames = [];
    for (let i = 0; i < bytes.length; i += cut) frames.push(...reader.push(bytes.subarray(i, i + cut)));
    assert.equal(frames.length, 3, `cut every ${cut} bytes`);
    assert.equal(Buffer.from(frames[0]!.payload).toString(), 'hello');
    assert.deepEqual(frameJson(frames[1]!), { kind: 'resize', size: { rows: 2, columns: 3 } });
    assert.equal(frames[2]!.kind, FRAME.STDIN_EOF);
    assert.equal(reader.pending, 0);
  }
});

test('a payload larger than MAX_FRAME is split; an announced length over it, or an unknown kind, is refused', () => {
  const big = Buffer.alloc(MAX_FRAME * 2 + 5, 7);
  const frames = encodeFrames(FRAME.STDERR, big);
  assert.equal(frames.length, 3);
  const reader = new FrameReader();
  const out = frames.flatMap((f) => reader.push(f));
  assert.equal(Buffer.concat(out.map((f) => f.payload)).length, big.length);
  const header = Buffer.alloc(8);
  header[0] = FRAME.STDIN;
  header.writeUInt32BE(MAX_FRAME + 1, 4);
  assert.throws(() => new FrameReader().push(header), /larger than/);
  header[0] = 99;
  assert.throws(() => new FrameReader().push(header), /unknown frame kind 99/);
});
