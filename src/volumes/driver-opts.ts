// The `local` driver's options (docker volume create -o / compose driver_opts): `type`, `o` and
// `device`, as Docker's local driver reads them. Pure: it decides what a volume's data is, and
// the store carries it out.
//   (none)                             a directory under the state root
//   type: none, o: bind, device: PATH  the host directory PATH itself (bind-style)
//   type: tmpfs, device: tmpfs, o: size=64m,uid=1000,mode=0750
//                                      a tmpfs mounted on the volume's directory while in use
import { InvalidArgument, Unsupported } from '../lib/errors.js';

export type VolumeBacking =
  | { readonly kind: 'directory' }
  | { readonly kind: 'bind'; readonly device: string; readonly readonly: boolean }
  | { readonly kind: 'tmpfs'; readonly data: string; readonly flags: readonly ('ro' | 'nosuid' | 'nodev' | 'noexec')[] };

/** tmpfs mount options the local driver passes through (anything else is refused, not guessed). */
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'huge', 'mpol']);
const FLAGS = new Set(['ro', 'rw', 'nosuid', 'nodev', 'noexec', 'suid', 'dev', 'exec']);

/** Docker's size suffixes for tmpfs `size=`: k, m, g (and the kernel's own % form). */
function checkSize(v: string): void {
  if (!/^\d+[kKmMgG]?$/.test(v) && !/^\d+%$/.test(v)) throw new InvalidArgument(`invalid tmpfs size ${JSON.stringify(v)}: expected bytes with an optional k, m or g suffix`);
}

export function parseDriverOptions(driver: string | undefined, opts: Readonly<Record<string, string>>): VolumeBacking {
  if (driver !== undefined && driver !== '' && driver !== 'local') {
    throw new Unsupported(`volume driver "${driver}" is not supported: berth has the "local" driver only`);
  }
  for (const key of Object.keys(opts)) {
    if (key !== 'type' && key !== 'o' && key !== 'device') throw new InvalidArgument(`invalid option key: ${JSON.stringify(key)} (the local driver takes type, o and device)`);
  }
  const type = opts['type'];
  const o = opts['o'] ?? '';
  const device = opts['device'];
  if (type === undefined && device === undefined && o === '') return { kind: 'directory' };
  const words = o.split(',').map((w) => w.trim()).filter((w) => w !== '');
  if (type === 'none' || (type === undefined && words.includes('bind'))) {
    if (!words.includes('bind') && !words.includes('rbind')) throw new InvalidArgument('a volume of type "none" needs o: bind (and a device: the host directory)');
    if (device === undefined || !device.startsWith('/')) throw new InvalidArgument(`a bind-style volume needs an absolute device path, got ${JSON.stringify(device ?? '')}`);
    for (const w of words) if (w !== 'bind' && w !== 'rbind' && w !== 'ro' && w !== 'rw') throw new InvalidArgument(`unsupported option ${JSON.stringify(w)} for a bind-style volume (bind, rbind, ro, rw)`);
    return { kind: 'bind', device, readonly: words.includes('ro') };
  }
  if (type === 'tmpfs') {
    if (device !== undefined && device !== 'tmpfs') throw new InvalidArgument(`a tmpfs volume's device must be "tmpfs", got ${JSON.stringify(device)}`);
    const data: string[] = [];
    const flags: ('ro' | 'nosuid' | 'nodev' | 'noexec')[] = [];
    for (const w of words) {
      const eq = w.indexOf('=');
      const key = eq < 0 ? w : w.slice(0, eq);
      if (eq < 0 && FLAGS.has(w)) {
        if (w === 'ro' || w === 'nosuid' || w === 'nodev' || w === 'noexec') flags.push(w);
        continue;
      }
      if (eq < 0 || !TMPFS_DATA.has(key)) throw new InvalidArgument(`unsupported tmpfs option ${JSON.stringify(w)} (size, mode, uid, gid, nr_inodes, nr_blocks, huge, mpol, ro, nosuid, nodev, noexec)`);
      const value = w.slice(eq + 1);
      if (key === 'size') checkSize(value);
      if ((key === 'uid' || key === 'gid' || key === 'nr_inodes' || key === 'nr_blocks') && !/^\d+[kKmMgG]?$/.test(value)) throw new InvalidArgument(`invalid tmpfs ${key} ${JSON.stringify(value)}`);
      if (key === 'mode' && !/^[0-7]{1,4}$/.test(value)) throw new InvalidArgument(`invalid tmpfs mode ${JSON.stringify(value)}: expected octal`);
      data.push(`${key}=${value}`);
    }
    return { kind: 'tmpfs', data: data.join(','), flags };
  }
  if (type === undefined) throw new InvalidArgument('a volume with o or device needs type (none with o: bind, or tmpfs)');
  throw new Unsupported(`volume type ${JSON.stringify(type)} is not supported by berth's local driver (none with o: bind, or tmpfs)`);
}
