// berth run: create a container from an image and start it, attached or detached.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { createContainer } from '../../engine/containers.js';

interface RunFlags {
  rm?: boolean; detach?: boolean; name?: string; env?: string[]; workdir?: string; user?: string;
  hostname?: string; init?: boolean; memory?: string; memorySwap?: string; cpuShares?: string;
  cpus?: string; cpusetCpus?: string; pidsLimit?: string; shmSize?: string; stopSignal?: string;
  stopTimeout?: string; entrypoint?: string; label?: string[]; interactive?: boolean; tty?: boolean;
  capAdd?: string[]; capDrop?: string[]; privileged?: boolean; securityOpt?: string[]; readOnly?: boolean;
  device?: string[]; sysctl?: string[]; groupAdd?: string[]; logOpt?: string[];
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
    security: {
      capAdd: flags.capAdd, capDrop: flags.capDrop, privileged: flags.privileged, securityOpt: flags.securityOpt,
      readOnly: flags.readOnly, devices: flags.device, sysctls: flags.sysctl ?? [], groupAdd: flags.groupAdd,
      // a relative seccomp=<profile.json> is the caller's, whatever directory the engine runs in
      baseDir: ctx.cwd,
    },
    logOpts: flags.logOpt ?? [],
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
