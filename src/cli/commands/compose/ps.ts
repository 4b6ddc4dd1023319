// berth compose ps: the project's containers, in docker compose's table or as JSON lines.
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';

import { table } from '../../render/table.js';
import { humanDuration } from '../../../lib/units.js';

interface PsFlags extends ProjectFlags { all?: boolean; quiet?: boolean; services?: boolean; format?: string }

export default async function ps(flags: PsFlags, args: string[], ctx: CliContext): Promise<number> {
  const projectName = await projectNameFor(flags, ctx);
  const api = await ctx.connect();
  try {
    const rows = await api.ps(projectName, { all: flags.all ?? false, services: args });
    if (flags.quiet) for (const r of rows) ctx.stdout.write(`${r.id}\n`);
    else if (flags.services) for (const s of [...new Set(rows.map((r) => r.service))]) ctx.stdout.write(`${s}\n`);
    else if (flags.format === 'json') for (const r of rows) ctx.stdout.write(`${JSON.stringify({ ID: r.id, Name: r.name, Service: r.service, Image: r.image, Command: r.command, State: r.state, Status: r.status, Health: r.health, ExitCode: r.exitCode, Ports: r.ports, Publishers: r.publishers ?? [], Project: projectName, CreatedAt: r.created })}\n`);
    else {
      const now = ctx.clock.now();
      ctx.stdout.write(table(['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'],
        rows.map((r) => [r.name, r.image, `"${r.command.length > 20 ? `${r.command.slice(0, 19)}…` : r.command}"`, r.service, `${humanDuration(now - Date.parse(r.created))} ago`, r.status, r.ports])));
    }
    return 0;
  } finally {
    api.close();
  }
}
