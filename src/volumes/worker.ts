// The volumes facility's worker: a child process (`node worker.js '<request JSON>'`) that does one
// long, synchronous piece of file work — a copy-up, a `cp` either way, a tar stream, a `diff` —
// so that the engine's event loop never waits for it (issue 16: the engine never blocks). It also
// keeps the facility's process-wide steps (a chdir for an overlay mount with short lowerdirs) out
// of the engine. worker-client.ts starts it and reads its answer.
//
// The protocol: the request is argv[2]; a tar stream in (`tar-to`) is stdin, a tar stream out
// (`tar-from`) is stdout; the answer is one JSON line on stderr, {"ok": result} or {"error":
// ErrorBody}, written last. Copy-up intents and view directories carry this process's pid, so a
// worker killed half-way is recognised as dead (store.sweepDead, store.repair) and its work
// rolled back or finished as the facility's crash rules say.
import { writeSync } from 'node:fs';
import { Cancelled, errorBody } from '../lib/errors.js';
import type { WorkerRequest } from './worker-types.js';

function answer(value: unknown): void {
  writeSync(2, `${JSON.stringify(value)}\n`);
}

/** set once stdout broke (the engine stopped reading: its client went away) */
let stdoutBroken: Error | undefined;

/** Writes a chunk to stdout, waiting when the pipe is full (the engine relays it to its client). */
function writeOut(chunk: Buffer): Promise<void> {
  if (stdoutBroken) return Promise.reject(new Cancelled('the reader of the tar stream went away'));
  return new Promise((resolve, reject) => {
    if (process.stdout.write(chunk)) { resolve(); return; }
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      if (stdoutBroken) reject(new Cancelled('the reader of the tar stream went away')); else resolve();
    };
    process.stdout.on('drain', done);
    process.stdout.on('error', done);
  });
}

async function run(req: WorkerRequest): Promise<unknown> {
  const { lazySys: sys } = await import('../sys/index.js');
  switch (req.op) {
    case 'copyup': {
      const { VolumeStore } = await import('./store.js');
      const { copyUp } = await import('./copy-up.js');
      return copyUp(new VolumeStore({ root: req.root, sys }), req.volume, req.image, req.target);
    }
    case 'diff': {
      const { containerDiff } = await import('./diff.js');
      return containerDiff(sys, req.upperDir, req.lowerDirs);
    }
    default: {
      const { withContainerRoot } = await import('./view.js');
      const cp = await import('./cp.js');
      const view = { sys, scratchDir: req.scratchDir };
      switch (req.op) {
        case 'cp-to': return withContainerRoot(view, req.fs, (root) => cp.copyToContainer(sys, root, req.hostSrc, req.containerDest, req.opts));
        case 'cp-from': return withContainerRoot(view, req.fs, (root) => cp.copyFromContainer(sys, root, req.containerSrc, req.hostDest, req.opts));
        case 'tar-from': return withContainerRoot(view, req.fs, async (root) => {
          let bytes = 0;
          for (const chunk of cp.tarFromContainer(root, req.src, req.opts)) {
            bytes += chunk.length;
            await writeOut(chunk);
          }
          return { bytes };
        });
        case 'tar-to': return withContainerRoot(view, req.fs, (root) => cp.tarToContainer(sys, root, req.dest, process.stdin as AsyncIterable<Buffer>, req.opts));
      }
    }
  }
}

const text = process.argv[2];
if (text === undefined) {
  answer({ error: { code: 'INVALID_ARGUMENT', message: 'usage: worker.js <request JSON>' } });
  process.exitCode = 2;
} else {
  // an answer never reaches a closed stdout's reader: a broken pipe ends the stream, not the worker
  process.stdout.on('error', (err) => { stdoutBroken = err; });
  try {
    const result = await run(JSON.parse(text) as WorkerRequest);
    answer({ ok: result ?? null });
  } catch (err) {
    // a bug's stack goes to stderr before the answer: the engine logs what precedes it
    answer({ error: errorBody(err, (bug) => writeSync(2, `${(bug as Error)?.stack ?? String(bug)}\n`)) });
    process.exitCode = 1;
  }
}
