// berth info: the host as the engine sees it, as `docker info` prints it; --format json or a Go
// template over docker info's field names ({{.ServerVersion}}, {{.CgroupVersion}}, {{.Containers}}).
import type { CliContext } from '../context.js';
import type { SystemInfo } from '../../api/types.js';
import { withEngine } from '../engine.js';
import { compileTemplate } from '../render/template.js';
import { binarySize } from '../render/stats.js';

/** The document `--format` sees: docker info's names, then berth's own. */
export function infoDocument(s: SystemInfo): Record<string, unknown> {
  return {
    Containers: s.containers.total,
    ContainersRunning: s.containers.running,
    ContainersPaused: s.containers.paused,
    ContainersStopped: s.containers.stopped,
    Images: s.images,
    Driver: s.storageDriver,
    DriverStatus: [['Backing Filesystem', s.backingFilesystem]],
    CgroupDriver: s.cgroup.driver,
    CgroupVersion: String(s.cgroup.version),
    CgroupMode: s.cgroup.mode,
    CgroupParent: s.cgroup.parent,
    KernelVersion: s.kernelVersion,
    OperatingSystem: s.operatingSystem,
    OSType: s.osType,
    Architecture: s.architecture,
    NCPU: s.cpus,
    MemTotal: s.memoryBytes,
    Name: s.name,
    ServerVersion: s.serverVersion,
    ApiVersion: s.apiVersion,
    RootDir: s.rootDir,
    RunDir: s.runDir,
    Warnings: s.warnings,
  };
}

export default async function info(flags: { format?: string }, _args: string[], ctx: CliContext): Promise<number> {
  const template = flags.format !== undefined && flags.format !== 'json' ? compileTemplate(flags.format) : undefined;
  const s = await withEngine(ctx, (api) => api.systemInfo());
  if (flags.format === 'json') { ctx.stdout.write(`${JSON.stringify(infoDocument(s))}\n`); return 0; }
  if (template) { ctx.stdout.write(`${template.render(infoDocument(s))}\n`); return 0; }
  const lines = [
    'Server:',
    ` Containers: ${s.containers.total}`,
    `  Running: ${s.containers.running}`,
    `  Paused: ${s.containers.paused}`,
    `  Stopped: ${s.containers.stopped}`,
    ` Images: ${s.images}`,
    ` Server Version: ${s.serverVersion}`,
    ` API Version: ${s.apiVersion}`,
    ` Storage Driver: ${s.storageDriver}`,
    `  Backing Filesystem: ${s.backingFilesystem}`,
    ` Cgroup Driver: ${s.cgroup.driver}`,
    ` Cgroup Version: ${s.cgroup.version}${s.cgroup.mode === 'hybrid' ? ' (hybrid: v1 controllers, cgroup2 mounted beside them)' : ''}`,
    ` Cgroup Parent: ${s.cgroup.parent}`,
    ` Kernel Version: ${s.kernelVersion}`,
    ` Operating System: ${s.operatingSystem}`,
    ` OSType: ${s.osType}`,
    ` Architecture: ${s.architecture}`,
    ` CPUs: ${s.cpus}`,
    ` Total Memory: ${binarySize(s.memoryBytes)}`,
    ` Name: ${s.name}`,
    ` Berth Root Dir: ${s.rootDir}`,
    ` Berth Run Dir: ${s.runDir}`,
  ];
  ctx.stdout.write(`${lines.join('\n')}\n`);
  for (const w of s.warnings) ctx.stderr.write(`WARNING: ${w}\n`);
  return 0;
}
