// `berth config`: load, validate and print the normalized project (like `docker compose config`).
// Exit 0 when valid; a SpecError (rendered by cli/main) otherwise.
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { loadProject, SpecError } from '../../spec/index.js';
import { MAX_INPUT_FILE_BYTES, READABLE_FILE } from '../../spec/limits.js';

export interface ConfigOptions {
  file?: string[]; projectName?: string; projectDirectory?: string; envFile?: string[]; profile?: string[];
  services?: boolean; volumes?: boolean; profiles?: boolean; format?: 'yaml' | 'json'; quiet?: boolean;
  /** false with --no-consistency */
  consistency?: boolean;
}

export default async function config(opts: ConfigOptions, _args: string[], ctx: CliContext): Promise<number> {
  const stdin = opts.file?.includes('-') ? await readStdin(ctx.stdin) : undefined;
  const { project, warnings } = await loadProject({
    ...(opts.file ? { files: opts.file } : {}),
    ...(opts.projectName !== undefined ? { projectName: opts.projectName } : {}),
    ...(opts.projectDirectory !== undefined ? { projectDirectory: opts.projectDirectory } : {}),
    ...(opts.envFile ? { envFiles: opts.envFile } : {}),
    ...(opts.profile ? { profiles: opts.profile } : {}),
    ...(stdin !== undefined ? { stdin } : {}),
    ...(opts.consistency === false ? { consistency: false } : {}),
    env: ctx.env,
    cwd: ctx.cwd,
  }, join(ctx.roots.run, 'cache', 'projects'), ctx.files);
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

/** stdin for `-f -`, bounded like any compose file the loader reads. */
async function readStdin(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of s) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    total += b.length;
    if (total > MAX_INPUT_FILE_BYTES) {
      throw new SpecError([{ file: '<stdin>', line: 0, col: 0, keyPath: '', expected: `a compose file on stdin: ${READABLE_FILE}`, found: 'more than that' }]);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
