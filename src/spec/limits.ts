// The bounds on what the loader reads (docs/spec-pipeline.md, "Bounded input"). berth runs as
// root and reads files a project names (include, extends, env_file, .env): each must be a
// regular file of at most MAX_INPUT_FILE_BYTES, so a FIFO, /dev/zero or a 50 MB file is a clear
// error instead of a hang or an out-of-memory abort.

/**
 * Largest compose, .env or env_file file the loader reads: 4 MiB. Real compose files are tens of
 * kilobytes; the YAML parser needs about 200 MB of memory per megabyte of dense YAML, so this
 * keeps a load under about a gigabyte.
 */
export const MAX_INPUT_FILE_BYTES = 4 * 1024 * 1024;

/** `${A:-${B:-${C}}}`: operands may nest this many levels (compose files use two or three). */
export const MAX_INTERPOLATION_DEPTH = 64;

/** A file the loader will not read: not a regular file, or larger than MAX_INPUT_FILE_BYTES. */
export class FileRefused extends Error {
  constructor(readonly path: string, readonly found: string) { super(`${path}: ${found}`); }
}

/** What the loader expects of a file it reads, for "expected ..., found ..." texts. */
export const READABLE_FILE = `a regular file of at most ${MAX_INPUT_FILE_BYTES / 1024 / 1024} MiB`;

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
