// A RUN step in berth's own runtime: a container on the stage's layers (in the network sandbox
// the builder's caller made for it, or with lo only), with the step's --mount binds, its output
// streamed from the json-file log, its exit awaited; then its upper dir, once the shim has
// unmounted it, is the step's layer, less the mount points the shim had to create.
import { openSync, readSync, closeSync, rmSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BerthError } from '../lib/errors.js';
import type { ContainerNetworkFiles, ContainerRuntime, RecordedMount, RecordedNetwork } from '../runtime/container.js';

export interface RunStepInput {
  readonly runtime: ContainerRuntime;
  /** the store's overlay2 dir (where the container's layer dir is) */
  readonly overlayRoot: string;
  readonly imageId: string;
  /** short links and diff dirs of the stage's layers, top-most first */
  readonly lowerLinks: readonly string[];
  readonly lowerDirs: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  /** "Dockerfile:12" for errors */
  readonly where: string;
  readonly onOutput: (stream: 'stdout' | 'stderr', text: string) => void;
  readonly signal?: AbortSignal;
  /** the poll interval for the exit and the log (ms) */
  readonly pollMs?: number;
  /** 64 hex: the container id (the caller made its network sandbox under it); generated when absent */
  readonly id?: string;
  /** the sandbox's namespace and files; absent: a fresh namespace with lo only */
  readonly network?: ContainerNetworkFiles & { readonly config?: RecordedNetwork };
  /** RUN --mount binds and tmpfs, in order */
  readonly mounts?: readonly RecordedMount[];
  /** /dev/shm bytes (build.shm_size) */
  readonly shmSize?: number;
  /**
   * Paths (inside the container, absolute) that did not exist in the stage before the step:
   * the shim creates them as mount points, and whatever of them is left empty in the upper dir
   * is removed, deepest first, so a mount never leaves its mount point in the layer.
   */
  readonly stubs?: readonly string[];
}

/** Files the shim creates as bind-mount targets when an image lacks them: not part of a step's diff. */
const MOUNT_STUBS = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the step; resolves with the container's upper dir path and a cleanup that removes the
 * container (call it after the upper dir has been adopted or copied). Throws on a non-zero exit.
 */
export async function runStep(input: RunStepInput): Promise<{ upper: string; remove: () => Promise<void> }> {
  const rt = input.runtime;
  const record = await rt.create({
    ...(input.id !== undefined ? { id: input.id } : {}),
    name: `berth-build-${(input.id ?? randomBytes(6).toString('hex')).slice(0, 12)}`,
    imageId: input.imageId,
    imageRef: 'berth-build',
    lowerLinks: input.lowerLinks,
    lowerDirs: input.lowerDirs,
    process: { entrypoint: [], cmd: input.args, args: input.args, env: input.env, cwd: input.cwd, user: input.user },
    tty: false,
    openStdin: false,
    init: false,
    autoRemove: false,
    limits: {},
    labels: { 'berth.build': 'step' },
    ...(input.network ? { network: input.network } : {}),
    ...(input.mounts && input.mounts.length > 0 ? { mounts: input.mounts } : {}),
    ...(input.shmSize !== undefined ? { shmSize: input.shmSize } : {}),
  });
  const remove = async () => { await rt.remove(record.id, { force: true }); };
  try {
    const started = await rt.startDetached(record.id);
    const log = rt.logPath(record.id);
    let offset = 0;
    let partial = '';
    const pump = () => {
      let fd: number;
      try { fd = openSync(log, 'r'); } catch { return; }
      try {
        const buf = Buffer.alloc(64 * 1024);
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, offset);
          if (n <= 0) break;
          offset += n;
          partial += buf.subarray(0, n).toString('utf8');
        }
      } finally { closeSync(fd); }
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as { log?: string; stream?: string };
          if (typeof entry.log === 'string') input.onOutput(entry.stream === 'stderr' ? 'stderr' : 'stdout', entry.log);
        } catch { /* a torn line cannot happen with a complete newline; ignore garbage */ }
      }
    };
    let view = started;
    const poll = input.pollMs ?? 20;
    while (view.observed.status === 'running' || view.observed.status === 'paused' || view.observed.status === 'created') {
      if (input.signal?.aborted) { await rt.kill(record.id, 'SIGKILL').catch(() => undefined); }
      pump();
      await sleep(poll);
      view = rt.find(record.id);
    }
    // observe() reads `exited` again once it sees the shim gone, so a clean exit is never taken
    // for a lost supervisor; the shim unmounts the rootfs before it writes `exited`.
    pump();
    if (partial !== '') input.onOutput('stdout', partial);
    if (input.signal?.aborted) throw abortError();
    const code = view.observed.exited?.exitCode ?? -1;
    if (code !== 0) {
      const why = view.observed.error ? ` (${view.observed.error})` : '';
      throw new BerthError('INVALID_ARGUMENT', `${input.where}: RUN ${input.args.join(' ')}: exited with code ${code}${why}`, { exitCode: code });
    }
    const upper = join(input.overlayRoot, record.id, 'diff');
    for (const stub of MOUNT_STUBS) {
      const p = join(upper, stub);
      try { if (lstatSync(p).isFile() && lstatSync(p).size === 0) rmSync(p); } catch { /* absent */ }
    }
    // mount points the shim made (deepest first): removed when nothing but the mount was there
    for (const stub of [...(input.stubs ?? [])].sort((a, b) => b.length - a.length)) removeIfEmpty(join(upper, stub));
    // an /etc created or copied up only to hold those stubs goes too
    try { if (readdirSync(join(upper, 'etc')).length === 0) rmSync(join(upper, 'etc'), { recursive: true }); } catch { /* absent */ }
    return { upper, remove };
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
}

/** Removes an empty directory or empty regular file (a mount point); anything else stays. */
function removeIfEmpty(path: string): void {
  try {
    const st = lstatSync(path);
    if (st.isDirectory() && readdirSync(path).length === 0) rmSync(path, { recursive: true });
    else if (st.isFile() && st.size === 0) rmSync(path);
  } catch { /* absent */ }
}

function abortError(): Error {
  const e = new Error('build aborted');
  e.name = 'AbortError';
  return e;
}
