// The network facility's test bench: a facility with names unique to this test run (bridges,
// veths, nftables table), real containers started through src/runtime in the sandboxes it
// prepares, a fake upstream DNS server on a loopback address, and snapshots of the host's links,
// addresses, routes and rules to compare before and after. All traffic stays on this machine.
import { mkdtempSync, readFileSync, writeFileSync, rmSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { ContainerRuntime } from '../../src/runtime/container.js';
import { hostCgroupDriver } from '../../src/runtime/cgroups/detect.js';
import { newContainerId } from '../../src/runtime/names.js';
import { observe } from '../../src/runtime/state.js';
import { ImageStore } from '../../src/images/store.js';
import { lazySys } from '../../src/sys/index.js';
import { NetworkFacility, type NetworkMode, type ConnectRequest } from '../../src/network/facility.js';
import { makeBusyboxRootfs, berthOk, repoRoot, type TestRoots } from './env.js';

export const nativeBuild = join(repoRoot, 'native', 'build');

/** Names of this run: `bt<hex>`/`vt<hex>` links and the `berth_test_<hex>` table. */
export function runNames(): { bridgePrefix: string; vethPrefix: string; table: string; tag: string } {
  const tag = randomBytes(2).toString('hex');
  return { bridgePrefix: `bt${tag}`, vethPrefix: `vt${tag}`, table: `berth_test_${tag}`, tag };
}

/** Interfaces and tables of *other* concurrent runs are left out of snapshots. */
function foreign(name: string, tag: string): boolean {
  const m = /^(?:[bv]t|berth_test_)([0-9a-f]{4})/.exec(name);
  return m !== null && m[1] !== tag;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `ip -d link`, `ip addr`, `ip route`, `ip -6 route`, `nft list ruleset`, minus other runs' objects. */
export function hostSnapshot(tag: string): string {
  const blocks = (text: string): string => {
    const out: string[] = [];
    let keep = true;
    for (const line of text.split('\n')) {
      const head = /^\d+: ([^:@]+)/.exec(line);
      if (head) keep = !foreign(head[1]!, tag);
      if (keep) out.push(line.replace(/(valid|preferred)_lft \d+sec/g, '$1_lft N'));
    }
    return out.join('\n');
  };
  const routes = (text: string): string => text.split('\n').filter((l) => !/dev ([bv]t[0-9a-f]{4}\S*)/.test(l) || !foreign(/dev (\S+)/.exec(l)![1]!, tag)).join('\n');
  const nft = (text: string): string => {
    const out: string[] = [];
    let keep = true;
    for (const line of text.split('\n')) {
      const t = /^table \S+ (\S+)/.exec(line);
      if (t) keep = !foreign(t[1]!, tag);
      if (keep) out.push(line);
    }
    return out.join('\n');
  };
  return [
    '## ip -d link', blocks(run('ip', ['-d', 'link'])),
    '## ip addr', blocks(run('ip', ['addr'])),
    '## ip route', routes(run('ip', ['route'])),
    '## ip -6 route', routes(run('ip', ['-6', 'route'])),
    '## nft list ruleset', nft(run('nft', ['list', 'ruleset'])),
  ].join('\n');
}

/** A DNS server on 127.x.y.z:53 standing in for the host's upstream resolver (never a real one). */
export class FakeUpstream {
  readonly address = `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  private socket?: Socket;
  /** names asked, lower case */
  readonly asked: string[] = [];

  /** `records`: exact names → IPv4; `wildcard`: a domain whose every subdomain answers `wildcardIp`. */
  constructor(private readonly records: Record<string, string>, private readonly wildcard?: { domain: string; ip: string }) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      this.socket = s;
      s.on('message', (msg, rinfo) => s.send(this.answer(msg), rinfo.port, rinfo.address));
      s.once('error', reject);
      s.bind(53, this.address, () => resolve());
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
  }

  private answer(q: Buffer): Buffer {
    let at = 12;
    const labels: string[] = [];
    while (q[at]! > 0) { labels.push(q.subarray(at + 1, at + 1 + q[at]!).toString('latin1')); at += q[at]! + 1; }
    const qend = at + 5;
    const name = labels.join('.').toLowerCase();
    const qtype = q.readUInt16BE(at + 1);
    this.asked.push(name);
    let ip = this.records[name];
    if (!ip && this.wildcard && name.endsWith(`.${this.wildcard.domain}`)) ip = this.wildcard.ip;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(q.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | (ip ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    const answers = ip && qtype === 1 ? 1 : 0;
    header.writeUInt16BE(answers, 6);
    const parts = [header, q.subarray(12, qend)];
    if (answers) {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(1, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(60, 6); rr.writeUInt16BE(4, 10);
      ip!.split('.').forEach((b, i) => rr.writeUInt8(Number(b), 12 + i));
      parts.push(rr);
    }
    return Buffer.concat(parts);
  }
}

export interface Bench {
  readonly facility: NetworkFacility;
  readonly runtime: ContainerRuntime;
  readonly images: ImageStore;
  readonly names: ReturnType<typeof runNames>;
  readonly resolvConf: string;
  /** containers this bench started, removed by `removeAll` */
  readonly containers: Set<string>;
}

export function makeFacility(roots: TestRoots, names: ReturnType<typeof runNames>, resolvConf: string): NetworkFacility {
  return new NetworkFacility({
    stateDir: join(roots.root, 'network'), runDir: join(roots.run, 'network'),
    netBin: join(nativeBuild, 'berth-net'), netdBin: join(nativeBuild, 'berth-netd'),
    table: names.table, bridgePrefix: names.bridgePrefix, vethPrefix: names.vethPrefix,
    hostResolvConf: resolvConf, env: roots.env,
  });
}

/** The busybox image plus the probe, imported as `ref`. */
export async function importNetImage(roots: TestRoots, ref: string): Promise<void> {
  const { c: createTar } = await import('tar');
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-bbnet-'));
  try {
    makeBusyboxRootfs(rootfs);
    copyFileSync(join(nativeBuild, 'berth-probe'), join(rootfs, 'bin', 'probe'));
    chmodSync(join(rootfs, 'bin', 'probe'), 0o755);
    mkdirWww(rootfs);
    const file = join(roots.dir, 'bbnet.tar');
    await createTar({ file, cwd: rootfs, portable: false }, ['.']);
    await berthOk(roots, ['import', file, ref]);
    rmSync(file, { force: true });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

function mkdirWww(rootfs: string): void {
  spawnSync('mkdir', ['-p', join(rootfs, 'www')]);
  writeFileSync(join(rootfs, 'www', 'index.html'), 'ahoy from berth\n');
}

export function makeBench(roots: TestRoots, names: ReturnType<typeof runNames>, upstream: string, search = 'corp.example'): Bench {
  const resolvConf = join(roots.dir, 'host-resolv.conf');
  writeFileSync(resolvConf, `nameserver ${upstream}\nsearch ${search}\n`);
  const runtime = new ContainerRuntime({
    root: roots.root, cgroupParent: roots.cgroupParent, cgroups: hostCgroupDriver(),
    shimPath: join(nativeBuild, 'berth-shim'), initPath: join(nativeBuild, 'berth-init'),
    sys: lazySys, env: roots.env, autoRemoveCommand: ['true'],
  });
  return { facility: makeFacility(roots, names, resolvConf), runtime, images: new ImageStore({ root: roots.root, sys: lazySys }), names, resolvConf, containers: new Set() };
}

export interface ContainerSpec {
  readonly image: string;
  readonly args: readonly string[];
  readonly hostname?: string;
  readonly mode?: NetworkMode;
  readonly networks?: readonly (Partial<ConnectRequest> & { readonly network: string })[];
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOptions?: readonly string[];
  readonly extraHosts?: readonly string[];
}

/** Creates the sandbox, connects it, creates the container in it and starts it (detached). */
export async function startContainer(b: Bench, spec: ContainerSpec): Promise<string> {
  const id = newContainerId();
  const hostname = spec.hostname ?? id.slice(0, 12);
  b.containers.add(id);
  await b.facility.createSandbox({
    containerId: id, mode: spec.mode ?? { kind: 'bridge' }, hostname,
    ...(spec.dns ? { dns: spec.dns } : {}), ...(spec.dnsSearch ? { dnsSearch: spec.dnsSearch } : {}),
    ...(spec.dnsOptions ? { dnsOptions: spec.dnsOptions } : {}), ...(spec.extraHosts ? { extraHosts: spec.extraHosts } : {}),
  });
  for (const n of spec.networks ?? []) await b.facility.connect(id, n.network, { names: n.names ?? [], ...n });
  const files = b.facility.containerFiles(id);
  const image = b.images.resolve(spec.image);
  const topFirst = [...image.layers].reverse();
  const netns = b.facility.sandbox(id).netns;
  await b.runtime.create({
    id, imageId: image.id, imageRef: spec.image,
    lowerLinks: topFirst.map((l) => l.link), lowerDirs: topFirst.map((l) => join(b.images.overlayRoot(), l.cacheId, 'diff')),
    process: { args: [...spec.args], env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], cwd: '/', user: '', cmd: [...spec.args], entrypoint: [] },
    hostname, tty: false, openStdin: false, init: false, autoRemove: false, limits: {},
    network: { ...(netns !== undefined ? { netns } : {}), hosts: files.hosts, resolvConf: files.resolvConf },
  });
  await b.runtime.startDetached(id);
  return id;
}

/** Waits for the container to exit (deadline) and returns its exit code and output. */
export async function waitExit(b: Bench, id: string, timeoutMs = 30_000): Promise<{ code: number; output: string }> {
  const deadline = Date.now() + timeoutMs;
  const bundle = b.runtime.bundle(id);
  for (;;) {
    const o = observe(bundle);
    if (o.status === 'exited') {
      const lines = readFileSync(join(bundle, `${id}-json.log`), 'utf8').split('\n').filter((l) => l !== '');
      return { code: o.exited!.exitCode, output: lines.map((l) => (JSON.parse(l) as { log: string }).log).join('') };
    }
    if (Date.now() > deadline) throw new Error(`container ${id.slice(0, 12)} did not exit in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a one-shot container to its end. */
export async function runToEnd(b: Bench, spec: ContainerSpec): Promise<{ code: number; output: string }> {
  const id = await startContainer(b, spec);
  return waitExit(b, id);
}

/** Polls until `check` returns true; the last error or `what` when it never does. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function removeContainer(b: Bench, id: string): Promise<void> {
  try { await b.runtime.remove(id, { force: true }); } catch { /* never created */ }
  await b.facility.removeSandbox(id);
  b.containers.delete(id);
}

export async function removeAll(b: Bench): Promise<void> {
  for (const id of [...b.containers]) await removeContainer(b, id);
}

export function ipOf(b: Bench, id: string, network: string): string {
  const a = b.facility.sandbox(id).attachments.find((x) => x.network === network);
  if (!a) throw new Error(`${id.slice(0, 12)} is not on ${network}`);
  return a.ipv4.split('/')[0]!;
}

export function readIpForward(): string {
  return readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
}

export function writeIpForward(v: string): void {
  writeFileSync('/proc/sys/net/ipv4/ip_forward', v);
}

/** Waits until something accepts TCP connections on host:port (from the host's namespace). */
export async function waitTcp(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const { createConnection } = await import('node:net');
  await eventually(`${host}:${port} accepts connections`, () => new Promise<boolean>((resolve) => {
    const s = createConnection({ host, port, timeout: 1000 });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  }), timeoutMs);
}

/** A shell prelude for container scripts: `retry CMD…` runs CMD until it succeeds (10 s at most). */
export const RETRY = 'retry() { i=0; until "$@"; do i=$((i+1)); [ $i -ge 100 ] && return 1; sleep 0.1; done; }; ';
