// userns_mode / --userns: the user namespace a container runs in. `host` (Docker's only value,
// and the default) is the host's; `remap` puts the container's root on an unprivileged host range
// (native/src/userns.h; the design in docs/decisions/2026-11-30-userns-remap.md): one range for
// every remapped container, the `berth` entry of /etc/subuid and /etc/subgid when there is one,
// else DEFAULT_ID_RANGE. Pure except `readIdFiles` (the host's, injectable).
import { readFileSync } from 'node:fs';
import { InvalidArgument } from '../lib/errors.js';

export type UsernsMode = 'host' | 'remap';

/** Host ids of the container's 0: uid Uid..Uid+Count-1 and gid Gid..Gid+Count-1 (Docker's record style). */
export interface IdMap {
  readonly Uid: number;
  readonly Gid: number;
  readonly Count: number;
}

/**
 * Without a `berth` entry: 2,000,000,000 up, 65,536 ids. Far above what useradd hands out as
 * subordinate ids (100,000 up in steps of 65,536, to 600,100,000 by default) and below 2^31, where
 * tools that keep ids in a signed int break.
 */
export const DEFAULT_ID_RANGE: IdMap = { Uid: 2_000_000_000, Gid: 2_000_000_000, Count: 65_536 };

/** The name looked up in /etc/subuid and /etc/subgid. */
export const SUBID_USER = 'berth';

/** "" or "host" → host; "remap" → remap; anything else is an error naming the accepted values. */
export function parseUsernsMode(value: string | undefined): UsernsMode {
  const v = (value ?? '').trim();
  if (v === '' || v === 'host') return 'host';
  if (v === 'remap') return 'remap';
  throw new InvalidArgument(`invalid userns mode (userns_mode, --userns) "${v}": expected "host" (the host's user namespace, the default) or "remap" (container root on an unprivileged host range; docs/security.md)`);
}

/** The first `berth:start:count` line of a subordinate-id file's text (the `name:start:count` format of subuid(5)); undefined when none. */
export function subIdRange(text: string, user = SUBID_USER): { start: number; count: number } | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [name, start, count] = line.split(':');
    if (name !== user) continue;
    if (!/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) continue;
    return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

export interface IdFiles {
  /** text of /etc/subuid and /etc/subgid; undefined when a file does not exist */
  readonly subuid: string | undefined;
  readonly subgid: string | undefined;
}

/**
 * The range remapped containers use. A `berth` entry must be in both files, map no host root
 * (start > 0), stay below 2^32 and hold at least 65,536 ids (a container's users and groups, as
 * Docker's userns-remap asks); only the first 65,536 are used, whatever the entry gives.
 */
export function resolveIdMap(files: IdFiles): IdMap {
  const u = files.subuid !== undefined ? subIdRange(files.subuid) : undefined;
  const g = files.subgid !== undefined ? subIdRange(files.subgid) : undefined;
  if (u === undefined && g === undefined) return DEFAULT_ID_RANGE;
  if (u === undefined || g === undefined) {
    throw new InvalidArgument(`userns_mode remap: a "${SUBID_USER}" entry is in ${u ? '/etc/subuid' : '/etc/subgid'} but not in ${u ? '/etc/subgid' : '/etc/subuid'}: add both, or neither for the default range ${DEFAULT_ID_RANGE.Uid}:${DEFAULT_ID_RANGE.Count}`);
  }
  const count = DEFAULT_ID_RANGE.Count;
  for (const [file, r] of [['/etc/subuid', u], ['/etc/subgid', g]] as const) {
    if (r.start === 0 || r.count < count || r.start + count > 0xffffffff) {
      throw new InvalidArgument(`userns_mode remap: the "${SUBID_USER}" entry of ${file} (${r.start}:${r.count}) must start above 0 and hold at least ${count} ids below 2^32`);
    }
  }
  return { Uid: u.start, Gid: g.start, Count: count };
}

/** The host's files, read when a remapped container is created. */
export function readIdFiles(): IdFiles {
  const read = (p: string): string | undefined => {
    try { return readFileSync(p, 'utf8'); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new InvalidArgument(`userns_mode remap: cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  return { subuid: read('/etc/subuid'), subgid: read('/etc/subgid') };
}

/** A host id as the container's range places it (container id `id`); ids beyond the range stay unmapped (nobody inside). */
export function hostId(map: IdMap, kind: 'uid' | 'gid', id: number): number {
  return id < map.Count ? (kind === 'uid' ? map.Uid : map.Gid) + id : id;
}
