// berth logs: a container's stdout and stderr from its json-file log.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { InvalidArgument } from '../../lib/errors.js';
import { readLog } from '../../runtime/logs.js';

export default async function logs(flags: { follow?: boolean; tail?: string; timestamps?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  let tail: number | undefined;
  if (flags.tail !== undefined && flags.tail !== 'all') {
    if (!/^\d+$/.test(flags.tail)) throw new InvalidArgument(`invalid value for --tail: ${flags.tail}: expected a number or "all"`);
    tail = Number(flags.tail);
  }
  const host = await connect(ctx);
  const view = host.runtime.find(args[0]!);
  await readLog(host.runtime.logPath(view.record.id), {
    tail,
    follow: flags.follow ?? false,
    running: () => host.runtime.find(view.record.id).observed.status === 'running',
  }, (r) => {
    const text = flags.timestamps ? `${r.time} ${r.log}` : r.log;
    const out = r.stream === 'stderr' ? ctx.stderr : ctx.stdout;
    // back-pressure: a slow reader of a big log must not make us buffer all of it
    if (!out.write(text)) return new Promise<void>((resolve) => out.once('drain', () => resolve()));
    return undefined;
  });
  return 0;
}
