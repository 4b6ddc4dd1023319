// berth compose top [SERVICE…]: the processes of each running container, as `ps -ef` on the host
// would show them (host pids), under a heading line with the container's name.
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { withEngine } from '../../engine.js';
import { hostUsers, processTable } from '../../render/top.js';
import { Conflict, NotFound } from '../../../lib/errors.js';

export default async function top(flags: ProjectFlags, args: string[], ctx: CliContext): Promise<number> {
  const projectName = await projectNameFor(flags, ctx);
  return withEngine(ctx, async (api) => {
    const containers = await api.ps(projectName, { all: false, services: args });
    const users = hostUsers();
    for (const c of [...containers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      let processes;
      try {
        processes = await api.containerTop(c.id);
      } catch (err) {
        if (err instanceof Conflict || err instanceof NotFound) continue; // stopped or removed since ps
        throw err;
      }
      ctx.stdout.write(`${c.name}\n${processTable(processes, users, ctx.clock.now())}\n`);
    }
    return 0;
  });
}
