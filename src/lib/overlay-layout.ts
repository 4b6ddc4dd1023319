// The on-disk layout shared by image layers and container layers, as Docker's overlay2 driver
// lays it out:
//   <overlayRoot>/<id>/diff     the layer's files (upper dir for a container layer)
//   <overlayRoot>/<id>/link     the layer's short name (26 upper-case letters and digits)
//   <overlayRoot>/<id>/lower    colon-separated "l/<short>" of the layers below, top-most first
//   <overlayRoot>/<id>/work     overlay work dir (container layers only)
//   <overlayRoot>/<id>/merged   overlay mount point (container layers only)
//   <overlayRoot>/l/<short>  -> ../<id>/diff
// The short links keep the mount option string under the kernel's one-page limit when an
// image has many layers: the mount is made after chdir(overlayRoot) with relative lowerdirs.
import { mkdirSync, writeFileSync, readFileSync, symlinkSync, rmSync, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fromNodeError } from './errors.js';

const SHORT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function newShortLink(): string {
  const bytes = randomBytes(26);
  let out = '';
  for (const b of bytes) out += SHORT_ALPHABET[b % SHORT_ALPHABET.length];
  return out;
}

export interface LayerDir {
  readonly id: string;
  readonly dir: string;
  readonly diff: string;
  readonly link: string;
}

/** Creates <id>/diff and its short link. `lower` lists the short links of the layers below, top-most first. */
export function createLayerDir(overlayRoot: string, id: string, lower: readonly string[]): LayerDir {
  const dir = join(overlayRoot, id);
  const diff = join(dir, 'diff');
  try {
    mkdirSync(join(overlayRoot, 'l'), { recursive: true, mode: 0o700 });
    mkdirSync(diff, { recursive: true, mode: 0o755 });
    const link = newShortLink();
    symlinkSync(join('..', id, 'diff'), join(overlayRoot, 'l', link));
    writeFileSync(join(dir, 'link'), link);
    if (lower.length > 0) writeFileSync(join(dir, 'lower'), lower.map((l) => `l/${l}`).join(':'));
    return { id, dir, diff, link };
  } catch (err) {
    throw fromNodeError(err, 'mkdir', dir);
  }
}

export function readLayerDir(overlayRoot: string, id: string): LayerDir {
  const dir = join(overlayRoot, id);
  let link: string;
  try {
    link = readFileSync(join(dir, 'link'), 'utf8').trim();
  } catch (err) {
    throw fromNodeError(err, 'read', join(dir, 'link'));
  }
  return { id, dir, diff: join(dir, 'diff'), link };
}

/** removeLayerDir without blocking the event loop on a large tree (a container's upper dir). */
export async function removeLayerDirAsync(overlayRoot: string, id: string): Promise<void> {
  const dir = join(overlayRoot, id);
  try {
    if (existsSync(join(dir, 'link'))) {
      const link = readFileSync(join(dir, 'link'), 'utf8').trim();
      if (/^[A-Z0-9]{26}$/.test(link)) await rm(join(overlayRoot, 'l', link), { force: true });
    }
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    throw fromNodeError(err, 'rmdir', dir);
  }
}

/** Removes <id>/ and its short link. Missing pieces are not an error (repair after a crash). */
export function removeLayerDir(overlayRoot: string, id: string): void {
  const dir = join(overlayRoot, id);
  try {
    if (existsSync(join(dir, 'link'))) {
      const link = readFileSync(join(dir, 'link'), 'utf8').trim();
      if (/^[A-Z0-9]{26}$/.test(link)) rmSync(join(overlayRoot, 'l', link), { force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  } catch (err) {
    throw fromNodeError(err, 'rmdir', dir);
  }
}
