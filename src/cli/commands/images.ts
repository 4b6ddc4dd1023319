// berth images: the local images, in Docker's table, as JSON lines or through a Go template.
import type { CliContext } from '../context.js';
import { formatSize, humanDuration } from '../../lib/units.js';
import { withEngine } from '../engine.js';
import { formatRows } from '../render/template.js';

const HEADERS = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE', Digest: 'DIGEST' };
const DEFAULT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

export default async function images(flags: { quiet?: boolean; format?: string }, _args: string[], ctx: CliContext): Promise<number> {
  const list = await withEngine(ctx, (api) => api.imageList());
  const nowMs = ctx.clock.now();
  const rows: Record<string, unknown>[] = [];
  for (const image of list) {
    const short = image.id.replace(/^sha256:/, '').slice(0, 12);
    const created = image.created ? `${humanDuration(nowMs - Date.parse(image.created))} ago` : 'N/A';
    for (const t of image.repoTags.length > 0 ? image.repoTags : ['<none>:<none>']) {
      const at = t.lastIndexOf(':');
      rows.push({ Repository: t.slice(0, at), Tag: t.slice(at + 1), ID: short, CreatedSince: created, CreatedAt: image.created, Size: formatSize(image.size), Digest: '<none>' });
    }
  }
  if (flags.quiet) {
    for (const id of new Set(rows.map((r) => r.ID as string))) ctx.stdout.write(`${id}\n`);
    return 0;
  }
  ctx.stdout.write(formatRows(flags.format === undefined || flags.format === 'table' ? DEFAULT : flags.format, rows, HEADERS));
  return 0;
}
