// berth build [-t NAME] [-f FILE] [--build-arg K=V] [--target T] [--no-cache] [--pull] PATH: the
// engine's builder runs the Dockerfile (RUN steps in berth's own runtime); steps as they go.
import { isAbsolute, resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { abortOnInterrupt, withEngine } from '../engine.js';
import { registryAuth } from '../auth.js';
import { colors } from '../render/colors.js';
import { imageProgressFor } from '../render/image-progress.js';
import { BerthError, InvalidArgument } from '../../lib/errors.js';
import { imageEmit } from './pull.js';
import { parseBytes } from '../../lib/units.js';
import { cachePathsAbsolute } from '../../lib/cache-spec.js';

interface BuildFlags {
  tag?: string[]; file?: string; buildArg?: string[]; target?: string; noCache?: boolean; cache?: boolean; pull?: boolean;
  label?: string[]; quiet?: boolean; progress?: string; network?: string; addHost?: string[]; allow?: string[]; shmSize?: string; cacheFrom?: string[]; cacheTo?: string[]; buildContext?: string[];
}

/** K=V pairs; a bare K takes its value from the environment (docker's --build-arg K), or is dropped. */
export function keyValues(entries: readonly string[], env: NodeJS.ProcessEnv, flag: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq === 0) throw new InvalidArgument(`invalid ${flag} "${e}": expected KEY=VALUE`);
    if (eq > 0) out[e.slice(0, eq)] = e.slice(eq + 1);
    else if (fromEnv && env[e] !== undefined) out[e] = env[e]!;
    else if (!fromEnv) out[e] = '';
  }
  return out;
}

/**
 * --build-context NAME=VALUE: a local path is made absolute against the working directory (as
 * buildx does); docker-image://, service:, URLs and git go as written, for the builder to take
 * or refuse naming the flag.
 */
export function buildContexts(entries: readonly string[], cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq <= 0 || eq === e.length - 1) throw new InvalidArgument(`invalid --build-context "${e}": expected NAME=VALUE (a directory or docker-image://IMAGE)`);
    const name = e.slice(0, eq);
    const value = e.slice(eq + 1);
    if (name in out) throw new InvalidArgument(`invalid --build-context "${e}": "${name}" given twice`);
    out[name] = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(service|target):|^git@|^github\.com\//.test(value) ? value : resolve(cwd, value);
  }
  return out;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) throw new InvalidArgument('the Dockerfile read from stdin is larger than 1 MiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export default async function build(flags: BuildFlags, args: string[], ctx: CliContext): Promise<number> {
  if (flags.progress !== undefined && !['auto', 'plain', 'tty', 'quiet'].includes(flags.progress)) throw new InvalidArgument(`invalid --progress "${flags.progress}": expected auto, plain, tty or quiet`);
  const contextArg = args[0]!;
  if (contextArg === '-' || /^[a-z]+:\/\//.test(contextArg) || contextArg.startsWith('git@')) throw new InvalidArgument(`build context "${contextArg}": berth builds from a local directory`);
  const contextDir = resolve(ctx.cwd, contextArg);
  let dockerfile: string | undefined;
  let dockerfileText: string | undefined;
  if (flags.file === '-') dockerfileText = await readAll(ctx.stdin);
  else if (flags.file !== undefined) {
    dockerfile = isAbsolute(flags.file) ? flags.file : resolve(ctx.cwd, flags.file);
  }
  for (const a of flags.allow ?? []) if (a !== 'network.host') throw new InvalidArgument(`invalid --allow "${a}": berth grants network.host only`);
  for (const h of flags.addHost ?? []) if (!/^[^:=\s]+[:=]\S+$/.test(h)) throw new InvalidArgument(`invalid --add-host "${h}": expected host:ip`);
  const shmSize = flags.shmSize !== undefined ? parseBytes(flags.shmSize, '--shm-size') : undefined;
  const quiet = flags.quiet === true || flags.progress === 'quiet';
  const c = colors(ctx.stdout, ctx.env);
  // docker build writes its progress to stderr; -q prints only the id on stdout
  const progress = quiet ? undefined : imageProgressFor(ctx.stderr, ctx.stderr, c, flags.progress === 'plain');
  const interrupt = abortOnInterrupt(ctx);
  try {
    const result = await withEngine(ctx, (api) => api.imageBuild({
      contextDir,
      ...(dockerfile !== undefined ? { dockerfile } : {}),
      ...(dockerfileText !== undefined ? { dockerfileText } : {}),
      buildArgs: keyValues(flags.buildArg ?? [], ctx.env, '--build-arg', true),
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      tags: flags.tag ?? [],
      labels: keyValues(flags.label ?? [], ctx.env, '--label', false),
      noCache: flags.noCache === true || flags.cache === false,
      pull: flags.pull ?? false,
      auth: registryAuth(ctx),
      ...(flags.network !== undefined && flags.network !== 'default' ? { network: flags.network } : {}),
      extraHosts: flags.addHost ?? [],
      entitlements: flags.allow ?? [],
      ...(shmSize !== undefined ? { shmSize } : {}),
      cacheFrom: (flags.cacheFrom ?? []).map((c) => cachePathsAbsolute(c, ctx.cwd)),
      cacheTo: (flags.cacheTo ?? []).map((c) => cachePathsAbsolute(c, ctx.cwd)),
      buildContexts: buildContexts(flags.buildContext ?? [], ctx.cwd),
    }, imageEmit(progress, ctx), interrupt.signal)).finally(() => progress?.done()).catch((err: unknown) => {
      // a failed build exits 1 as docker build does ("failed to solve"): a RUN step's code is the
      // step's, not the command's, and a Dockerfile or context error is the build's failure too
      if (err instanceof BerthError && err.code !== 'CANCELLED' && err.code !== 'INTERNAL') throw new BerthError(err.code, err.message, { ...(err.details as object | undefined), exitCode: 1 });
      throw err;
    });
    if (quiet) { ctx.stdout.write(`${result.id}\n`); return 0; }
    for (const w of result.warnings) ctx.stderr.write(`${c.yellow('WARNING:')} ${w}\n`);
    ctx.stderr.write(`writing image ${result.id} (${result.ran} step${result.ran === 1 ? '' : 's'} run, ${result.cached} cached)\n`);
    for (const t of result.tags) ctx.stderr.write(`naming to ${t}\n`);
    return 0;
  } finally {
    interrupt.dispose();
  }
}
