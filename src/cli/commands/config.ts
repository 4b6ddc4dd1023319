// `berth config`: load, validate and print the normalized project (stub until the loader lands).
import type { CliContext } from '../context.js';

export interface ConfigOptions {
  file?: string[]; projectName?: string; projectDirectory?: string; envFile?: string[]; profile?: string[];
  services?: boolean; volumes?: boolean; profiles?: boolean; format?: 'yaml' | 'json'; quiet?: boolean;
}

export default async function config(_opts: ConfigOptions, _args: string[], _ctx: CliContext): Promise<number> {
  return 0;
}
