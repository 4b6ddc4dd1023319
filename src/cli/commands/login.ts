// berth login [-u USER] [-p PASS | --password-stdin] [SERVER] / berth logout [SERVER]: the engine
// checks the credentials against the registry; this process writes them to the user's docker
// config.json (0600), where docker finds them too.
import type { CliContext } from '../context.js';
import { withEngine } from '../engine.js';
import { configPathOf } from '../auth.js';
import { InvalidArgument } from '../../lib/errors.js';
import { removeCredentials, serverDomain, storeCredentials } from '../../lib/docker-config.js';

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 64 * 1024) throw new InvalidArgument('the password read from stdin is longer than 64 KiB');
  }
  return text.replace(/\r?\n$/, '');
}

export default async function login(flags: { username?: string; password?: string; passwordStdin?: boolean }, args: string[], ctx: CliContext): Promise<number> {
  if (flags.password !== undefined && flags.passwordStdin) throw new InvalidArgument('--password and --password-stdin are mutually exclusive');
  if (flags.passwordStdin && flags.username === undefined) throw new InvalidArgument('must provide --username with --password-stdin');
  if (flags.username === undefined || (flags.password === undefined && !flags.passwordStdin)) {
    throw new InvalidArgument('berth login reads no prompt: give --username and --password-stdin (or --password)');
  }
  if (flags.password !== undefined) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  const password = flags.passwordStdin ? await firstLine(ctx.stdin) : flags.password!;
  const server = args[0];
  const { domain } = await withEngine(ctx, (api) => api.registryLogin({ ...(server !== undefined ? { server } : {}), username: flags.username!, password }));
  const configPath = configPathOf(ctx);
  for (const note of storeCredentials(configPath, domain, { username: flags.username, password })) ctx.stderr.write(`${note}\n`);
  ctx.stderr.write(`WARNING! Your password will be stored unencrypted in ${configPath}.\n`);
  ctx.stdout.write('Login Succeeded\n');
  return 0;
}

export async function logout(_flags: unknown, args: string[], ctx: CliContext): Promise<number> {
  const domain = serverDomain(args[0]);
  const removed = removeCredentials(configPathOf(ctx), domain);
  ctx.stdout.write(removed ? `Removing login credentials for ${domain}\n` : `Not logged in to ${domain}\n`);
  return 0;
}
