// berth down: stop and remove the project's containers (in reverse dependency order).
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt } from '../../engine.js';
import { colors } from '../../render/colors.js';
import { renderEvent } from '../../render/events.js';
import { InvalidArgument } from '../../../lib/errors.js';
import { progressFor } from './up.js';

interface DownFlags extends ProjectFlags { removeOrphans?: boolean; volumes?: boolean; timeout?: string }

export default async function down(flags: DownFlags, _args: string[], ctx: CliContext): Promise<number> {
  let timeout: number | undefined;
  if (flags.timeout !== undefined) {
    if (!/^\d+$/.test(flags.timeout)) throw new InvalidArgument(`invalid --timeout: ${flags.timeout}: expected seconds`);
    timeout = Number(flags.timeout);
  }
  const projectName = await projectNameFor(flags, ctx);
  const api = await ctx.connect();
  const c = colors(ctx.stdout, ctx.env);
  const tty = await progressFor(projectName, ctx, c);
  const interrupt = abortOnInterrupt(ctx);
  try {
    const code = await api.down(projectName, { options: { removeOrphans: flags.removeOrphans ?? false, volumes: flags.volumes ?? false, timeout } },
      tty?.emit ?? ((e) => renderEvent(e, projectName, ctx.stdout, ctx.stderr, c)), interrupt.signal);
    await tty?.done();
    return code;
  } finally {
    interrupt.dispose();
    api.close();
  }
}
