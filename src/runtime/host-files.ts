// Small host-file facts the runtime's removal and repair need: whether a path is a mount point,
// which mounts lie under a directory, and removing a container directory in the order that keeps
// it recognisable to repair until the very end.
import { readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isTemporaryName } from '../lib/atomic.js';
import { processAlive } from '../sys/spawn.js';

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function escapeMountPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function mountPoints(): string[] {
  let text = '';
  try { text = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return []; }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp !== undefined) out.push(mp);
  }
  return out;
}

export function isMounted(path: string): boolean {
  const escaped = escapeMountPath(path);
  return mountPoints().includes(escaped);
}

/** Mount points strictly below `dir`, unescaped, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  const prefix = escapeMountPath(dir.endsWith('/') ? dir : `${dir}/`);
  return mountPoints()
    .filter((mp) => mp.startsWith(prefix))
    .map((mp) => mp.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a container directory: every entry but the record and the `removing` marker first, then
 * the record, then the marker, then the directory. A crash at any point leaves the marker (or an
 * empty directory): repair() sees a removal to finish, never a container that lost its record.
 */
export async function removeBundle(bundle: string): Promise<void> {
  let names: string[];
  try { names = readdirSync(bundle); } catch { return; }
  for (const n of names) {
    if (n === 'config.v2.json' || n === 'removing') continue;
    // retried: a file written into the directory while it is removed (an exec's launch file)
    await rm(join(bundle, n), { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
  }
  rmSync(join(bundle, 'config.v2.json'), { force: true });
  rmSync(join(bundle, 'removing'), { force: true });
  try {
    rmdirSync(bundle);
  } catch (err) {
    // something appeared meanwhile: take it all
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await rm(bundle, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
  }
}

/** Temporary files of atomic writes a crash interrupted (lib/atomic.ts names them). */
export function removeTemporaryFiles(dir: string): void {
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    if (!isTemporaryName(n)) continue;
    // a live writer's (another process's) file is in use; a dead one's, or one of an earlier
    // process that had this pid, is not
    const pid = Number(/\.(\d+)(\.[0-9a-f]{12})?\.tmp$/.exec(n)?.[1]);
    if (pid !== process.pid && processAlive(pid)) continue;
    rmSync(join(dir, n), { force: true });
  }
}
