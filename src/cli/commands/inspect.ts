// berth inspect: Docker-shaped JSON for containers (and images), or one line per object through
// a Go template (-f '{{.State.Pid}}', '{{json .Config}}').
import type { CliContext } from '../context.js';
import { NotFound, BerthError } from '../../lib/errors.js';
import { inspectEach } from '../inspect-each.js';

export default function inspect(flags: { type?: string; format?: string }, args: string[], ctx: CliContext): Promise<number> {
  return inspectEach(flags.format, args, ctx, async (api, ref) => {
    if (flags.type !== 'image') {
      try {
        return await api.containerInspect(ref);
      } catch (err) {
        if (!(err instanceof NotFound) || flags.type === 'container') throw err;
      }
    }
    return api.imageInspect(ref);
  }, (err, ref) => (err instanceof BerthError && err.code !== 'INTERNAL' ? (err instanceof NotFound ? `no such object: ${ref}` : err.message) : undefined));
}
