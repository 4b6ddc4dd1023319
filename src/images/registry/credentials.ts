// Registry credentials: reading and writing docker's config.json lives in lib/docker-config.ts
// (the CLI reads and writes it; re-exported here for the registry client), the parsing of the
// registry's auth challenge here.
export type { Credentials } from '../../lib/docker-config.js';
export { DOCKER_HUB_KEY, dockerConfigPath, keyDomain, credentialsFor, storeCredentials, removeCredentials } from '../../lib/docker-config.js';

/** One WWW-Authenticate challenge: the scheme and its parameters. */
export interface Challenge {
  readonly scheme: 'bearer' | 'basic' | string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses a WWW-Authenticate value (RFC 7235): `Bearer realm="https://…",service="…",scope="…"`.
 * Quoted strings may hold commas and escaped quotes.
 */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const rest = m[2];
  const re = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  return { scheme: m[1].toLowerCase(), params };
}
