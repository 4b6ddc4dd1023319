// berth compose start | stop | restart | kill: act on the project's containers (all, or the named
// services), in dependency order for start and the reverse for stop.
import type { CliContext } from '../../context.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt } from '../../engine.js';
import { colors } from '../../render/colors.js';
import { renderEvent } from '../../render/events.js';
import { InvalidArgument } from '../../../lib/errors.js';

interface Flags extends ProjectFlags { timeout?: string; signal?: string }

function seconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new InvalidArgument(`invalid --timeout: ${v}: expected seconds`);
  return Number(v);
}

async function act(verb: 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause', flags: Flags, args: string[], ctx: CliContext): Promise<number> {
  const timeout = seconds(flags.timeout);
  const projectName = await projectNameFor(flags, ctx);
  const api = await ctx.connect();
  const c = colors(ctx.stdout, ctx.env);
  const emit = (e: Parameters<typeof renderEvent>[0]): void => renderEvent(e, projectName, ctx.stdout, ctx.stderr, c);
  const interrupt = abortOnInterrupt(ctx);
  try {
    switch (verb) {
      case 'start': return await api.start(projectName, { services: args }, emit, interrupt.signal);
      case 'stop': return await api.stop(projectName, { services: args, timeout }, emit, interrupt.signal);
      case 'restart': return await api.restart(projectName, { services: args, timeout }, emit, interrupt.signal);
      case 'kill': return await api.kill(projectName, { services: args, signal: flags.signal ?? 'SIGKILL' }, emit, interrupt.signal);
      case 'pause': return await api.pause(projectName, { services: args }, emit, interrupt.signal);
      case 'unpause': return await api.unpause(projectName, { services: args }, emit, interrupt.signal);
    }
  } finally {
    interrupt.dispose();
    api.close();
  }
}

export const start = (f: Flags, a: string[], ctx: CliContext): Promise<number> => act('start', f, a, ctx);
export const stop = (f: Flags, a: string[], ctx: CliContext): Promise<number> => act('stop', f, a, ctx);
export const restart = (f: Flags, a: string[], ctx: CliContext): Promise<number> => act('restart', f, a, ctx);
export const kill = (f: Flags, a: string[], ctx: CliContext): Promise<number> => act('kill', f, a, ctx);
export const pause = (f: Flags, a: string[], ctx: CliContext): Promise<number> => act('pause', f, a, ctx);
export const unpause = (f: Flags, a: string[], ctx: CliContext): Promise<number> => act('unpause', f, a, ctx);
