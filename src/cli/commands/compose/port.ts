// berth compose port SERVICE PRIVATE_PORT: the public address of a published port of one of the
// service's containers (--index, default 1), as docker compose prints it ("0.0.0.0:8080").
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
    const hits = (await api.containerPort(container.id)).filter((r) => r.containerPort === Number(privatePort) && r.protocol === protocol);
    if (hits.length === 0) throw new NotFound(`no port ${privatePort}/${protocol} for container ${container.name}: it is not published`);
    // docker compose prints the first mapping (the IPv4 one when there are both)
    const r = hits[0]!;
    ctx.stdout.write(`${r.hostIp.includes(':') ? `[${r.hostIp}]` : r.hostIp}:${r.hostPort}\n`);
    return 0;
  } finally {
    api.close();
  }
}
