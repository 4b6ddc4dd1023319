// berth ls: the projects this engine knows, as docker compose ls lists them.
import type { CliContext } from '../../context.js';

import { table } from '../../render/table.js';
import { watchedText } from './ps.js';

export default async function ls(flags: { all?: boolean; quiet?: boolean; format?: string }, _args: string[], ctx: CliContext): Promise<number> {
  const api = await ctx.connect();
  try {
    const rows = await api.ls({ all: flags.all ?? false });
    if (flags.quiet) for (const r of rows) ctx.stdout.write(`${r.name}\n`);
    else if (flags.format === 'json') ctx.stdout.write(`${JSON.stringify(rows.map((r) => ({ Name: r.name, Status: r.status, ConfigFiles: r.configFiles, Watch: r.watch ?? '' })))}\n`);
    else ctx.stdout.write(table(['NAME', 'STATUS', 'CONFIG FILES'], rows.map((r) => [r.name, watchedText(r.status, r.watch), r.configFiles])));
    return 0;
  } finally {
    api.close();
  }
}
