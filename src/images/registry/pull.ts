// docker pull: resolve a reference to this platform's manifest, fetch the config and every layer
// the store lacks, verify each against its digest, and commit the image.
//
// Crash and interruption safety. A layer blob downloads to image/downloads/<hex>.partial; only
// when all its bytes are there and their sha256 is the descriptor's digest is it renamed to
// <hex>.blob. A .blob is then extracted into the store (which checks the digest and the diffID
// again as it reads) and committed; the config is written last, and the tag after it. So:
// - nothing that looks complete exists before it is (no layer.json for a half layer, no config
//   for an image missing a layer);
// - a connection cut mid-blob is retried with a Range request from the bytes already on disk
//   (the partial is re-hashed first), and a pull interrupted any other way resumes the same way
//   next time: finished layers are committed and are skipped, a verified .blob is extracted
//   without a download, a .partial continues where it stopped;
// - a blob whose bytes do not hash to its digest is deleted and the pull fails: nothing of it is
//   stored.
// Downloads run in parallel (3, as docker); layers are committed in order as their parents land.
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { InvalidArgument, Unsupported } from '../../lib/errors.js';
import { chainIds, type ImageStore } from '../store.js';
import { parseReference, type ImageReference } from '../reference.js';
import { noEvents, shortDigest, type EventSink } from '../events.js';
import { RegistryClient, RegistryError } from './client.js';
import { TransportError } from './http.js';
import type { RegistryHosts } from './hosts.js';
import type { Credentials } from './credentials.js';
import {
  MANIFEST_ACCEPT, MAX_CONFIG_BYTES, checkDigest, formatPlatform, hostPlatform, offeredPlatforms, parseManifest,
  selectManifest, sha256Digest, type Descriptor, type ImageManifest, type Platform,
} from './manifest.js';
import { rememberRepository } from './distribution.js';
import { limited, allOrFirstError } from './limit.js';

export interface RegistryAccess {
  readonly hosts: RegistryHosts;
  /** config.json credentials for a registry domain */
  readonly credentials: (domain: string) => Credentials | undefined;
  readonly signal?: AbortSignal;
  /** ms for a response head and of silence mid-transfer (default 60 s) */
  readonly timeoutMs?: number;
}

export interface PullOptions extends RegistryAccess {
  /** default: this host's */
  readonly platform?: Platform;
  readonly onEvent?: EventSink;
  /** parallel layer downloads (default 3) */
  readonly concurrency?: number;
  /** attempts per blob after a transport failure (default 5) */
  readonly attempts?: number;
}

export interface PullResult {
  readonly id: string;
  /** "docker.io/library/busybox:latest" */
  readonly canonical: string;
  /** the digest of what the reference names (an index's digest for a multi-platform image) */
  readonly digest: string;
  /** false when the image was already in the store */
  readonly downloaded: boolean;
}

/** A resolved image: what the registry serves for one reference on one platform. */
export interface ResolvedImage {
  readonly reference: ImageReference;
  /** digest of the manifest or index the reference names */
  readonly digest: string;
  readonly manifest: ImageManifest;
  readonly configBytes: Buffer;
  readonly diffIds: readonly string[];
}

function canonicalName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** Fetches and verifies the manifest (through an index) and the config for `text`. */
export async function resolveImage(client: RegistryClient, ref: ImageReference, platform: Platform): Promise<ResolvedImage> {
  const name = `${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
  const top = await client.getManifest(ref.digest ?? ref.tag!, MANIFEST_ACCEPT);
  const digest = sha256Digest(top.bytes);
  if (ref.digest !== undefined && digest !== ref.digest) {
    throw new InvalidArgument(`${name}: the registry sent a manifest whose digest is ${digest}: refused`);
  }
  let doc = parseManifest(top.bytes, top.contentType, `manifest of ${name}`);
  for (let depth = 0; doc.kind === 'index'; depth++) {
    if (depth > 2) throw new InvalidArgument(`${name}: image indexes nested too deeply`);
    const chosen = selectManifest(doc.manifests, platform);
    if (!chosen) {
      const offered = offeredPlatforms(doc.manifests);
      throw new Unsupported(`${name}: no manifest for ${formatPlatform(platform)} (the image offers ${offered.length > 0 ? offered.join(', ') : 'no platforms'})`);
    }
    const next = await client.getManifest(chosen.digest, chosen.mediaType);
    if (sha256Digest(next.bytes) !== chosen.digest) {
      throw new InvalidArgument(`${name}: manifest ${chosen.digest} does not match its digest: refused`);
    }
    doc = parseManifest(next.bytes, next.contentType, `manifest ${chosen.digest} of ${name}`);
  }
  const manifest = doc;
  if (manifest.config.size > MAX_CONFIG_BYTES) throw new InvalidArgument(`${name}: image config of ${manifest.config.size} bytes is larger than allowed`);
  const configBytes = await client.getSmallBlob(manifest.config.digest, MAX_CONFIG_BYTES);
  if (sha256Digest(configBytes) !== manifest.config.digest) {
    throw new InvalidArgument(`${name}: image config does not match its digest ${manifest.config.digest}: refused`);
  }
  let config: { rootfs?: { diff_ids?: unknown }; os?: unknown; architecture?: unknown };
  try { config = JSON.parse(configBytes.toString('utf8')) as typeof config; } catch (err) {
    throw new InvalidArgument(`${name}: image config is not valid JSON: ${(err as Error).message}`);
  }
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds)) throw new InvalidArgument(`${name}: image config has no rootfs.diff_ids`);
  diffIds.forEach((d, i) => checkDigest(d, `${name}: rootfs.diff_ids[${i}]`));
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidArgument(`${name}: the manifest lists ${manifest.layers.length} layers and the config ${diffIds.length}`);
  }
  return { reference: ref, digest, manifest, configBytes, diffIds: diffIds as string[] };
}

/** Downloads in flight in this process, by file: a second pull of the same blob waits for the first. */
const inFlight = new Map<string, Promise<string>>();

async function hashFile(path: string): Promise<ReturnType<typeof createHash>> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

interface DownloadContext {
  readonly client: RegistryClient;
  readonly dir: string;
  readonly attempts: number;
  readonly progress: (status: 'downloading' | 'retrying' | 'verifying', current: number, text?: string) => void;
}

/** Downloads one blob to <dir>/<hex>.blob (verified), resuming a .partial. Returns the path. */
export function downloadBlob(ctx: DownloadContext, desc: Descriptor): Promise<string> {
  const hex = desc.digest.slice('sha256:'.length);
  const final = join(ctx.dir, `${hex}.blob`);
  const existing = inFlight.get(final);
  if (existing) return existing;
  const work = (async () => {
    if (existsSync(final)) return final;
    const partial = join(ctx.dir, `${hex}.partial`);
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > desc.size) { truncateSync(partial, 0); have = 0; }
    let hash = have > 0 ? await hashFile(partial) : createHash('sha256');
    let lastError: unknown;
    for (let attempt = 0; attempt < ctx.attempts && have < desc.size; attempt++) {
      if (attempt > 0) ctx.progress('retrying', have, `${(lastError as Error)?.message ?? 'transfer failed'}; resuming at byte ${have}`);
      let file: Awaited<ReturnType<typeof open>> | undefined;
      try {
        const { res, from } = await ctx.client.getBlob(desc.digest, have);
        if (from === 0 && have > 0) {
          // the server ignored the range: start over
          truncateSync(partial, 0);
          have = 0;
          hash = createHash('sha256');
        }
        file = await open(partial, 'a', 0o600);
        let lastReport = 0;
        for await (const chunk of res) {
          const buf = chunk as Buffer;
          if (have + buf.length > desc.size) {
            res.destroy();
            rmSync(partial, { force: true });
            throw new InvalidArgument(`blob ${desc.digest}: the registry sent more than the ${desc.size} bytes the manifest declares: refused`);
          }
          hash.update(buf);
          await file.write(buf);
          have += buf.length;
          if (have - lastReport >= 256 * 1024 || have === desc.size) { lastReport = have; ctx.progress('downloading', have); }
        }
      } catch (err) {
        if (err instanceof InvalidArgument || (err instanceof RegistryError && err.status !== 0 && err.status < 500) || (err as Error).name === 'AbortError') throw err;
        if (!(err instanceof TransportError) && !(err instanceof RegistryError) && !isStreamError(err)) throw err;
        lastError = err;
      } finally {
        await file?.close();
      }
    }
    if (have < desc.size) {
      throw new TransportError(`blob ${desc.digest}: ${have} of ${desc.size} bytes after ${ctx.attempts} attempts: ${(lastError as Error)?.message ?? 'transfer failed'} (the next pull resumes)`, true);
    }
    ctx.progress('verifying', have);
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== desc.digest) {
      rmSync(partial, { force: true });
      throw new InvalidArgument(`blob ${desc.digest}: the downloaded bytes hash to ${actual}: refused, nothing stored`);
    }
    renameSync(partial, final);
    return final;
  })();
  inFlight.set(final, work);
  return work.finally(() => inFlight.delete(final));
}

function isStreamError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || (err as Error)?.message === 'aborted';
}

/** docker pull TEXT into `store`. */
export async function pullImage(store: ImageStore, text: string, opts: PullOptions): Promise<PullResult> {
  const ref = parseReference(text);
  const emit = opts.onEvent ?? noEvents;
  const resourceId = `pull:${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
  const message = (t: string) => emit({ kind: 'message', resourceId, text: t });
  const client = new RegistryClient(ref.domain, ref.path, opts);
  message(`${ref.digest ?? ref.tag}: Pulling from ${ref.path}`);
  const platform = opts.platform ?? hostPlatform();
  const image = await resolveImage(client, ref, platform);
  const { os, architecture } = JSON.parse(image.configBytes.toString('utf8')) as { os?: string; architecture?: string };
  if ((os !== undefined && os !== platform.os) || (architecture !== undefined && architecture !== platform.architecture)) {
    message(`WARNING: The requested image's platform (${os ?? '?'}/${architecture ?? '?'}) does not match the wanted platform (${formatPlatform(platform)})`);
  }
  const chain = chainIds(image.diffIds);
  const id = sha256Digest(image.configBytes);
  const tags = ref.digest === undefined ? [`${ref.repository}:${ref.tag}`] : [];
  const repoDigests = [`${ref.repository}@${image.digest}`];
  const domainPath = `${ref.domain}/${ref.path}`;
  const present = store.ids().includes(id) && chain.every((c) => store.layer(c) !== undefined);
  if (present) {
    store.commitConfig(image.configBytes, tags, repoDigests);
    message(`Digest: ${image.digest}`);
    message(`Status: Image is up to date for ${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`);
    return { id, canonical: canonicalName(ref), digest: image.digest, downloaded: false };
  }
  store.ensureDirs();
  const dir = join(store.stateDir(), 'downloads');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await store.withPinned(chain, async () => {
    const layers = image.manifest.layers;
    const needed = layers.map((_, i) => store.layer(chain[i]) === undefined);
    layers.forEach((l, i) => emit({ kind: 'layer', resourceId, id: shortDigest(l.digest), status: needed[i] ? 'waiting' : 'already exists', total: l.size }));
    let failed = false;
    const downloads = limited(opts.concurrency ?? 3, layers.map((layer, i) => async () => {
      if (!needed[i] || failed) return '';
      const progress = (status: 'downloading' | 'retrying' | 'verifying', current: number, t?: string) =>
        emit({ kind: 'layer', resourceId, id: shortDigest(layer.digest), status, current, total: layer.size, ...(t ? { text: t } : {}) });
      const file = await downloadBlob({ client, dir, attempts: opts.attempts ?? 5, progress }, layer);
      rememberRepository(store.stateDir(), layer.digest, domainPath);
      return file;
    }));
    downloads.forEach((d) => d.catch(() => { failed = true; }));
    // commit in order, each as soon as its download and its parent are done
    let previous: Promise<void> = Promise.resolve();
    const commits = layers.map((layer, i) => {
      previous = previous.then(async () => {
        const file = await downloads[i];
        if (!needed[i]) return;
        const short = shortDigest(layer.digest);
        emit({ kind: 'layer', resourceId, id: short, status: 'extracting', total: layer.size });
        await store.addLayer({
          file, label: `layer ${layer.digest} of ${ref.repository}`, parent: i === 0 ? null : chain[i - 1],
          blobDigest: layer.digest, diffId: image.diffIds[i], keep: 'move',
        });
        emit({ kind: 'layer', resourceId, id: short, status: 'pull complete' });
      });
      return previous;
    });
    const files = await allOrFirstError<string | void>([...downloads, ...commits]);
    store.commitConfig(image.configBytes, tags, repoDigests);
    // the blobs are kept in the store now; the download names go (a layer listed twice shares one)
    for (const f of files.slice(0, layers.length)) if (typeof f === 'string' && f !== '') rmSync(f, { force: true });
  });
  message(`Digest: ${image.digest}`);
  message(`Status: Downloaded newer image for ${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`);
  return { id, canonical: canonicalName(ref), digest: image.digest, downloaded: true };
}
