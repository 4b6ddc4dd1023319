// The json-file log driver's options (`--log-opt`, compose `logging.options`), resolved into the
// shim's rotation: max-size (bytes per file) and max-file (files kept, the current one included).
//
// Docker's json-file defaults to no rotation at all, and its users complain about logs that fill
// the disk (docker/compose and moby issues). berth rotates by default at the figures of Docker's
// own `local` driver -- 20 MB per file, 5 files -- and keeps Docker's rule that max-file without
// max-size is an error, and max-size without max-file keeps 1 file.
// docs/decisions/2026-11-30-log-rotation-by-default.md.
import { InvalidArgument } from '../lib/errors.js';
import { parseBytes } from '../lib/units.js';

export interface LogRotation {
  /** bytes per file; 0 = unbounded */
  readonly maxSize: number;
  readonly maxFiles: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxSize: 20 * 1000 * 1000, maxFiles: 5 };

const KNOWN = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);

/** Validates the driver and its options (Docker's messages); returns the rotation to apply. */
export function resolveLogOptions(driver: string | undefined, options: Readonly<Record<string, string>>): LogRotation {
  if (driver !== undefined && driver !== 'json-file' && driver !== '') {
    throw new InvalidArgument(`logging driver "${driver}" is not supported: berth writes json-file logs`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidArgument(`unknown log opt '${key}' for json-file log driver`);
  }
  const size = options['max-size'];
  const files = options['max-file'];
  if (size === undefined && files === undefined) return DEFAULT_LOG_ROTATION;
  let maxSize = 0;
  if (size !== undefined && size !== '-1') {
    maxSize = parseBytes(size, 'max-size');
    if (maxSize <= 0) throw new InvalidArgument(`invalid max-size "${size}": must be a positive size`);
  }
  let maxFiles = 1;
  if (files !== undefined) {
    if (!/^\d+$/.test(files) || Number(files) < 1 || Number(files) > 1000) throw new InvalidArgument(`invalid value for max-file: ${files}: expected 1..1000`);
    maxFiles = Number(files);
    if (maxFiles > 1 && maxSize === 0) throw new InvalidArgument('max-file cannot be greater than 1 when max-size is not set');
  }
  return { maxSize, maxFiles };
}

/** `--log-opt k=v` flags → options; a flag without "=" is an error. */
export function parseLogOpts(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const at = f.indexOf('=');
    if (at <= 0) throw new InvalidArgument(`invalid --log-opt "${f}": expected key=value`);
    out[f.slice(0, at)] = f.slice(at + 1);
  }
  return out;
}
