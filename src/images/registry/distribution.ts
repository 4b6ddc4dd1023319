// Which registry repositories are known to hold a blob: recorded when a pull fetches a blob and
// when a push uploads or finds one. Push reads it to mount a blob from a sibling repository of
// the same registry instead of uploading it again (docker's v2metadata-by-diffid does this job).
// image/distribution/<hex>.json = {"repositories": ["localhost:5000/library/busybox", …]}
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../lib/atomic.js';

const MAX_REMEMBERED = 32;

function file(stateDir: string, digest: string): string {
  return join(stateDir, 'distribution', `${digest.replace(/^sha256:/, '')}.json`);
}

/** "domain/path" names that held `digest` when last seen. */
export function knownRepositories(stateDir: string, digest: string): string[] {
  try {
    const r = readJson<{ repositories?: unknown }>(file(stateDir, digest))?.repositories;
    return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return []; // a hint only: an unreadable record is as good as none
  }
}

export function rememberRepository(stateDir: string, digest: string, domainPath: string): void {
  const known = knownRepositories(stateDir, digest);
  if (known[0] === domainPath) return;
  const next = [domainPath, ...known.filter((r) => r !== domainPath)].slice(0, MAX_REMEMBERED);
  mkdirSync(join(stateDir, 'distribution'), { recursive: true, mode: 0o700 });
  writeJsonAtomic(join(stateDir, 'distribution', `${digest.replace(/^sha256:/, '')}.json`), { repositories: next }, { durable: false });
}
