// Warm container slots (issue 13, docs/slots.md): a small pool of `berth-shim slot` processes,
// started ahead of any container, each past its own start-up (Node's fork and exec of it, its
// sealed re-exec) and waiting on a socket for a claim. A start that finds one claims it with one
// sendmsg — the launch file and the descriptors to use as stdio — and the slot becomes that
// start's `berth-shim run [--detach] <launch>`, same pid, same argv as a cold one, so nothing
// downstream (observe(), the exit records, stop, repair) can tell the difference.
//
// What it leaves: an unclaimed slot holds no cgroup, mount, namespace or file, only a process and
// our end of its socket. Closing our end (stop(), or the kernel when the engine dies however it
// dies) is its EOF: it exits 0 by itself. So an engine SIGKILLed at any point leaves no stray slot
// for the next one to repair.
import { Socket } from 'node:net';
import { callerSys, type CallerSys } from '../sys/caller.js';
import { spawnKept, type Exit, type KeptProcess, type SpawnedProcess, type StdioSlot } from '../sys/spawn.js';

/** BERTH_SLOTS when it is not set: enough for `run` after `run`, and for an `up` to begin warm. */
export const DEFAULT_SLOTS = 2;
/** The most BERTH_SLOTS may ask for: each slot is a process (~1 MB RSS) kept for nothing while idle. */
export const MAX_SLOTS = 16;

export interface SlotPoolOptions {
  readonly shimPath: string;
  readonly env: NodeJS.ProcessEnv;
  /** how many idle slots to keep; 0 disables the pool */
  readonly size: number;
  /** named in every slot's argv (`berth-shim slot <root>`): whose slot a process is */
  readonly root: string;
  /** the socket calls (the real ones by default) */
  readonly sys?: Pick<CallerSys, 'socketPair' | 'sendWithFds' | 'close'>;
  /** told about a slot that could not be started (the pool stops refilling after a failure until the next claim) */
  readonly log?: (line: string) => void;
}

/** The pool size from BERTH_SLOTS: absent → DEFAULT_SLOTS; a bad value throws (the engine refuses to start). */
export function slotsFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SLOTS;
  if (!/^\d+$/.test(value) || Number(value) > MAX_SLOTS) throw new Error(`BERTH_SLOTS must be a number from 0 to ${MAX_SLOTS}, not "${value}"`);
  return Number(value);
}

interface Slot {
  readonly process: KeptProcess;
  /** our ends of the slot's stdin (the control socket), stdout and stderr: unix stream sockets */
  readonly control: number;
  readonly out: number;
  readonly err: number;
  gone: boolean;
}

/** The result of a detached claim: what runCaptured gives for a cold `run --detach`. */
export type DetachedResult = Exit & { readonly stdout: string; readonly stderr: string };

export interface PoolStats {
  readonly size: number;
  readonly idle: number;
  readonly pids: readonly number[];
  readonly claimed: number;
}

export class SlotPool {
  private readonly idle: Slot[] = [];
  private starting = 0;
  private stopped = false;
  private refillQueued = false;
  /** the fill in progress, if any: stop() waits for it, so no slot is born after the engine's stop */
  private filling: Promise<void> | undefined;
  private claimed = 0;
  /** set by warm(): until then (a runtime used without an engine, in tests) no slot is ever spawned */
  private warmed = false;
  private readonly sys: Pick<CallerSys, 'socketPair' | 'sendWithFds' | 'close'>;

  constructor(private readonly opts: SlotPoolOptions) {
    this.sys = opts.sys ?? callerSys();
  }

  get size(): number {
    return this.opts.size;
  }

  stats(): PoolStats {
    return { size: this.opts.size, idle: this.idle.length, pids: this.idle.map((s) => s.process.pid), claimed: this.claimed };
  }

  /**
   * Fills the pool in the background (after the current turn of the event loop: a spawn forks
   * the engine, which must not hold up whatever asked). Idempotent.
   */
  /** The engine is up: fill the pool, and refill it after every claim from now on. */
  warm(): void {
    this.warmed = true;
    this.refill();
  }

  refill(): void {
    if (!this.warmed || this.stopped || this.refillQueued || this.opts.size === 0) return;
    this.refillQueued = true;
    setImmediate(() => {
      this.refillQueued = false;
      // a fill in progress sees the claim in its loop; one that has just ended is followed up below
      if (this.filling) return;
      this.filling = this.fill().then((ok) => {
        this.filling = undefined;
        if (ok && this.idle.length + this.starting < this.opts.size) this.refill();
      });
    });
  }

  /** Spawns until the pool is full; false when a spawn failed (then only the next claim tries again). */
  private async fill(): Promise<boolean> {
    while (!this.stopped && this.idle.length + this.starting < this.opts.size) {
      this.starting++;
      try {
        const slot = await this.spawnSlot();
        if (this.stopped) this.release(slot); else this.idle.push(slot);
      } catch (err) {
        this.opts.log?.(`warm slots: could not start one: ${(err as Error).message}`);
        return false;
      } finally {
        this.starting--;
      }
    }
    return true;
  }

  /**
   * One slot, spawned on the spawner thread (spawnKept): the fork of the engine never holds up the
   * event loop, so a refill behind a claim costs the claimed start nothing. Its three standard
   * descriptors are socket pairs of ours (as Node's own 'pipe' would be), made here so that the
   * thread that spawns and the thread that uses them need not be the same.
   */
  private async spawnSlot(): Promise<Slot> {
    const pairs: (readonly [number, number])[] = [];
    try {
      for (let i = 0; i < 3; i++) pairs.push(this.sys.socketPair());
    } catch (err) {
      for (const [a, b] of pairs) { this.sys.close(a); this.sys.close(b); }
      throw err;
    }
    let process: KeptProcess;
    try {
      process = await spawnKept(this.opts.shimPath, ['slot', this.opts.root], this.opts.env, [pairs[0]![1], pairs[1]![1], pairs[2]![1]]);
    } catch (err) {
      for (const [a] of pairs) this.sys.close(a);
      throw err;
    } finally {
      for (const [, b] of pairs) this.sys.close(b);
    }
    const slot: Slot = { process, control: pairs[0]![0], out: pairs[1]![0], err: pairs[2]![0], gone: false };
    // an idle slot that dies (killed from outside) leaves the pool; a claimed one is its start's
    void process.exited.then(() => {
      slot.gone = true;
      const at = this.idle.indexOf(slot);
      if (at >= 0) {
        this.idle.splice(at, 1);
        this.release(slot);
      }
    });
    return slot;
  }

  /** A live idle slot, taken out of the pool (which refills behind it); undefined when there is none. */
  private take(): Slot | undefined {
    let slot: Slot | undefined;
    while ((slot = this.idle.shift()) !== undefined && slot.gone) { /* died meanwhile: its exit closed it */ }
    this.refill();
    return slot;
  }

  /**
   * Sends the claim. False when the slot is gone (its exit raced the claim): the caller then takes
   * another or starts cold; nothing of the start has happened yet either way.
   */
  private claim(slot: Slot, mode: 'attached' | 'detached', stdio: readonly StdioSlot[], launchFile: string): boolean {
    const fields: string[] = [];
    const fds: number[] = [];
    for (const s of stdio) {
      if (typeof s === 'number') { fields.push('fd'); fds.push(s); } else fields.push(s === 'pipe' ? 'keep' : 'null');
    }
    if (launchFile.includes('\n') || launchFile.includes('\t')) throw new Error(`launch file path with a TAB or newline: ${JSON.stringify(launchFile)}`);
    try {
      this.sys.sendWithFds(slot.control, Buffer.from(`claim\t${mode}\t${fields.join('\t')}\t${launchFile}\n`), fds);
    } catch {
      this.release(slot);
      return false;
    }
    this.claimed++;
    return true;
  }

  /**
   * `berth-shim run --detach <launch>` through a slot: resolves as runCaptured would for a cold
   * one (exit code 0 once started, else the shim's code and message). Undefined when no slot was
   * free: the caller starts cold.
   */
  async runDetached(launchFile: string): Promise<DetachedResult | undefined> {
    for (let slot = this.take(); slot !== undefined; slot = this.take()) {
      if (!this.claim(slot, 'detached', ['pipe', 'pipe', 'pipe'], launchFile)) continue;
      keepAliveUntil(slot.process.exited);
      // the first shim process only reports; its stdin is not read: our end closes now
      this.sys.close(slot.control);
      const [stdout, stderr, exit] = await Promise.all([readAll(slot.out), readAll(slot.err), slot.process.exited]);
      return { ...exit, stdout, stderr };
    }
    return undefined;
  }

  /**
   * `berth-shim run <launch>` (attached) through a slot, with `stdio` as spawnProcess takes it:
   * a descriptor is sent to the slot, 'ignore' is /dev/null, 'pipe' is the slot's own (its
   * stdout and stderr pipes; for stdin our end of its socket, which then carries the container's
   * input). Undefined when no slot was free.
   */
  runAttached(launchFile: string, stdio: readonly [StdioSlot, StdioSlot, StdioSlot]): SpawnedProcess | undefined {
    for (let slot = this.take(); slot !== undefined; slot = this.take()) {
      if (!this.claim(slot, 'attached', stdio, launchFile)) continue;
      const p = slot.process;
      keepAliveUntil(p.exited);
      // what the claim did not keep is closed in the shim: our ends of it go too
      let stdin: NodeJS.WritableStream | null = null;
      if (stdio[0] === 'pipe') stdin = new Socket({ fd: slot.control, readable: false, writable: true });
      else this.sys.close(slot.control);
      const stdout = stdio[1] === 'pipe' ? new Socket({ fd: slot.out, readable: true, writable: false }) : null;
      if (!stdout) this.sys.close(slot.out);
      const stderr = stdio[2] === 'pipe' ? new Socket({ fd: slot.err, readable: true, writable: false }) : null;
      if (!stderr) this.sys.close(slot.err);
      let exited = false;
      void p.exited.then(() => { exited = true; });
      return {
        pid: p.pid,
        stdin,
        stdout,
        stderr,
        exited: p.exited,
        kill: (signal) => {
          if (exited) return false;
          try { return process.kill(p.pid, signal); } catch { return false; }
        },
      };
    }
    return undefined;
  }

  /** The engine's stop: every idle slot is told EOF and waited for (a few ms each). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.filling; // a slot spawned meanwhile is released as it arrives
    const slots = this.idle.splice(0);
    for (const s of slots) this.release(s);
    await Promise.all(slots.map((s) => s.process.exited));
  }

  private release(slot: Slot): void {
    this.sys.close(slot.control);
    this.sys.close(slot.out);
    this.sys.close(slot.err);
  }
}

/**
 * A claimed slot's exit comes from the spawner thread, which does not keep the event loop alive
 * (it is unref'd between spawns): whoever awaits that exit must, as a child process's handle does.
 */
function keepAliveUntil(exited: Promise<unknown>): void {
  const timer = setInterval(() => undefined, 2 ** 30);
  void exited.then(() => clearInterval(timer));
}

/** Everything a socket end of ours carries until EOF, as text; the descriptor is closed after. */
function readAll(fd: number): Promise<string> {
  return new Promise((resolve) => {
    const s = new Socket({ fd, readable: true, writable: false });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (t: string) => { text += t; });
    s.on('error', () => resolve(text));
    s.on('close', () => resolve(text));
  });
}
