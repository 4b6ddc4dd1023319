// berth compose port SERVICE PRIVATE_PORT: the public address of a published port. No port is
// published yet (every container has a loopback-only network namespace until bridge networking
// lands), so this answers as docker compose does for an unpublished port, saying why.
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';

import { InvalidArgument, NotFound } from '../../../lib/errors.js';

export default async function port(flags: ProjectFlags & { protocol?: string; index?: string }, args: string[], ctx: CliContext): Promise<number> {
  const [service, privatePort] = args;
  if (!/^\d+$/.test(privatePort ?? '') || Number(privatePort) < 1 || Number(privatePort) > 65535) throw new InvalidArgument(`invalid port: ${privatePort}`);
  const protocol = flags.protocol ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') throw new InvalidArgument(`invalid protocol: ${protocol}: expected tcp or udp`);
  const projectName = await projectNameFor(flags, ctx);
  const api = await ctx.connect();
  try {
    const index = Number(flags.index ?? 1);
    const container = (await api.ps(projectName, { all: false, services: [service!] })).find((c) => c.number === index);
    if (!container) throw new NotFound(`service "${service}" is not running`);
    throw new NotFound(`no port ${privatePort}/${protocol} for container ${container.name}: berth does not publish ports yet`);
  } finally {
    api.close();
  }
}
