// berth compose pull / build / images: a project's images (the engine pulls and builds them).
import type { CliContext } from '../../context.js';
import { loadProjectFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt, withEngine } from '../../engine.js';
import { registryAuth } from '../../auth.js';
import { colors } from '../../render/colors.js';
import { imageProgressFor } from '../../render/image-progress.js';
import { formatRows } from '../../render/template.js';
import { formatSize } from '../../../lib/units.js';
import { InvalidArgument } from '../../../lib/errors.js';
import { imageEmit } from '../pull.js';
import { keyValues } from '../build.js';

interface PullFlags extends ProjectFlags { quiet?: boolean; ignorePullFailures?: boolean; includeDeps?: boolean; policy?: string }

export async function pull(flags: PullFlags, args: string[], ctx: CliContext): Promise<number> {
  if (flags.policy !== undefined && flags.policy !== 'always' && flags.policy !== 'missing') throw new InvalidArgument(`invalid --policy "${flags.policy}": expected always or missing`);
  const project = await loadProjectFor(flags, ctx);
  const progress = flags.quiet ? undefined : imageProgressFor(ctx.stdout, ctx.stderr, colors(ctx.stdout, ctx.env));
  const interrupt = abortOnInterrupt(ctx);
  try {
    return await withEngine(ctx, (api) => api.projectPull(project.name, {
      project, services: args, ignorePullFailures: flags.ignorePullFailures ?? false, includeDeps: flags.includeDeps ?? false,
      ...(flags.policy !== undefined ? { policy: flags.policy as 'always' | 'missing' } : {}), auth: registryAuth(ctx),
    }, imageEmit(progress, ctx), interrupt.signal)).finally(() => progress?.done());
  } finally {
    interrupt.dispose();
  }
}

interface BuildFlags extends ProjectFlags { noCache?: boolean; cache?: boolean; pull?: boolean; buildArg?: string[]; withDependencies?: boolean; quiet?: boolean; progress?: string }

export async function build(flags: BuildFlags, args: string[], ctx: CliContext): Promise<number> {
  const project = await loadProjectFor(flags, ctx);
  const quiet = flags.quiet === true || flags.progress === 'quiet';
  const progress = quiet ? undefined : imageProgressFor(ctx.stdout, ctx.stderr, colors(ctx.stdout, ctx.env), flags.progress === 'plain');
  const interrupt = abortOnInterrupt(ctx);
  try {
    return await withEngine(ctx, (api) => api.projectBuild(project.name, {
      project, services: args, noCache: flags.noCache === true || flags.cache === false, pull: flags.pull ?? false,
      buildArgs: keyValues(flags.buildArg ?? [], ctx.env, '--build-arg', true), withDependencies: flags.withDependencies ?? false, auth: registryAuth(ctx),
    }, imageEmit(progress, ctx), interrupt.signal)).finally(() => progress?.done());
  } finally {
    interrupt.dispose();
  }
}

const HEADERS = { Container: 'CONTAINER', Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE' };

export async function images(flags: ProjectFlags & { quiet?: boolean; format?: string }, args: string[], ctx: CliContext): Promise<number> {
  const project = await loadProjectFor(flags, ctx);
  const rows = await withEngine(ctx, (api) => api.projectImages(project.name, { services: args }));
  if (flags.quiet) {
    for (const id of new Set(rows.map((r) => r.id))) ctx.stdout.write(`${id}\n`);
    return 0;
  }
  if (flags.format === 'json') {
    ctx.stdout.write(`${JSON.stringify(rows.map((r) => ({ ID: r.id, ContainerName: r.container, Repository: r.repository, Tag: r.tag, Size: r.size })))}\n`);
    return 0;
  }
  const shown = rows.map((r) => ({ Container: r.container, Repository: r.repository, Tag: r.tag, ID: r.id.replace(/^sha256:/, '').slice(0, 12), Size: formatSize(r.size) }));
  ctx.stdout.write(formatRows(flags.format === undefined || flags.format === 'table' ? 'table {{.Container}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}' : flags.format, shown, HEADERS));
  return 0;
}
