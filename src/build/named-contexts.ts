// Named build contexts (`docker buildx build --build-context NAME=VALUE`, compose
// `build.additional_contexts`): what each value means, checked before the build starts. Pure.
//
// A named context is looked up by the name a Dockerfile uses in `FROM NAME`, `COPY --from=NAME`
// and `RUN --mount=…,from=NAME`, as BuildKit does:
// - a stage whose AS name is a context's name is replaced by the context (its instructions
//   never run);
// - otherwise a name is a stage first, then a named context, then an image;
// - names compare in docker's familiar form without ":latest" (`FROM docker.io/library/alpine`
//   finds the context named `alpine`), so a context name must be a valid image name.
//
// Values berth builds from:
// - a local directory (absolute here: the CLI resolves against its cwd, compose against the
//   project directory, as compose-go does), seen through the `.dockerignore` at its root only
//   (BuildKit's dockerui reads that one file for a named local context);
// - `docker-image://REF` (`docker-image://scratch` is the empty filesystem);
// - compose's `service:NAME` is resolved by the engine (that service's image, built first) into
//   `docker-image://…` before the builder sees it.
// Anything else (URLs, git, `oci-layout://`, bake's `target:`) fails naming where it was given.
import { InvalidArgument, Unsupported } from '../lib/errors.js';
import { parseReference } from '../images/reference.js';

export type NamedContext =
  | { readonly kind: 'dir'; readonly name: string; readonly path: string; readonly origin: string }
  | { readonly kind: 'image'; readonly name: string; readonly ref: string; readonly origin: string }
  | { readonly kind: 'scratch'; readonly name: string; readonly origin: string };

/** Bound for hostile input: contexts per build. */
export const MAX_NAMED_CONTEXTS = 256;

/**
 * The lookup key of a name, BuildKit's way: the familiar reference without ":latest"
 * (`docker.io/library/alpine:latest` → `alpine`); undefined when the name is not a reference.
 */
export function contextKey(name: string): string | undefined {
  let ref;
  try { ref = parseReference(name); } catch { return undefined; }
  const tag = ref.tag !== undefined && ref.tag !== 'latest' ? `:${ref.tag}` : '';
  return `${ref.repository}${tag}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/**
 * Checks every context and keys it by its lookup name. `origin(name)` says where a context was
 * given (`--build-context src=…`, `services.app.build.additional_contexts.src`) for errors.
 */
export function parseNamedContexts(values: Readonly<Record<string, string>>, origin: (name: string) => string): Map<string, NamedContext> {
  const names = Object.keys(values);
  if (names.length > MAX_NAMED_CONTEXTS) throw new InvalidArgument(`more than ${MAX_NAMED_CONTEXTS} named build contexts`);
  const out = new Map<string, NamedContext>();
  for (const name of names.sort()) {
    const value = values[name]!;
    const where = origin(name);
    const key = contextKey(name);
    if (key === undefined) throw new InvalidArgument(`${where}: invalid build context name "${name}": a name is written like an image name (lower-case letters, digits, and . _ - / separators)`);
    if (out.has(key)) throw new InvalidArgument(`${where}: build context "${name}" is the same name as "${out.get(key)!.name}"`);
    out.set(key, parseValue(name, value, where));
  }
  return out;
}

function parseValue(name: string, value: string, where: string): NamedContext {
  if (value === '') throw new InvalidArgument(`${where}: the build context "${name}" is empty: expected a directory, docker-image://IMAGE or service:NAME`);
  if (value.startsWith('docker-image://')) {
    const ref = value.slice('docker-image://'.length);
    if (ref === 'scratch') return { kind: 'scratch', name, origin: where };
    try { parseReference(ref); } catch (err) { throw new InvalidArgument(`${where}: ${(err as Error).message}`); }
    return { kind: 'image', name, ref, origin: where };
  }
  if (value.startsWith('service:')) {
    throw new InvalidArgument(`${where}: "${value}": service: contexts name a compose service; \`berth build\` takes a directory or docker-image://IMAGE (use \`berth compose build\`)`);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1] ?? (/^git@|\.git(#.*)?$|^github\.com\//.test(value) ? 'git' : /^target:/.test(value) ? 'target' : undefined);
  if (scheme !== undefined) {
    throw new Unsupported(`${where}: "${value}": ${scheme} build contexts are not supported; berth builds named contexts from local directories, docker-image://IMAGE and compose's service:NAME`);
  }
  if (!value.startsWith('/')) throw new InvalidArgument(`${where}: "${value}": a directory context must be an absolute path here`);
  return { kind: 'dir', name, path: value, origin: where };
}
