// berth compose exec SERVICE CMD…: run a command in a service's running container (replica
// --index, default 1), attached to this terminal like `berth exec`.
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { withEngine } from '../../engine.js';
import { attachTo, resolveEnv } from '../../attach.js';
import { InvalidArgument, NotFound } from '../../../lib/errors.js';

interface ExecFlags extends ProjectFlags { detach?: boolean; env?: string[]; user?: string; workdir?: string; index?: string; disableTty?: boolean; interactive?: boolean; privileged?: boolean }

export default async function exec(flags: ExecFlags, args: string[], ctx: CliContext): Promise<number> {
  const [service, ...command] = args;
  const index = flags.index !== undefined ? Number(flags.index) : 1;
  if (!Number.isInteger(index) || index < 1) throw new InvalidArgument(`invalid --index: ${flags.index}`);
  const projectName = await projectNameFor(flags, ctx);
  return withEngine(ctx, async (api) => {
    const container = (await api.ps(projectName, { all: false, services: [service!] })).find((c) => c.number === index);
    if (!container) throw new NotFound(`service "${service}" is not running`);
    // docker compose exec allocates a tty by default when stdin is a terminal (-T disables it)
    const tty = !flags.disableTty && !flags.detach && ctx.terminal.isTTY('stdin');
    const options = { command, env: resolveEnv(flags.env ?? [], ctx.env), user: flags.user, workdir: flags.workdir, tty, interactive: (flags.interactive ?? true) && !flags.detach, privileged: flags.privileged === true };
    if (flags.detach) {
      await api.containerExecDetached(container.id, options);
      return 0;
    }
    const attached = attachTo(ctx, { stdin: options.interactive, tty });
    try {
      return await api.containerExec(container.id, options, attached.io, new AbortController().signal);
    } finally {
      attached.dispose();
    }
  });
}
