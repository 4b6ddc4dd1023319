// berth login / logout: check credentials against the registry, then write them to (or remove
// them from) docker's config.json, so docker and berth share one login.
import { DEFAULT_DOMAIN, parseReference } from '../reference.js';
import { InvalidArgument } from '../../lib/errors.js';
import { RegistryClient } from './client.js';
import { removeCredentials, storeCredentials, type Credentials } from './credentials.js';
import { serverDomain } from '../../lib/docker-config.js';
import type { RegistryHosts } from './hosts.js';

export interface LoginOptions {
  readonly hosts: RegistryHosts;
  /** ~/.docker/config.json (dockerConfigPath()) */
  readonly configPath: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/**
 * "localhost:5000", "https://index.docker.io/v1/", "" (Docker Hub) → a registry domain: the one
 * parse of a server address (lib/docker-config.ts serverDomain, which logout and config.json
 * keys use too), then checked against the reference grammar's domain rule.
 */
export function registryDomain(server: string | undefined): string {
  const domain = serverDomain(server);
  if (domain === DEFAULT_DOMAIN) return domain;
  let parsed: string | undefined;
  try { parsed = parseReference(`${domain}/x`).domain; } catch { parsed = undefined; }
  if (parsed !== domain) throw new InvalidArgument(`"${server}" is not a registry address`);
  return domain;
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
