// berth run: create a container from an image and start it, attached or detached.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { createContainer } from '../../engine/containers.js';

interface RunFlags {
  rm?: boolean; detach?: boolean; name?: string; env?: string[]; workdir?: string; user?: string;
  hostname?: string; init?: boolean; memory?: string; memorySwap?: string; cpuShares?: string;
  cpus?: string; cpusetCpus?: string; pidsLimit?: string; shmSize?: string; stopSignal?: string;
  stopTimeout?: string; entrypoint?: string; label?: string[]; interactive?: boolean; tty?: boolean;
}

export default async function run(flags: RunFlags, args: string[], ctx: CliContext): Promise<number> {
  const [image, ...command] = args;
  const host = await connect(ctx);
  const created = await createContainer(host, {
    image: image!,
    command,
    name: flags.name,
    env: flags.env ?? [],
    labels: flags.label ?? [],
    workdir: flags.workdir,
    user: flags.user,
    hostname: flags.hostname,
    entrypoint: flags.entrypoint,
    init: flags.init ?? false,
    autoRemove: flags.rm ?? false,
    detach: flags.detach ?? false,
    interactive: flags.interactive ?? false,
    tty: flags.tty ?? false,
    memory: flags.memory,
    memorySwap: flags.memorySwap,
    cpuShares: flags.cpuShares,
    cpus: flags.cpus,
    cpusetCpus: flags.cpusetCpus,
    pidsLimit: flags.pidsLimit,
    shmSize: flags.shmSize,
    stopSignal: flags.stopSignal,
    stopTimeout: flags.stopTimeout,
  });
  for (const w of created.warnings) ctx.stderr.write(`WARNING: ${w}\n`);
  if (flags.detach) {
    try {
      await host.runtime.startDetached(created.id);
    } catch (err) {
      if (flags.rm) await host.runtime.remove(created.id, { force: true });
      throw err;
    }
    ctx.stdout.write(`${created.id}\n`);
    return 0;
  }
  let code: number;
  try {
    code = await host.runtime.startAttached(created.id);
  } finally {
    if (flags.rm) await host.runtime.remove(created.id, { force: true });
  }
  return code;
}
