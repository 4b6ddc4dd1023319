// berth run: create a container from an image (in the engine) and start it, attached to this
// command's stdio or detached (-d, printing its id).
import type { CliContext } from '../context.js';
import type { ContainerCreateOptions } from '../../api/types.js';
import { attachTo, resolveEnv } from '../attach.js';
import { withEngine } from '../engine.js';
import { createPulling } from './pull.js';

export interface CreateFlags {
  rm?: boolean; name?: string; env?: string[]; workdir?: string; user?: string;
  hostname?: string; init?: boolean; memory?: string; memorySwap?: string; cpuShares?: string;
  cpus?: string; cpusetCpus?: string; pidsLimit?: string; shmSize?: string; stopSignal?: string;
  stopTimeout?: string; entrypoint?: string; label?: string[]; interactive?: boolean; tty?: boolean;
  restart?: string; healthCmd?: string; healthInterval?: string; healthTimeout?: string; healthRetries?: string;
  healthStartPeriod?: string; healthStartInterval?: string; healthcheck?: boolean;
  capAdd?: string[]; capDrop?: string[]; privileged?: boolean; securityOpt?: string[]; readOnly?: boolean;
  network?: string; net?: string; networkAlias?: string[]; ip?: string; ip6?: string; macAddress?: string;
  publish?: string[]; publishAll?: boolean; expose?: string[]; addHost?: string[]; dns?: string[]; dnsSearch?: string[];
  dnsOption?: string[]; domainname?: string;
  device?: string[]; sysctl?: string[]; groupAdd?: string[]; userns?: string; logOpt?: string[]; pull?: string;
  volume?: string[]; mount?: string[]; tmpfs?: string[]; volumesFrom?: string[];
}

interface RunFlags extends CreateFlags { detach?: boolean }

/** The flags of run and create as the engine's options (the engine parses sizes and numbers). */
export function createOptions(flags: CreateFlags, args: readonly string[], ctx: CliContext): ContainerCreateOptions {
  const [image, ...command] = args;
  return {
    image: image!,
    command,
    name: flags.name,
    env: resolveEnv(flags.env ?? [], ctx.env),
    labels: flags.label ?? [],
    workdir: flags.workdir,
    user: flags.user,
    hostname: flags.hostname,
    entrypoint: flags.entrypoint,
    init: flags.init ?? false,
    autoRemove: flags.rm ?? false,
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
    restart: flags.restart,
    healthCmd: flags.healthCmd,
    healthInterval: flags.healthInterval,
    healthTimeout: flags.healthTimeout,
    healthRetries: flags.healthRetries,
    healthStartPeriod: flags.healthStartPeriod,
    healthStartInterval: flags.healthStartInterval,
    // commander turns --no-healthcheck into healthcheck: false
    noHealthcheck: flags.healthcheck === false,
    security: {
      capAdd: flags.capAdd, capDrop: flags.capDrop, privileged: flags.privileged, securityOpt: flags.securityOpt,
      readOnly: flags.readOnly, devices: flags.device, sysctls: flags.sysctl ?? [], groupAdd: flags.groupAdd,
      ...(flags.userns !== undefined ? { usernsMode: flags.userns } : {}),
      // a relative seccomp=<profile.json> is the caller's, whatever directory the engine runs in
      baseDir: ctx.cwd,
    },
    logOpts: flags.logOpt ?? [],
    network: {
      network: flags.network ?? flags.net,
      networkAliases: flags.networkAlias, ip: flags.ip, ip6: flags.ip6, macAddress: flags.macAddress,
      publish: flags.publish, publishAll: flags.publishAll, expose: flags.expose,
      addHost: flags.addHost, dns: flags.dns, dnsSearch: flags.dnsSearch, dnsOption: flags.dnsOption,
    },
    domainname: flags.domainname,
    // bind sources of -v and --mount are the caller's: relative to its directory, ~ its home
    volumes: flags.volume ?? [],
    mounts: flags.mount ?? [],
    tmpfs: flags.tmpfs ?? [],
    volumesFrom: flags.volumesFrom ?? [],
    cwd: ctx.cwd,
    ...(ctx.env['HOME'] !== undefined ? { home: ctx.env['HOME'] } : {}),
  };
}

export default async function run(flags: RunFlags, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, async (api) => {
    const created = await createPulling(api, ctx, args[0]!, flags.pull, () => api.containerCreate(createOptions(flags, args, ctx)));
    for (const w of created.warnings) ctx.stderr.write(`WARNING: ${w}\n`);
    if (flags.detach) {
      try {
        await api.containerStart(created.id);
      } catch (err) {
        if (flags.rm) await api.containerRemove(created.id, { force: true }).catch(() => undefined);
        throw err;
      }
      ctx.stdout.write(`${created.id}\n`);
      return 0;
    }
    const attached = attachTo(ctx, { stdin: flags.interactive ?? false, tty: flags.tty ?? false });
    try {
      return await api.containerStartAttached(created.id, attached.io, new AbortController().signal);
    } finally {
      attached.dispose();
    }
  });
}
