// Where a registry name is reached, and over what. Pure apart from reading the config file the
// caller names.
//
// docker.io is served by registry-1.docker.io. Plain HTTP is used only for registries the user
// marked insecure (BERTH_INSECURE_REGISTRIES="host:port,…" or `insecure-registries` in the
// berth config file, docker's daemon.json key) and for loopback names (localhost, 127.0.0.0/8,
// ::1), as dockerd allows them by default. An insecure registry is still tried over HTTPS
// first, as docker does, unless it is loopback: a loopback registry is plain HTTP.
import { readFileSync } from 'node:fs';
import { InvalidArgument, fromNodeError } from '../../lib/errors.js';
import { DEFAULT_DOMAIN } from '../reference.js';

export interface RegistryHosts {
  /** host[:port] names (or CIDR-free IPs) marked insecure */
  readonly insecure: readonly string[];
}

export interface Endpoint {
  /** the name as written in references: "docker.io", "localhost:5000" */
  readonly domain: string;
  /** base URLs to try in order ("https://registry-1.docker.io") */
  readonly bases: readonly URL[];
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

export function isLoopback(domain: string): boolean {
  return LOOPBACK_HOST.test(domain);
}

/** Reads BERTH_INSECURE_REGISTRIES from `env` and insecure-registries from `configFile` (if it exists). */
export function registryHosts(env: Readonly<Record<string, string | undefined>>, configFile?: string): RegistryHosts {
  const insecure = new Set<string>();
  for (const name of (env.BERTH_INSECURE_REGISTRIES ?? '').split(',')) if (name.trim() !== '') insecure.add(name.trim());
  if (configFile !== undefined) {
    let text: string | undefined;
    try { text = readFileSync(configFile, 'utf8'); } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'read', configFile);
    }
    if (text !== undefined) {
      let parsed: unknown;
      try { parsed = JSON.parse(text); } catch (err) {
        throw new InvalidArgument(`${configFile}: not valid JSON: ${(err as Error).message}`);
      }
      const list = (parsed as { 'insecure-registries'?: unknown })['insecure-registries'];
      if (list !== undefined) {
        if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
          throw new InvalidArgument(`${configFile}: "insecure-registries" must be a list of host[:port] names`);
        }
        for (const name of list as string[]) insecure.add(name);
      }
    }
  }
  return { insecure: [...insecure] };
}

export function endpointFor(domain: string, hosts: RegistryHosts): Endpoint {
  if (domain === DEFAULT_DOMAIN) return { domain, bases: [new URL('https://registry-1.docker.io')] };
  if (isLoopback(domain)) return { domain, bases: [new URL(`http://${domain}`)] };
  const marked = hosts.insecure.some((h) => h === domain || h === domain.replace(/:\d+$/, ''));
  const https = new URL(`https://${domain}`);
  return { domain, bases: marked ? [https, new URL(`http://${domain}`)] : [https] };
}
