// The builder on the real kernel, as the builder's tests use it: temp roots with a store holding
// busybox as `bb`, a runtime for RUN steps, context directories made from a file map, a build
// that records its events, and a way to run a command in a built image's layers.
import { mkdirSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { lazySys } from '../../src/sys/index.js';
import { ImageStore } from '../../src/images/store.js';
import { ContainerRuntime } from '../../src/runtime/container.js';
import { hostCgroupDriver } from '../../src/runtime/cgroups/detect.js';
import { nativeDir } from '../../src/lib/paths.js';
import { buildImage, type BuildOptions } from '../../src/build/builder.js';
import { runStep } from '../../src/build/run.js';
import type { ImageEvent, BuildStep } from '../../src/images/events.js';
import { makeRoots, cleanupRoots, makeBusyboxRootfs, repoRoot, type TestRoots } from './env.js';

/** Why the builder's real-kernel tests cannot run here, or false. */
export const builderSkip = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/bin/busybox') ? 'busybox-static is not installed' : false;

export interface BuildRun { id: string; events: ImageEvent[]; ran: number; cached: number; ms: number }

export interface BuilderHarness {
  readonly roots: TestRoots;
  readonly store: ImageStore;
  readonly runtime: ContainerRuntime;
  /** a temp dir for the test's files (removed by close) */
  readonly work: string;
  /** a new context directory under work holding `files` (name → content) */
  context(files: Record<string, string>): string;
  build(dir: string, extra?: Partial<BuildOptions>): Promise<BuildRun>;
  /** runs a command in an image's layers (a step container); its stdout */
  runIn(imageId: string, args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Roots, a store with `bb` (busybox, Cmd sh) and a runtime; another harness has other roots. */
export async function openBuilder(): Promise<BuilderHarness> {
  const roots = makeRoots();
  const store = new ImageStore({ root: roots.root, sys: lazySys });
  const bin = nativeDir(repoRoot);
  const runtime = new ContainerRuntime({
    root: roots.root, cgroupParent: roots.cgroupParent, cgroups: hostCgroupDriver(), shimPath: join(bin, 'berth-shim'),
    initPath: join(bin, 'berth-init'), sys: lazySys, env: roots.env, autoRemoveCommand: ['/bin/true'],
  });
  const work = mkdtempSync(join(tmpdir(), 'berth-build-test-'));
  const rootfs = join(work, 'rootfs');
  mkdirSync(rootfs);
  makeBusyboxRootfs(rootfs);
  const { c: createTar } = await import('tar');
  await createTar({ file: join(work, 'bb.tar'), cwd: rootfs, portable: false }, ['.']);
  await store.import(join(work, 'bb.tar'), 'bb', { config: { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] } });
  return {
    roots, store, runtime, work,
    context(files) {
      const dir = mkdtempSync(join(work, 'ctx-'));
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(join(dir, name, '..'), { recursive: true });
        writeFileSync(join(dir, name), content);
      }
      return dir;
    },
    async build(dir, extra = {}) {
      const events: ImageEvent[] = [];
      const t0 = Date.now();
      const r = await buildImage({ store, runtime, sys: lazySys, contextDir: dir, onEvent: (e) => events.push(e), ...extra });
      return { id: r.id, events, ran: r.ran, cached: r.cached, ms: Date.now() - t0 };
    },
    async runIn(imageId, args) {
      const image = store.resolve(imageId);
      const metas = [...image.layers].reverse().map((l) => store.layer(l.chainId)!);
      let out = '';
      const r = await runStep({
        runtime, overlayRoot: store.overlayRoot(), imageId, lowerLinks: metas.map((m) => m.link), lowerDirs: metas.map((m) => store.layerDiffDir(m)),
        args, env: ['PATH=/bin:/usr/bin'], cwd: '/', user: '', where: 'test', onOutput: (_s, t) => { out += t; },
      });
      await r.remove();
      return out;
    },
    async close() {
      rmSync(work, { recursive: true, force: true });
      await cleanupRoots(roots);
    },
  };
}

export const buildSteps = (events: ImageEvent[]): BuildStep[] => events.filter((e): e is BuildStep => e.kind === 'step');

/** "cached [1/5] RUN …" / "started [2/5] COPY …" lines of the steps that were answered or ran (stage label dropped). */
export function stepLines(events: ImageEvent[]): string[] {
  return buildSteps(events).filter((s) => s.status === 'cached' || s.status === 'started').map((s) => `${s.status} ${s.name.replace(/^\[\S+ /, '[')}`);
}

/** The text of a build's `message` events (warnings among them). */
export function buildMessages(events: ImageEvent[]): string[] {
  return events.filter((e) => e.kind === 'message').map((e) => (e as { text: string }).text);
}
