// berth import FILE [REF]: a rootfs tarball becomes a one-layer image; prints its id.
import type { CliContext } from '../context.js';
import { connect } from '../host.js';
import { InvalidArgument } from '../../lib/errors.js';

type Config = { Cmd?: string[]; Entrypoint?: string[]; Env?: string[]; WorkingDir?: string; User?: string; StopSignal?: string };

/** The Dockerfile instructions `docker import --change` accepts that berth supports. */
export function applyChange(config: Config, change: string): Config {
  const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(change);
  if (!m) throw new InvalidArgument(`invalid --change: ${JSON.stringify(change)}: expected "INSTRUCTION arguments"`);
  const instruction = m[1]!.toUpperCase();
  const rest = m[2]!.trim();
  const command = (): string[] => {
    if (rest.startsWith('[')) {
      let parsed: unknown;
      try { parsed = JSON.parse(rest); } catch { parsed = undefined; }
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
    }
    return ['/bin/sh', '-c', rest];
  };
  switch (instruction) {
    case 'CMD': return { ...config, Cmd: command() };
    case 'ENTRYPOINT': return { ...config, Entrypoint: command() };
    case 'ENV': {
      const eq = rest.indexOf('=');
      const sp = rest.search(/\s/);
      const entry = eq > 0 && (sp < 0 || eq < sp) ? rest : sp > 0 ? `${rest.slice(0, sp)}=${rest.slice(sp).trim()}` : '';
      if (entry === '') throw new InvalidArgument(`invalid --change: ENV needs KEY=VALUE`);
      return { ...config, Env: [...(config.Env ?? []), entry] };
    }
    case 'WORKDIR': return { ...config, WorkingDir: rest };
    case 'USER': return { ...config, User: rest };
    case 'STOPSIGNAL': return { ...config, StopSignal: rest };
    default: throw new InvalidArgument(`invalid --change: ${instruction} is not supported (CMD, ENTRYPOINT, ENV, WORKDIR, USER, STOPSIGNAL are)`);
  }
}

export default async function importCommand(flags: { change?: string[] }, args: string[], ctx: CliContext): Promise<number> {
  const [file, ref] = args;
  let config: Config = {};
  for (const c of flags.change ?? []) config = applyChange(config, c);
  const host = await connect(ctx);
  const store = await host.images();
  const image = await store.import(file!, ref, { config });
  ctx.stdout.write(`${image.id}\n`);
  return 0;
}
