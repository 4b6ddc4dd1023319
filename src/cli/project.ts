// The compose project a verb acts on: loaded from the compose files (as `docker compose` finds
// them), or only named with -p when no file is needed and none is found.
import { join } from 'node:path';
import type { CliContext } from './context.js';
import type { Project } from '../spec/model.js';
import { NotFound } from '../lib/errors.js';

export interface ProjectFlags {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
}

export async function loadProjectFor(flags: ProjectFlags, ctx: CliContext): Promise<Project> {
  const { loadProject } = await import('../spec/index.js');
  const { project, warnings } = await loadProject({
    ...(flags.file ? { files: flags.file } : {}),
    ...(flags.projectName !== undefined ? { projectName: flags.projectName } : {}),
    ...(flags.projectDirectory !== undefined ? { projectDirectory: flags.projectDirectory } : {}),
    ...(flags.envFile ? { envFiles: flags.envFile } : {}),
    ...(flags.profile ? { profiles: flags.profile } : {}),
    env: ctx.env,
    cwd: ctx.cwd,
  }, join(ctx.roots.run, 'cache', 'projects'), ctx.files);
  for (const w of warnings) ctx.stderr.write(`WARN[0000] ${w}\n`);
  return project;
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
