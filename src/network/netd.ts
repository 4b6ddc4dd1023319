// berth-netd: the embedded DNS resolver and port keeper (native/cmd/netd.c). It is its own
// process so that names keep resolving and published ports stay reserved while no engine runs.
// It is fed through files: one endpoint file per sandbox in <netd>/endpoints/, written
// atomically; it follows the directory with inotify. This module renders those files (pure) and
// starts the daemon when none runs.
import { mkdirSync, readFileSync, renameSync, rmSync, readdirSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic.js';
import { processAlive, spawnDetached } from '../sys/spawn.js';

export const NETD_FORMAT = 1;

export interface NetdEndpoint {
  /** the namespace the resolver listens in (127.0.0.11:53, UDP and TCP) */
  readonly netns: string;
  /** forwarders for names that are not berth's; none: refuse them (internal-only containers) */
  readonly upstreams: readonly string[];
  /** the container's search domains: "<berth name>.<search>" is answered as "<berth name>" */
  readonly search: readonly string[];
  /** per network: the names this container answers to there and its addresses there */
  readonly networks: readonly { readonly id: string; readonly names: readonly string[]; readonly addresses: readonly string[] }[];
  /** host ports to hold bound, so that nothing else takes them while they are published */
  readonly holds: readonly { readonly protocol: string; readonly hostIp: string; readonly family: 4 | 6; readonly port: number }[];
  /** IPv6 host addresses forwarded by a userland proxy to the container's IPv4 address */
  readonly proxies: readonly { readonly protocol: string; readonly hostIp: string; readonly port: number; readonly target: string; readonly targetPort: number }[];
}

/** The endpoint file: `berth-netd 1`, then one TAB-separated record per line. */
export function renderEndpoint(e: NetdEndpoint): string {
  const lines = [`berth-netd\t${NETD_FORMAT}`, `netns\t${e.netns}`];
  for (const u of e.upstreams) lines.push(`upstream\t${u}`);
  for (const s of e.search) lines.push(`search\t${s.toLowerCase()}`);
  for (const n of e.networks) {
    lines.push(`member\t${n.id}`);
    for (const name of n.names) lines.push(`name\t${n.id}\t${name.toLowerCase()}`);
    for (const a of n.addresses) lines.push(`addr\t${n.id}\t${a}`);
  }
  for (const h of e.holds) lines.push(`hold\t${h.protocol}\t${h.hostIp === '' ? (h.family === 4 ? '0.0.0.0' : '::') : h.hostIp}\t${h.port}`);
  for (const p of e.proxies) lines.push(`proxy\t${p.protocol}\t${p.hostIp === '' ? '::' : p.hostIp}\t${p.port}\t${p.target}\t${p.targetPort}`);
  for (const l of lines) if (/[\n]/.test(l) || l.split('\t').some((f) => f === '')) throw new Error(`malformed netd record ${JSON.stringify(l)}`);
  return lines.join('\n') + '\n';
}

export class Netd {
  private readonly endpoints: string;

  constructor(private readonly dir: string, private readonly bin: string, private readonly env: NodeJS.ProcessEnv) {
    this.endpoints = join(dir, 'endpoints');
  }

  /** Writes an endpoint file and starts the daemon unless one runs (`start` false: the caller starts it once after several writes). */
  write(containerId: string, e: NetdEndpoint, start = true): void {
    mkdirSync(this.endpoints, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(this.endpoints, containerId), renderEndpoint(e), { durable: false });
    if (start) this.ensureRunning();
  }

  remove(containerId: string): void {
    rmSync(join(this.endpoints, containerId), { force: true });
  }

  /** Gives an endpoint file another id in one step (a file already gone is left so). */
  rename(from: string, to: string): void {
    try {
      renameSync(join(this.endpoints, from), join(this.endpoints, to));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  list(): string[] {
    try { return readdirSync(this.endpoints).filter((n) => !n.startsWith('.')); } catch { return []; }
  }

  /** the last daemon pid() found, to wait for its exit once its pid file is gone */
  private lastPid?: number;

  /** The daemon's pid when one runs for this directory. */
  pid(): number | undefined {
    const pid = this.readPid();
    if (pid !== undefined) this.lastPid = pid;
    return pid;
  }

  private readPid(): number | undefined {
    let pid: number;
    try { pid = Number(readFileSync(join(this.dir, 'netd.pid'), 'utf8').trim()); } catch { return undefined; }
    if (!(pid > 0) || !processAlive(pid)) return undefined;
    let cmdline = '';
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return undefined; }
    return cmdline.split('\0').includes(this.dir) ? pid : undefined;
  }

  /**
   * Starts the daemon unless one runs. It exits by itself once no endpoint file is left (after
   * removing its pid file and looking once more, so an endpoint written meanwhile either keeps it
   * or finds no pid file and starts a new one). It writes its pid file once it is listening.
   */
  ensureRunning(): void {
    if (this.pid() !== undefined) return;
    mkdirSync(this.endpoints, { recursive: true, mode: 0o700 });
    spawnDetached(this.bin, [this.dir], this.env, join(this.dir, 'netd.log'));
  }

  /**
   * Waits until the daemon has picked up the endpoint files: it rewrites `serving` (the ids it
   * serves) after every reload. With `change`, only that container matters, so that concurrent
   * writers (an `up` creating many containers at once) never wait on each other's files:
   * - present: its id is served by a reload that ended after its file was written;
   * - absent: its id is no longer served; when no file is left at all, the daemon (which then
   *   exits by itself) is gone too, so whoever removed the last container leaves no process.
   * Without `change` (repair), every file present at the call is served. Woken by inotify on the
   * directory, with a slow look now and then as a backstop.
   */
  async settled(change?: { readonly id: string; readonly present: boolean }, timeoutMs = 10_000): Promise<void> {
    const want = change ? (change.present ? [change.id] : []) : this.list();
    const written = change?.present ? this.mtime(join(this.endpoints, change.id)) : 0n;
    const daemon = this.pid() ?? this.lastPid;
    const done = (): boolean => {
      let seen: string[] = [];
      let at = 0n;
      try {
        seen = readFileSync(join(this.dir, 'serving'), 'utf8').trim().split(',').filter((x) => x !== '');
        at = this.mtime(join(this.dir, 'serving'));
      } catch { /* not yet */ }
      const served = new Set(seen);
      if (change && !change.present) {
        if (served.has(change.id) && this.pid() !== undefined) return false;
        return this.list().length > 0 || daemon === undefined || !processAlive(daemon);
      }
      if (want.length === 0) return true;
      // a file removed meanwhile (by another caller) is not waited for
      const still = new Set(this.list());
      return this.pid() !== undefined && at >= written && want.every((id) => served.has(id) || !still.has(id));
    };
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => { watcher.close(); clearInterval(backstop); clearTimeout(timer); if (err) reject(err); else resolve(); };
      const check = (): void => { if (done()) finish(); };
      const watcher = watch(this.dir, check);
      // a daemon that died or never started writes nothing: look now and then as well
      const backstop = setInterval(() => { if (this.pid() === undefined && this.list().length > 0) this.ensureRunning(); check(); }, 100);
      const what = change ? `${change.present ? 'serve' : 'stop serving'} ${change.id.slice(0, 12)}` : `serve ${want.length} endpoint(s)`;
      const timer = setTimeout(() => finish(new Error(`berth-netd did not ${what} within ${timeoutMs / 1000} s: see ${join(this.dir, 'netd.log')}`)), timeoutMs);
      check();
    });
  }

  /** A file's modification time in ns (0 when it is gone). */
  private mtime(path: string): bigint {
    try { return statSync(path, { bigint: true }).mtimeNs; } catch { return 0n; }
  }
}
