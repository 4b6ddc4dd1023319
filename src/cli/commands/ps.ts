// berth ps: list containers in Docker's table or as JSON lines.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { humanDuration, dockerStatus } from '../../lib/units.js';
import { table } from '../render/table.js';

interface PsFlags { all?: boolean; quiet?: boolean; trunc?: boolean; format?: string }

export default async function ps(flags: PsFlags, _args: string[], ctx: CliContext): Promise<number> {
  const host = await connect(ctx);
  const now = Date.now();
  const views = host.runtime.list().filter((v) => flags.all || v.observed.status === 'running');
  const trunc = flags.trunc !== false;
  const rows = views.map(({ record: r, observed: o }) => {
    const command = [r.path, ...r.args].join(' ');
    return {
      ID: trunc ? r.id.slice(0, 12) : r.id,
      Image: r.imageRef,
      Command: trunc && command.length > 20 ? `"${command.slice(0, 19)}…"` : `"${command}"`,
      CreatedAt: r.created,
      RunningFor: `${humanDuration(now - Date.parse(r.created))} ago`,
      Status: dockerStatus(o.status, o.exited?.exitCode ?? 0, o.started?.startedAt, o.exited?.finishedAt, now),
      State: o.status,
      Ports: '',
      Names: r.name,
      Labels: Object.entries(r.config.Labels).map(([k, v]) => `${k}=${v}`).join(','),
    };
  });
  if (flags.quiet) {
    for (const row of rows) ctx.stdout.write(`${row.ID}\n`);
  } else if (flags.format === 'json') {
    for (const row of rows) ctx.stdout.write(`${JSON.stringify(row)}\n`);
  } else {
    ctx.stdout.write(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
      rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names])));
  }
  return 0;
}
