// What every command receives: its streams, working directory, environment, terminal, signals,
// exit, clock and the engine API. Commands use these and never `process` (nor `console`): the
// same command code then runs in a fresh `berth` process (cli/main.ts builds the context from
// `process`) or inside the engine for a warm client that handed over its descriptors (the next
// issue builds that context), and tests can capture everything.
import type { Roots } from '../lib/paths.js';
import type { Clock } from '../lib/clock.js';
import type { EngineConnection } from '../api/engine-api.js';
import type { TerminalSize } from '../api/types.js';
import type { FileSource } from '../spec/load.js';

export interface Terminal {
  /** whether that stream of the command is a terminal */
  isTTY(stream: 'stdin' | 'stdout' | 'stderr'): boolean;
  /** the terminal's size (stdout's, else stdin's); undefined when neither is a terminal */
  size(): TerminalSize | undefined;
  /** listens for window size changes (SIGWINCH); returns the unsubscribe */
  onResize(listener: (size: TerminalSize) => void): () => void;
  /** puts the stdin terminal in raw mode (a no-op when stdin is not one); returns the restore */
  setRaw(): () => void;
}

export interface CliContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** read only by commands that take input (it may be a getter that opens the stream on first use) */
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly terminal: Terminal;
  /** calls handler when the command receives `signal` (SIGINT…); returns the unsubscribe */
  onSignal(signal: NodeJS.Signals, handler: () => void): () => void;
  /** ends the command at once with this exit code (a second Ctrl-C) */
  exit(code: number): void;
  readonly clock: Clock;
  /** the engine API: connects (starting the engine when none answers, unless autoStart is false) */
  connect(opts?: { readonly autoStart?: boolean }): Promise<EngineConnection>;
  readonly roots: Roots;
  /** the package root (for the systemd unit's paths) */
  readonly packageRoot: string;
  /** the Node.js binary that runs berth (for the systemd unit) */
  readonly nodePath: string;
  /**
   * How the command reads the files it names (compose files, .env, env_file): with the caller's
   * own access. Absent: this process's node:fs (a `berth` process is the caller).
   */
  readonly files?: FileSource;
  /**
   * The caller's own stdio descriptors, when the command runs inside the engine for a warm client
   * (docs/warm-cli.md): an attached process is given them instead of a relay.
   */
  readonly handoff?: CallerDescriptors;
}

export interface CallerDescriptors {
  readonly stdin: number;
  readonly stdout: number;
  readonly stderr: number;
  /** resolves once what the command wrote to stdout and stderr so far has reached them */
  flush(): Promise<void>;
}

/**
 * A command module's default export: takes its parsed options and positional arguments,
 * returns the exit code. Errors are thrown as BerthError; cli/main.ts renders them.
 */
export type CommandFn<O> = (opts: O, args: string[], ctx: CliContext) => Promise<number>;
