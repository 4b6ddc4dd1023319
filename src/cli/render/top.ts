// `top`'s table: the processes of a container as `ps -ef` on the host shows them (host pids):
//   UID    PID     PPID    C    STIME   TTY   TIME       CMD
//   root   40312   40298   0    08:40   ?     00:00:00   sleep 1000
import { readFileSync } from 'node:fs';
import type { ContainerProcess } from '../../api/types.js';
import { table } from './table.js';

export const TOP_TITLES = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];

export function processTable(processes: readonly ContainerProcess[], users: ReadonlyMap<number, string>, nowMs: number): string {
  return table(TOP_TITLES, processes.map((p) => processRow(p, users, nowMs)));
}

export function processRow(p: ContainerProcess, users: ReadonlyMap<number, string>, now: number): string[] {
  const cpuSeconds = p.cpuTimeMs / 1000;
  const elapsed = (now - p.startedAt) / 1000;
  // procps' "C": integer CPU utilisation over the process's lifetime, capped at 99
  const c = elapsed > 0 ? Math.min(99, Math.floor((cpuSeconds / elapsed) * 100)) : 0;
  return [
    users.get(p.uid) ?? String(p.uid),
    String(p.pid),
    String(p.ppid),
    String(c),
    startTime(p.startedAt, now),
    ttyName(p.ttyNr),
    cpuTime(cpuSeconds),
    p.args.length > 0 ? p.args.join(' ') : `[${p.comm}]`,
  ];
}

/** Host user names by uid (ps resolves them on the host too); procps prints names up to 8 characters. */
export function hostUsers(): Map<number, string> {
  const users = new Map<number, string>();
  let text = '';
  try { text = readFileSync('/etc/passwd', 'utf8'); } catch { return users; }
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid) && name.length <= 8 && !users.has(Number(uid))) users.set(Number(uid), name);
  }
  return users;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** procps' STIME: "HH:MM" within a day, "MonDD" within a year, else the year. */
function startTime(at: number, now: number): string {
  const d = new Date(at);
  const age = now - at;
  if (age > 365 * 24 * 3600_000) return String(d.getFullYear());
  if (age > 24 * 3600_000) return `${MONTHS[d.getMonth()]}${String(d.getDate()).padStart(2, '0')}`;
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** procps' TIME: cumulative CPU time as [DD-]HH:MM:SS. */
function cpuTime(seconds: number): string {
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return days > 0 ? `${days}-${hms}` : hms;
}

/** tty_nr → the name ps prints: pts/N (majors 136–143), ttyN and ttySN (major 4), else "?". */
function ttyName(ttyNr: number): string {
  if (ttyNr === 0) return '?';
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  return '?';
}
