// Is a path a mount point? Read from /proc/self/mountinfo (field 5, octal-escaped), the one truth
// the kernel keeps; a stat-based guess (st_dev differs from the parent's) misses bind mounts of
// the same filesystem.
import { readFileSync } from 'node:fs';

export function unescapeMountPath(raw: string): string {
  return raw.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Every mount point of this process's namespace, as paths. */
function mountPoints(): string[] {
  let text = '';
  try { text = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return []; }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const raw = line.split(' ')[4];
    if (raw !== undefined) out.push(unescapeMountPath(raw));
  }
  return out;
}

export function isMountPoint(path: string): boolean {
  return mountPoints().includes(path);
}

/** Mount points at or below `path`, shallowest first. */
export function mountsUnder(path: string): string[] {
  return mountPoints().filter((mp) => mp === path || mp.startsWith(path + '/')).sort((a, b) => a.length - b.length);
}
