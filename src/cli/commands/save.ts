// berth save [-o FILE] IMAGE…: a docker-archive tar (what `docker load` and `berth load` read),
// streamed by the engine to this process; with -o it goes to a temp file beside FILE, renamed
// into place only when complete (an interrupted save leaves no half archive under the name).
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CliContext } from '../context.js';
import type { AttachIo } from '../../api/engine-api.js';
import { abortOnInterrupt, withEngine } from '../engine.js';
import { InvalidArgument } from '../../lib/errors.js';

export default async function save(flags: { output?: string }, args: string[], ctx: CliContext): Promise<number> {
  const toStdout = flags.output === undefined || flags.output === '-';
  if (toStdout && ctx.terminal.isTTY('stdout')) throw new InvalidArgument('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const target = toStdout ? undefined : resolve(ctx.cwd, flags.output!);
  const temp = target ? join(dirname(target), `.${basename(target)}.berth-${randomBytes(4).toString('hex')}.tmp`) : undefined;
  const out: NodeJS.WritableStream = temp ? createWriteStream(temp, { mode: 0o644 }) : ctx.stdout;
  // one wait for 'drain' however many chunks arrive while the file is full
  let draining: Promise<void> | undefined;
  const io: AttachIo = {
    write(_stream, data) {
      if (out.write(data)) return;
      draining ??= new Promise<void>((r) => out.once('drain', () => { draining = undefined; r(); }));
      return draining;
    },
    onControl() {},
  };
  const interrupt = abortOnInterrupt(ctx);
  try {
    const code = await withEngine(ctx, (api) => api.imageSave(args, io, interrupt.signal));
    if (temp) {
      await new Promise<void>((res, rej) => { out.once('error', rej); out.end(() => res()); });
      renameSync(temp, target!);
    }
    return code;
  } catch (err) {
    if (temp) { (out as { destroy?: () => void }).destroy?.(); rmSync(temp, { force: true }); }
    throw err;
  } finally {
    interrupt.dispose();
  }
}
