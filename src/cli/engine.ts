// The CLI's way to the engine: the socket client (which starts the engine when none answers).
import type { CliContext } from './context.js';
import type { EngineApi } from '../api/engine-api.js';

export async function engine(ctx: CliContext): Promise<EngineApi & { close(): void }> {
  const { connectEngine } = await import('../api/client.js');
  return connectEngine({ roots: ctx.roots, packageRoot: ctx.packageRoot, env: ctx.env });
}

/** Ctrl-C aborts the request (the engine sees the client go); a second Ctrl-C exits at once. */
export function abortOnInterrupt(onFirst?: () => void): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  let count = 0;
  const handler = (): void => {
    count++;
    if (count === 1) {
      if (onFirst) onFirst(); else ctl.abort();
    } else {
      ctl.abort();
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  return { signal: ctl.signal, dispose: () => process.off('SIGINT', handler) };
}
