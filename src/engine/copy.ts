// `cp` (host path ⇄ container path, and tar streams with `-`) and `diff`, as the engine carries
// them out: the work runs in the volumes worker (volumes/worker.ts), never on the event loop. A
// running (or paused) container is reached through its own root (/proc/<pid>/root); a created or
// exited one has its layers mounted privately by the worker, and holds the container's lock for
// that time, so no start mounts the same overlay while cp has it mounted (a start waits).
import { isAbsolute, join } from 'node:path';
import type { AttachIo } from '../api/engine-api.js';
import type { ContainerArchiveOptions, ContainerChange, ContainerCopyOptions, CopyResult } from '../api/types.js';
import { Conflict, InvalidArgument } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import type { ContainerRuntime, ContainerView } from '../runtime/container.js';
import type { ContainerFilesystem } from '../volumes/view.js';
import type { CpOptions } from '../volumes/cp.js';
import type { DiffEntry } from '../volumes/diff.js';
import { isMountPoint } from '../volumes/mountinfo.js';
import type { EngineVolumes } from './volumes.js';
import type { KeyedLock } from './keyed-lock.js';

export interface CopyDeps {
  readonly runtime: ContainerRuntime;
  readonly volumes: EngineVolumes;
  /** the engine's per-container lock (starts and removals take it too) */
  readonly containers: KeyedLock;
  readonly clock: Clock;
  /** BERTH_ROOT */
  readonly root: string;
}

/** How long cp waits for a container's shim to finish unmounting it after an exit. */
const SETTLE_MS = 5_000;

/** Runs fn with the container's filesystem as the worker reaches it, under the container's lock. */
function withFilesystem<T>(d: CopyDeps, ref: string, fn: (fs: ContainerFilesystem, view: ContainerView) => Promise<T>): Promise<T> {
  const id = d.runtime.find(ref).record.id;
  return d.containers.run(id, async () => {
    const view = d.runtime.find(id);
    const overlayRoot = join(d.root, 'overlay2');
    const live = view.observed.status === 'running' || view.observed.status === 'paused';
    if (!live) {
      // an exit's shim unmounts the root right after the exit record: wait for it (a start cannot
      // begin meanwhile, it needs this lock)
      const merged = join(overlayRoot, view.record.layer.id, 'merged');
      const deadline = d.clock.now() + SETTLE_MS;
      while (isMountPoint(merged)) {
        if (d.clock.now() >= deadline) throw new Conflict(`container ${view.record.name} is still being stopped: try again`);
        await d.clock.sleep(10);
      }
    }
    return fn({
      ...(live ? { pid: view.observed.started!.pid } : {}),
      overlayRoot,
      layerId: view.record.layer.id,
      mounts: view.record.hostConfig.Mounts ?? [],
    }, view);
  });
}

function cpOptions(o: { readonly archive: boolean; readonly followLink: boolean }, view: ContainerView): CpOptions {
  const idMap = view.record.hostConfig.Security?.IdMap;
  return { archive: o.archive, followLink: o.followLink, ...(idMap ? { idMap: { uid: idMap.Uid, gid: idMap.Gid, count: idMap.Count } } : {}) };
}

export async function containerCopy(d: CopyDeps, ref: string, o: ContainerCopyOptions): Promise<CopyResult> {
  if (!isAbsolute(o.hostPath)) throw new InvalidArgument(`the host path must be absolute, not "${o.hostPath}" (the client resolves it)`);
  const scratchDir = d.volumes.store.dir;
  return withFilesystem(d, ref, (fs, view) => d.volumes.worker<CopyResult>(o.direction === 'in'
    ? { op: 'cp-to', scratchDir, fs, hostSrc: o.hostPath, containerDest: o.containerPath, opts: cpOptions(o, view) }
    : { op: 'cp-from', scratchDir, fs, containerSrc: o.containerPath, hostDest: o.hostPath, opts: cpOptions(o, view) }));
}

/** `cp CONTAINER:SRC -` writes the tar stream to the caller's stdout; `cp - CONTAINER:DIR` reads it from stdin. */
export async function containerArchive(d: CopyDeps, ref: string, o: ContainerArchiveOptions, io: AttachIo, signal: AbortSignal): Promise<number> {
  const scratchDir = d.volumes.store.dir;
  if (o.direction === 'in') {
    const input = io.stdin;
    if (!input) throw new InvalidArgument('cp - CONTAINER:PATH reads a tar stream from stdin: attach stdin');
    await withFilesystem(d, ref, (fs, view) => d.volumes.worker({ op: 'tar-to', scratchDir, fs, dest: o.path, opts: cpOptions(o, view) }, { input, signal }));
    return 0;
  }
  await withFilesystem(d, ref, (fs, view) => d.volumes.worker({ op: 'tar-from', scratchDir, fs, src: o.path, opts: cpOptions(o, view) }, {
    output: (chunk) => io.write('stdout', chunk),
    signal,
  }));
  return 0;
}

/** `diff`: the container's upper directory over its image's layers (read-only; no lock needed). */
export async function containerDiff(d: CopyDeps, ref: string): Promise<ContainerChange[]> {
  const view = d.runtime.find(ref);
  const upperDir = join(d.root, 'overlay2', view.record.layer.id, 'diff');
  const entries = await d.volumes.worker<DiffEntry[]>({ op: 'diff', upperDir, lowerDirs: view.record.layer.lower });
  return entries.map((e) => ({ kind: e.kind, path: e.path }));
}
