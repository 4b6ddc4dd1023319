// Docker's multi-container verbs: act on each name, print it on success, report each failure,
// and exit 1 if any failed.
import { BerthError } from '../../lib/errors.js';
import type { CliContext } from '../context.js';

export async function eachContainer(refs: readonly string[], ctx: CliContext, act: (ref: string) => Promise<unknown>): Promise<number> {
  let failed = false;
  for (const ref of refs) {
    try {
      await act(ref);
      ctx.stdout.write(`${ref}\n`);
    } catch (err) {
      if (!(err instanceof BerthError) || err.code === 'INTERNAL') throw err;
      ctx.stderr.write(`Error: ${err.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
