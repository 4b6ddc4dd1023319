// A command hook run in a service's container: develop.watch's `exec`, and the lifecycle hooks
// `post_start` and `pre_stop` (compose 2.30). Each is a command (shell or exec form), and
// optionally the user, privileged, working_dir and environment it runs with.
import { FormError, Problems } from './form-error.js';
import type { Key } from '../tree.js';

export interface Hook {
  readonly command: readonly string[];
  readonly user?: string;
  readonly privileged: boolean;
  readonly working_dir?: string;
  readonly environment: Readonly<Record<string, string | null>>;
}

export type CommandOf = (v: unknown) => string[] | null;
export type EnvironmentOf = (v: unknown) => Record<string, string | null>;

/** One hook; its problems are reported under `at` (command and environment independently). */
export function canonicalHook(o: Readonly<Record<string, unknown>>, command: CommandOf, env: EnvironmentOf, problems: Problems, at: readonly Key[]): Hook {
  return {
    command: problems.check(() => {
      const argv = command(o['command']) ?? [];
      if (argv.length === 0) throw new FormError('a command', 'none', undefined, []);
      return argv;
    }, [], [...at, 'command']),
    ...(typeof o['user'] === 'string' ? { user: o['user'] } : {}),
    privileged: o['privileged'] === true,
    ...(typeof o['working_dir'] === 'string' ? { working_dir: o['working_dir'] } : {}),
    environment: problems.check(() => env(o['environment']), {}, [...at, 'environment']),
  };
}

/** `post_start` / `pre_stop`: a list of hooks, every bad one reported under its index. */
export function canonicalHooks(list: unknown, command: CommandOf, env: EnvironmentOf): Hook[] {
  if (list === undefined || list === null) return [];
  const problems = new Problems();
  const out = problems.each(Array.isArray(list) ? list : [], (h, i) => canonicalHook((h ?? {}) as Record<string, unknown>, command, env, problems, [i]));
  problems.done();
  return out;
}
