// Is a path a mount point? Read from /proc/self/mountinfo (field 5, octal-escaped), the one truth
// the kernel keeps; a stat-based guess (st_dev differs from the parent's) misses bind mounts of
// the same filesystem.
import { readFileSync } from 'node:fs';

export function unescapeMountPath(raw: string): string {
  return raw.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function isMountPoint(path: string): boolean {
  let text = '';
  try { text = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return false; }
  for (const line of text.split('\n')) {
    const raw = line.split(' ')[4];
    if (raw !== undefined && unescapeMountPath(raw) === path) return true;
  }
  return false;
}
