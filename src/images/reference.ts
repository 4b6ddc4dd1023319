// Image references as docker reads and shows them. Pure: no I/O.
//
// A reference is `[domain/]path[:tag][@digest]`. Docker's defaults apply: no domain means
// `docker.io`, and a single-component path on docker.io means `library/<name>`. Docker *shows*
// the "familiar" form, with those defaults stripped again: `docker.io/library/busybox:latest`
// is shown as `busybox:latest`, `docker.io/me/app` as `me/app:latest`, and
// `localhost:5000/app:v1` keeps its domain. The store keys tags by the familiar form, so a
// tag written either way finds the same image.
import { InvalidArgument } from '../lib/errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';

/** A parsed reference. `repository` is the familiar name: what `docker images` shows. */
export interface ImageReference {
  /** registry host, with port: "docker.io", "localhost:5000" */
  readonly domain: string;
  /** path under the domain, defaults applied: "library/busybox" */
  readonly path: string;
  /** the familiar repository name: "busybox", "me/app", "localhost:5000/app" */
  readonly repository: string;
  /** the tag, "latest" when none was written and no digest was given */
  readonly tag: string | undefined;
  /** "sha256:<hex>" when the reference was pinned by digest */
  readonly digest: string | undefined;
}

// Grammar from the distribution reference spec (docker/distribution/reference/regexp.go).
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_NAME_LENGTH = 255;

/** A bare image id: 64 lower-case hex digits. */
export const FULL_ID = /^[a-f0-9]{64}$/;

/**
 * Parses `name[:tag][@digest]` with docker's defaults. Throws InvalidArgument with docker's
 * wording ("invalid reference format…") when the text is not a reference.
 */
export function parseReference(text: string): ImageReference {
  const invalid = (why: string) => new InvalidArgument(`invalid reference format: ${why}: "${text}"`);
  if (text === '') throw invalid('empty reference');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid('bad digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid('bad tag');
  }
  if (rest === '') throw invalid('empty repository name');
  if (rest.length > MAX_NAME_LENGTH) throw invalid(`repository name longer than ${MAX_NAME_LENGTH} characters`);

  // docker's splitDockerDomain: the first component is a domain only when it has a '.' or ':',
  // is "localhost", or has upper-case letters (which a path component cannot have).
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(domain)) throw invalid('bad domain');
    }
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(component !== component.toLowerCase() ? 'repository name must be lowercase' : 'bad path component');
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;

  let repository: string;
  if (domain !== DEFAULT_DOMAIN) repository = `${domain}/${path}`;
  else if (path.startsWith('library/') && path.split('/').length === 2) repository = path.slice('library/'.length);
  else repository = path;

  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return { domain, path, repository, tag, digest };
}

/**
 * The familiar `repository:tag` a tag is stored and shown under. Digest references cannot name
 * a tag (docker: "refusing to create a tag with a digest reference").
 */
export function familiarTag(text: string): string {
  const ref = parseReference(text);
  if (ref.digest !== undefined) {
    throw new InvalidArgument(`refusing to create a tag with a digest reference: "${text}"`);
  }
  return `${ref.repository}:${ref.tag ?? DEFAULT_TAG}`;
}

/** Whether `text` is a bare tag ("latest", "1.36") rather than a repository reference. */
export function isBareTag(text: string): boolean {
  return TAG.test(text) && !text.includes('/');
}
