// berth exec: run a process in a running container's namespaces and cgroup.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { Unsupported } from '../../lib/errors.js';

interface ExecFlags { detach?: boolean; env?: string[]; user?: string; workdir?: string; interactive?: boolean; tty?: boolean }

export default async function exec(flags: ExecFlags, args: string[], ctx: CliContext): Promise<number> {
  const [container, ...command] = args;
  if (flags.detach) throw new Unsupported('exec --detach is not supported yet');
  const host = await connect(ctx);
  return host.runtime.exec(container!, {
    args: command,
    env: flags.env ?? [],
    user: flags.user,
    workdir: flags.workdir,
    tty: flags.tty ?? false,
    stdin: flags.interactive ?? false,
  });
}
