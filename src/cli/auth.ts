// The registry credentials a pull, push or build sends with its request: what the user's docker
// config.json holds (`berth login` writes it). Read here, in the client, because the file is the
// user's: the engine never reads it and keeps nothing it was sent.
import { homedir } from 'node:os';
import type { RegistryAuth } from '../api/types.js';
import type { CliContext } from './context.js';
import { allCredentials, dockerConfigPath } from '../lib/docker-config.js';

export function configPathOf(ctx: CliContext): string {
  return dockerConfigPath(ctx.env, ctx.env.HOME && ctx.env.HOME !== '' ? ctx.env.HOME : homedir());
}

export function registryAuth(ctx: CliContext): RegistryAuth {
  return allCredentials(configPathOf(ctx));
}
