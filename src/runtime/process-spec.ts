// Image config × user options → the process a container runs, merged exactly as Docker merges
// them (pure: no files, no environment but what is passed in).
import { InvalidArgument } from '../lib/errors.js';
import { DEFAULT_PATH } from './defaults.js';

export interface ImageProcessDefaults {
  readonly Env?: readonly string[];
  readonly Cmd?: readonly string[] | null;
  readonly Entrypoint?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly User?: string;
}

export interface ProcessOptions {
  /** the command after the image name; empty keeps the image's Cmd */
  readonly command: readonly string[];
  /** --entrypoint: undefined keeps the image's; "" clears entrypoint and the image's Cmd */
  readonly entrypoint?: string | readonly string[];
  /** -e values in order: "K=V" sets, "K" copies K from hostEnv when set there */
  readonly env: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly hostname: string;
  readonly tty: boolean;
}

export interface ProcessSpec {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
}

/** Sets or replaces KEY in an env list, keeping the first position of KEY. */
export function setEnv(list: string[], entry: string): void {
  const key = entry.includes('=') ? entry.slice(0, entry.indexOf('=')) : entry;
  const at = list.findIndex((e) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e) === key);
  if (at >= 0) list[at] = entry;
  else list.push(entry);
}

export function mergeProcess(image: ImageProcessDefaults, opts: ProcessOptions, hostEnv: Readonly<Record<string, string | undefined>>): ProcessSpec {
  let entrypoint: readonly string[];
  let cmd: readonly string[];
  if (opts.entrypoint !== undefined) {
    // Docker: overriding the entrypoint also drops the image's Cmd.
    const e = typeof opts.entrypoint === 'string' ? (opts.entrypoint === '' ? [] : [opts.entrypoint]) : opts.entrypoint;
    entrypoint = e;
    cmd = opts.command;
  } else {
    entrypoint = image.Entrypoint ?? [];
    cmd = opts.command.length > 0 ? opts.command : image.Cmd ?? [];
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new InvalidArgument('no command specified');

  const env: string[] = [];
  for (const e of image.Env ?? []) setEnv(env, e);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${DEFAULT_PATH}`);
  setEnv(env, `HOSTNAME=${opts.hostname}`);
  if (opts.tty) setEnv(env, 'TERM=xterm');
  for (const e of opts.env) {
    if (e.includes('=')) {
      if (e.startsWith('=')) throw new InvalidArgument(`invalid environment variable: ${e}`);
      setEnv(env, e);
    } else {
      const v = hostEnv[e];
      if (v !== undefined) setEnv(env, `${e}=${v}`);
    }
  }
  const cwd = opts.workdir && opts.workdir !== '' ? opts.workdir : image.WorkingDir && image.WorkingDir !== '' ? image.WorkingDir : '/';
  if (!cwd.startsWith('/')) throw new InvalidArgument(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  const user = opts.user !== undefined ? opts.user : image.User ?? '';
  return { entrypoint, cmd, args, env, cwd, user };
}
