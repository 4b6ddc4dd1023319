// The network facility's costs on this machine: one container attachment (berth-net against the
// same steps as `ip` commands), one rule-set replacement (nft), DNS answer latency from inside a
// container, and TCP throughput through a published port, the IPv6 userland proxy and between
// two containers, each against plain loopback on the host. Not a test: it asserts nothing.
//   npm run bench:network            (as root; BENCH_RUNS=N rounds, default 20)
// All traffic stays on this machine: loopback and the bench's own container addresses.
import { spawnSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { makeRoots, berthOk, cleanupRoots } from '../test/helpers/env.js';
import {
  runNames, FakeUpstream, makeBench, importNetImage, startContainer, runToEnd, removeAll, removeContainer, ipOf,
  nativeBuild, readIpForward, writeIpForward, eventually,
} from '../test/helpers/network.js';
import { newContainerId } from '../src/runtime/names.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x: number, d = 1): string => x.toFixed(d);

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  const roots = makeRoots();
  const names = runNames();
  const ipForward = readIpForward();
  const upstream = new FakeUpstream({ 'outside.example': '192.0.2.200' });
  await upstream.start();
  await importNetImage(roots, 'bbnet');
  const b = makeBench(roots, names, upstream.address);
  const f = b.facility;
  const rows: string[] = [];
  try {
    const net = await f.createNetwork({ name: 'bench' });

    // ── attachment: sandbox + connect + records, then removal (a container keeps berth-netd up,
    // as any running stack does) ──
    await startContainer(b, { image: 'bbnet', args: ['sleep', '600'], networks: [{ network: 'bench', names: ['keeper'] }] });
    const attach: number[] = [];
    const sandboxOnly: number[] = [];
    const detach: number[] = [];
    for (let i = 0; i < runs; i++) {
      const id = newContainerId();
      const t0 = process.hrtime.bigint();
      await f.createSandbox({ containerId: id, mode: { kind: 'bridge' }, hostname: 'x' });
      sandboxOnly.push(ms(t0));
      await f.connect(id, 'bench', { names: ['svc'] });
      attach.push(ms(t0));
      const t1 = process.hrtime.bigint();
      await f.removeSandbox(id);
      detach.push(ms(t1));
    }
    // the same steps as `ip` commands, one process each (the alternative to berth-net)
    const ipAttach: number[] = [];
    const gw = net.ipv4.gateway;
    const prefix = net.ipv4.subnet.split('/')[1];
    for (let i = 0; i < runs; i++) {
      const ns = `${names.vethPrefix}ns${i}`;
      const veth = `${names.vethPrefix}ip${i}`;
      const t0 = process.hrtime.bigint();
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh('ip', ['link', 'set', veth, 'master', net.bridge]);
      sh('ip', ['link', 'set', veth, 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', '02:42:0a:00:00:09']);
      sh('ip', ['-n', ns, 'addr', 'add', `${gw.replace(/\.1$/, '.250')}/${prefix}`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', gw]);
      ipAttach.push(ms(t0));
      sh('ip', ['link', 'del', veth]);
      sh('ip', ['netns', 'del', ns]);
    }
    // one batch of the same steps through berth-net, without the facility's bookkeeping
    const netOnly: number[] = [];
    for (let i = 0; i < runs; i++) {
      const path = join(roots.run, `bench-ns-${i}`);
      const veth = `${names.vethPrefix}bn${i}`;
      const steps = [
        `netns_create\t${path}`, `veth\t${veth}\teth0\t${path}\t0\t02:42:0a:00:00:09`, `master\t${veth}\t${net.bridge}`, `up\t${veth}`,
        `ns\t${path}`, `addr\teth0\t${gw.replace(/\.1$/, '.251')}/${prefix}`, 'up\teth0', `route\tdefault\t${gw}\teth0`, 'ns\t-',
      ].join('\n') + '\n';
      const t0 = process.hrtime.bigint();
      const r = spawnSync(join(nativeBuild, 'berth-net'), [], { input: steps, encoding: 'utf8' });
      netOnly.push(ms(t0));
      if (r.status !== 0) throw new Error(r.stderr);
      spawnSync(join(nativeBuild, 'berth-net'), [], { input: `del\t${veth}\nnetns_delete\t${path}\n` });
    }
    const nft: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await f.applyRules();
      nft.push(ms(t0));
    }
    rows.push(`load average at the start: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores; other suites run on this machine)`, '');
    rows.push('## one container attachment (ms, median of ' + runs + ')');
    rows.push(`facility: sandbox + connect + resolver records live   ${fmt(median(attach))}`);
    rows.push(`  of which createSandbox (the namespace)               ${fmt(median(sandboxOnly))}`);
    rows.push(`facility: removeSandbox                               ${fmt(median(detach))}`);
    rows.push(`berth-net: the same kernel steps, one process         ${fmt(median(netOnly))}`);
    rows.push(`ip: the same steps, one \`ip\` process per step (9)     ${fmt(median(ipAttach))}   (${fmt(median(ipAttach) / median(netOnly))}x berth-net)`);
    rows.push(`nft -f: replace berth's table (1 network)             ${fmt(median(nft))}`);

    // ── DNS latency from inside a container ──
    await startContainer(b, { image: 'bbnet', args: ['sleep', '600'], networks: [{ network: 'bench', names: ['web'] }] });
    const dns = await runToEnd(b, { image: 'bbnet', networks: [{ network: 'bench', names: ['asker'] }], args: ['sh', '-c', 'probe dns-bench 127.0.0.11 web 2000; probe dns-bench 127.0.0.11 outside.example 500'] });
    // asynchronously: the fake upstream answers from this process's event loop
    const direct = (await new Promise<string>((resolve) => {
      const c = spawn(join(nativeBuild, 'berth-probe'), ['dns-bench', upstream.address, 'outside.example', '500']);
      let out = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
      c.on('close', () => resolve(out));
    })).trim().split(' ');
    const [own, fwd] = dns.output.trim().split('\n').map((l) => l.split(' '));
    rows.push('', '## DNS from inside a container (µs: median, p99)');
    rows.push(`a berth name (answered by berth-netd)     ${own![0]}  ${own![1]}`);
    rows.push(`a forwarded name (to a loopback upstream) ${fwd![0]}  ${fwd![1]}   (the upstream asked directly from the host: ${direct[0]}  ${direct[1]})`);

    // ── throughput ──
    const sink = await startContainer(b, { image: 'bbnet', args: ['probe', 'tcp-sink', '9000'], networks: [{ network: 'bench', names: ['sink'] }] });
    const hostPort = await freePort();
    const published = await f.publish(sink, [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: hostPort, end: hostPort }, containerPort: { start: 9000, end: 9000 } }, { protocol: 'tcp', hostIp: '::1', containerPort: { start: 9000, end: 9000 } }]);
    const v6Port = published.find((p) => p.family === 6)!.hostPort;
    const loopPort = await freePort();
    const hostSink = spawnSync('sh', ['-c', `${join(nativeBuild, 'berth-probe')} tcp-sink ${loopPort} >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' }).stdout.trim();
    const sinkIp = ipOf(b, sink, 'bench');
    const mib = Number(process.env.BENCH_MIB ?? 1000);
    const source = (host: string, port: number): number => Number(sh(join(nativeBuild, 'berth-probe'), ['tcp-source', host, String(port), String(mib)]).trim());
    await eventually('the sink listens', () => spawnSync(join(nativeBuild, 'berth-probe'), ['tcp-source', '127.0.0.1', String(hostPort), '1']).status === 0);
    const tput = { loop: [] as number[], nat: [] as number[], proxy: [] as number[], c2c: [] as number[], direct: [] as number[] };
    const tputRuns = Math.max(3, Math.min(runs, 7));
    for (let i = 0; i < tputRuns; i++) {
      tput.loop.push(source('127.0.0.1', loopPort));
      tput.nat.push(source('127.0.0.1', hostPort));
      tput.direct.push(source(sinkIp, 9000));
      tput.proxy.push(source('::1', v6Port));
      const c = await runToEnd(b, { image: 'bbnet', networks: [{ network: 'bench', names: ['src'] }], args: ['probe', 'tcp-source', sinkIp, '9000', String(mib)] });
      tput.c2c.push(Number(c.output.trim()));
    }
    process.kill(Number(hostSink));
    const lm = median(tput.loop);
    rows.push('', `## TCP throughput (MiB/s, median of ${tputRuns} × ${mib} MiB; ratio to host loopback)`);
    rows.push(`host loopback (the limit)                          ${fmt(lm, 0)}`);
    rows.push(`host → container, published port on 127.0.0.1 (NAT) ${fmt(median(tput.nat), 0)}  ${fmt(median(tput.nat) / lm, 2)}`);
    rows.push(`host → container address directly (bridge)        ${fmt(median(tput.direct), 0)}  ${fmt(median(tput.direct) / lm, 2)}`);
    rows.push(`host → container, published on [::1] (proxy)      ${fmt(median(tput.proxy), 0)}  ${fmt(median(tput.proxy) / lm, 2)}`);
    rows.push(`container → container (same bridge)               ${fmt(median(tput.c2c), 0)}  ${fmt(median(tput.c2c) / lm, 2)}`);
    process.stdout.write(rows.join('\n') + '\n');
  } finally {
    await removeAll(b);
    for (const n of f.networks()) await f.removeNetwork(n.name);
    await eventually('berth-netd exits', () => f.netd.pid() === undefined);
    await upstream.stop();
    writeIpForward(ipForward);
    await berthOk(roots, ['rmi', 'bbnet']);
    await cleanupRoots(roots);
  }
  void removeContainer;
}

main().catch((err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });
