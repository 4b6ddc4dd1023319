// berth volume create | ls | inspect | rm | prune: the engine's volumes, as `docker volume` shows
// them. A volume in use cannot be removed (the error names its containers); prune removes the
// anonymous volumes no container uses (-a: every unused volume) after a confirmation.
import type { CliContext } from '../context.js';
import { BerthError, InvalidArgument } from '../../lib/errors.js';
import { formatSize } from '../../lib/units.js';
import { withEngine } from '../engine.js';
import { inspectEach } from '../inspect-each.js';
import { formatRows } from '../render/template.js';

const HEADERS = { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Scope: 'SCOPE', CreatedAt: 'CREATED', Labels: 'LABELS' };
const DEFAULT = 'table {{.Driver}}\t{{.Name}}';

export async function create(flags: { driver?: string; opt?: string[]; label?: string[]; name?: string }, args: string[], ctx: CliContext): Promise<number> {
  if (flags.name !== undefined && args[0] !== undefined && flags.name !== args[0]) {
    throw new InvalidArgument(`conflicting options: either specify --name or provide positional arg, not both`);
  }
  const name = flags.name ?? args[0];
  const v = await withEngine(ctx, (api) => api.volumeCreate({
    ...(name !== undefined ? { name } : {}), ...(flags.driver !== undefined ? { driver: flags.driver } : {}),
    driverOpts: flags.opt ?? [], labels: flags.label ?? [],
  }));
  ctx.stdout.write(`${v.Name}\n`);
  return 0;
}

export async function ls(flags: { quiet?: boolean; filter?: string[]; format?: string }, _args: string[], ctx: CliContext): Promise<number> {
  const list = await withEngine(ctx, (api) => api.volumeList({ filters: flags.filter ?? [] }));
  list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  if (flags.quiet) {
    for (const v of list) ctx.stdout.write(`${v.Name}\n`);
    return 0;
  }
  const rows = list.map((v) => ({ ...v, Labels: Object.entries(v.Labels).map(([k, x]) => `${k}=${x}`).join(',') }));
  ctx.stdout.write(formatRows(flags.format === undefined || flags.format === 'table' ? DEFAULT : flags.format, rows, HEADERS));
  return 0;
}

export function inspect(flags: { format?: string }, args: string[], ctx: CliContext): Promise<number> {
  return inspectEach(flags.format, args, ctx, (api, name) => api.volumeInspect(name),
    (err) => (err instanceof BerthError && err.code !== 'INTERNAL' ? err.message : undefined));
}

export async function rm(flags: { force?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, async (api) => {
    let failed = false;
    for (const name of args) {
      try {
        await api.volumeRemove(name, { force: flags.force ?? false });
        ctx.stdout.write(`${name}\n`);
      } catch (err) {
        if (!(err instanceof BerthError) || err.code === 'INTERNAL') throw err;
        ctx.stderr.write(`Error response from engine: ${err.message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  });
}

/** One line from stdin (the confirmation); empty at its end. */
async function readLine(ctx: CliContext): Promise<string> {
  let text = '';
  for await (const chunk of ctx.stdin as AsyncIterable<Uint8Array | string>) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl);
    if (text.length > 1024) break;
  }
  return text;
}

export async function prune(flags: { all?: boolean; filter?: string[]; force?: boolean }, _args: string[], ctx: CliContext): Promise<number> {
  if (!flags.force) {
    ctx.stderr.write(flags.all
      ? 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] '
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    const answer = (await readLine(ctx)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') return 0;
  }
  const r = await withEngine(ctx, (api) => api.volumePrune({ all: flags.all ?? false, filters: flags.filter ?? [] }));
  if (r.removed.length > 0) ctx.stdout.write(`Deleted Volumes:\n${r.removed.map((n) => `${n}\n`).join('')}\n`);
  ctx.stdout.write(`Total reclaimed space: ${formatSize(r.spaceReclaimed)}\n`);
  return 0;
}
