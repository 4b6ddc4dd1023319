// What the watch scenarios (test/e2e/watch*.test.ts, hot-reload.test.ts) look at on the host: a
// file inside a running container, and the berth-notify helpers watching a project directory.
import { readFileSync, readdirSync } from 'node:fs';

/** A file of the running container, read through its PID 1's root; undefined when absent. */
export function inContainer(pid: number, path: string): string | undefined {
  try { return readFileSync(`/proc/${pid}/root${path}`, 'utf8'); } catch { return undefined; }
}

/** Live berth-notify helpers watching `dir` (a leaked one has the project path in its argv; a zombie has none). */
export function notifyHelpers(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    if (cmd.includes('berth-notify') && cmd.includes(dir)) found.push(pid);
  }
  return found;
}
