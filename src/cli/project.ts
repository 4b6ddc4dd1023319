// The compose project a verb acts on: loaded from the compose files (as `docker compose` finds
// them), or only named with -p when no file is needed and none is found.
import { join } from 'node:path';
import type { CliContext } from './context.js';
import type { Project } from '../spec/model.js';
import { NotFound } from '../lib/errors.js';
import type { LoadResult } from '../spec/load.js';

export interface ProjectFlags {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
}

/**
 * The project the flags name, with the loader's warnings: -f, -p, --project-directory,
 * --env-file and --profile as docker compose reads them; `-f -` reads the compose file from
 * stdin, bounded like any file the loader reads. The one place the flags become loader options.
 */
export async function loadProjectWith(flags: ProjectFlags, ctx: CliContext, extra: { readonly consistency?: boolean } = {}): Promise<LoadResult> {
  const { loadProject } = await import('../spec/index.js');
  const stdin = flags.file?.includes('-') ? await readComposeStdin(ctx.stdin) : undefined;
  return loadProject({
    ...(flags.file ? { files: flags.file } : {}),
    ...(flags.projectName !== undefined ? { projectName: flags.projectName } : {}),
    ...(flags.projectDirectory !== undefined ? { projectDirectory: flags.projectDirectory } : {}),
    ...(flags.envFile ? { envFiles: flags.envFile } : {}),
    ...(flags.profile ? { profiles: flags.profile } : {}),
    ...(stdin !== undefined ? { stdin } : {}),
    ...(extra.consistency === false ? { consistency: false } : {}),
    env: ctx.env,
    cwd: ctx.cwd,
  }, join(ctx.roots.run, 'cache', 'projects'), ctx.files);
}

export async function loadProjectFor(flags: ProjectFlags, ctx: CliContext): Promise<Project> {
  const { project, warnings } = await loadProjectWith(flags, ctx);
  for (const w of warnings) ctx.stderr.write(`WARN[0000] ${w}\n`);
  return project;
}

/** stdin for `-f -`, refused past the size any compose file may have. */
async function readComposeStdin(s: NodeJS.ReadableStream): Promise<string> {
  const { MAX_INPUT_FILE_BYTES, READABLE_FILE } = await import('../spec/limits.js');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of s) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    total += b.length;
    if (total > MAX_INPUT_FILE_BYTES) {
      const { SpecError } = await import('../spec/index.js');
      throw new SpecError([{ file: '<stdin>', line: 0, col: 0, keyPath: '', expected: `a compose file on stdin: ${READABLE_FILE}`, found: 'more than that' }]);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The project's name only: `-p` (or COMPOSE_PROJECT_NAME) when given and no file is named,
 * else the name the compose file gives. Verbs like ps, logs and down need no more.
 */
export async function projectNameFor(flags: ProjectFlags, ctx: CliContext): Promise<string> {
  const explicit = flags.projectName ?? ctx.env.COMPOSE_PROJECT_NAME;
  if (explicit && !flags.file) return explicit;
  try {
    return (await loadProjectFor(flags, ctx)).name;
  } catch (err) {
    if (err instanceof NotFound && explicit) return explicit;
    throw err;
  }
}
