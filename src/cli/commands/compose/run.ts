// berth compose run SERVICE [CMD…]: a one-off container for a service (its dependencies brought up
// first, unless --no-deps), made by the engine and attached to this terminal like `berth run`.
import type { CliContext } from '../../context.js';
import { loadProjectFor, type ProjectFlags } from '../../project.js';
import { withEngine } from '../../engine.js';
import { attachTo, resolveEnv } from '../../attach.js';
import { colors } from '../../render/colors.js';
import { renderEvent } from '../../render/events.js';
import { NotFound } from '../../../lib/errors.js';
import { registryAuth } from '../../auth.js';
import { pullOverride, upEmitter } from './up.js';

interface RunFlags extends ProjectFlags {
  rm?: boolean; detach?: boolean; name?: string; env?: string[]; entrypoint?: string; user?: string;
  workdir?: string; deps?: boolean; disableTty?: boolean; interactive?: boolean; label?: string[];
  build?: boolean; pull?: string; quietPull?: boolean;
}

export default async function run(flags: RunFlags, args: string[], ctx: CliContext): Promise<number> {
  const [serviceName, ...command] = args;
  const project = await loadProjectFor(flags, ctx);
  const service = project.services[serviceName!];
  if (!service) throw new NotFound(`no such service: ${serviceName}`);
  return withEngine(ctx, async (api) => {
    // Dependencies first, as docker compose run does (not the service itself).
    const deps = Object.keys(service.depends_on);
    if (flags.deps !== false && deps.length > 0) {
      const c = colors(ctx.stderr, ctx.env);
      const code = await api.up({ project, options: { services: deps, noDeps: false, forceRecreate: false, noRecreate: false, noStart: false, removeOrphans: false, scale: {}, wait: false, waitTimeout: 0 } },
        (e) => renderEvent(e, project.name, ctx.stderr, ctx.stderr, c), new AbortController().signal);
      if (code !== 0) return code;
    }
    // the service's own image, pulled or built as up would (pull_policy, --pull, --build)
    const pull = pullOverride(flags.pull);
    const c = colors(ctx.stderr, ctx.env);
    const images = upEmitter(ctx, c, flags.quietPull ?? false, true, (e) => renderEvent(e, project.name, ctx.stderr, ctx.stderr, c), ctx.stderr);
    await api.projectPrepare(project.name, {
      project, services: [service.name], build: flags.build === true, noBuild: false, ...(pull !== undefined ? { pull } : {}), auth: registryAuth(ctx),
    }, images.emit, new AbortController().signal).finally(() => images.done());
    const tty = !flags.disableTty && !flags.detach && ctx.terminal.isTTY('stdin');
    const interactive = (flags.interactive ?? true) && !flags.detach;
    const created = await api.createOneOff(project.name, {
      project,
      service: service.name,
      command,
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      env: resolveEnv(flags.env ?? [], ctx.env),
      labels: flags.label ?? [],
      ...(flags.entrypoint !== undefined ? { entrypoint: flags.entrypoint } : {}),
      ...(flags.user !== undefined ? { user: flags.user } : {}),
      ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
      tty,
      interactive,
      autoRemove: flags.rm ?? false,
    });
    if (flags.detach) {
      await api.containerStart(created.id);
      ctx.stdout.write(`${created.name}\n`);
      return 0;
    }
    const attached = attachTo(ctx, { stdin: interactive, tty });
    try {
      return await api.containerStartAttached(created.id, attached.io, new AbortController().signal);
    } finally {
      attached.dispose();
    }
  });
}
