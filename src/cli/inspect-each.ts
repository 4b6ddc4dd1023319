// What every `inspect` verb shares (containers and images, networks, volumes): each ref looked up
// in turn, a ref that fails gets its error line and the others still print, then the documents as
// docker prints them — an indented JSON array, or one line each through a Go template (-f).
import type { CliContext } from './context.js';
import type { EngineConnection } from '../api/engine-api.js';
import { withEngine } from './engine.js';
import { compileTemplate } from './render/template.js';

/**
 * `look` fetches one document; `describe` turns its failure into the line printed for that ref
 * (without "Error: "), or undefined for a failure that is not the user's (it is rethrown).
 * Exits 1 when any ref failed. A bad template fails before anything is asked.
 */
export async function inspectEach(format: string | undefined, refs: readonly string[], ctx: CliContext,
  look: (api: EngineConnection, ref: string) => Promise<unknown>, describe: (err: unknown, ref: string) => string | undefined): Promise<number> {
  const template = format !== undefined && format !== 'json' ? compileTemplate(format) : undefined;
  return withEngine(ctx, async (api) => {
    const out: unknown[] = [];
    let failed = false;
    for (const ref of refs) {
      try {
        out.push(await look(api, ref));
      } catch (err) {
        const line = describe(err, ref);
        if (line === undefined) throw err;
        ctx.stderr.write(`Error: ${line}\n`);
        failed = true;
      }
    }
    if (template) for (const doc of out) ctx.stdout.write(`${template.render(doc)}\n`);
    else ctx.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    return failed ? 1 : 0;
  });
}
