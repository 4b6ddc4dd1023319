// Sizes and durations as Docker parses and prints them.
import { InvalidArgument } from './errors.js';

const BINARY: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Docker's RAMInBytes: "64m", "1g", "512k", "1024", "1.5g" (binary units; a trailing "b"/"ib" is allowed). */
export function parseBytes(input: string | number, what = 'size'): number {
  if (typeof input === 'number') return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(input);
  if (!m) throw new InvalidArgument(`invalid ${what}: ${JSON.stringify(input)}: expected a number with an optional unit (b, k, m, g)`);
  return Math.floor(Number(m[1]) * BINARY[m[2]!.toLowerCase()]!);
}

/** Docker's HumanSize: decimal units, 3 significant digits ("4.26MB", "1.2kB", "512B"). */
export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** Docker's BytesSize: binary units, 4 significant digits ("1.234MiB", "64MiB", "512KiB"). */
export function formatBinarySize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** Docker's HumanDuration ("Less than a second", "5 seconds", "About a minute", "3 hours"…). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(ms / 60000);
  const hours = Math.round(ms / 3600000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3600000 / 24 / 365)} years`;
}

/** Docker's STATUS column: "Up 5 seconds (healthy)", "Exited (0) 3 seconds ago", "Created"; a dead container says why ("Dead: … is corrupt"). */
export function dockerStatus(status: string, exitCode: number, startedAt: string | undefined, finishedAt: string | undefined, now: number, health = '', reason = ''): string {
  if (status === 'dead' && reason !== '') return `Dead: ${reason}`;
  if (status === 'running') return `Up ${humanDuration(now - Date.parse(startedAt ?? ''))}${health ? ` (${health})` : ''}`;
  if (status === 'exited') return `Exited (${exitCode})${finishedAt ? ` ${humanDuration(now - Date.parse(finishedAt))} ago` : ''}`;
  return status.charAt(0).toUpperCase() + status.slice(1);
}
