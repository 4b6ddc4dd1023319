// Secrets and configs: files written under the container's bundle and bound read-only at
// /run/secrets/<name> (secrets) or at the config's target (default /<name>), with the uid, gid and
// mode asked for (default 0:0, 0444). The content is copied, never the host file bound itself: a
// chown or chmod for the container must not change the user's own file, and a container must not
// see the rest of a host directory. The files are rewritten at every start, so an edited secret
// file is what a restarted container reads.
import { mkdirSync, openSync, fstatSync, readSync, closeSync, chownSync, chmodSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InvalidArgument, NotFound, fromNodeError } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/atomic.js';
import type { VolumeMount } from './mount-types.js';

/** Compose's limit for swarm secrets is 500 KB; a generous cap so a mistake is an error, not a copy of a disk. */
export const MAX_GRANT_BYTES = 16 << 20;

export interface FileGrant {
  readonly kind: 'secret' | 'config';
  /** the top-level secret/config name */
  readonly name: string;
  /** path in the container; empty = the default (/run/secrets/<name>, /<name>); a relative secret target is under /run/secrets */
  readonly target?: string;
  /** file: a host file read at every start; data: the `environment` value or `content` */
  readonly content: { readonly file: string } | { readonly data: string | Uint8Array };
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

export function grantTarget(g: FileGrant): string {
  const t = g.target ?? '';
  if (g.kind === 'secret') {
    if (t === '') return `/run/secrets/${g.name}`;
    return t.startsWith('/') ? posix.normalize(t) : posix.join('/run/secrets', t);
  }
  return t === '' ? `/${g.name}` : posix.normalize(t.startsWith('/') ? t : `/${t}`);
}

/** The directory under the bundle that holds the granted files. */
export function grantsDir(bundle: string): string {
  return join(bundle, 'grants');
}

function grantFile(bundle: string, index: number, g: FileGrant): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(g.name)) throw new InvalidArgument(`invalid ${g.kind} name ${JSON.stringify(g.name)}`);
  return join(grantsDir(bundle), `${index}-${g.kind}-${g.name}`);
}

/** The mounts for these grants (known at create time; the files are written by writeFileGrants). */
export function fileGrantMounts(bundle: string, grants: readonly FileGrant[]): VolumeMount[] {
  return grants.map((g, i) => ({
    type: 'bind' as const,
    kind: 'bind' as const,
    source: grantFile(bundle, i, g),
    target: grantTarget(g),
    readonly: true,
    nosuid: true,
    nodev: true,
    noexec: true,
  }));
}

function readBounded(file: string, what: string): Buffer {
  let fd: number;
  try { fd = openSync(file, 'r'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound(`${what}: file ${file} does not exist`);
    throw fromNodeError(err, 'open', file);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InvalidArgument(`${what}: ${file} is not a regular file`);
    if (st.size > MAX_GRANT_BYTES) throw new InvalidArgument(`${what}: ${file} is ${st.size} bytes, more than the ${MAX_GRANT_BYTES} allowed`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally { closeSync(fd); }
}

/** Writes (or rewrites) each grant's file under the bundle, with its owner and mode. Before every start. */
export function writeFileGrants(bundle: string, grants: readonly FileGrant[]): void {
  const dir = grantsDir(bundle);
  try { mkdirSync(dir, { recursive: true, mode: 0o711 }); } catch (err) { throw fromNodeError(err, 'mkdir', dir); }
  grants.forEach((g, i) => {
    const what = `${g.kind} "${g.name}"`;
    const data = 'file' in g.content ? readBounded(g.content.file, what) : typeof g.content.data === 'string' ? Buffer.from(g.content.data) : g.content.data;
    if (data.length > MAX_GRANT_BYTES) throw new InvalidArgument(`${what} is ${data.length} bytes, more than the ${MAX_GRANT_BYTES} allowed`);
    const mode = g.mode ?? 0o444;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new InvalidArgument(`${what}: invalid mode ${mode}`);
    const file = grantFile(bundle, i, g);
    writeFileAtomic(file, data, { mode, durable: false });
    try {
      chownSync(file, g.uid ?? 0, g.gid ?? 0);
      // the mode again: past the umask, and after chown (which clears set-id bits)
      chmodSync(file, mode);
    } catch (err) { throw fromNodeError(err, 'chown', file); }
  });
}

/** Removes the grant files (the bundle's removal does it too). */
export function removeFileGrants(bundle: string): void {
  rmSync(grantsDir(bundle), { recursive: true, force: true });
}
