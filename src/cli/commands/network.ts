// berth network ls|create|rm|inspect|connect|disconnect|prune: docker's network verbs, one API
// call each, rendered as docker renders them.
import type { CliContext } from '../context.js';
import { BerthError, InvalidArgument, NotFound } from '../../lib/errors.js';
import { withEngine } from '../engine.js';
import { inspectEach } from '../inspect-each.js';
import { formatRows } from '../render/template.js';

const HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };
const DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

export async function ls(flags: { quiet?: boolean; format?: string; trunc?: boolean }, _args: string[], ctx: CliContext): Promise<number> {
  const list = await withEngine(ctx, (api) => api.networkList());
  const trunc = flags.trunc !== false;
  if (flags.quiet) {
    for (const n of list) ctx.stdout.write(`${trunc ? n.id.slice(0, 12) : n.id}\n`);
    return 0;
  }
  const rows = list.map((n) => ({
    ID: trunc ? n.id.slice(0, 12) : n.id, Name: n.name, Driver: n.driver, Scope: n.scope, IPv6: String(n.ipv6), Internal: String(n.internal),
    Labels: Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(','), CreatedAt: n.created,
  }));
  ctx.stdout.write(formatRows(flags.format === undefined || flags.format === 'table' ? DEFAULT : flags.format, rows, HEADERS));
  return 0;
}

interface CreateFlags {
  driver?: string; internal?: boolean; attachable?: boolean; ipv6?: boolean;
  subnet?: string[]; gateway?: string[]; ipRange?: string[]; label?: string[]; opt?: string[];
}

export async function create(flags: CreateFlags, args: string[], ctx: CliContext): Promise<number> {
  const [name] = args;
  const created = await withEngine(ctx, (api) => api.networkCreate({
    name: name!, ...(flags.driver !== undefined ? { driver: flags.driver } : {}),
    internal: flags.internal ?? false, attachable: flags.attachable ?? false, ipv6: flags.ipv6 ?? false,
    subnets: flags.subnet ?? [], gateways: flags.gateway ?? [], ipRanges: flags.ipRange ?? [], labels: flags.label ?? [], options: flags.opt ?? [],
  }));
  ctx.stdout.write(`${created.id}\n`);
  return 0;
}

/** docker network rm: every name is tried; each failure is reported and the exit code is 1. */
export async function rm(_flags: unknown, args: string[], ctx: CliContext): Promise<number> {
  return withEngine(ctx, async (api) => {
    let failed = false;
    for (const ref of args) {
      try {
        await api.networkRemove(ref);
        ctx.stdout.write(`${ref}\n`);
      } catch (err) {
        if (!(err instanceof BerthError) || err.code === 'INTERNAL') throw err;
        ctx.stderr.write(`Error response from daemon: ${err.message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  });
}

export function inspect(flags: { format?: string }, args: string[], ctx: CliContext): Promise<number> {
  return inspectEach(flags.format, args, ctx, (api, ref) => api.networkInspect(ref),
    (err, ref) => (err instanceof NotFound ? `no such network: ${ref}` : undefined));
}

export async function connect(flags: { alias?: string[]; ip?: string; ip6?: string }, args: string[], ctx: CliContext): Promise<number> {
  const [network, container] = args;
  await withEngine(ctx, (api) => api.networkConnect(network!, {
    container: container!, aliases: flags.alias ?? [], ...(flags.ip ? { ip: flags.ip } : {}), ...(flags.ip6 ? { ip6: flags.ip6 } : {}),
  }));
  return 0;
}

export async function disconnect(flags: { force?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  const [network, container] = args;
  await withEngine(ctx, (api) => api.networkDisconnect(network!, { container: container!, force: flags.force ?? false }));
  return 0;
}

/** One line from stdin (the confirmation), or '' at its end. */
function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = (): void => { stream.off('data', onData); stream.off('end', done); stream.pause(); resolve(text.split('\n')[0]!.trim()); };
    const onData = (chunk: Buffer | string): void => { text += chunk.toString(); if (text.includes('\n')) done(); };
    stream.on('data', onData);
    stream.once('end', done);
    stream.resume();
  });
}

export async function prune(flags: { force?: boolean }, _args: string[], ctx: CliContext): Promise<number> {
  if (!flags.force) {
    ctx.stdout.write('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    const answer = (await readLine(ctx.stdin)).toLowerCase();
    if (answer !== 'y' && answer !== 'yes') return 0;
  }
  const { deleted } = await withEngine(ctx, (api) => api.networkPrune());
  if (deleted.length > 0) ctx.stdout.write(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}`);
  return 0;
}

/**
 * berth port CONTAINER [PRIVATE_PORT[/PROTO]]: docker's lines, "80/tcp -> 0.0.0.0:8080" for
 * every mapping, or "0.0.0.0:8080" lines for one port.
 */
export async function port(_flags: unknown, args: string[], ctx: CliContext): Promise<number> {
  const [container, privatePort] = args;
  let want: { port: number; protocol: string } | undefined;
  if (privatePort !== undefined) {
    const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(privatePort);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new InvalidArgument(`invalid port "${privatePort}": expected PORT[/tcp|udp]`);
    want = { port: Number(m[1]), protocol: m[2] ?? 'tcp' };
  }
  const rows = await withEngine(ctx, (api) => api.containerPort(container!));
  const address = (hostIp: string, hostPort: number): string => `${hostIp.includes(':') ? `[${hostIp}]` : hostIp}:${hostPort}`;
  if (want) {
    const hits = rows.filter((r) => r.containerPort === want!.port && r.protocol === want!.protocol);
    if (hits.length === 0) throw new NotFound(`no public port '${want.port}/${want.protocol}' published for ${container}`);
    for (const r of hits) ctx.stdout.write(`${address(r.hostIp, r.hostPort)}\n`);
    return 0;
  }
  for (const r of rows) ctx.stdout.write(`${r.containerPort}/${r.protocol} -> ${address(r.hostIp, r.hostPort)}\n`);
  return 0;
}
