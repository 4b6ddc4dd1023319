// berth exec: run a process in a running container's namespaces and cgroup, attached to this
// command's stdio (exit code: the process's), or in the background with -d.
import type { CliContext } from '../context.js';
import { attachTo, resolveEnv } from '../attach.js';
import { withEngine } from '../engine.js';

interface ExecFlags { detach?: boolean; env?: string[]; user?: string; workdir?: string; interactive?: boolean; tty?: boolean; privileged?: boolean }

export default async function exec(flags: ExecFlags, args: string[], ctx: CliContext): Promise<number> {
  const [container, ...command] = args;
  const options = {
    command,
    env: resolveEnv(flags.env ?? [], ctx.env),
    user: flags.user,
    workdir: flags.workdir,
    tty: (flags.tty ?? false) && !flags.detach,
    interactive: (flags.interactive ?? false) && !flags.detach,
    privileged: flags.privileged === true,
  };
  return withEngine(ctx, async (api) => {
    if (flags.detach) {
      await api.containerExecDetached(container!, options);
      return 0;
    }
    const attached = attachTo(ctx, { stdin: options.interactive, tty: options.tty });
    try {
      return await api.containerExec(container!, options, attached.io, new AbortController().signal);
    } finally {
      attached.dispose();
    }
  });
}
