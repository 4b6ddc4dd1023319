// The framing of an attached stream (routes with answer 'attach': `run` attached, `exec`), after
// the HTTP upgrade (`Upgrade: berth-attach/1`). Both directions carry frames:
//
//   0      1  2  3   4 … 7               8 …
//   kind   reserved  length (u32, BE)    payload (length bytes)
//
// client → engine: START (JSON, the first frame: the verb's options and the terminal size),
//                  STDIN (bytes), STDIN_EOF, CONTROL (JSON AttachControl: resize, signal)
// engine → client: STDOUT, STDERR (bytes), then exactly one EXIT (JSON {exitCode} or {error}),
//                  after which the engine closes the connection.
// The stream ids 0/1/2 are Docker's (stdcopy); a frame larger than MAX_FRAME is a protocol
// error, so a peer can never make the other buffer without bound. Pure: Uint8Array and DataView.
import type { ErrorBody } from '../lib/errors.js';

export const ATTACH_PROTOCOL = 'berth-attach/1';

export const FRAME = {
  STDIN: 0,
  STDOUT: 1,
  STDERR: 2,
  STDIN_EOF: 3,
  CONTROL: 4,
  START: 5,
  EXIT: 6,
} as const;
export type FrameKind = (typeof FRAME)[keyof typeof FRAME];

/** The largest payload of one frame; writers split bigger chunks. */
export const MAX_FRAME = 256 * 1024;
const HEADER = 8;

export interface Frame {
  readonly kind: FrameKind;
  readonly payload: Uint8Array;
}

/** The end of an attached stream: the process's exit code, or why it could not run. */
export type ExitRecord = { readonly exitCode: number } | { readonly error: ErrorBody };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One or more frames carrying `payload` (split at MAX_FRAME). */
export function encodeFrames(kind: FrameKind, payload: Uint8Array = new Uint8Array(0)): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  do {
    const part = payload.subarray(offset, offset + MAX_FRAME);
    const frame = new Uint8Array(HEADER + part.length);
    frame[0] = kind;
    new DataView(frame.buffer).setUint32(4, part.length, false);
    frame.set(part, HEADER);
    out.push(frame);
    offset += part.length;
  } while (offset < payload.length);
  return out;
}

export function encodeJsonFrame(kind: FrameKind, value: unknown): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(value));
  if (bytes.length > MAX_FRAME) throw new RangeError(`a ${kind} frame of ${bytes.length} bytes is larger than ${MAX_FRAME}`);
  return encodeFrames(kind, bytes)[0]!;
}

export function frameJson(frame: Frame): unknown {
  return JSON.parse(decoder.decode(frame.payload));
}

/** Splits received bytes into frames; throws on a frame of an unknown kind or over MAX_FRAME. */
export class FrameReader {
  private buffer: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Frame[] {
    if (this.buffer.length === 0) {
      this.buffer = chunk;
    } else {
      const joined = new Uint8Array(this.buffer.length + chunk.length);
      joined.set(this.buffer);
      joined.set(chunk, this.buffer.length);
      this.buffer = joined;
    }
    const frames: Frame[] = [];
    while (this.buffer.length >= HEADER) {
      const kind = this.buffer[0]!;
      if (kind > FRAME.EXIT) throw new RangeError(`unknown frame kind ${kind}`);
      const length = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength).getUint32(4, false);
      if (length > MAX_FRAME) throw new RangeError(`a frame of ${length} bytes is larger than ${MAX_FRAME}`);
      if (this.buffer.length < HEADER + length) break;
      frames.push({ kind: kind as FrameKind, payload: this.buffer.slice(HEADER, HEADER + length) });
      this.buffer = this.buffer.subarray(HEADER + length);
    }
    return frames;
  }

  /** bytes of an incomplete frame still held */
  get pending(): number {
    return this.buffer.length;
  }
}
