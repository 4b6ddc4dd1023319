// Image manifests and indexes as registries serve them (pure: bytes in, checked values out).
// Docker v2 schema 2 and OCI v1 manifests; Docker manifest lists and OCI indexes, resolved to
// one platform. Schema 1 (signed, pre-2017) is refused with a clear message.
import { createHash } from 'node:crypto';
import { InvalidArgument, Unsupported } from '../../lib/errors.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** What a manifest GET accepts, most preferred first. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

const LAYER_TYPES = new Set<string>([
  MEDIA.dockerLayerGzip, MEDIA.ociLayer, MEDIA.ociLayerGzip, MEDIA.ociLayerZstd,
  'application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.docker.image.rootfs.diff.tar.zstd',
]);
const FOREIGN_TYPES = /foreign|nondistributable/;

/** Manifests and indexes larger than this are refused (containerd uses the same bound). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Image configs larger than this are refused. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
}

export interface ImageManifest {
  readonly kind: 'manifest';
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export interface ImageIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Checks a digest's form; other algorithms (sha512) are refused as unsupported. */
export function checkDigest(digest: unknown, where: string): string {
  if (typeof digest === 'string' && DIGEST.test(digest)) return digest;
  if (typeof digest === 'string' && /^[a-z0-9+._-]+:[a-zA-Z0-9=_-]+$/.test(digest)) {
    throw new Unsupported(`${where}: digest algorithm of ${digest} is not supported (only sha256)`);
  }
  throw new InvalidArgument(`${where}: malformed digest ${JSON.stringify(digest)}`);
}

function descriptor(raw: unknown, where: string): Descriptor {
  const d = raw as Record<string, unknown> | null;
  if (d === null || typeof d !== 'object') throw new InvalidArgument(`${where}: not a descriptor`);
  const digest = checkDigest(d.digest, where);
  const size = d.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new InvalidArgument(`${where}: size must be a non-negative integer`);
  if (typeof d.mediaType !== 'string') throw new InvalidArgument(`${where}: mediaType is missing`);
  const p = d.platform as Record<string, unknown> | undefined;
  const platform = p && typeof p === 'object' && typeof p.os === 'string' && typeof p.architecture === 'string'
    ? { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) }
    : undefined;
  return {
    mediaType: d.mediaType,
    digest,
    size,
    ...(platform ? { platform } : {}),
    ...(d.annotations && typeof d.annotations === 'object' ? { annotations: d.annotations as Record<string, string> } : {}),
    ...(Array.isArray(d.urls) ? { urls: d.urls as string[] } : {}),
  };
}

/**
 * Parses a manifest or index. `contentType` is the response's Content-Type (registries send it;
 * the document's own mediaType wins when present). `where` names it in errors.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined, where: string): ImageManifest | ImageIndex {
  let doc: Record<string, unknown>;
  try { doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>; } catch (err) {
    throw new InvalidArgument(`${where}: not valid JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object') throw new InvalidArgument(`${where}: not a JSON object`);
  if (doc.schemaVersion === 1) throw new Unsupported(`${where}: Docker image manifest schema 1 is not supported (it was retired in 2017); push the image again with a current client`);
  const type = typeof doc.mediaType === 'string' ? doc.mediaType : (contentType ?? '').split(';')[0].trim();
  const isIndex = type === MEDIA.ociIndex || type === MEDIA.dockerList || (type === '' && Array.isArray(doc.manifests));
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw new InvalidArgument(`${where}: index has no manifests`);
    return { kind: 'index', mediaType: type || MEDIA.ociIndex, manifests: doc.manifests.map((m, i) => descriptor(m, `${where}: manifests[${i}]`)) };
  }
  const isManifest = type === MEDIA.ociManifest || type === MEDIA.dockerManifest || (type === '' && doc.config !== undefined);
  if (!isManifest) throw new Unsupported(`${where}: media type "${type}" is not an image manifest berth can pull (an artifact, a chart, or a signature?)`);
  if (!Array.isArray(doc.layers)) throw new InvalidArgument(`${where}: manifest has no layers`);
  const config = descriptor(doc.config, `${where}: config`);
  const layers = doc.layers.map((l, i) => descriptor(l, `${where}: layers[${i}]`));
  for (const [i, l] of layers.entries()) {
    if (FOREIGN_TYPES.test(l.mediaType)) throw new Unsupported(`${where}: layers[${i}] is a non-distributable (foreign) layer, which berth does not fetch`);
    if (!LAYER_TYPES.has(l.mediaType)) throw new Unsupported(`${where}: layers[${i}] has media type "${l.mediaType}", which is not an image layer`);
  }
  return { kind: 'manifest', mediaType: type || MEDIA.ociManifest, config, layers };
}

/** This host's platform, in OCI spelling. arm64 is variant v8; 32-bit arm reads its version from cpuinfo. */
export function hostPlatform(nodeArch: string = process.arch, cpuinfo?: string): Platform {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const architecture = map[nodeArch] ?? nodeArch;
  if (architecture === 'arm64') return { os: 'linux', architecture, variant: 'v8' };
  if (architecture === 'arm') {
    const m = /CPU architecture:\s*(\d+)/.exec(cpuinfo ?? '');
    return { os: 'linux', architecture, variant: `v${m ? m[1] : '7'}` };
  }
  return { os: 'linux', architecture };
}

/** Parses "linux/arm64/v8", "linux/amd64", "arm64". */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length === 1 && parts[0] !== '') return { os: 'linux', architecture: normalizeArch(parts[0]) };
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw new InvalidArgument(`invalid platform "${text}": expected os/arch[/variant]`);
  return { os: parts[0], architecture: normalizeArch(parts[1]), ...(parts[2] ? { variant: parts[2] } : {}) };
}

function normalizeArch(arch: string): string {
  return ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' } as Record<string, string>)[arch] ?? arch;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * Picks the index entry for `want`, as containerd's platform matcher does: same os and
 * architecture; the variant equal, or absent on one side for arm64 (v8 is its only variant),
 * and for 32-bit arm a lower variant is acceptable (v6 runs on v7) with the closest preferred.
 * Attestation manifests (platform unknown/unknown) are never chosen.
 */
export function selectManifest(manifests: readonly Descriptor[], want: Platform): Descriptor | undefined {
  let best: { d: Descriptor; score: number } | undefined;
  for (const d of manifests) {
    const p = d.platform;
    if (d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
    if (!p || p.os !== want.os || p.architecture !== want.architecture) continue;
    let score: number;
    if ((p.variant ?? '') === (want.variant ?? '')) score = 100;
    else if (want.architecture === 'arm64' && (p.variant ?? 'v8') === (want.variant ?? 'v8')) score = 90;
    else if (want.architecture === 'arm' && p.variant && want.variant && /^v\d+$/.test(p.variant) && /^v\d+$/.test(want.variant) && Number(p.variant.slice(1)) < Number(want.variant.slice(1))) {
      score = 50 + Number(p.variant.slice(1));
    } else if (!p.variant || !want.variant) score = 40;
    else continue;
    if (!best || score > best.score) best = { d, score };
  }
  return best?.d;
}

/** The platforms an index offers, for the error when none fits. */
export function offeredPlatforms(manifests: readonly Descriptor[]): string[] {
  return manifests.filter((d) => d.platform && d.platform.os !== 'unknown').map((d) => formatPlatform(d.platform!));
}
