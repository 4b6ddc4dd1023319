// `berth config`: load, validate and print the normalized project (like `docker compose config`).
// Exit 0 when valid; a SpecError (rendered by cli/main) otherwise.
import type { CliContext } from '../context.js';
import { loadProjectWith } from '../project.js';

export interface ConfigOptions {
  file?: string[]; projectName?: string; projectDirectory?: string; envFile?: string[]; profile?: string[];
  services?: boolean; volumes?: boolean; profiles?: boolean; format?: 'yaml' | 'json'; quiet?: boolean;
  /** false with --no-consistency */
  consistency?: boolean;
}

export default async function config(opts: ConfigOptions, _args: string[], ctx: CliContext): Promise<number> {
  const { project, warnings } = await loadProjectWith(opts, ctx, { consistency: opts.consistency });
  for (const w of warnings) ctx.stderr.write(`warning: ${w}\n`);
  if (opts.quiet) return 0;
  if (opts.services) { ctx.stdout.write(Object.keys(project.services).map((s) => s + '\n').join('')); return 0; }
  if (opts.volumes) { ctx.stdout.write(Object.keys(project.volumes).map((s) => s + '\n').join('')); return 0; }
  if (opts.profiles) { ctx.stdout.write(project.all_profiles.map((s) => s + '\n').join('')); return 0; }
  // the YAML writer is loaded only to print (not for -q, --services, ...)
  const { renderProject } = await import('../../spec/render.js');
  ctx.stdout.write(renderProject(project, opts.format ?? 'yaml'));
  return 0;
}
