// Pre-made network sandboxes (issue 13, docs/networking.md "The sandbox pool"): a bounded pool of
// network namespaces made off any container's critical path, each already what createSandbox
// would make for a bridge-mode container — a namespace with `lo` up, bind-mounted at
// <run>/network/netns/<sandbox id> — and already served by berth-netd (127.0.0.11:53 bound inside
// it, so a container's names are live after one reload of the resolver, and the resolver keeps
// running between two `run --rm`s instead of starting and exiting with each).
//
// A member is handed out once (take() removes it from the pool before it returns) and is the
// container's from then on: its sandbox record names the namespace file, and removeSandbox deletes
// it like any other. An idle member is a marker file <run>/network/pool/<sandbox id> (written
// before the namespace is made, removed once a sandbox record names the namespace or the member
// is deleted), a namespace file that no sandbox record names and an endpoint file
// `pool-<sandbox id>` that no sandbox owns: the facility's repair() deletes all three, so an engine
// SIGKILLed at any moment leaves nothing that the next engine's repair does not clean. stop()
// (engine stop) deletes the idle members.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Step } from './steps.js';
import type { NetdEndpoint } from './netd.js';

/** The largest pool BERTH_NETNS_POOL may ask for (each member is a namespace and two sockets). */
export const MAX_POOL = 16;

/** The pool size: BERTH_NETNS_POOL, else the warm slots' size (so BERTH_SLOTS=0 turns both off). */
export function poolSizeFromEnv(value: string | undefined, slots: number): number {
  if (value === undefined || value === '') return slots;
  if (!/^\d+$/.test(value) || Number(value) > MAX_POOL) throw new Error(`BERTH_NETNS_POOL must be a number from 0 to ${MAX_POOL}, not "${value}"`);
  return Number(value);
}

/** The resolver's endpoint id of an idle member (a container's endpoint is named by its 64-hex id). */
export const POOL_ENDPOINT_PREFIX = 'pool-';

export interface PoolMember {
  /** 64 hex digits: the namespace file's name */
  readonly id: string;
  /** <netnsDir>/<id> */
  readonly path: string;
}

export interface SandboxPoolOptions {
  /** how many idle members to keep; 0 disables the pool */
  readonly size: number;
  /** where namespace files live (<run>/network/netns) */
  readonly netnsDir: string;
  /** where the members' markers live (<run>/network/pool) */
  readonly markerDir: string;
  /** runs berth-net steps (the facility's, as a background run) */
  readonly net: (steps: readonly Step[], lenient?: boolean) => Promise<void>;
  /** resolves when no container's network work is in flight: a fill never runs beside one */
  readonly idle: () => Promise<void>;
  /** the resolver's endpoint files */
  readonly netd: {
    write(id: string, e: NetdEndpoint, start?: boolean): void;
    ensureRunning(): void;
    remove(id: string): void;
    settled(change: { readonly id: string; readonly present: boolean }): Promise<void>;
  };
  readonly log?: (line: string) => void;
}

export interface SandboxPoolStats {
  readonly size: number;
  readonly idle: number;
  /** sandboxes that took a member */
  readonly claimed: number;
}

export class SandboxPool {
  private readonly idle: PoolMember[] = [];
  private starting = 0;
  private claimed = 0;
  private warmed = false;
  private stopped = false;
  private refillQueued = false;
  /** the fill in progress: stop() waits for it, so no member is made after the engine's stop */
  private filling: Promise<void> | undefined;

  constructor(private readonly opts: SandboxPoolOptions) {}

  get size(): number {
    return this.opts.size;
  }

  stats(): SandboxPoolStats {
    return { size: this.opts.size, idle: this.idle.length, claimed: this.claimed };
  }

  /** Is this namespace file an idle member (repair leaves those alone)? */
  holds(path: string): boolean {
    return this.idle.some((m) => m.path === path);
  }

  /** Fill the pool from now on (in the background) and after every take. Idempotent. */
  warm(): void {
    this.warmed = true;
    this.refill();
  }

  /**
   * An idle member, now the caller's alone (it leaves the pool before this returns, on the one
   * thread that hands members out, so no two callers can get one member); undefined when the
   * pool is empty (the caller makes a namespace of its own). Schedules a refill.
   */
  take(): PoolMember | undefined {
    const m = this.idle.shift();
    if (m) this.claimed++;
    this.refill();
    return m;
  }

  private refill(): void {
    if (!this.warmed || this.stopped || this.refillQueued || this.opts.size === 0) return;
    this.refillQueued = true;
    // after the current turn: the claim that asked goes on first; the berth-net process itself
    // runs on the spawner thread (runCaptured), never holding the event loop
    setImmediate(() => {
      this.refillQueued = false;
      if (this.filling || this.stopped) return;
      this.filling = this.opts.idle().then(() => this.fill()).then((ok) => {
        this.filling = undefined;
        if (ok && this.idle.length + this.starting < this.opts.size) this.refill();
      });
    });
  }

  /** Makes the missing members in one berth-net run; false when it failed (then the next take tries again). */
  private async fill(): Promise<boolean> {
    const missing = this.opts.size - this.idle.length - this.starting;
    if (missing <= 0 || this.stopped) return true;
    const made: PoolMember[] = [];
    for (let i = 0; i < missing; i++) {
      const id = randomBytes(32).toString('hex');
      made.push({ id, path: join(this.opts.netnsDir, id) });
    }
    this.starting += made.length;
    try {
      // intent first: a crash from here leaves markers that tell repair what these files are
      mkdirSync(this.opts.markerDir, { recursive: true, mode: 0o700 });
      for (const m of made) writeFileSync(join(this.opts.markerDir, m.id), '');
      mkdirSync(this.opts.netnsDir, { recursive: true, mode: 0o700 });
      await this.opts.net(made.map((m) => ['netns_create', m.path]));
    } catch (err) {
      this.opts.log?.(`network sandbox pool: could not make namespaces: ${(err as Error).message}`);
      // one that was made before the failure is a file no record names: deleted here, or by repair
      await this.opts.net(made.map((m) => ['netns_delete', m.path]), true).then(() => made.forEach((m) => this.unmark(m.id)), () => { /* repair will */ });
      return false;
    } finally {
      this.starting -= made.length;
    }
    if (this.stopped) {
      await this.remove(made);
      return false;
    }
    for (const m of made) {
      // the resolver binds 127.0.0.11:53 inside it now, not when a container is waiting for it
      this.opts.netd.write(POOL_ENDPOINT_PREFIX + m.id, { netns: m.path, upstreams: [], search: [], networks: [], holds: [], proxies: [] }, false);
      this.idle.push(m);
    }
    this.opts.netd.ensureRunning();
    return true;
  }

  /** The member is a sandbox's now (its record names the namespace), or gone: no longer the pool's. */
  unmark(id: string): void {
    rmSync(join(this.opts.markerDir, id), { force: true });
  }

  private async remove(members: readonly PoolMember[]): Promise<void> {
    if (members.length === 0) return;
    for (const m of members) this.opts.netd.remove(POOL_ENDPOINT_PREFIX + m.id);
    await this.opts.net(members.map((m) => ['netns_delete', m.path]), true);
    for (const m of members) this.unmark(m.id);
    // the resolver let go of them (and, with nothing else to serve, exited) before this returns
    await this.opts.netd.settled({ id: POOL_ENDPOINT_PREFIX + members[members.length - 1]!.id, present: false });
  }

  /** Engine stop: no more fills; every idle member is deleted (namespace, resolver sockets). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.filling;
    const members = this.idle.splice(0);
    await this.remove(members);
  }
}
