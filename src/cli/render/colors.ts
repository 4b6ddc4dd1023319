// Colours for the CLI's output: the only importer of chalk. Off when NO_COLOR is set, when
// --ansi never is given, or (with --ansi auto, the default) when the stream is not a terminal.
import { Chalk, type ChalkInstance } from 'chalk';

export type AnsiMode = 'never' | 'always' | 'auto';

/** What commands hold of chalk: its type, through this one door. */
export type Colors = ChalkInstance;

export function colors(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv, mode: AnsiMode = 'auto'): ChalkInstance {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const on = mode === 'always' || (mode === 'auto' && !noColor && (stream as { isTTY?: boolean }).isTTY === true);
  return new Chalk({ level: on ? 1 : 0 });
}

/** compose's rotation of service colours for log prefixes. */
const ROTATION = ['cyan', 'yellow', 'green', 'magenta', 'blue', 'cyanBright', 'yellowBright', 'greenBright', 'magentaBright', 'blueBright'] as const;

export function serviceColor(c: ChalkInstance, index: number): (s: string) => string {
  const name = ROTATION[index % ROTATION.length]!;
  return (s) => c[name](s);
}
