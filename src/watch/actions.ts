// Carrying out one batch's plan (rules.ts planBatch) through effects the engine injects.
//
// Order: syncs into every running replica (all files of a batch, then one restart or exec — never
// one per file); image builds, one per distinct build (services sharing an image build it once,
// docker/compose#11079); one recreate of the rebuilt services and their depends_on.restart
// dependents (only those: docker/compose#13853, #13717); restarts; sync+exec commands.
// A failure is reported and the rest goes on: one replica that exited mid-batch does not keep the
// others from their files, and a failed build leaves the running containers as they were.
import { posix } from 'node:path';
import type { Clock } from '../lib/clock.js';
import { nextTurn } from '../lib/coalesce.js';
import { InRoot } from '../sys/in-root.js';
import type { Sys } from '../sys/sys.js';
import type { WatchRule } from '../spec/model.js';
import { HostTree } from './host-tree.js';
import { inside, type BatchPlan, type CompiledRule } from './rules.js';
import { ContainerTarget, emptyStats, processOwner, syncItems, initialSyncItems, type Owner, type SyncItem, type SyncStats } from './sync.js';

/** One running container of a service. */
export interface Replica {
  readonly containerId: string;
  /** its PID 1 on the host */
  readonly pid: number;
  /** who owns synced files; the PID 1's effective uid/gid when absent */
  readonly owner?: Owner;
}

export type WatchExec = NonNullable<WatchRule['exec']>;

/** What watch asks of the engine. The engine's implementations come with the wiring (docs/watch.md). */
export interface WatchEffects {
  /** the service's running replicas now (none: nothing to sync into) */
  replicas(service: string): Promise<readonly Replica[]>;
  /** restart the service's containers once (as `berth restart SERVICE`) */
  restartService(service: string): Promise<void>;
  /** run a sync+exec rule's command in one replica (as `berth exec`), waiting for it */
  execInService(service: string, replica: Replica, exec: WatchExec): Promise<void>;
  /** build the image `buildKey` once for the services built from it */
  rebuildService(buildKey: string, services: readonly string[]): Promise<void>;
  /** recreate these services' containers (new image, or a dependent of one), dependencies first */
  recreate(services: readonly string[]): Promise<void>;
  /** a replica's filesystem as its processes see it; InRoot.openProcessRoot(sys, pid) when absent */
  openRoot?(replica: Replica): InRoot;
}

/** What the foreground `watch` prints and the engine logs: each step, its files and its time. */
export type WatchReport =
  | { readonly kind: 'batch'; readonly events: number; readonly paths: number; readonly rescan: boolean }
  | { readonly kind: 'synced'; readonly service: string; readonly replicas: number; readonly paths: readonly string[]; readonly stats: SyncStats; readonly ms: number; readonly initial?: boolean }
  | { readonly kind: 'built'; readonly buildKey: string; readonly services: readonly string[]; readonly ms: number }
  | { readonly kind: 'recreated'; readonly services: readonly string[]; readonly ms: number }
  | { readonly kind: 'restarted'; readonly service: string; readonly ms: number }
  | { readonly kind: 'executed'; readonly service: string; readonly containerId: string; readonly command: readonly string[]; readonly ms: number }
  | { readonly kind: 'caught-up'; readonly paths: number }
  | { readonly kind: 'warning'; readonly message: string }
  | { readonly kind: 'error'; readonly service?: string; readonly message: string };

export interface ActionContext {
  readonly sys: Sys;
  readonly clock: Clock;
  readonly effects: WatchEffects;
  readonly report: (r: WatchReport) => void;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Where a rule's files come from and go to: the host base, the container base, and one path's item. */
export function ruleBases(rule: CompiledRule): { hostBase: string; containerBase: string; item(abs: string): SyncItem | undefined } {
  if (rule.kind === 'file') {
    const hostBase = posix.dirname(rule.path);
    const containerBase = posix.dirname(rule.target!);
    const file = { hostRel: posix.basename(rule.path), containerRel: posix.basename(rule.target!) };
    return { hostBase, containerBase, item: (abs) => (abs === rule.path ? file : undefined) };
  }
  return {
    hostBase: rule.path,
    containerBase: rule.target!,
    item: (abs) => {
      const rel = inside(rule.path, abs);
      return rel === undefined || rel === '' ? undefined : { hostRel: rel, containerRel: rel };
    },
  };
}

/** Items handled between two yields to the event loop (the engine serves other requests meanwhile). */
const CHUNK = 256;

/**
 * Syncs `paths` (absolute host paths, per rule) into every running replica of `service`. With
 * `initial`, only what differs is copied and nothing is removed (initial_sync).
 */
export async function syncService(ctx: ActionContext, service: string, perRule: ReadonlyMap<CompiledRule, readonly string[]>, initial = false): Promise<void> {
  if (perRule.size === 0) return;
  const t0 = ctx.clock.now();
  let replicas: readonly Replica[];
  try { replicas = await ctx.effects.replicas(service); } catch (err) {
    ctx.report({ kind: 'error', service, message: `cannot list the containers of ${service}: ${message(err)}` });
    return;
  }
  const stats = emptyStats();
  const all: string[] = [];
  for (const paths of perRule.values()) all.push(...paths);
  let reached = 0;
  for (const replica of replicas) {
    let root: InRoot;
    let owner: Owner;
    try {
      root = ctx.effects.openRoot ? ctx.effects.openRoot(replica) : InRoot.openProcessRoot(ctx.sys, replica.pid);
      owner = replica.owner ?? processOwner(replica.pid);
    } catch (err) {
      ctx.report({ kind: 'error', service, message: `cannot sync into ${replica.containerId.slice(0, 12)}: ${message(err)}` });
      continue;
    }
    try {
      for (const [rule, paths] of perRule) {
        const bases = ruleBases(rule);
        // the host base gone (the rule's directory removed): every path is absent, so removed
        const host = HostTree.openOrEmpty(ctx.sys, bases.hostBase);
        let target: ContainerTarget | undefined;
        try {
          target = new ContainerTarget(root, bases.containerBase, owner);
          const items = paths.map((p) => bases.item(p)).filter((i): i is SyncItem => i !== undefined);
          for (let i = 0; i < items.length; i += CHUNK) {
            const chunk = items.slice(i, i + CHUNK);
            if (initial) initialSyncItems(target, host, chunk, stats); else syncItems(target, host, chunk, stats);
            await nextTurn();
          }
        } catch (err) {
          ctx.report({ kind: 'error', service, message: `sync of develop.watch[${rule.index}] into ${replica.containerId.slice(0, 12)}: ${message(err)}` });
        } finally {
          target?.close();
          host.close();
        }
      }
      reached++;
    } finally { root.close(); }
  }
  ctx.report({ kind: 'synced', service, replicas: reached, paths: all, stats, ms: ctx.clock.now() - t0, ...(initial ? { initial } : {}) });
}

/** Carries out one batch's plan. */
export async function applyPlan(ctx: ActionContext, plan: BatchPlan): Promise<void> {
  for (const s of plan.services) if (s.syncs.size > 0) await syncService(ctx, s.service, s.syncs);
  const failedBuilds = new Set<string>();
  for (const [key, services] of plan.builds) {
    const t0 = ctx.clock.now();
    try {
      await ctx.effects.rebuildService(key, services);
      ctx.report({ kind: 'built', buildKey: key, services, ms: ctx.clock.now() - t0 });
    } catch (err) {
      for (const s of services) failedBuilds.add(s);
      ctx.report({ kind: 'error', service: services[0], message: `rebuild of ${services.join(', ')} failed, the running containers are kept: ${message(err)}` });
    }
  }
  // a dependent follows a rebuilt service: when every build it follows failed, it is left alone
  const recreate = plan.recreate.filter((s) => !failedBuilds.has(s) && (plan.recreateFor.get(s)?.some((r) => !failedBuilds.has(r)) ?? true));
  if (recreate.length > 0) {
    const t0 = ctx.clock.now();
    try {
      await ctx.effects.recreate(recreate);
      ctx.report({ kind: 'recreated', services: recreate, ms: ctx.clock.now() - t0 });
    } catch (err) {
      ctx.report({ kind: 'error', message: `recreating ${recreate.join(', ')} failed: ${message(err)}` });
    }
  }
  for (const service of plan.restart) {
    const t0 = ctx.clock.now();
    try {
      await ctx.effects.restartService(service);
      ctx.report({ kind: 'restarted', service, ms: ctx.clock.now() - t0 });
    } catch (err) {
      ctx.report({ kind: 'error', service, message: `restart of ${service} failed: ${message(err)}` });
    }
  }
  for (const s of plan.services) {
    if (s.execs.length === 0) continue;
    let replicas: readonly Replica[] = [];
    try { replicas = await ctx.effects.replicas(s.service); } catch (err) {
      ctx.report({ kind: 'error', service: s.service, message: `cannot list the containers of ${s.service}: ${message(err)}` });
    }
    for (const replica of replicas) {
      for (const rule of s.execs) {
        const t0 = ctx.clock.now();
        try {
          await ctx.effects.execInService(s.service, replica, rule.exec!);
          ctx.report({ kind: 'executed', service: s.service, containerId: replica.containerId, command: rule.exec!.command, ms: ctx.clock.now() - t0 });
        } catch (err) {
          ctx.report({ kind: 'error', service: s.service, message: `exec ${rule.exec!.command.join(' ')} in ${replica.containerId.slice(0, 12)} failed: ${message(err)}` });
        }
      }
    }
  }
}
