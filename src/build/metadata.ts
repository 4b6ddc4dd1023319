// The instructions that only change an image's config (ENV, LABEL, CMD, ENTRYPOINT, EXPOSE,
// VOLUME, USER, STOPSIGNAL, SHELL, ONBUILD, HEALTHCHECK, MAINTAINER): one pure function, used by
// the builder for each step and by `commit --change` (parse the line with parseDockerfile, then
// apply it here).
import { InvalidArgument } from '../lib/errors.js';
import { setEnv } from '../runtime/process-spec.js';
import type { ImageSpec } from '../images/commit.js';
import type { Instruction } from './dockerfile.js';
import { expandWord, parsePairs, splitWords, type Scope } from './words.js';

export type Config = ImageSpec['config'];

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Docker's duration strings for HEALTHCHECK flags, in ns. */
export function durationNs(text: string, where: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(text)) !== null) { total += Number(m[1]) * unit[m[2]]; consumed = re.lastIndex; }
  if (consumed !== text.length || text === '') throw new InvalidArgument(`${where}: invalid duration "${text}"`);
  return Math.round(total);
}

/** CMD/ENTRYPOINT/RUN arguments: the exec form as written, the shell form through the image's SHELL. */
export function commandOf(ins: Instruction, cfg: Config): string[] {
  if (ins.json) return [...ins.json];
  if (ins.args === '') return [];
  return [...((cfg.Shell as string[] | undefined) ?? DEFAULT_SHELL), ins.args];
}

/**
 * Applies a config-only instruction to `cfg`. Returns undefined for instructions that touch the
 * filesystem (RUN, COPY, ADD, WORKDIR) or only the build (ARG, FROM). `cmdSet`: CMD was given
 * earlier in this stage (an ENTRYPOINT then keeps it; otherwise ENTRYPOINT clears the base's).
 */
export function applyMetadata(cfg: Config, ins: Instruction, scope: Scope, esc: string, where: string, cmdSet: boolean): { config: Config; author?: string } | undefined {
  const done = (changes: Partial<Config>) => ({ config: { ...cfg, ...changes } });
switch (ins.keyword) {
    case 'ENV': {
      const env = [...(cfg.Env ?? [])];
      for (const [k, v] of parsePairs(ins.args, scope, esc, where, { legacy: true })) setEnv(env, `${k}=${v ?? ''}`);
      return done({ Env: env });
    }
    case 'LABEL': {
      const labels = { ...(cfg.Labels ?? {}) };
      for (const [k, v] of parsePairs(ins.args, scope, esc, where, { legacy: false })) labels[k] = v ?? '';
      return done({ Labels: labels });
    }
    case 'MAINTAINER':
      return { config: cfg, author: expandWord(ins.args, scope, esc, where) };
    case 'EXPOSE': {
      const ports = { ...((cfg.ExposedPorts as Record<string, object>) ?? {}) };
      for (const p of splitWords(ins.args, scope, esc, where)) {
        const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!m) throw new InvalidArgument(`${where}: invalid port "${p}"`);
        const from = Number(m[1]);
        const to = m[2] ? Number(m[2]) : from;
        if (from < 1 || to > 65535 || to < from || to - from > 65535) throw new InvalidArgument(`${where}: invalid port range "${p}"`);
        for (let port = from; port <= to; port++) ports[`${port}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
      }
      return done({ ExposedPorts: ports });
    }
    case 'VOLUME': {
      const vols = { ...((cfg.Volumes as Record<string, object>) ?? {}) };
      for (const v of ins.json ?? splitWords(ins.args, scope, esc, where)) {
        if (v.trim() === '') throw new InvalidArgument(`${where}: VOLUME with an empty path`);
        vols[v] = {};
      }
      return done({ Volumes: vols });
    }
    case 'USER':
      return done({ User: expandWord(ins.args, scope, esc, where) });
    case 'STOPSIGNAL':
      return done({ StopSignal: expandWord(ins.args, scope, esc, where) });
    case 'SHELL':
      return done({ Shell: [...ins.json!] });
    case 'CMD':
      return done({ Cmd: commandOf(ins, cfg) });
    case 'ENTRYPOINT':
      return done({ Entrypoint: commandOf(ins, cfg), ...(cmdSet ? {} : { Cmd: null as unknown as string[] }) });
    case 'ONBUILD':
      return done({ OnBuild: [...((cfg.OnBuild as string[] | null) ?? []), ins.trigger!.text] });
    case 'HEALTHCHECK': {
      const rest = ins.args.trim();
      if (rest.toUpperCase() === 'NONE') return done({ Healthcheck: { Test: ['NONE'] } });
      const cmdText = rest.replace(/^CMD\s*/i, '');
      let test: string[];
      try {
        const parsed: unknown = JSON.parse(cmdText);
        test = Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? ['CMD', ...parsed] : ['CMD-SHELL', cmdText];
      } catch { test = ['CMD-SHELL', cmdText]; }
      const hc: Record<string, unknown> = { Test: test };
      const f = ins.flags;
      if (f.interval) hc.Interval = durationNs(f.interval[0], where);
      if (f.timeout) hc.Timeout = durationNs(f.timeout[0], where);
      if (f['start-period']) hc.StartPeriod = durationNs(f['start-period'][0], where);
      if (f['start-interval']) hc.StartInterval = durationNs(f['start-interval'][0], where);
      if (f.retries) {
        if (!/^\d+$/.test(f.retries[0])) throw new InvalidArgument(`${where}: --retries must be a non-negative integer`);
        hc.Retries = Number(f.retries[0]);
      }
      return done({ Healthcheck: hc });
    }
    default:
      return undefined;
  }
}

/** The instructions `docker commit --change` accepts. */
const CHANGE_KEYWORDS = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR']);

/**
 * `commit --change` / `import --change`: each line is a Dockerfile instruction applied to `cfg`.
 * `parse` is parseDockerfile (passed in so this file stays free of the parser's weight).
 */
export function applyChanges(cfg: Config, lines: readonly string[], parse: (text: string, file: string) => { stages: readonly { instructions: readonly Instruction[] }[] }): Config {
  let config = { ...cfg };
  lines.forEach((line, i) => {
    const where = `--change ${i + 1}`;
    const ins = parse(`FROM scratch\n${line}`, where).stages[0]?.instructions[0];
    if (!ins || !CHANGE_KEYWORDS.has(ins.keyword)) {
      throw new InvalidArgument(`${where}: "${line}": only CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME and WORKDIR can be changed`);
    }
    const scope = new Map<string, string>();
    for (const e of config.Env ?? []) { const eq = e.indexOf('='); if (eq > 0) scope.set(e.slice(0, eq), e.slice(eq + 1)); }
    if (ins.keyword === 'WORKDIR') {
      const dir = expandWord(ins.args, scope, '\\', where);
      config = { ...config, WorkingDir: dir.startsWith('/') ? dir : `${(config.WorkingDir || '/').replace(/\/$/, '')}/${dir}` };
      return;
    }
    config = applyMetadata(config, ins, scope, '\\', where, true)!.config;
  });
  return config;
}
