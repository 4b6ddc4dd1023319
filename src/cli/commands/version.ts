// berth version: the client's and the engine's versions, as `docker version` prints them;
// --format json or a Go template ({{.Client.Version}}, {{.Server.Version}}).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { API_VERSION, type VersionInfo } from '../../api/types.js';
import { withEngine } from '../engine.js';
import { compileTemplate } from '../render/template.js';

interface Side { Version: string; ApiVersion: number; NodeVersion: string; Os: string; Arch: string; KernelVersion?: string; Pid?: number; StartedAt?: string }

function goArch(nodeArch: string): string {
  return nodeArch === 'x64' ? 'amd64' : nodeArch;
}

export default async function version(flags: { format?: string }, _args: string[], ctx: CliContext): Promise<number> {
  const template = flags.format !== undefined && flags.format !== 'json' ? compileTemplate(flags.format) : undefined;
  let pkgVersion = '0.0.0';
  try { pkgVersion = (JSON.parse(readFileSync(join(ctx.packageRoot, 'package.json'), 'utf8')) as { version: string }).version; } catch { /* unknown */ }
  const client: Side = { Version: pkgVersion, ApiVersion: API_VERSION, NodeVersion: process.versions.node, Os: 'linux', Arch: goArch(process.arch) };
  const v: VersionInfo = await withEngine(ctx, (api) => api.version());
  const server: Side = { Version: v.version, ApiVersion: v.apiVersion, NodeVersion: v.node, Os: v.os, Arch: goArch(v.arch), KernelVersion: v.kernel, Pid: v.pid, StartedAt: v.startedAt };
  const doc = { Client: client, Server: server };
  if (flags.format === 'json') { ctx.stdout.write(`${JSON.stringify(doc)}\n`); return 0; }
  if (template) { ctx.stdout.write(`${template.render(doc)}\n`); return 0; }
  ctx.stdout.write([
    'Client:',
    ` Version:       ${client.Version}`,
    ` API version:   ${client.ApiVersion}`,
    ` Node version:  ${client.NodeVersion}`,
    ` OS/Arch:       ${client.Os}/${client.Arch}`,
    '',
    'Server: berth engine',
    ` Version:       ${server.Version}`,
    ` API version:   ${server.ApiVersion}`,
    ` Node version:  ${server.NodeVersion}`,
    ` OS/Arch:       ${server.Os}/${server.Arch}`,
    ` Kernel:        ${server.KernelVersion}`,
    ` Pid:           ${server.Pid}`,
    ` Started:       ${server.StartedAt}`,
  ].join('\n') + '\n');
  return 0;
}
