// Shared set-up for the attack tests: one set of roots with the busybox image as `bb`, every
// container removed after each test, and the "nothing leaked" check. Each test file names the
// CVE or class of attack it guards against, and runs it as the attacker would: from inside a
// container (through `berth run`/`berth exec`) or with a hostile input.
import { after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { importBusybox, makeRoots, berth, berthOk, leftovers, cleanupRoots, removeAllContainers, stopEngine, type TestRoots } from '../helpers/env.js';

export { berth, berthOk, type TestRoots };

/** Registers before/afterEach/after hooks and returns a getter for the roots. */
export function attackRoots(): () => TestRoots {
  let roots: TestRoots | undefined;
  before(async () => {
    roots = makeRoots();
    await importBusybox(roots, 'bb');
  });
  afterEach(async () => {
    await removeAllContainers(roots!);
    await stopEngine(roots!);
    assert.deepEqual(leftovers(roots!), [], 'nothing is left behind after the attack');
  });
  after(async () => {
    await removeAllContainers(roots!);
    // every image a test file imported (bb, probe…): a file's own `after` would run after this
    // one, and a verb then would start an engine on roots already removed
    const images = (await berth(roots!, ['images', '-q'])).stdout.split('\n').filter((l) => l !== '');
    if (images.length > 0) await berth(roots!, ['rmi', '-f', ...images]);
    await cleanupRoots(roots!); // stops the engine first
  });
  return () => roots!;
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
}

/** Docker's 14 default capabilities as /proc/<pid>/status prints a set. */
export const DEFAULT_CAP_MASK = '00000000a80425fb';

/** busybox plus native/build/test/probe at /bin/probe, imported as `ref`. */
export async function importProbeImage(r: TestRoots, ref: string): Promise<void> {
  const { mkdtempSync, rmSync, copyFileSync, chmodSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { makeBusyboxRootfs, repoRoot } = await import('../helpers/env.js');
  const { c: createTar } = await import('tar');
  const dir = mkdtempSync(join(tmpdir(), 'berth-probe-'));
  try {
    makeBusyboxRootfs(dir);
    copyFileSync(join(repoRoot, 'native', 'build', 'test', 'probe'), join(dir, 'bin', 'probe'));
    chmodSync(join(dir, 'bin', 'probe'), 0o755);
    const file = join(r.dir, `${ref}.tar`);
    await createTar({ file, cwd: dir, portable: false }, ['.']);
    await berthOk(r, ['import', file, ref]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
