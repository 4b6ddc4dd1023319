// berth cp: copy files between a container and the host, as `docker cp` does:
//   berth cp [-a] [-L] CONTAINER:SRC HOST_DEST|-     (- : a tar stream on stdout)
//   berth cp [-a] [-L] HOST_SRC|- CONTAINER:DEST     (- : a tar stream from stdin)
// The engine does the copy (it reads and writes the host path; this command makes it absolute)
// and resolves container paths inside the container's root: no symlink there leads outside it.
import { resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { InvalidArgument } from '../../lib/errors.js';
import { formatSize } from '../../lib/units.js';
import { withEngine } from '../engine.js';
import { attachTo } from '../attach.js';

interface CpFlags { archive?: boolean; followLink?: boolean; quiet?: boolean }

/** docker's rule: a local path is absolute or starts with "."; otherwise CONTAINER:PATH splits at the first colon. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const at = arg.indexOf(':');
  if (at <= 0) return { path: arg };
  return { container: arg.slice(0, at), path: arg.slice(at + 1) };
}

export default async function cp(flags: CpFlags, args: string[], ctx: CliContext): Promise<number> {
  const usage = 'berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-  or  berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH';
  if (args.length !== 2) throw new InvalidArgument(`"cp" requires exactly 2 arguments: ${usage}`);
  const src = splitCpArg(args[0]!);
  const dest = splitCpArg(args[1]!);
  if (src.container !== undefined && dest.container !== undefined) throw new InvalidArgument('copying between containers is not supported');
  if (src.container === undefined && dest.container === undefined) throw new InvalidArgument(`must specify at least one container source: ${usage}`);
  const container = (src.container ?? dest.container)!;
  const containerPath = src.container !== undefined ? src.path : dest.path;
  if (containerPath === '') throw new InvalidArgument('the container path must not be empty');
  const hostArg = src.container !== undefined ? dest.path : src.path;
  const direction = src.container !== undefined ? 'out' : 'in';
  const archive = flags.archive ?? false;
  const followLink = flags.followLink ?? false;
  return withEngine(ctx, async (api) => {
    if (hostArg === '-') {
      const attached = attachTo(ctx, { stdin: direction === 'in', tty: false });
      const controller = new AbortController();
      const off = ctx.onSignal('SIGINT', () => controller.abort());
      try {
        return await api.containerArchive(container, { direction, path: containerPath, archive, followLink }, attached.io, controller.signal);
      } finally {
        off();
        attached.dispose();
      }
    }
    const r = await api.containerCopy(container, { direction, hostPath: resolve(ctx.cwd, hostArg), containerPath, archive, followLink });
    for (const s of r.skipped) ctx.stderr.write(`WARNING: skipped ${s}\n`);
    if (!flags.quiet && ctx.terminal.isTTY('stderr')) ctx.stderr.write(`Successfully copied ${formatSize(r.bytes)} to ${direction === 'in' ? `${container}:${containerPath}` : hostArg}\n`);
    return 0;
  });
}

