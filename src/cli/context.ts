// What every command receives: its streams, environment and roots. Commands write through
// these, never through console, so that tests can capture them.
import type { Roots } from '../lib/paths.js';

export interface CliContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly roots: Roots;
  /** the package root (for native/build binaries) */
  readonly packageRoot: string;
}

/**
 * A command module's default export: takes its parsed options and positional arguments,
 * returns the process exit code. Errors are thrown as BerthError; cli/main.ts renders them.
 */
export type CommandFn<O> = (opts: O, args: string[], ctx: CliContext) => Promise<number>;
