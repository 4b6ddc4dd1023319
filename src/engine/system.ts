// What the engine tells about itself and the host: `berth version`, `berth info` (docker info's
// fields) and `berth engine status` (the process: memory, supervision, event-loop delay).
import { readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { EngineStatus, SystemInfo, VersionInfo } from '../api/types.js';
import { API_VERSION } from '../api/types.js';
import type { Roots } from '../lib/paths.js';
import type { Clock } from '../lib/clock.js';
import { detectCgroups } from '../runtime/cgroups/detect.js';
import type { ContainerRuntime } from '../runtime/container.js';
import type { ImageStore } from '../images/store.js';
import type { SupervisorStats } from './supervisor.js';

/** statfs f_type → the name `docker info` prints as "Backing Filesystem" */
const FILESYSTEMS: Readonly<Record<number, string>> = {
  0xef53: 'extfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs', 0x2fc12fc1: 'zfs', 0x6969: 'nfs',
};

export interface SystemDeps {
  readonly roots: Roots;
  readonly version: string;
  readonly socket: string;
  readonly clock: Clock;
  readonly runtime: ContainerRuntime;
  readonly images: () => Promise<ImageStore>;
  readonly supervision: () => SupervisorStats;
  /** plan operations in progress (engine/executor.ts) */
  readonly operationsInProgress: () => number;
  readonly eventSubscribers: () => number;
  readonly slots: () => { readonly size: number; readonly idle: number; readonly claimed: number };
}

export interface System {
  version(): Promise<VersionInfo>;
  systemInfo(): Promise<SystemInfo>;
  engineStatus(opts: { readonly reset: boolean }): Promise<EngineStatus>;
  stop(): void;
}

export function system(d: SystemDeps): System {
  const startedAt = d.clock.now();
  // The event loop's delay, sampled every 10 ms: how long a synchronous step of any request kept
  // every other request (and every container's supervision) waiting.
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let windowStart = d.clock.now();
  const ms = (ns: number): number => Math.round((ns / 1e6) * 100) / 100;

  return {
    async version() {
      return {
        version: d.version, apiVersion: API_VERSION, node: process.versions.node, os: 'linux', arch: process.arch,
        kernel: release(), pid: process.pid, startedAt: new Date(startedAt).toISOString(),
      };
    },

    async systemInfo() {
      const counts = { total: 0, running: 0, paused: 0, stopped: 0 };
      for (const v of d.runtime.list()) {
        counts.total++;
        if (v.observed.status === 'running') counts.running++;
        else if (v.observed.status === 'paused') counts.paused++;
        else counts.stopped++;
      }
      const warnings: string[] = [];
      let cgroup: SystemInfo['cgroup'] = { driver: 'cgroupfs', version: 1, mode: 'v1', parent: d.roots.cgroupParent };
      try {
        const detected = detectCgroups(readFileSync('/proc/self/mountinfo', 'utf8'));
        cgroup = { driver: 'cgroupfs', version: detected.driver.version, mode: detected.mode, parent: d.roots.cgroupParent };
        warnings.push(...detected.warnings);
      } catch (err) {
        warnings.push(`cgroups: ${(err as Error).message}`);
      }
      let backingFilesystem = 'unknown';
      try { backingFilesystem = FILESYSTEMS[statfsSync(d.roots.root).type] ?? `0x${statfsSync(d.roots.root).type.toString(16)}`; } catch { /* root not made yet */ }
      return {
        serverVersion: d.version,
        apiVersion: API_VERSION,
        containers: counts,
        images: (await d.images()).list().length,
        storageDriver: 'overlay2',
        backingFilesystem,
        cgroup,
        kernelVersion: release(),
        operatingSystem: osRelease(),
        osType: 'linux',
        architecture: ociArch(arch()),
        cpus: cpus().length,
        memoryBytes: totalmem(),
        name: hostname(),
        rootDir: d.roots.root,
        runDir: d.roots.run,
        warnings,
      };
    },

    async engineStatus(opts) {
      const s = d.supervision();
      const mem = process.memoryUsage();
      const status: EngineStatus = {
        pid: process.pid,
        version: d.version,
        apiVersion: API_VERSION,
        startedAt: new Date(startedAt).toISOString(),
        uptimeSeconds: Math.round((d.clock.now() - startedAt) / 1000),
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        externalBytes: mem.external,
        arrayBuffersBytes: mem.arrayBuffers,
        root: d.roots.root,
        run: d.roots.run,
        socket: d.socket,
        supervised: s.supervised,
        healthMonitors: s.healthMonitors,
        pendingRestarts: s.pendingRestarts,
        looks: s.looks,
        eventSubscribers: d.eventSubscribers(),
        slots: d.slots(),
        operationsInProgress: d.operationsInProgress(),
        eventLoopDelay: {
          p50Ms: ms(loop.percentile(50)),
          p99Ms: ms(loop.percentile(99)),
          maxMs: ms(loop.max),
          sinceMs: d.clock.now() - windowStart,
        },
      };
      if (opts.reset) {
        loop.reset();
        windowStart = d.clock.now();
      }
      return status;
    },

    stop() {
      loop.disable();
    },
  };
}

/** /etc/os-release's PRETTY_NAME, as docker info's "Operating System". */
function osRelease(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch { /* absent */ }
  return 'Linux';
}

/** Node's arch → the name docker info prints (Go's GOARCH-like "x86_64" from uname). */
function ociArch(nodeArch: string): string {
  return nodeArch === 'x64' ? 'x86_64' : nodeArch === 'arm64' ? 'aarch64' : nodeArch;
}
