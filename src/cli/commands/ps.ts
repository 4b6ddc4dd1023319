// berth ps: list containers in Docker's table, as JSON lines, or through a Go template
// (--format '{{.Names}} {{.Status}}', 'table {{.ID}}\t{{.Image}}').
import type { CliContext } from '../context.js';
import type { ContainerRow } from '../../api/types.js';
import { humanDuration } from '../../lib/units.js';
import { withEngine } from '../engine.js';
import { formatRows } from '../render/template.js';

interface PsFlags { all?: boolean; quiet?: boolean; trunc?: boolean; format?: string }

/** docker ps's headers for `table` templates. */
const HEADERS = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Status: 'STATUS',
  State: 'STATE', Ports: 'PORTS', Names: 'NAMES', Labels: 'LABELS', Label: 'LABEL', Size: 'SIZE', Mounts: 'MOUNTS', Networks: 'NETWORKS',
};
const DEFAULT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** One container as docker ps's template sees it (`.Label "key"` is a method). */
function templateRow(r: ContainerRow, trunc: boolean, nowMs: number): Record<string, unknown> {
  const command = trunc && r.command.length > 20 ? `"${r.command.slice(0, 19)}…"` : `"${r.command}"`;
  return {
    ID: trunc ? r.id.slice(0, 12) : r.id,
    Image: r.image,
    Command: command,
    CreatedAt: r.created,
    RunningFor: `${humanDuration(nowMs - Date.parse(r.created))} ago`,
    Status: r.status,
    State: r.state,
    Ports: r.ports,
    Names: r.name,
    Labels: Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(','),
    Label: (key: unknown) => r.labels[String(key)] ?? '',
    Size: '',
    Mounts: '',
    Networks: '',
  };
}

export default async function ps(flags: PsFlags, _args: string[], ctx: CliContext): Promise<number> {
  const rows = await withEngine(ctx, (api) => api.containerList({ all: flags.all ?? false }));
  const trunc = flags.trunc !== false;
  const nowMs = ctx.clock.now();
  if (flags.quiet) {
    for (const r of rows) ctx.stdout.write(`${trunc ? r.id.slice(0, 12) : r.id}\n`);
    return 0;
  }
  const format = flags.format === undefined || flags.format === 'table' ? DEFAULT : flags.format;
  ctx.stdout.write(formatRows(format, rows.map((r) => templateRow(r, trunc, nowMs)), HEADERS));
  return 0;
}
