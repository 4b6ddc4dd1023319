// Docker's client config (~/.docker/config.json, or $DOCKER_CONFIG): the registry credentials
// in `auths`, read by the CLI (it sends them with a pull, push or build: the engine never reads a
// user's files) and written by `berth login` (mode 0600, every other key kept as it was).
//   {"auths": {"localhost:5000": {"auth": base64("user:password")}, "https://index.docker.io/v1/": {…}}}
// Credential helpers (credsStore, credHelpers) are not run: an entry that only a helper holds
// reads as "no credentials", and login/logout say so when the file names a helper.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidArgument } from './errors.js';
import { readJson, writeJsonAtomic } from './atomic.js';

/** Docker Hub's name in references. */
const DEFAULT_DOMAIN = 'docker.io';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Docker Hub's key in config.json, kept from the v1 days. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** config.json's path: $DOCKER_CONFIG/config.json, else <home>/.docker/config.json. */
export function dockerConfigPath(env: Readonly<Record<string, string | undefined>>, home: string): string {
  const dir = env.DOCKER_CONFIG && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : join(home, '.docker');
  return join(dir, 'config.json');
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** The host[:port] a config.json key names ("https://index.docker.io/v1/" → "docker.io"). */
export function keyDomain(key: string): string {
  let host = key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = DEFAULT_DOMAIN;
  return host;
}

function readConfig(path: string): DockerConfig {
  try {
    return readJson<DockerConfig>(path) ?? {};
  } catch (err) {
    if (err instanceof SyntaxError) throw new InvalidArgument(`${path}: not valid JSON: ${err.message}`);
    throw err;
  }
}

/** The credentials config.json holds for a registry domain, if any. */
export function credentialsFor(configPath: string, domain: string): Credentials | undefined {
  const config = readConfig(configPath);
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (keyDomain(key) !== domain || entry === null || typeof entry !== 'object') continue;
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const text = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon <= 0) throw new InvalidArgument(`${configPath}: auths["${key}"].auth is not base64 of "user:password"`);
      return { username: text.slice(0, colon), password: text.slice(colon + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  }
  return undefined;
}

function helperNote(config: DockerConfig, domain: string): string | undefined {
  const helper = config.credHelpers?.[domain] ?? config.credsStore;
  return helper ? `note: credential helper "${helper}" in config.json is not used by berth; credentials are stored in "auths"` : undefined;
}

/** Writes credentials for `domain` (login). Returns notes to show. */
export function storeCredentials(configPath: string, domain: string, creds: Credentials): string[] {
  const config = readConfig(configPath);
  const auths = { ...(config.auths ?? {}) };
  for (const key of Object.keys(auths)) if (keyDomain(key) === domain) delete auths[key];
  auths[domain === DEFAULT_DOMAIN ? DOCKER_HUB_KEY : domain] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  mkdirSync(dirname(configPath), { recursive: true, mode: 0o700 });
  writeJsonAtomic(configPath, { ...config, auths }, { mode: 0o600 });
  const note = helperNote(config, domain);
  return note ? [note] : [];
}

/** Removes credentials for `domain` (logout). Returns whether there were any. */
export function removeCredentials(configPath: string, domain: string): boolean {
  const config = readConfig(configPath);
  const auths = { ...(config.auths ?? {}) };
  let removed = false;
  for (const key of Object.keys(auths)) if (keyDomain(key) === domain) { delete auths[key]; removed = true; }
  if (removed) writeJsonAtomic(configPath, { ...config, auths }, { mode: 0o600 });
  return removed;
}

/** Every set of credentials config.json holds, by registry domain (what a pull, push or build sends). */
export function allCredentials(configPath: string): Record<string, Credentials> {
  const out: Record<string, Credentials> = {};
  const config = readConfig(configPath);
  for (const key of Object.keys(config.auths ?? {})) {
    const domain = keyDomain(key);
    if (out[domain] !== undefined) continue;
    const creds = credentialsFor(configPath, domain);
    if (creds) out[domain] = creds;
  }
  return out;
}

/** "localhost:5000", "https://index.docker.io/v1/", "" (Docker Hub) → the registry domain (no validation). */
export function serverDomain(server: string | undefined): string {
  if (server === undefined || server === '') return DEFAULT_DOMAIN;
  return keyDomain(server);
}
