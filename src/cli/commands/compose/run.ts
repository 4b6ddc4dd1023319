// berth compose run SERVICE [CMD…]: a one-off container for a service (its dependencies brought up
// first through the engine, unless --no-deps), attached to this terminal like `berth run`.
import { randomBytes } from 'node:crypto';
import type { CliContext } from '../../context.js';
import { loadProjectFor, type ProjectFlags } from '../../project.js';
import { engine } from '../../engine.js';
import { connect } from '../../host.js';
import { colors } from '../../render/colors.js';
import { renderEvent } from '../../render/events.js';
import { InvalidArgument, NotFound } from '../../../lib/errors.js';
import { createRequestFor, LABEL } from '../../../engine/service-container.js';
import { mergeProcess } from '../../../runtime/process-spec.js';

interface RunFlags extends ProjectFlags {
  rm?: boolean; detach?: boolean; name?: string; env?: string[]; entrypoint?: string; user?: string;
  workdir?: string; deps?: boolean; disableTty?: boolean; interactive?: boolean; label?: string[];
}

export default async function run(flags: RunFlags, args: string[], ctx: CliContext): Promise<number> {
  const [serviceName, ...command] = args;
  const project = await loadProjectFor(flags, ctx);
  const service = project.services[serviceName!];
  if (!service) throw new NotFound(`no such service: ${serviceName}`);
  if (!service.image) throw new InvalidArgument(`service "${serviceName}" has no image: building images is not supported yet`);

  // Dependencies first, as docker compose run does (not the service itself).
  const deps = Object.keys(service.depends_on);
  if (flags.deps !== false && deps.length > 0) {
    const api = await engine(ctx);
    const c = colors(ctx.stderr, ctx.env);
    try {
      const code = await api.up({ project, options: { services: deps, noDeps: false, forceRecreate: false, noRecreate: false, noStart: false, removeOrphans: false, scale: {}, wait: false, waitTimeout: 0 } },
        (e) => renderEvent(e, project.name, ctx.stderr, ctx.stderr, c), new AbortController().signal);
      if (code !== 0) return code;
    } finally {
      api.close();
    }
  }

  const host = await connect(ctx);
  const store = await host.images();
  const image = store.resolve(service.image);
  const tty = !flags.disableTty && process.stdin.isTTY === true;
  const base = createRequestFor({ project, service, number: 0, image, overlayRoot: store.overlayRoot(), configHash: '', hostEnv: ctx.env });
  const env = [...base.process.env.filter((e) => !e.startsWith('HOSTNAME='))];
  const process_ = mergeProcess(image.config, {
    command: command.length > 0 ? command : service.command ?? [],
    entrypoint: flags.entrypoint ?? service.entrypoint ?? undefined,
    env: [...env, ...(flags.env ?? [])],
    workdir: flags.workdir ?? service.working_dir,
    user: flags.user ?? service.user,
    hostname: base.hostname ?? base.id!.slice(0, 12),
    tty,
  }, ctx.env);
  const labels: Record<string, string> = { ...base.labels, [LABEL.oneoff]: 'True' };
  delete labels[LABEL.number];
  for (const l of flags.label ?? []) {
    const at = l.indexOf('=');
    labels[at < 0 ? l : l.slice(0, at)] = at < 0 ? '' : l.slice(at + 1);
  }
  const record = host.runtime.create({
    ...base,
    name: flags.name ?? `${project.name}-${service.name}-run-${randomBytes(6).toString('hex')}`,
    process: process_,
    tty,
    openStdin: flags.interactive ?? true,
    autoRemove: flags.rm ?? false,
    labels,
    // a one-off container is never restarted by a policy (docker compose run ignores `restart`)
    restartPolicy: { name: 'no', maximumRetryCount: 0 },
  });
  if (flags.detach) {
    await host.runtime.startDetached(record.id);
    ctx.stdout.write(`${record.name}\n`);
    return 0;
  }
  try {
    return await host.runtime.startAttached(record.id);
  } finally {
    if (flags.rm) await host.runtime.remove(record.id, { force: true });
  }
}
