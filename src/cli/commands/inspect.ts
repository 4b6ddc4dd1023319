// berth inspect: Docker-shaped JSON for containers (and images).
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { NotFound, BerthError, Unsupported } from '../../lib/errors.js';

export default async function inspect(flags: { type?: string; format?: string }, args: string[], ctx: CliContext): Promise<number> {
  if (flags.format !== undefined) throw new Unsupported('inspect --format is not supported yet');
  const host = await connect(ctx);
  const out: unknown[] = [];
  let failed = false;
  for (const ref of args) {
    try {
      if (flags.type !== 'image') {
        try {
          out.push(host.runtime.inspect(ref));
          continue;
        } catch (err) {
          if (!(err instanceof NotFound) || flags.type === 'container') throw err;
        }
      }
      const store = await host.images();
      out.push(imageJson(store.resolve(ref)));
    } catch (err) {
      if (!(err instanceof BerthError)) throw err;
      ctx.stderr.write(`Error: ${err instanceof NotFound ? `no such object: ${ref}` : err.message}\n`);
      failed = true;
    }
  }
  ctx.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
  return failed ? 1 : 0;
}

function imageJson(image: import('../../images/store.js').ImageRecord): Record<string, unknown> {
  return {
    Id: image.id,
    RepoTags: image.repoTags,
    Created: image.created,
    Size: image.size,
    Architecture: image.architecture ?? '',
    Os: image.os ?? 'linux',
    Config: image.config,
    RootFS: { Type: 'layers', Layers: image.layers.map((l) => l.diffId) },
  };
}
