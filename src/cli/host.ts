// The CLI's way to the host's facilities. Today: in-process (see
// docs/decisions/2026-11-24-single-container-verbs-in-process.md); with the engine (issue 5)
// this becomes the socket client, and the commands keep their shape.
import type { CliContext } from './context.js';
import type { LocalHost } from '../engine/local.js';

export async function connect(ctx: CliContext): Promise<LocalHost> {
  const { localHost } = await import('../engine/local.js');
  return localHost(ctx.roots, ctx.packageRoot, ctx.env);
}
