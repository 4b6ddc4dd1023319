// The declarations of the network verbs (`berth network …`, `berth port`) and of run/create's
// network flags: flags only, cheap to load; the code runs from commands/network.ts when a verb
// does (cli/main.ts lazy-loads every verb the same way).
import type { CliContext } from './context.js';

/**
 * The part of commander's Command these declarations use: commander's one door is cli/main.ts,
 * which passes its Command here (it satisfies this shape).
 */
export interface Command {
  command(name: string): Command;
  description(text: string): Command;
  alias(name: string): Command;
  argument(name: string): Command;
  option(flags: string, description: string): Command;
  option(flags: string, description: string, parse: (value: string, previous: string[]) => string[]): Command;
  action(fn: (...params: any[]) => void | Promise<void>): Command;
}

type Verb = (opts: any, args: string[], ctx: CliContext) => Promise<number>;
type Act = (load: () => Promise<{ default: Verb }>) => (...params: unknown[]) => Promise<void>;
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const verb = (name: 'ls' | 'create' | 'rm' | 'inspect' | 'connect' | 'disconnect' | 'prune' | 'port') =>
  async (): Promise<{ default: Verb }> => ({ default: (await import('./commands/network.js'))[name] as Verb });

/** `run`/`create`'s network flags (docker's names). */
export function networkFlags<C extends Command>(c: C): C {
  c.option('--network <network>', 'connect to a network: a network name, bridge (the default), none, host or container:NAME')
    .option('--net <network>', 'alias of --network')
    .option('--network-alias <alias>', 'add a network-scoped alias for the container (repeatable)', collect)
    .option('--ip <address>', 'IPv4 address (e.g. 172.30.100.104)')
    .option('--ip6 <address>', 'IPv6 address')
    .option('--mac-address <mac>', 'container MAC address (e.g. 92:d0:c6:0a:29:33)')
    .option('-p, --publish <spec>', "publish a container's port to the host: [ip:][hostPort:]containerPort[/proto] (repeatable)", collect)
    .option('-P, --publish-all', 'publish all exposed ports to random ports')
    .option('--expose <port>', 'expose a port or a range of ports (repeatable)', collect)
    .option('--add-host <host:ip>', 'add a custom host-to-IP mapping; ip may be host-gateway (repeatable)', collect)
    .option('--dns <ip>', 'set custom DNS servers (repeatable)', collect)
    .option('--dns-search <domain>', 'set custom DNS search domains (repeatable)', collect)
    .option('--dns-option <option>', 'set DNS options (repeatable)', collect)
    .option('--domainname <name>', 'container NIS domain name');
  return c;
}

export function declareNetworkVerbs(program: Command, act: Act): void {
  const network = program.command('network').description('manage networks: ls, create, rm, inspect, connect, disconnect, prune');
  network.command('ls').alias('list')
    .description('list networks')
    .option('-q, --quiet', 'only display network ids')
    .option('--no-trunc', "don't truncate the output")
    .option('--format <format>', "'table', 'json', a Go template ('{{.Name}}') or 'table TEMPLATE'")
    .action(act(verb('ls')));
  network.command('create')
    .description('create a network')
    .argument('<network>')
    .option('-d, --driver <driver>', 'driver to manage the network (bridge)')
    .option('--internal', 'restrict external access to the network')
    .option('--attachable', 'enable manual container attachment')
    .option('--ipv6', 'enable IPv6 networking')
    .option('--subnet <cidr>', 'subnet in CIDR format (repeatable: one IPv4, one IPv6)', collect)
    .option('--gateway <ip>', 'gateway for the subnet (repeatable)', collect)
    .option('--ip-range <cidr>', 'allocate container addresses from a sub-range (repeatable)', collect)
    .option('--label <K=V>', 'set metadata on the network (repeatable)', collect)
    .option('-o, --opt <K=V>', 'driver options: com.docker.network.driver.mtu (repeatable)', collect)
    .action(act(verb('create')));
  network.command('rm').alias('remove')
    .description('remove one or more networks')
    .argument('<network...>')
    .action(act(verb('rm')));
  network.command('inspect')
    .description('display detailed information on one or more networks')
    .argument('<network...>')
    .option('-f, --format <template>', "format the output with a Go template ('{{.IPAM.Config}}')")
    .action(act(verb('inspect')));
  network.command('connect')
    .description('connect a container to a network')
    .argument('<network>').argument('<container>')
    .option('--alias <alias>', 'add a network-scoped alias for the container (repeatable)', collect)
    .option('--ip <address>', 'IPv4 address')
    .option('--ip6 <address>', 'IPv6 address')
    .action(act(verb('connect')));
  network.command('disconnect')
    .description('disconnect a container from a network')
    .argument('<network>').argument('<container>')
    .option('-f, --force', 'force the container to disconnect from a network')
    .action(act(verb('disconnect')));
  network.command('prune')
    .description('remove all unused networks')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(act(verb('prune')));
  program.command('port')
    .description('list port mappings or a specific mapping for the container')
    .argument('<container>').argument('[private_port]')
    .action(act(verb('port')));
}
