// berth inspect: Docker-shaped JSON for containers (and images), or one line per object through
// a Go template (-f '{{.State.Pid}}', '{{json .Config}}').
import type { CliContext } from '../context.js';
import { NotFound, BerthError } from '../../lib/errors.js';
import { withEngine } from '../engine.js';
import { compileTemplate } from '../render/template.js';

export default async function inspect(flags: { type?: string; format?: string }, args: string[], ctx: CliContext): Promise<number> {
  // a bad template fails before anything is asked
  const template = flags.format !== undefined && flags.format !== 'json' ? compileTemplate(flags.format) : undefined;
  return withEngine(ctx, async (api) => {
    const out: unknown[] = [];
    let failed = false;
    for (const ref of args) {
      try {
        if (flags.type !== 'image') {
          try {
            out.push(await api.containerInspect(ref));
            continue;
          } catch (err) {
            if (!(err instanceof NotFound) || flags.type === 'container') throw err;
          }
        }
        out.push(await api.imageInspect(ref));
      } catch (err) {
        if (!(err instanceof BerthError) || err.code === 'INTERNAL') throw err;
        ctx.stderr.write(`Error: ${err instanceof NotFound ? `no such object: ${ref}` : err.message}\n`);
        failed = true;
      }
    }
    if (template) for (const doc of out) ctx.stdout.write(`${template.render(doc)}\n`);
    else ctx.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    return failed ? 1 : 0;
  });
}
