// berth compose logs: the project's container logs, prefixed with the container's name.
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt } from '../../engine.js';
import { colors, type AnsiMode } from '../../render/colors.js';
import { LogPrinter } from '../../render/events.js';
import { InvalidArgument } from '../../../lib/errors.js';

interface LogsFlags extends ProjectFlags { follow?: boolean; tail?: string; since?: string; timestamps?: boolean; color?: boolean; logPrefix?: boolean; ansi?: AnsiMode }

export default async function logs(flags: LogsFlags, args: string[], ctx: CliContext): Promise<number> {
  let tail: number | undefined;
  if (flags.tail !== undefined && flags.tail !== 'all') {
    if (!/^\d+$/.test(flags.tail)) throw new InvalidArgument(`invalid --tail: ${flags.tail}: expected a number or "all"`);
    tail = Number(flags.tail);
  }
  const projectName = await projectNameFor(flags, ctx);
  const api = await ctx.connect();
  const c = colors(ctx.stdout, ctx.env, flags.color === false ? 'never' : flags.ansi);
  const printer = new LogPrinter(ctx.stdout, c, { timestamps: flags.timestamps ?? false, prefix: flags.logPrefix !== false });
  const interrupt = abortOnInterrupt(ctx);
  try {
    await api.logs(projectName, { services: args, follow: flags.follow ?? false, tail, since: flags.since }, (l) => printer.print(l, projectName), interrupt.signal);
    return 0;
  } finally {
    interrupt.dispose();
    api.close();
  }
}
