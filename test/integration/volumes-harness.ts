// Real containers with mounts, started through src/runtime's ContainerRuntime directly (the engine
// cannot pass mounts yet): create with prepareContainerMounts, start detached, wait for the exit,
// read the json-file log. Shared by the volumes*.test.ts files.
import { mkdtempSync, rmSync, readFileSync, mkdirSync, writeFileSync, chownSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berthOk, makeBusyboxRootfs, repoRoot, leftovers, type TestRoots } from '../helpers/env.js';
import { engineHost, type EngineHost } from '../../src/engine/host.js';
import { realClock } from '../../src/lib/clock.js';
import { lazySys } from '../../src/sys/index.js';
import { VolumeStore } from '../../src/volumes/store.js';
import { prepareContainerMounts, activateMounts, releaseContainerVolumes, type MountRequest, type ContainerMounts } from '../../src/volumes/mounts.js';
import { writeFileGrants, type FileGrant } from '../../src/volumes/file-grants.js';
import type { ImageLayers } from '../../src/volumes/copy-up.js';
import { mergeProcess } from '../../src/runtime/process-spec.js';
import { newContainerId } from '../../src/runtime/names.js';
import type { RecordedMount } from '../../src/runtime/container.js';
import type { VolumeMount } from '../../src/volumes/mounts.js';

// The engine will hand the facility's mounts to the runtime as they are: the two types must agree.
const sameShape = (m: VolumeMount): RecordedMount => m;
void sameShape;

export interface Ran { readonly id: string; readonly exitCode: number; readonly stdout: string; readonly stderr: string }

/**
 * The harness plays the engine's part for these roots. The engine the CLI started to import the
 * test images would react to the harness's containers too (it unmounts a tmpfs-style volume once
 * the last container using it dies), racing the assertions: the test files stop it (helpers'
 * stopEngine) once the images are in.
 */
export class Harness {
  readonly host: EngineHost;
  readonly store: VolumeStore;
  readonly sys = lazySys;
  /** a project directory for bind mounts */
  readonly project: string;

  constructor(readonly roots: TestRoots) {
    this.host = engineHost(roots, repoRoot, roots.env, realClock);
    this.store = new VolumeStore({ root: roots.root, sys: lazySys });
    this.project = join(roots.dir, 'project');
    mkdirSync(this.project, { recursive: true });
  }

  async layers(ref: string): Promise<ImageLayers & { lowerDirs: string[] }> {
    const store = await this.host.images();
    const image = store.resolve(ref);
    const topFirst = [...image.layers].reverse();
    return { overlayRoot: store.overlayRoot(), lowerLinks: topFirst.map((l) => l.link), lowerDirs: topFirst.map((l) => join(store.overlayRoot(), l.cacheId, 'diff')) };
  }

  /** Creates a container of `ref` running `cmd` with these mounts (not started). */
  async create(ref: string, cmd: string[], opts: { mounts?: MountRequest[]; grants?: FileGrant[]; user?: string; name?: string } = {}): Promise<{ id: string; prepared: ContainerMounts }> {
    const store = await this.host.images();
    const image = store.resolve(ref);
    const layers = await this.layers(ref);
    const id = newContainerId();
    const bundle = this.host.runtime.bundle(id);
    const prepared = await prepareContainerMounts({
      store: this.store, containerId: id, bundle, projectDir: this.project, home: this.roots.dir, user: opts.user,
      image: layers, imageVolumes: Object.keys(image.config.Volumes ?? {}),
    }, opts.mounts ?? [], opts.grants ?? []);
    const process = mergeProcess(image.config, { command: cmd, env: [], hostname: id.slice(0, 12), tty: false, user: opts.user }, {});
    try {
      await this.host.runtime.create({
        id, name: opts.name, imageId: image.id, imageRef: ref, lowerLinks: layers.lowerLinks, lowerDirs: layers.lowerDirs, process,
        tty: false, openStdin: false, init: false, autoRemove: false, limits: {}, mounts: prepared.mounts,
      });
    } catch (err) {
      await releaseContainerVolumes(this.store, id, { removeAnonymous: true });
      throw err;
    }
    this.grants.set(id, opts.grants ?? []);
    return { id, prepared };
  }

  private readonly grants = new Map<string, readonly FileGrant[]>();

  /** What the executor does before every start: secrets/configs written, tmpfs-style volumes mounted. */
  async start(id: string): Promise<void> {
    const view = this.host.runtime.find(id);
    writeFileGrants(view.bundle, this.grants.get(id) ?? []);
    activateMounts(this.store, view.record.hostConfig.Mounts ?? []);
    await this.host.runtime.startDetached(id);
  }

  /** Starts and waits for the exit; the log split into stdout and stderr. */
  async runToEnd(id: string): Promise<Ran> {
    await this.start(id);
    await this.waitExited(id);
    return { id, ...this.output(id) };
  }

  async run(ref: string, cmd: string[], opts: Parameters<Harness['create']>[2] = {}): Promise<Ran> {
    const { id } = await this.create(ref, cmd, opts);
    return this.runToEnd(id);
  }

  async waitExited(id: string, ms = 20_000): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const o = this.host.runtime.find(id).observed;
      if (o.status === 'exited') {
        // the shim unmounts and exits right after writing `exited`: wait for it to be gone
        await this.eventually(`the supervisor of ${id.slice(0, 12)} is gone`, 5000, () => {
          const pid = o.started?.shimPid;
          try { return pid === undefined || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-shim'); } catch { return true; }
        });
        return o.exited!.exitCode;
      }
      if (Date.now() > deadline) throw new Error(`container ${id.slice(0, 12)} did not exit within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  output(id: string): { exitCode: number; stdout: string; stderr: string } {
    const o = this.host.runtime.find(id).observed;
    let text = '';
    try { text = readFileSync(this.host.runtime.logPath(id), 'utf8'); } catch { /* no output */ }
    let stdout = '';
    let stderr = '';
    for (const line of text.split('\n').filter((l) => l !== '')) {
      const r = JSON.parse(line) as { log: string; stream: string };
      if (r.stream === 'stdout') stdout += r.log; else stderr += r.log;
    }
    return { exitCode: o.exited?.exitCode ?? -1, stdout, stderr };
  }

  async eventually(what: string, ms: number, probe: () => boolean): Promise<void> {
    const deadline = Date.now() + ms;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Removes a container and releases its volumes (anonymous ones removed, as `rm -v` / `run --rm`). */
  async remove(id: string): Promise<void> {
    await this.host.runtime.remove(id, { force: true });
    await releaseContainerVolumes(this.store, id, { removeAnonymous: true });
  }

  /** Every container and volume of these roots removed; what is left on the host is returned. */
  async cleanup(): Promise<string[]> {
    for (const c of this.host.runtime.list()) await this.remove(c.record.id);
    for (const v of this.store.list()) await this.store.remove(v.name, { force: true });
    return leftovers(this.roots);
  }
}

/**
 * Imports `ref`: the busybox rootfs plus /seed (owned 1000:1000, mode 0750) holding a file with
 * mode 0640, a subdirectory, a symlink to /etc, and /data -> /seed. (node-tar 7.5 hangs packing this
 * tree with a hard link in it: tests that need one make it in the imported layer directory.)
 */
export async function importSeedImage(roots: TestRoots, ref: string, extraFiles = 0): Promise<void> {
  const { c: createTar } = await import('tar');
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-seed-'));
  try {
    makeBusyboxRootfs(rootfs);
    const seed = join(rootfs, 'seed');
    mkdirSync(join(seed, 'sub'), { recursive: true });
    writeFileSync(join(seed, 'a.txt'), 'alpha\n');
    writeFileSync(join(seed, 'sub', 'b.txt'), 'beta\n');
    symlinkSync('/etc', join(seed, 'etc-link'));
    for (let i = 0; i < extraFiles; i++) writeFileSync(join(seed, 'sub', `f${i}`), `file ${i}\n`.repeat(8));
    chownSync(join(seed, 'a.txt'), 1000, 1000);
    chmodSync(join(seed, 'a.txt'), 0o640);
    chownSync(join(seed, 'sub'), 1000, 1000);
    chmodSync(join(seed, 'sub'), 0o700);
    chownSync(seed, 1000, 1000);
    chmodSync(seed, 0o750);
    symlinkSync('/seed', join(rootfs, 'data'));
    const file = join(roots.dir, `${ref.replace(/[^a-z0-9]/g, '-')}.tar`);
    await createTar({ file, cwd: rootfs, portable: false }, ['.']);
    await berthOk(roots, ['import', file, ref]);
    rmSync(file, { force: true });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}
