// berth login / logout: check credentials against the registry, then write them to (or remove
// them from) docker's config.json, so docker and berth share one login.
import { DEFAULT_DOMAIN, parseReference } from '../reference.js';
import { InvalidArgument } from '../../lib/errors.js';
import { RegistryClient } from './client.js';
import { removeCredentials, storeCredentials, type Credentials } from './credentials.js';
import type { RegistryHosts } from './hosts.js';

export interface LoginOptions {
  readonly hosts: RegistryHosts;
  /** ~/.docker/config.json (dockerConfigPath()) */
  readonly configPath: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** "localhost:5000", "https://index.docker.io/v1/", "" (Docker Hub) → a registry domain. */
export function registryDomain(server: string | undefined): string {
  if (server === undefined || server === '') return DEFAULT_DOMAIN;
  const host = server.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === DEFAULT_DOMAIN) return DEFAULT_DOMAIN;
  // reuse the reference grammar's domain rule
  const ref = parseReference(`${host}/x`);
  if (ref.domain !== host) throw new InvalidArgument(`"${server}" is not a registry address`);
  return host;
}

/** Checks the credentials against the registry (the engine's half of docker login); returns its domain. */
export async function verifyLogin(server: string | undefined, creds: Credentials, opts: Omit<LoginOptions, 'configPath'>): Promise<string> {
  if (creds.username === '') throw new InvalidArgument('username is empty');
  if (creds.password === '') throw new InvalidArgument('password is empty');
  const domain = registryDomain(server);
  const client = new RegistryClient(domain, 'library/berth-login', { hosts: opts.hosts, credentials: () => creds, signal: opts.signal, timeoutMs: opts.timeoutMs });
  await client.checkLogin();
  return domain;
}

export async function login(server: string | undefined, creds: Credentials, opts: LoginOptions): Promise<{ domain: string; notes: string[] }> {
  const domain = await verifyLogin(server, creds, opts);
  const notes = storeCredentials(opts.configPath, domain, creds);
  return { domain, notes };
}

export function logout(server: string | undefined, opts: Pick<LoginOptions, 'configPath'>): { domain: string; removed: boolean } {
  const domain = registryDomain(server);
  return { domain, removed: removeCredentials(opts.configPath, domain) };
}
