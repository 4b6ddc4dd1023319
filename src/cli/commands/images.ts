// berth images: the local images, in Docker's table.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { formatSize, humanDuration } from '../../lib/units.js';
import { table } from '../render/table.js';

export default async function images(flags: { quiet?: boolean; format?: string }, _args: string[], ctx: CliContext): Promise<number> {
  const host = await connect(ctx);
  const store = await host.images();
  const now = Date.now();
  const rows: { Repository: string; Tag: string; ID: string; CreatedSince: string; Size: string }[] = [];
  for (const image of store.list()) {
    const short = image.id.replace(/^sha256:/, '').slice(0, 12);
    const created = image.created ? `${humanDuration(now - Date.parse(image.created))} ago` : 'N/A';
    const tags = image.repoTags.length > 0 ? image.repoTags : ['<none>:<none>'];
    for (const t of tags) {
      const at = t.lastIndexOf(':');
      rows.push({ Repository: t.slice(0, at), Tag: t.slice(at + 1), ID: short, CreatedSince: created, Size: formatSize(image.size) });
    }
  }
  if (flags.quiet) for (const r of rows) ctx.stdout.write(`${r.ID}\n`);
  else if (flags.format === 'json') for (const r of rows) ctx.stdout.write(`${JSON.stringify(r)}\n`);
  else ctx.stdout.write(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size])));
  return 0;
}
