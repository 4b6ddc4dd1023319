// The closed set of berth errors. Library code throws these; only cli/main.ts maps them to
// messages and exit codes. Messages are lower-case, name the syscall and quote the path.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNSUPPORTED'
  | 'SYS'
  | 'SPEC'
  | 'INTERNAL';

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

/** A bug in berth. cli/main prints how to report it. */
export class InternalError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('INTERNAL', message, details);
    this.name = 'InternalError';
  }
}

/** Wraps a Node fs/child error (which has .code/.syscall/.path) into a SysError. */
export function fromNodeError(err: unknown, syscall: string, path: string): BerthError {
  if (err instanceof BerthError) return err;
  // structural, not NodeJS.ErrnoException: this file is reached from the Node-free plan/ build
  const e = err as { code?: unknown; syscall?: string; path?: string } | undefined;
  const errno = typeof e?.code === 'string' ? e.code : 'EUNKNOWN';
  return new SysError(e?.syscall ?? syscall, e?.path ?? path, errno);
}

/** Rebuilds an error that crossed a process boundary (engine socket, shim stderr). */
export function fromBody(body: ErrorBody): BerthError {
  switch (body.code) {
    case 'INVALID_ARGUMENT': return new InvalidArgument(body.message, body.details);
    case 'NOT_FOUND': return new NotFound(body.message, body.details);
    case 'CONFLICT': return new Conflict(body.message, body.details);
    case 'UNSUPPORTED': return new Unsupported(body.message, body.details);
    case 'INTERNAL': return new InternalError(body.message, body.details);
    default: return new BerthError(body.code, body.message, body.details);
  }
}
