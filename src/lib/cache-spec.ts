// cache_from / cache_to entries (`type=local,src=DIR`, `type=registry,ref=…`, a bare image
// reference) as docker and compose write them. Pure.
import { resolve as resolvePath } from 'node:path';

/**
 * The entry with a relative `src=`/`dest=` of `type=local` made absolute against `base` (the
 * project directory for compose, the working directory for `berth build`); anything else as is.
 */
export function cachePathsAbsolute(entry: string, base: string): string {
  if (!/(^|,)type=local(,|$)/.test(entry)) return entry;
  return entry.split(',').map((f) => {
    const m = /^(src|dest)=(.*)$/.exec(f);
    return m && m[2] !== '' && !m[2]!.startsWith('/') ? `${m[1]}=${resolvePath(base, m[2]!)}` : f;
  }).join(',');
}
