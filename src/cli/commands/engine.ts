// berth engine status | stop | --install-unit. (`berth engine` alone runs the engine: bin/berth
// starts it without this module.)
//   status  the running engine: pid, uptime, memory, what it supervises, its event-loop delay
//   stop    asks it to stop (what SIGTERM does: running requests end, containers keep running)
//           and waits until its socket is gone
//   --install-unit [PATH]  a systemd unit that starts it at boot, so that restart policies are
//           honoured after a host reboot (docs/operations.md)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { NotFound, SysError } from '../../lib/errors.js';
import { ENGINE_ENV, ENGINE_NODE_FLAGS, enginePaths } from '../../api/codec.js';
import { compileTemplate } from '../render/template.js';
import { binarySize } from '../render/stats.js';

export const DEFAULT_UNIT_PATH = '/etc/systemd/system/berth.service';

/** The unit: the engine in the foreground; KillMode=process so that stopping it never stops a container. */
export function systemdUnit(nodePath: string, packageRoot: string, env: NodeJS.ProcessEnv): string {
  const roots = ['BERTH_ROOT', 'BERTH_RUN', 'BERTH_CGROUP_PARENT'].filter((k) => env[k] !== undefined && env[k] !== '').map((k) => `Environment=${k}=${env[k]}`);
  return [
    '[Unit]',
    'Description=berth engine: compose-style containers with their own runtime',
    `Documentation=file://${join(packageRoot, 'README.md')}`,
    'After=local-fs.target network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[nodePath, ...ENGINE_NODE_FLAGS, join(packageRoot, 'bin', 'berth.mjs')].join(' ')} engine`,
    ...roots,
    ...Object.entries(ENGINE_ENV).map(([k, v]) => `Environment=${k}=${env[k] ?? v}`),
    // containers are supervised by their own berth-shim, started by the engine: stopping (or
    // restarting) the engine must leave them running, so only the engine's own process is signalled
    'KillMode=process',
    // berth manages the cgroups of its containers itself
    'Delegate=yes',
    'Restart=on-failure',
    'RestartSec=1',
    'TimeoutStopSec=30',
    'LimitNOFILE=infinity',
    'TasksMax=infinity',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export default async function engine(flags: { installUnit?: string | boolean }, _args: string[], ctx: CliContext): Promise<number> {
  if (flags.installUnit === undefined) {
    ctx.stderr.write('Usage: berth engine [status | stop | --install-unit [PATH]]\n(`berth engine` alone runs the engine in the foreground)\n');
    return 125;
  }
  const path = typeof flags.installUnit === 'string' ? flags.installUnit : DEFAULT_UNIT_PATH;
  try {
    writeFileSync(path, systemdUnit(ctx.nodePath, ctx.packageRoot, ctx.env), { mode: 0o644 });
  } catch (err) {
    throw new SysError('open', path, (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
  }
  ctx.stdout.write(`Wrote ${path}. Start the engine now and at every boot with:\n  systemctl daemon-reload && systemctl enable --now ${path.split('/').pop()}\n`);
  return 0;
}

export async function status(flags: { format?: string; reset?: boolean }, _args: string[], ctx: CliContext): Promise<number> {
  const template = flags.format !== undefined && flags.format !== 'json' ? compileTemplate(flags.format) : undefined;
  let api;
  try {
    api = await ctx.connect({ autoStart: false });
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    ctx.stdout.write(`Engine: not running (nothing answers on ${enginePaths(ctx.roots.run).socket})\n`);
    return 1;
  }
  try {
    const s = await api.engineStatus({ reset: flags.reset ?? false });
    const doc = {
      Pid: s.pid, Version: s.version, ApiVersion: s.apiVersion, StartedAt: s.startedAt, UptimeSeconds: s.uptimeSeconds, RssBytes: s.rssBytes,
      HeapUsedBytes: s.heapUsedBytes, HeapTotalBytes: s.heapTotalBytes, ExternalBytes: s.externalBytes, ArrayBuffersBytes: s.arrayBuffersBytes,
      Root: s.root, Run: s.run, Socket: s.socket, Supervised: s.supervised, HealthMonitors: s.healthMonitors, PendingRestarts: s.pendingRestarts,
      Looks: s.looks, EventSubscribers: s.eventSubscribers, OperationsInProgress: s.operationsInProgress,
      Slots: { Size: s.slots.size, Idle: s.slots.idle, Claimed: s.slots.claimed },
      EventLoopDelay: { P50Ms: s.eventLoopDelay.p50Ms, P99Ms: s.eventLoopDelay.p99Ms, MaxMs: s.eventLoopDelay.maxMs, SinceMs: s.eventLoopDelay.sinceMs },
    };
    if (flags.format === 'json') ctx.stdout.write(`${JSON.stringify(doc)}\n`);
    else if (template) ctx.stdout.write(`${template.render(doc)}\n`);
    else {
      ctx.stdout.write([
        `Engine: running (pid ${s.pid}, berth ${s.version}, api v${s.apiVersion})`,
        ` Started:          ${s.startedAt} (up ${s.uptimeSeconds} s)`,
        ` Memory (RSS):     ${binarySize(s.rssBytes)} (JS heap ${binarySize(s.heapUsedBytes)} used of ${binarySize(s.heapTotalBytes)}, external ${binarySize(s.externalBytes)} with buffers ${binarySize(s.arrayBuffersBytes)})`,
        ` Socket:           ${s.socket}`,
        ` Root:             ${s.root}`,
        ` Supervising:      ${s.supervised} container(s), ${s.healthMonitors} health monitor(s), ${s.pendingRestarts} restart(s) pending`,
        ` Warm slots:       ${s.slots.idle} of ${s.slots.size} ready, ${s.slots.claimed} start(s) took one`,
        ` Operations:       ${s.operationsInProgress} in progress`,
        ` Event-loop delay: p50 ${s.eventLoopDelay.p50Ms} ms, p99 ${s.eventLoopDelay.p99Ms} ms, max ${s.eventLoopDelay.maxMs} ms (over ${(s.eventLoopDelay.sinceMs / 1000).toFixed(0)} s)`,
        ' Stop it with `berth engine stop` (containers keep running; the next verb starts a new engine).',
      ].join('\n') + '\n');
    }
    return 0;
  } finally {
    api.close();
  }
}

export async function stop(_flags: unknown, _args: string[], ctx: CliContext): Promise<number> {
  let api;
  try {
    api = await ctx.connect({ autoStart: false });
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    ctx.stdout.write('No engine is running.\n');
    return 0;
  }
  try {
    const pid = api.info().pid;
    const t0 = ctx.clock.now();
    await api.shutdown();
    ctx.stdout.write(`Stopped the engine (pid ${pid}) in ${((ctx.clock.now() - t0) / 1000).toFixed(1)} s. Containers keep running; the next berth verb starts a new engine.\n`);
    return 0;
  } finally {
    api.close();
  }
}
