// What the benchmarks share: one timed run of a command, and the median.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';

export interface Subject { readonly name: string; readonly argv: readonly string[]; readonly env?: NodeJS.ProcessEnv; readonly expectFailure?: boolean }

/** Wall-clock ms of one run; throws when it fails (or, with expectFailure, when it succeeds). */
export function timeOnce(s: Subject): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(s.argv[0]!, s.argv.slice(1), { env: s.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if ((r.status !== 0) !== (s.expectFailure ?? false)) throw new Error(`${s.name} failed (${r.status}): ${r.stderr?.toString()}`);
  return ms;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * How to run a berth build's `bin/berth`: the native launcher itself (this tree), or `node FILE`
 * for an older build whose bin/berth is the Node script.
 */
export function berthCommand(bin: string): string[] {
  const head = Buffer.alloc(4);
  const fd = openSync(bin, 'r');
  try { readSync(fd, head, 0, 4, 0); } finally { closeSync(fd); }
  return head.toString('latin1') === '\x7fELF' ? [bin] : [process.execPath, bin];
}
