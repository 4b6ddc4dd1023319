// berth load -i FILE: images from a docker-archive or OCI-layout tarball.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';

export default async function load(flags: { input: string; quiet?: boolean }, _args: string[], ctx: CliContext): Promise<number> {
  const host = await connect(ctx);
  const store = await host.images();
  const { messages } = await store.load(flags.input);
  if (!flags.quiet) for (const m of messages) ctx.stdout.write(`${m}\n`);
  return 0;
}
