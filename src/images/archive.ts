// Reading image archives: `docker save` output (docker-archive: manifest.json + layer tars +
// config JSON) and OCI image-layout archives (oci-layout, index.json, blobs/sha256/…).
//
// The outer archive is staged first, because the files that say what to do (manifest.json,
// index.json) may come after the layers they name. Staging never uses archive names as host
// paths: each regular file is written to `<staging>/<n>` and looked up through a name map, so
// no outer-archive name can reach outside the staging directory. Symlinks and hard links (docker
// save links duplicate layers) become aliases in the map, resolved inside the archive only.
import { openSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { BerthError, InvalidArgument, NotFound, Unsupported, fromNodeError } from '../lib/errors.js';
import { openTar } from './compression.js';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from './extract.js';

/** A staged outer archive: archive names → files under the staging directory. */
export class StagedArchive {
  /** archive name (cleaned, no leading "./") → staged file path, or an alias to another name */
  private readonly files = new Map<string, { file: string } | { alias: string }>();
  constructor(readonly label: string) {}

  add(name: string, file: string): void { this.files.set(name, { file }); }
  alias(name: string, target: string): void { this.files.set(name, { alias: target }); }

  has(name: string): boolean {
    try { this.path(name); return true; } catch { return false; }
  }

  /** The staged file for an archive name, following aliases (at most 16 hops). */
  path(name: string): string {
    let current = cleanArchiveName(name);
    for (let hops = 0; hops < 16; hops++) {
      const found = current === undefined ? undefined : this.files.get(current);
      if (found === undefined) throw new NotFound(`${this.label}: no "${name}" in the archive`);
      if ('file' in found) return found.file;
      current = found.alias;
    }
    throw new InvalidArgument(`${this.label}: "${name}": too many levels of links in the archive`);
  }

  bytes(name: string): Buffer {
    const file = this.path(name);
    try { return readFileSync(file); } catch (err) { throw fromNodeError(err, 'read', file); }
  }

  json<T>(name: string): T {
    try {
      return JSON.parse(this.bytes(name).toString('utf8')) as T;
    } catch (err) {
      if (err instanceof BerthError) throw err;
      throw new InvalidArgument(`${this.label}: "${name}" is not valid JSON: ${(err as Error).message}`);
    }
  }
}

/** Cleans an archive-internal name: no leading '/' or './', no '..' above the archive root. */
export function cleanArchiveName(name: string): string | undefined {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out.length === 0 ? undefined : out.join('/');
}

/** Stages the (plain or gzip) archive `file` into the empty directory `stagingDir`. */
export async function stageArchive(file: string, stagingDir: string, limits: Partial<ExtractLimits> = {}): Promise<StagedArchive> {
  const max = { ...DEFAULT_EXTRACT_LIMITS, ...limits };
  const label = `archive "${file}"`;
  const staged = new StagedArchive(label);
  const source = openTar(file, label);
  const parser = new Parser({ strict: true });
  let failure: BerthError | undefined;
  let count = 0;
  let total = 0;
  const fail = (err: unknown) => { failure ??= err instanceof BerthError ? err : fromNodeError(err, 'write', stagingDir); };

  parser.on('entry', (entry: ReadEntry) => {
    if (failure) { entry.resume(); return; }
    try {
      if (++count > max.maxEntries) throw new InvalidArgument(`${label}: more than ${max.maxEntries} entries`);
      const name = cleanArchiveName(entry.path);
      if (name === undefined) { entry.resume(); return; }
      if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
        // symlink targets are relative to the link's directory; hard link targets to the root
        const base = entry.type === 'SymbolicLink' && !(entry.linkpath ?? '').startsWith('/') ? posix.dirname(name) : '';
        const target = cleanArchiveName(posix.join(base, entry.linkpath ?? ''));
        if (target !== undefined) staged.alias(name, target);
        entry.resume();
        return;
      }
      if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') { entry.resume(); return; }
      total += entry.size;
      if (total > max.maxTotalBytes) throw new InvalidArgument(`${label}: entry "${entry.path}": archive content exceeds the ${max.maxTotalBytes}-byte limit`);
      const out = join(stagingDir, String(count));
      let fd: number;
      try { fd = openSync(out, 'wx', 0o600); } catch (err) { throw fromNodeError(err, 'open', out); }
      let written = 0;
      entry.on('data', (chunk: Buffer) => {
        if (failure) return;
        try {
          let offset = 0;
          while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
          written += chunk.length;
        } catch (err) { fail(fromNodeError(err, 'write', out)); }
      });
      entry.on('end', () => {
        try { closeSync(fd); } catch (err) { fail(fromNodeError(err, 'close', out)); }
        if (written !== entry.size) fail(new InvalidArgument(`${label}: entry "${entry.path}": truncated (${written} of ${entry.size} bytes)`));
        staged.add(name, out);
      });
    } catch (err) {
      fail(err);
      entry.resume();
    }
  });
  const done = new Promise<void>((resolve) => {
    parser.on('end', () => resolve());
    parser.on('error', (err: Error) => {
      fail(new InvalidArgument(`${label}: not a valid tar archive: ${err.message.replace(/^TAR_[A-Z_]+: /, '')}`));
      resolve();
    });
  });
  try {
    for await (const chunk of source.chunks) {
      parser.write(chunk);
      if (failure) break;
    }
  } catch (err) {
    fail(err);
  }
  if (!failure) {
    parser.end();
    await done;
  }
  if (failure) throw failure;
  return staged;
}

/** One image found in an archive, before anything is written to the store. */
export interface ArchiveImage {
  /** the config JSON exactly as stored: its sha256 is the image id */
  readonly configBytes: Buffer;
  /** references as written in the archive ("busybox:latest", "docker.io/library/busybox:1.36") */
  readonly repoTags: readonly string[];
  /** OCI ref.name annotations that are a bare tag ("latest") with no repository to attach to */
  readonly bareTags: readonly string[];
  /** bottom-most first */
  readonly layers: readonly ArchiveLayer[];
}

export interface ArchiveLayer {
  /** the archive name, for messages */
  readonly name: string;
  /** the staged file holding the layer tar (plain or gzip) */
  readonly file: string;
  /** the OCI descriptor digest of the stored blob, to verify while reading; absent for docker-archive */
  readonly blobDigest?: string;
}

/** Finds the images in a staged archive: docker-archive when manifest.json exists, else OCI. */
export function readArchiveImages(staged: StagedArchive, hostArchitecture: string): ArchiveImage[] {
  if (staged.has('manifest.json')) return readDockerArchive(staged);
  if (staged.has('index.json')) return readOciLayout(staged, hostArchitecture);
  throw new InvalidArgument(`${staged.label}: neither a docker-archive (no manifest.json) nor an OCI image layout (no index.json)`);
}

interface DockerManifestEntry { Config?: unknown; RepoTags?: unknown; Layers?: unknown }

function readDockerArchive(staged: StagedArchive): ArchiveImage[] {
  const manifest = staged.json<unknown>('manifest.json');
  if (!Array.isArray(manifest)) throw new InvalidArgument(`${staged.label}: manifest.json is not a list`);
  return manifest.map((raw: DockerManifestEntry, i) => {
    const where = `${staged.label}: manifest.json[${i}]`;
    if (typeof raw?.Config !== 'string') throw new InvalidArgument(`${where}: Config is missing`);
    if (!Array.isArray(raw.Layers) || raw.Layers.some((l) => typeof l !== 'string')) throw new InvalidArgument(`${where}: Layers is not a list of names`);
    const repoTags = raw.RepoTags == null ? [] : raw.RepoTags;
    if (!Array.isArray(repoTags) || repoTags.some((t) => typeof t !== 'string')) throw new InvalidArgument(`${where}: RepoTags is not a list of names`);
    return {
      configBytes: staged.bytes(raw.Config),
      repoTags: repoTags as string[],
      bareTags: [],
      layers: (raw.Layers as string[]).map((name) => ({ name, file: staged.path(name) })),
    };
  });
}

interface Descriptor { mediaType?: string; digest?: string; size?: number; annotations?: Record<string, string>; platform?: { os?: string; architecture?: string } }

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

function blobName(staged: StagedArchive, digest: unknown): string {
  if (typeof digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new InvalidArgument(`${staged.label}: unsupported or malformed digest ${JSON.stringify(digest)}`);
  }
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

/** Reads a small JSON blob and checks it against its digest. */
function verifiedBlob(staged: StagedArchive, digest: unknown): Buffer {
  const name = blobName(staged, digest);
  const bytes = staged.bytes(name);
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== digest) throw new InvalidArgument(`${staged.label}: blob ${name} has digest ${actual}, expected ${String(digest)}`);
  return bytes;
}

function parseJson<T>(staged: StagedArchive, bytes: Buffer, what: string): T {
  try { return JSON.parse(bytes.toString('utf8')) as T; } catch (err) {
    throw new InvalidArgument(`${staged.label}: ${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function readOciLayout(staged: StagedArchive, hostArchitecture: string): ArchiveImage[] {
  if (staged.has('oci-layout')) {
    const layout = staged.json<{ imageLayoutVersion?: string }>('oci-layout');
    if (layout.imageLayoutVersion !== '1.0.0') {
      throw new Unsupported(`${staged.label}: OCI image layout version ${String(layout.imageLayoutVersion)} is not supported`);
    }
  }
  const index = staged.json<{ manifests?: Descriptor[] }>('index.json');
  if (!Array.isArray(index.manifests)) throw new InvalidArgument(`${staged.label}: index.json has no manifests`);
  return index.manifests.map((descriptor) => {
    // containerd and docker ≥ 25 put the full name here; ref.name is often just the tag
    const full = descriptor.annotations?.['io.containerd.image.name'];
    const refName = descriptor.annotations?.['org.opencontainers.image.ref.name'];
    const repoTags: string[] = [];
    const bareTags: string[] = [];
    if (full) repoTags.push(full);
    else if (refName && /[/:]/.test(refName)) repoTags.push(refName);
    else if (refName) bareTags.push(refName);
    return { ...resolveManifest(staged, descriptor, hostArchitecture, 0), repoTags, bareTags };
  });
}

function resolveManifest(staged: StagedArchive, descriptor: Descriptor, hostArchitecture: string, depth: number): Pick<ArchiveImage, 'configBytes' | 'layers'> {
  if (depth > 4) throw new InvalidArgument(`${staged.label}: image indexes nested too deeply`);
  const bytes = verifiedBlob(staged, descriptor.digest);
  const doc = parseJson<{ mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }>(staged, bytes, `blob ${descriptor.digest}`);
  const mediaType = descriptor.mediaType ?? doc.mediaType;
  if ((mediaType && INDEX_TYPES.has(mediaType)) || (!mediaType && Array.isArray(doc.manifests))) {
    const candidates = (doc.manifests ?? []).filter((m) => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
    const chosen = candidates.find((m) => (m.platform?.os ?? 'linux') === 'linux' && m.platform?.architecture === hostArchitecture)
      ?? (candidates.length === 1 && candidates[0].platform === undefined ? candidates[0] : undefined);
    if (!chosen) throw new Unsupported(`${staged.label}: no manifest for linux/${hostArchitecture} in image index ${descriptor.digest}`);
    return resolveManifest(staged, chosen, hostArchitecture, depth + 1);
  }
  if (mediaType && !MANIFEST_TYPES.has(mediaType)) throw new Unsupported(`${staged.label}: manifest media type ${mediaType} is not supported`);
  if (!doc.config || !Array.isArray(doc.layers)) throw new InvalidArgument(`${staged.label}: manifest ${descriptor.digest} has no config or layers`);
  const configBytes = verifiedBlob(staged, doc.config.digest);
  const layers = doc.layers.map((layer) => {
    if (layer.mediaType && /nondistributable|foreign/.test(layer.mediaType)) {
      throw new Unsupported(`${staged.label}: layer ${layer.digest} is non-distributable (${layer.mediaType}) and not in the archive`);
    }
    const name = blobName(staged, layer.digest);
    return { name, file: staged.path(name), blobDigest: layer.digest as string };
  });
  return { configBytes, layers };
}
