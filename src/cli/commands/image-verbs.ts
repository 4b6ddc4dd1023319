// berth tag, history, commit, image prune: the small image verbs, one engine call each.
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';
import { formatSize, humanDuration } from '../../lib/units.js';
import { formatRows } from '../render/template.js';
import { InvalidArgument } from '../../lib/errors.js';

export async function tag(_flags: unknown, args: string[], ctx: CliContext): Promise<number> {
  await withEngine(ctx, (api) => api.imageTag(args[0]!, { target: args[1]! }));
  return 0;
}

const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export async function history(flags: { quiet?: boolean; noTrunc?: boolean; trunc?: boolean; format?: string; human?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  const rows = await withEngine(ctx, (api) => api.imageHistory(args[0]!));
  const trunc = flags.trunc !== false;
  const nowMs = ctx.clock.now();
  const shown = rows.map((r) => {
    const id = r.id === '<missing>' || !trunc ? r.id : r.id.replace(/^sha256:/, '').slice(0, 12);
    const createdBy = trunc && r.createdBy.length > 45 ? `${r.createdBy.slice(0, 44)}…` : r.createdBy;
    const created = r.created ? `${humanDuration(nowMs - Date.parse(r.created))} ago` : 'N/A';
    return { ID: id, CreatedSince: created, CreatedAt: r.created, CreatedBy: createdBy, Size: flags.human === false ? String(r.size) : formatSize(r.size), Comment: r.comment };
  });
  if (flags.quiet) { for (const r of shown) ctx.stdout.write(`${r.ID}\n`); return 0; }
  const format = flags.format === undefined || flags.format === 'table'
    ? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}' : flags.format;
  ctx.stdout.write(formatRows(format, shown, HISTORY_HEADERS));
  return 0;
}

export async function commit(flags: { message?: string; author?: string; change?: string[]; pause?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  const { id } = await withEngine(ctx, (api) => api.containerCommit(args[0]!, {
    ...(args[1] !== undefined ? { reference: args[1] } : {}),
    ...(flags.message !== undefined ? { message: flags.message } : {}),
    ...(flags.author !== undefined ? { author: flags.author } : {}),
    changes: flags.change ?? [],
    pause: flags.pause !== false,
  }));
  ctx.stdout.write(`${id}\n`);
  return 0;
}

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  ctx.stdout.write(`${question} [y/N] `);
  for await (const chunk of ctx.stdin as AsyncIterable<Buffer>) {
    return /^y(es)?$/i.test(chunk.toString('utf8').split('\n')[0]!.trim());
  }
  return false;
}

export async function prune(flags: { all?: boolean; force?: boolean; filter?: string[] }, _args: string[], ctx: CliContext): Promise<number> {
  if ((flags.filter ?? []).length > 0) throw new InvalidArgument('image prune --filter is not supported yet');
  if (!flags.force) {
    const what = flags.all ? 'all images without at least one container associated to them' : 'all dangling images';
    if (!(await confirm(ctx, `WARNING! This will remove ${what}.\nAre you sure you want to continue?`))) return 0;
  }
  const result = await withEngine(ctx, (api) => api.imagePrune({ all: flags.all ?? false }));
  if (result.lines.length > 0) ctx.stdout.write(`Deleted Images:\n${result.lines.map((l) => `${l}\n`).join('')}\n`);
  ctx.stdout.write(`Total reclaimed space: ${formatSize(result.spaceReclaimed)}\n`);
  return 0;
}
