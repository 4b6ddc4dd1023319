// Lifecycle hooks (compose's `post_start` and `pre_stop`, compose 2.30): commands run in a
// service's container through the same exec a health probe uses, with the hook's user,
// working_dir, environment and, when asked, every capability (`privileged`).
//
//   post_start: after each start by a compose verb (up, start, restart; docker compose skips the
//               restart verb: docker/compose#13318). The start is done only when the hooks have
//               run: a failing hook fails the start (the container keeps running, as in compose).
//   pre_stop:   before a compose verb stops a running container (stop, restart, down). A failing
//               hook is a warning and the stop goes on: docker compose fails the stop instead,
//               which leaves a `down` unable to take the project down.
//   compose run: a one-off container's post_start hooks run once, after its first start, as
//               docker compose does since docker/compose#13607 (OneOffHooks below).
// Neither runs for a restart by the restart policy, a kill, or a container that exits by itself.
import type { Hook } from '../spec/model.js';
import type { ContainerRuntime, ExecRequest } from '../runtime/container.js';
import { Conflict } from '../lib/errors.js';

/** What a failing hook's error keeps of its output: the first 16 KiB (compose keeps a short tail: docker/compose#14204). */
export const HOOK_MAX_OUTPUT = 16 * 1024;
/** compose puts no time limit on a hook; the caller's cancellation (Ctrl-C, the engine's stop) ends one */
const NO_LIMIT_MS = 2 ** 31 - 1;

export type HookKind = 'post_start' | 'pre_stop';

/** The exec of one hook (lifecycle hooks here, develop.watch's `exec` in watch.ts): no tty, no stdin. */
export function hookExecRequest(hook: Hook): ExecRequest {
  return {
    args: hook.command,
    env: Object.entries(hook.environment).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`),
    tty: false, stdin: false, privileged: hook.privileged,
    ...(hook.user !== undefined ? { user: hook.user } : {}),
    ...(hook.working_dir !== undefined ? { workdir: hook.working_dir } : {}),
  };
}

/**
 * Runs a service's hooks of one kind, one after the other, in the container; throws at the first
 * that exits non-zero (or cannot run), naming the service, the hook and its output.
 */
export async function runHooks(runtime: Pick<ContainerRuntime, 'execCaptured'>, containerId: string, serviceName: string, kind: HookKind, hooks: readonly Hook[], signal: AbortSignal): Promise<void> {
  for (const [i, hook] of hooks.entries()) {
    const what = `service "${serviceName}": ${kind}[${i}] (${hook.command.join(' ')})`;
    let r: Awaited<ReturnType<ContainerRuntime['execCaptured']>>;
    try {
      r = await runtime.execCaptured(containerId, hookExecRequest(hook), { timeoutMs: NO_LIMIT_MS, maxOutput: HOOK_MAX_OUTPUT, signal });
    } catch (err) {
      throw new Conflict(`${what} could not run: ${(err as Error).message}`);
    }
    if (r.exitCode !== 0) {
      const output = r.output.trimEnd();
      throw new Conflict(`${what} exited with status ${r.exitCode}${output !== '' ? `:\n${output}` : ''}`);
    }
  }
}

/**
 * compose run's post_start hooks: remembered when the one-off container is made, taken by its
 * first start (the generic start verbs: the CLI makes the one-off, then starts it, attached or
 * not), forgotten when it is removed unstarted. Only in memory: an engine that restarts between
 * the create and the start (one request apart) starts the one-off without them.
 */
export class OneOffHooks {
  private readonly pending = new Map<string, { readonly service: string; readonly hooks: readonly Hook[] }>();

  remember(containerId: string, service: string, hooks: readonly Hook[] | undefined): void {
    if (hooks !== undefined && hooks.length > 0) this.pending.set(containerId, { service, hooks });
  }

  /** The hooks a start of this container runs after it, once: a second start runs none. */
  take(containerId: string): ((runtime: Pick<ContainerRuntime, 'execCaptured'>, signal: AbortSignal) => Promise<void>) | undefined {
    const p = this.pending.get(containerId);
    if (p === undefined) return undefined;
    this.pending.delete(containerId);
    return (runtime, signal) => runHooks(runtime, containerId, p.service, 'post_start', p.hooks, signal);
  }

  forget(containerId: string): void {
    this.pending.delete(containerId);
  }
}
