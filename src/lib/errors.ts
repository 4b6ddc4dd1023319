// The closed set of berth errors, from plan/ to the CLI. Library code throws these; errorBody()
// is the one serializer (the engine's socket, stream records, events) and fromBody() the one
// deserializer; only cli/main.ts maps them to messages and exit codes. A user's mistake is never
// an InternalError ("a bug in berth"). Messages are lower-case, name the syscall and quote the
// path. Node-free (plan/ imports it): no node: imports, no NodeJS types.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNSUPPORTED'
  | 'SYS'
  | 'SPEC'
  /** the caller went away or asked to stop (Ctrl-C, a closed connection, an engine shutdown) */
  | 'CANCELLED'
  /** a depends_on condition can no longer hold: the dependency exited, is unhealthy, failed */
  | 'DEPENDENCY_FAILED'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = ['INVALID_ARGUMENT', 'NOT_FOUND', 'CONFLICT', 'UNSUPPORTED', 'SYS', 'SPEC', 'CANCELLED', 'DEPENDENCY_FAILED', 'INTERNAL'];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'BerthError';
    this.code = code;
    this.details = details;
  }
  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** The user asked for something malformed: a bad flag value, an unparsable size. */
export class InvalidArgument extends BerthError {
  constructor(message: string, details?: unknown) {
    super('INVALID_ARGUMENT', message, details);
    this.name = 'InvalidArgument';
  }
}

export class NotFound extends BerthError {
  constructor(message: string, details?: unknown) {
    super('NOT_FOUND', message, details);
    this.name = 'NotFound';
  }
}

/** The request clashes with the current state: a name in use, an image in use, a running container. */
export class Conflict extends BerthError {
  constructor(message: string, details?: unknown) {
    super('CONFLICT', message, details);
    this.name = 'Conflict';
  }
}

export class Unsupported extends BerthError {
  constructor(message: string, details?: unknown) {
    super('UNSUPPORTED', message, details);
    this.name = 'Unsupported';
  }
}

/** A system call or host tool failed. Always carries the path it was working on. */
export class SysError extends BerthError {
  readonly errno: string;
  readonly syscall: string;
  readonly path: string;
  constructor(syscall: string, path: string, errno: string, message?: string) {
    super('SYS', message ?? `${syscall} "${path}": ${errno}`, { errno, syscall, path });
    this.name = 'SysError';
    this.errno = errno;
    this.syscall = syscall;
    this.path = path;
  }
}

/** The operation was stopped before it finished: the caller aborted, or the engine is stopping. */
export class Cancelled extends BerthError {
  constructor(message = 'cancelled', details?: unknown) {
    super('CANCELLED', message, details);
    this.name = 'Cancelled';
  }
}

/** A dependency of what was asked for failed: `depends_on` conditions that can no longer hold. */
export class DependencyFailed extends BerthError {
  constructor(message: string, details?: unknown) {
    super('DEPENDENCY_FAILED', message, details);
    this.name = 'DependencyFailed';
  }
}

/** A bug in berth. cli/main prints how to report it. */
export class InternalError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('INTERNAL', message, details);
    this.name = 'InternalError';
  }
}

/** What a user can act on, said plainly: a full disk is not a bug in berth. */
const PLAIN_ERRNO: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/** Wraps a Node fs/child error (which has .code/.syscall/.path) into a SysError. */
export function fromNodeError(err: unknown, syscall: string, path: string): BerthError {
  if (err instanceof BerthError) return err;
  // structural, not NodeJS.ErrnoException: this file is reached from the Node-free plan/ build
  const e = err as { code?: unknown; syscall?: string; path?: string } | undefined;
  const errno = typeof e?.code === 'string' ? e.code : 'EUNKNOWN';
  const call = e?.syscall ?? syscall;
  const where = e?.path ?? path;
  const plain = PLAIN_ERRNO[errno];
  return new SysError(call, where, errno, plain ? `${call} "${where}": ${plain} (${errno})` : undefined);
}

/**
 * The one serializer: a BerthError as its body; anything else is a bug in berth, reported as
 * INTERNAL "internal error: …" (and `onBug`, when given, sees the original, to log its stack).
 */
export function errorBody(err: unknown, onBug?: (err: unknown) => void): ErrorBody {
  if (err instanceof BerthError) return err.toBody();
  onBug?.(err);
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: `internal error: ${message}` };
}

/** An AbortSignal's reason as a BerthError: Cancelled unless the reason already is one. */
export function cancelledBy(signal: { readonly reason?: unknown }): BerthError {
  const reason = signal.reason;
  if (reason instanceof BerthError) return reason;
  const why = reason instanceof Error && reason.message !== '' && reason.message !== 'This operation was aborted' ? reason.message : 'cancelled';
  return new Cancelled(why);
}

/** Rebuilds an error that crossed a process boundary (engine socket, shim stderr). */
export function fromBody(body: ErrorBody): BerthError {
  switch (body.code) {
    case 'INVALID_ARGUMENT': return new InvalidArgument(body.message, body.details);
    case 'NOT_FOUND': return new NotFound(body.message, body.details);
    case 'CONFLICT': return new Conflict(body.message, body.details);
    case 'UNSUPPORTED': return new Unsupported(body.message, body.details);
    case 'CANCELLED': return new Cancelled(body.message, body.details);
    case 'DEPENDENCY_FAILED': return new DependencyFailed(body.message, body.details);
    case 'INTERNAL': return new InternalError(body.message, body.details);
    case 'SYS': {
      const d = body.details as { errno?: unknown; syscall?: unknown; path?: unknown } | undefined;
      if (typeof d?.errno === 'string' && typeof d.syscall === 'string' && typeof d.path === 'string') return new SysError(d.syscall, d.path, d.errno, body.message);
      return new BerthError('SYS', body.message, body.details);
    }
    default: return new BerthError(ERROR_CODES.includes(body.code) ? body.code : 'INTERNAL', body.message, body.details);
  }
}
