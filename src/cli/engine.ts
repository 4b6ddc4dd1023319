// Helpers every command that talks to the engine shares: an API connection that is closed when
// the command ends, and Ctrl-C handling. Through the context only (no `process`).
import type { CliContext } from './context.js';
import type { EngineConnection } from '../api/engine-api.js';

/** Runs `body` with an engine connection, closing it afterwards. */
export async function withEngine<T>(ctx: CliContext, body: (api: EngineConnection) => Promise<T>): Promise<T> {
  const api = await ctx.connect();
  try {
    return await body(api);
  } finally {
    api.close();
  }
}

/**
 * Ctrl-C aborts the request (the engine sees the client go), or calls onFirst instead; a second
 * Ctrl-C aborts, calls onForce (a last word) and exits at once (130).
 */
export function abortOnInterrupt(ctx: CliContext, onFirst?: () => void, onForce?: () => void): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  let count = 0;
  const dispose = ctx.onSignal('SIGINT', () => {
    count++;
    if (count === 1) {
      if (onFirst) onFirst(); else ctl.abort();
    } else {
      ctl.abort();
      onForce?.();
      ctx.exit(130);
    }
  });
  return { signal: ctl.signal, dispose };
}
