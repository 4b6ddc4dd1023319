// berth compose exec SERVICE CMD…: run a command in a service's running container (replica
// --index, default 1), attached to this terminal like `berth exec`.
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { connect } from '../../host.js';
import { InvalidArgument, NotFound } from '../../../lib/errors.js';

interface ExecFlags extends ProjectFlags { detach?: boolean; env?: string[]; user?: string; workdir?: string; index?: string; disableTty?: boolean; interactive?: boolean }

export default async function exec(flags: ExecFlags, args: string[], ctx: CliContext): Promise<number> {
  const [service, ...command] = args;
  const index = flags.index !== undefined ? Number(flags.index) : 1;
  if (!Number.isInteger(index) || index < 1) throw new InvalidArgument(`invalid --index: ${flags.index}`);
  const projectName = await projectNameFor(flags, ctx);
  const host = await connect(ctx);
  const view = host.runtime.list().find((v) => {
    const l = v.record.config.Labels;
    return l['com.docker.compose.project'] === projectName && l['com.docker.compose.service'] === service
      && l['com.docker.compose.container-number'] === String(index) && l['com.docker.compose.oneoff'] !== 'True';
  });
  if (!view) throw new NotFound(`service "${service}" is not running`);
  // docker compose exec allocates a tty by default when stdin is a terminal (-T disables it)
  const tty = !flags.disableTty && process.stdin.isTTY === true;
  return host.runtime.exec(view.record.id, {
    args: command,
    env: flags.env ?? [],
    user: flags.user,
    workdir: flags.workdir,
    tty,
    stdin: flags.interactive ?? true,
  });
}
