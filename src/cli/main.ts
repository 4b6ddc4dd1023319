// berth's command line. The only place that decides exit codes and prints errors, and the only
// one that touches `process`: processContext() makes the CliContext every command gets, and
// runCli() parses argv and runs one command with it (the warm CLI of the next issue calls
// runCli() inside the engine with a context of the client's descriptors). Each verb's flags are
// declared here (cheap); its code is imported only when the verb runs, so that `berth ps` never
// loads the YAML loader.
import { Command, Option } from 'commander';
import { BerthError } from '../lib/errors.js';
import { resolveRoots } from '../lib/paths.js';
import { realClock } from '../lib/clock.js';
import type { CliContext, Terminal } from './context.js';
import { declareNetworkVerbs, networkFlags } from './network-verbs.js';

type Verb = (opts: any, args: string[], ctx: CliContext) => Promise<number>;
type Loader = () => Promise<{ default: Verb }>;
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The whole command tree for one invocation; `done` receives the verb's exit code. */
function createProgram(ctx: CliContext, done: (code: number) => void): Command {
  const act = (load: Loader) => async (...params: unknown[]): Promise<void> => {
    const command = params[params.length - 1] as Command;
    const mod = await load();
    // project flags may be given before the verb (berth -f x.yaml up) or after it
    done(await mod.default({ ...(command.parent?.opts() ?? {}), ...command.opts() }, command.args, ctx));
  };
  const lifecycle = (name: 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause'): Loader => async () => ({ default: (await import('./commands/compose/lifecycle.js'))[name] });

  const program = new Command('berth')
    .description('compose-style containers with their own runtime')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (str) => ctx.stdout.write(str),
      writeErr: (str) => ctx.stderr.write(str),
      // one line and the suggestion, never the whole usage (docker's manners)
      outputError: (str, write) => write(str.endsWith('\n') ? str : `${str}\n`),
    })
    .exitOverride();
  program.option('-v, --version', 'print the version');

  const createFlags = (c: Command): Command => networkFlags(c)
    .option('--name <name>', 'assign a name to the container')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable); -e NAME takes NAME from this environment', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'user name or uid[:gid]')
    .option('-h, --hostname <name>', 'container host name')
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('-m, --memory <bytes>', 'memory limit (e.g. 64m)')
    .option('--memory-swap <bytes>', 'memory plus swap limit; -1 for unlimited swap')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpus <n>', 'number of CPUs (e.g. 0.5)')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <n>', 'tune the container pids limit (-1 for unlimited)')
    .option('--shm-size <bytes>', 'size of /dev/shm')
    .option('--stop-signal <signal>', 'signal to stop the container')
    .option('--stop-timeout <seconds>', 'timeout to stop the container')
    .option('--entrypoint <cmd>', 'overwrite the default entrypoint of the image')
    .option('-l, --label <K=V>', 'set metadata on the container (repeatable)', collect)
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-tty')
    .option('--restart <policy>', 'restart policy: no, always, unless-stopped, on-failure[:max-retries]')
    .option('--health-cmd <command>', 'command to run to check health')
    .option('--health-interval <duration>', 'time between running the check (e.g. 30s)')
    .option('--health-timeout <duration>', 'maximum time to allow one check to run')
    .option('--health-retries <n>', 'consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'start period for the container to initialize before counting retries')
    .option('--health-start-interval <duration>', 'time between running the check during the start period')
    .option('--no-healthcheck', "disable any container-specified HEALTHCHECK")
    .option('--cap-add <cap>', 'add a Linux capability (repeatable; ALL for every one)', collect)
    .option('--cap-drop <cap>', 'drop a Linux capability (repeatable; ALL for every one)', collect)
    .option('--privileged', 'give extended privileges: every capability and device, no seccomp, nothing masked')
    .option('--security-opt <opt>', 'no-new-privileges, seccomp=unconfined or seccomp=<profile.json> (repeatable)', collect)
    .option('--read-only', "mount the container's root filesystem as read only")
    .option('--device <spec>', 'add a host device: HOST[:CONTAINER][:rwm] (repeatable)', collect)
    .option('--sysctl <k=v>', 'set a namespaced kernel parameter (repeatable)', collect)
    .option('--group-add <group>', 'add a supplementary group (repeatable)', collect)
    .option('--userns <mode>', 'user namespace: host (default) or remap (container root on an unprivileged host range)')
    .option('--log-opt <k=v>', 'json-file log option: max-size, max-file (repeatable)', collect)
    .option('-v, --volume <spec>', 'bind mount or volume: [SOURCE:]TARGET[:ro|rw,…] (repeatable)', collect)
    .option('--mount <spec>', 'type=bind|volume|tmpfs,source=…,target=…[,readonly] (repeatable)', collect)
    .option('--tmpfs <spec>', 'a tmpfs mount: TARGET[:size=…,mode=…] (repeatable)', collect)
    .option('--volumes-from <container>', 'mount the volumes of a container: NAME[:ro|rw] (repeatable)', collect)
    .option('--pull <policy>', 'pull image before running: always, missing or never', 'missing');

  createFlags(program.command('run')
    .description('create and run a new container from an image')
    .argument('<image>').argument('[command...]')
    .passThroughOptions()
    .option('--rm', 'remove the container when it exits')
    .option('-d, --detach', 'run in the background and print the container id'))
    .action(act(() => import('./commands/run.js')));

  createFlags(program.command('create')
    .description('create a new container from an image (not started)')
    .argument('<image>').argument('[command...]')
    .passThroughOptions()
    .option('--rm', 'remove the container when it exits'))
    .action(act(() => import('./commands/create.js')));

  program.command('start')
    .description('start one or more stopped containers')
    .argument('<container...>')
    .option('-a, --attach', "attach stdout/stderr and forward signals")
    .option('-i, --interactive', "attach the container's stdin")
    .action(act(() => import('./commands/start.js')));

  program.command('exec')
    .description('run a command in a running container')
    .argument('<container>').argument('<command...>')
    .passThroughOptions()
    .option('-d, --detach', 'detached mode: run the command in the background')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect)
    .option('-u, --user <user>', 'user name or uid[:gid]')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-tty')
    .option('--privileged', 'give extended privileges to the command (every capability)')
    .action(act(() => import('./commands/exec.js')));

  program.command('ps')
    .description('list containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only display container ids')
    .option('--no-trunc', "don't truncate output")
    .option('--format <format>', "'table', 'json', a Go template ('{{.Names}}') or 'table TEMPLATE'")
    .action(act(() => import('./commands/ps.js')));

  program.command('logs')
    .description('fetch the logs of a container')
    .argument('<container>')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs (or "all")')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since timestamp (e.g. 2026-01-02T13:23:37Z) or relative (e.g. 42m)')
    .action(act(() => import('./commands/logs.js')));

  program.command('stop')
    .description('stop one or more running containers')
    .argument('<container...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container')
    .option('-s, --signal <signal>', 'signal to send to the container')
    .action(act(() => import('./commands/stop.js')));

  program.command('kill')
    .description('kill one or more running containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'signal to send to the container', 'KILL')
    .action(act(() => import('./commands/kill.js')));

  program.command('rm')
    .description('remove one or more containers')
    .argument('<container...>')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'remove the anonymous volumes associated with the container')
    .action(act(() => import('./commands/rm.js')));

  program.command('cp')
    .description('copy files between a container and the host (- : a tar stream on stdin/stdout)')
    .argument('<src>').argument('<dest>')
    .option('-a, --archive', 'archive mode (keep uid/gid)')
    .option('-L, --follow-link', 'always follow a symbolic link in SRC_PATH')
    .option('-q, --quiet', 'suppress the progress line')
    .action(act(() => import('./commands/cp.js')));

  program.command('diff')
    .description("inspect changes to files or directories on a container's filesystem")
    .argument('<container>')
    .action(act(() => import('./commands/diff.js')));

  const volumeVerb = (name: 'create' | 'ls' | 'inspect' | 'rm' | 'prune'): Loader => async () => ({ default: (await import('./commands/volume.js'))[name] });
  const volume = program.command('volume').description('manage volumes');
  volume.command('create')
    .description('create a volume')
    .argument('[name]')
    .option('--name <name>', 'the volume name')
    .option('-d, --driver <driver>', 'volume driver name (local)')
    .option('-o, --opt <k=v>', 'driver option: type, o, device (repeatable)', collect)
    .option('--label <k=v>', 'set metadata on the volume (repeatable)', collect)
    .action(act(volumeVerb('create')));
  volume.command('ls').alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only display volume names')
    .option('-f, --filter <filter>', 'dangling=true|false, label=KEY[=VALUE], name=NAME, driver=local (repeatable)', collect)
    .option('--format <format>', "'table', 'json', a Go template ('{{.Name}}') or 'table TEMPLATE'")
    .action(act(volumeVerb('ls')));
  volume.command('inspect')
    .description('display detailed information on one or more volumes')
    .argument('<volume...>')
    .option('-f, --format <template>', 'format the output with a Go template')
    .action(act(volumeVerb('inspect')));
  volume.command('rm').alias('remove')
    .description('remove one or more volumes (not one in use)')
    .argument('<volume...>')
    .option('-f, --force', 'no error for a volume that does not exist')
    .action(act(volumeVerb('rm')));
  volume.command('prune')
    .description('remove unused anonymous volumes (-a: all unused volumes)')
    .option('-a, --all', 'remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', 'label=KEY[=VALUE] (repeatable)', collect)
    .option('-f, --force', 'do not prompt for confirmation')
    .action(act(volumeVerb('prune')));

  program.command('pause')
    .description('pause all processes within one or more containers')
    .argument('<container...>')
    .action(act(async () => ({ default: (await import('./commands/pause.js')).pause })));

  program.command('unpause')
    .description('unpause all processes within one or more containers')
    .argument('<container...>')
    .action(act(async () => ({ default: (await import('./commands/pause.js')).unpause })));

  program.command('inspect')
    .description('display detailed information on containers or images')
    .argument('<name...>')
    .option('--type <type>', "'container' or 'image'")
    .option('-f, --format <template>', "format the output with a Go template ('{{.State.Pid}}', '{{json .Config}}')")
    .action(act(() => import('./commands/inspect.js')));

  program.command('images')
    .description('list images')
    .option('-q, --quiet', 'only show image ids')
    .option('--format <format>', "'table', 'json', a Go template ('{{.Repository}}:{{.Tag}}') or 'table TEMPLATE'")
    .action(act(() => import('./commands/images.js')));

  program.command('load')
    .description('load an image from a docker-archive or OCI-layout tar archive')
    .requiredOption('-i, --input <file>', 'read from a tar archive file')
    .option('-q, --quiet', 'suppress the load output')
    .action(act(() => import('./commands/load.js')));

  program.command('import')
    .description('import the contents of a rootfs tarball to create an image')
    .argument('<file>').argument('[reference]')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER) (repeatable)', collect)
    .action(act(() => import('./commands/import.js')));

  program.command('rmi')
    .description('remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'force removal of the image')
    .action(act(() => import('./commands/rmi.js')));

  const imageVerb = (name: 'tag' | 'history' | 'commit' | 'prune'): Loader => async () => ({ default: (await import('./commands/image-verbs.js'))[name] });
  const pullCommand = (parent: Command): Command => parent.command('pull')
    .description('download an image from a registry')
    .argument('<image>')
    .option('-q, --quiet', 'suppress verbose output')
    .option('--platform <platform>', 'pull this platform of a multi-platform image (linux/arm64)')
    .action(act(() => import('./commands/pull.js')));
  const pushCommand = (parent: Command): Command => parent.command('push')
    .description('upload an image to a registry')
    .argument('<image>')
    .option('-q, --quiet', 'suppress verbose output')
    .action(act(() => import('./commands/push.js')));
  const buildCommand = (parent: Command): Command => parent.command('build')
    .description('build an image from a Dockerfile')
    .argument('<path>')
    .option('-t, --tag <name>', 'name and optionally a tag (name:tag) (repeatable)', collect)
    .option('-f, --file <file>', "name of the Dockerfile (default: 'PATH/Dockerfile'; - for stdin)")
    .option('--build-arg <K=V>', 'set a build-time variable (repeatable)', collect)
    .option('--target <stage>', 'set the target build stage to build')
    .option('--no-cache', 'do not use the build cache')
    .option('--pull', 'always pull the images FROM names')
    .option('--label <K=V>', 'set metadata on the image (repeatable)', collect)
    .option('--network <mode>', "RUN steps' network: default, none, host or a network's name", 'default')
    .option('--add-host <host:ip>', 'add a custom host-to-IP mapping for RUN steps (ip may be host-gateway) (repeatable)', collect)
    .option('--allow <entitlement>', 'allow an extra privilege: network.host (for RUN --network=host) (repeatable)', collect)
    .option('--shm-size <bytes>', "size of RUN steps' /dev/shm (e.g. 64m)")
    .option('--cache-from <image>', 'an image whose berth-built layers steps may reuse (type=registry,ref=… too) (repeatable)', collect)
    .option('--cache-to <spec>', 'accepted: berth records cache keys in the image (type=inline); others warn (repeatable)', collect)
    .option('-q, --quiet', 'suppress the build output and print the image id on success')
    .option('--progress <type>', 'auto, plain, tty or quiet', 'auto')
    .action(act(() => import('./commands/build.js')));
  const saveCommand = (parent: Command): Command => parent.command('save')
    .description('save one or more images to a tar archive (streamed to stdout by default)')
    .argument('<image...>')
    .option('-o, --output <file>', 'write to a file, instead of stdout')
    .action(act(() => import('./commands/save.js')));
  const tagCommand = (parent: Command): Command => parent.command('tag')
    .description('create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>').argument('<target>')
    .action(act(imageVerb('tag')));
  const historyCommand = (parent: Command): Command => parent.command('history')
    .description('show the history of an image')
    .argument('<image>')
    .option('-q, --quiet', 'only show image ids')
    .option('--no-trunc', "don't truncate output")
    .option('-H, --human [bool]', 'print sizes and dates in human readable format', (v) => v !== 'false', true)
    .option('--format <format>', "'table', or a Go template ('{{.CreatedBy}}')")
    .action(act(imageVerb('history')));
  pullCommand(program);
  pushCommand(program);
  buildCommand(program);
  saveCommand(program);
  tagCommand(program);
  historyCommand(program);
  program.command('commit')
    .description("create a new image from a container's changes")
    .argument('<container>').argument('[reference]')
    .option('-m, --message <text>', 'commit message')
    .option('-a, --author <name>', 'author (e.g. "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the created image (repeatable)', collect)
    .option('-p, --pause [bool]', 'pause the container during commit', (v) => v !== 'false', true)
    .action(act(imageVerb('commit')));
  program.command('login')
    .description('log in to a registry (credentials are stored in docker\'s config.json)')
    .argument('[server]')
    .option('-u, --username <name>', 'username')
    .option('-p, --password <password>', 'password')
    .option('--password-stdin', 'take the password from stdin')
    .action(act(() => import('./commands/login.js')));
  program.command('logout')
    .description('log out from a registry')
    .argument('[server]')
    .action(act(async () => ({ default: (await import('./commands/login.js')).logout })));
  const image = program.command('image').description('manage images: ls, pull, push, build, tag, save, load, history, inspect, prune, rm');
  pullCommand(image);
  pushCommand(image);
  buildCommand(image);
  saveCommand(image);
  tagCommand(image);
  historyCommand(image);
  image.command('ls')
    .description('list images')
    .option('-q, --quiet', 'only show image ids')
    .option('--format <format>', "'table', 'json', a Go template ('{{.Repository}}:{{.Tag}}') or 'table TEMPLATE'")
    .action(act(() => import('./commands/images.js')));
  image.command('load')
    .description('load an image from a docker-archive or OCI-layout tar archive')
    .requiredOption('-i, --input <file>', 'read from a tar archive file')
    .option('-q, --quiet', 'suppress the load output')
    .action(act(() => import('./commands/load.js')));
  image.command('rm')
    .description('remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'force removal of the image')
    .action(act(() => import('./commands/rmi.js')));
  image.command('inspect')
    .description('display detailed information on one or more images')
    .argument('<image...>')
    .option('-f, --format <template>', 'format the output with a Go template')
    .action(act(async () => ({ default: (opts: any, args: string[], ctx: CliContext) => import('./commands/inspect.js').then((m) => m.default({ ...opts, type: 'image' }, args, ctx)) })));
  image.command('prune')
    .description('remove unused images')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <filter>', 'provide filter values (repeatable)', collect)
    .action(act(imageVerb('prune')));

  const projectFlags = (c: Command): Command => c
    .option('-f, --file <file>', 'compose configuration file (repeatable)', collect)
    .option('-p, --project-name <name>', 'project name')
    .option('--project-directory <dir>', 'alternate working directory')
    .option('--env-file <file>', 'alternate environment file (repeatable)', collect)
    .option('--profile <profile>', 'enable a profile (repeatable)', collect);

  const configCommand = (parent: Command): Command => projectFlags(parent.command('config'))
    .description('parse, resolve and render the compose file in canonical format')
    .option('--services', 'print the service names, one per line')
    .option('--volumes', 'print the volume names, one per line')
    .option('--profiles', 'print the profile names, one per line')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('-q, --quiet', 'only validate the configuration, print nothing')
    .option('--no-consistency', "don't check model consistency (undefined services, networks, volumes; cycles; duplicate container names)")
    .action(act(() => import('./commands/config.js')));

  const convertCommand = (parent: Command): Command => projectFlags(parent.command('convert'))
    .description('convert the compose project to Kubernetes manifests')
    .option('-o, --output <dir|->', 'write one file per object into this directory (default: - for stdout)')
    .option('-n, --namespace <ns>', 'namespace of every object (and a Namespace object)')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .addOption(new Option('--controller <kind>', 'controller of every long-running service (default: StatefulSet for services with named volumes)').choices(['deployment', 'statefulset']))
    .option('--kustomize', 'also write a kustomization.yaml (needs -o DIR)')
    .option('--network-policies', 'NetworkPolicies that reproduce compose network isolation')
    .option('--service-type <type>', 'type of the Services of published ports: loadbalancer, nodeport or clusterip', 'loadbalancer')
    .option('--volume-size <size>', 'size of a volume claim whose volume names none', '1Gi')
    .option('--storage-class <name>', 'storage class of the volume claims')
    .option('--wait-image <image>', 'image of the init containers that wait for dependencies', 'busybox:1.36')
    .option('--kubectl-image <image>', 'image of the init containers that wait for jobs', 'registry.k8s.io/kubectl:v1.33.0')
    .option('--cluster-domain <domain>', 'the cluster DNS domain', 'cluster.local')
    .action(act(() => import('./commands/convert.js')));

  const upCommand = (parent: Command): Command => projectFlags(parent.command('up'))
    .description('create and start the containers of a compose project')
    .argument('[service...]')
    .option('-d, --detach', 'run containers in the background')
    .option('--wait', 'wait for services to be running|healthy (implies detached mode)')
    .option('--wait-timeout <seconds>', 'maximum duration to wait for the project to be running|healthy')
    .option('--no-deps', "don't start linked services")
    .option('--force-recreate', "recreate containers even if their configuration hasn't changed")
    .option('--no-recreate', "if containers already exist, don't recreate them")
    .option('--no-start', "don't start the services after creating them")
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('--scale <service=num>', 'scale SERVICE to NUM instances (repeatable)', collect)
    .option('--attach <service>', 'restrict attaching to the specified services (repeatable)', collect)
    .option('--abort-on-container-exit', 'stops all containers if any container was stopped')
    .option('--exit-code-from <service>', 'return the exit code of the selected service container')
    .option('--timestamps', 'show timestamps')
    .option('--no-color', 'produce monochrome output')
    .option('-w, --watch', 'watch source code and sync, restart or exec in the containers on change (develop.watch); with -d the engine keeps watching')
    .addOption(new Option('--ansi <when>', 'control when to print ANSI control characters').choices(['never', 'always', 'auto']).default('auto'))
    .option('--build', 'build images before starting containers')
    .option('--no-build', "don't build an image, even if it's missing")
    .option('--pull <policy>', 'pull image before running: always, missing, never, build (default: each service\'s pull_policy)')
    .option('--quiet-pull', 'pull without printing progress information')
    .action(act(() => import('./commands/compose/up.js')));

  const watchCommand = (parent: Command): Command => projectFlags(parent.command('watch'))
    .description('watch the develop.watch paths of the services and sync, restart or exec in their containers on change')
    .argument('[service...]')
    .option('--no-up', 'do not start the services before watching')
    .option('--quiet', 'print only errors and warnings')
    .option('-d, --detach', 'return once watching; the engine keeps watching (also across its restarts) until watch --stop or down')
    .option('--stop', "end the project's watch (detached or not); the containers keep running")
    .option('--no-prune', 'keep the image a rebuild replaced (by default it is removed when nothing names or uses it)')
    .action(act(() => import('./commands/compose/watch.js')));

  const downCommand = (parent: Command): Command => projectFlags(parent.command('down'))
    .description('stop and remove the containers of a compose project')
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('-v, --volumes', 'remove named volumes declared in the volumes section and anonymous volumes')
    .option('-t, --timeout <seconds>', 'specify a shutdown timeout in seconds')
    .action(act(() => import('./commands/compose/down.js')));

  const lsCommand = (parent: Command): Command => parent.command('ls')
    .description('list running compose projects')
    .option('-a, --all', 'show all stopped compose projects')
    .option('-q, --quiet', 'only display project names')
    .option('--format <format>', "'table' or 'json'")
    .action(act(() => import('./commands/compose/ls.js')));

  declareNetworkVerbs(program, act);

  program.command('update')
    .description('update the configuration of one or more containers')
    .argument('<container...>')
    .option('--restart <policy>', 'restart policy: no, always, unless-stopped, on-failure[:max-retries]')
    .option('-m, --memory <bytes>', 'memory limit (e.g. 64m)')
    .option('--memory-swap <bytes>', 'memory plus swap limit; -1 for unlimited swap')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpus <n>', 'number of CPUs (e.g. 0.5; 0 for no limit)')
    .option('--cpu-period <us>', 'CPU CFS period')
    .option('--cpu-quota <us>', 'CPU CFS quota')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <list>', 'memory nodes in which to allow execution')
    .option('--pids-limit <n>', 'tune the container pids limit (-1 for unlimited)')
    .action(act(() => import('./commands/update.js')));

  program.command('wait')
    .description('block until one or more containers stop, then print their exit codes')
    .argument('<container...>')
    .action(act(() => import('./commands/wait.js')));

  program.command('top')
    .description('display the running processes of a container')
    .argument('<container>')
    .action(act(() => import('./commands/top.js')));

  program.command('stats')
    .description('display a live stream of container resource usage statistics')
    .argument('[container...]')
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--no-trunc', "don't truncate output")
    .option('--format <format>', "'table' or 'json'")
    .action(act(() => import('./commands/stats.js')));

  program.command('info')
    .description('display system-wide information')
    .option('-f, --format <format>', "'json' or a Go template ('{{.ServerVersion}}')")
    .action(act(() => import('./commands/info.js')));

  program.command('version')
    .description('show the berth version information')
    .option('-f, --format <format>', "'json' or a Go template ('{{.Server.Version}}')")
    .action(act(() => import('./commands/version.js')));

  // `berth engine` with no subcommand runs the engine itself: bin/berth starts it without loading
  // this module (the engine is not part of the CLI bundle). Its subcommands are verbs like others.
  const engineCommand = program.command('engine')
    .description('the engine: `berth engine` runs it in the foreground (the verbs start it by themselves); status, stop')
    .option('--install-unit [path]', 'write a systemd unit that starts the engine at boot (default /etc/systemd/system/berth.service)')
    .action(act(() => import('./commands/engine.js')));
  engineCommand.command('status')
    .description("the running engine: pid, uptime, memory, supervised containers, event-loop delay")
    .option('-f, --format <format>', "'json' or a Go template ('{{.Pid}}')")
    .option('--reset', 'start a new event-loop delay window after reporting')
    .action(act(async () => ({ default: (await import('./commands/engine.js')).status })));
  engineCommand.command('stop')
    .description('stop the engine (SIGTERM: containers keep running) and wait until it is gone')
    .action(act(async () => ({ default: (await import('./commands/engine.js')).stop })));

  configCommand(program);
  convertCommand(program);
  upCommand(program);
  downCommand(program);
  watchCommand(program);
  lsCommand(program);

  const compose = projectFlags(program.command('compose'))
    .description('compose verbs on a project (docker compose …): up, down, ps, logs, start, stop, restart, kill, pause, unpause, exec, run, events, top, stats, wait, watch, port, ls, pull, build, images, config, convert')
    .enablePositionalOptions();
  configCommand(compose);
  convertCommand(compose);
  upCommand(compose);
  downCommand(compose);
  watchCommand(compose);
  lsCommand(compose);
  compose.command('ps')
    .description("list the project's containers")
    .argument('[service...]')
    .option('-a, --all', 'show all stopped containers')
    .option('-q, --quiet', 'only display ids')
    .option('--services', 'display services')
    .option('--format <format>', "'table' or 'json'")
    .action(act(() => import('./commands/compose/ps.js')));
  compose.command('logs')
    .description("view the project's container logs")
    .argument('[service...]')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs for each container')
    .option('--since <time>', 'show logs since timestamp (e.g. 2026-01-02T13:23:37Z) or relative (e.g. 42m)')
    .option('-t, --timestamps', 'show timestamps')
    .option('--no-color', 'produce monochrome output')
    .option('--no-log-prefix', "don't print prefix in logs")
    .action(act(() => import('./commands/compose/logs.js')));
  compose.command('start').description('start services').argument('[service...]').action(act(lifecycle('start')));
  compose.command('stop').description('stop services').argument('[service...]')
    .option('-t, --timeout <seconds>', 'specify a shutdown timeout in seconds').action(act(lifecycle('stop')));
  compose.command('restart').description('restart services').argument('[service...]')
    .option('-t, --timeout <seconds>', 'specify a shutdown timeout in seconds').action(act(lifecycle('restart')));
  compose.command('pause').description('pause services').argument('[service...]').action(act(lifecycle('pause')));
  compose.command('unpause').description('unpause services').argument('[service...]').action(act(lifecycle('unpause')));
  compose.command('exec')
    .description("execute a command in a service's running container")
    .argument('<service>').argument('<command...>')
    .passThroughOptions()
    .option('-d, --detach', 'detached mode: run the command in the background')
    .option('-e, --env <K=V>', 'set environment variables (repeatable)', collect)
    .option('--privileged', 'give extended privileges to the process (every capability)')
    .option('-u, --user <user>', 'run the command as this user')
    .option('-w, --workdir <dir>', 'path to workdir directory for this command')
    .option('--index <n>', 'index of the container if the service has multiple replicas', '1')
    .option('-T, --disable-tty', 'disable pseudo-TTY allocation (default: a tty when stdin is a terminal)')
    .option('-i, --interactive', 'keep stdin open (the default)', true)
    .action(act(() => import('./commands/compose/exec.js')));
  compose.command('run')
    .description('run a one-off command on a service')
    .argument('<service>').argument('[command...]')
    .passThroughOptions()
    .option('--rm', 'automatically remove the container when it exits')
    .option('-d, --detach', 'run the container in the background and print its name')
    .option('--name <name>', 'assign a name to the container')
    .option('-e, --env <K=V>', 'set environment variables (repeatable)', collect)
    .option('-l, --label <K=V>', 'add or override a label (repeatable)', collect)
    .option('--entrypoint <cmd>', "override the entrypoint of the image")
    .option('-u, --user <user>', 'run as the specified username or uid')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--no-deps', "don't start linked services")
    .option('-T, --disable-tty', 'disable pseudo-TTY allocation (default: a tty when stdin is a terminal)')
    .option('-i, --interactive', 'keep stdin open (the default)', true)
    .option('--build', 'build the image before starting the container')
    .option('--pull <policy>', 'pull image before running: always, missing, never, build')
    .option('--quiet-pull', 'pull without printing progress information')
    .action(act(() => import('./commands/compose/run.js')));
  compose.command('kill').description('force stop service containers').argument('[service...]')
    .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL').action(act(lifecycle('kill')));
  compose.command('events')
    .description('receive real time events from containers')
    .argument('[service...]')
    .option('--json', 'output events as a stream of json objects')
    .action(act(() => import('./commands/compose/events.js')));
  compose.command('top')
    .description('display the running processes')
    .argument('[service...]')
    .action(act(() => import('./commands/compose/top.js')));
  compose.command('stats')
    .description('display a live stream of container resource usage statistics')
    .argument('[service...]')
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--no-trunc', "don't truncate output")
    .option('--format <format>', "'table' or 'json'")
    .action(act(() => import('./commands/compose/stats.js')));
  compose.command('port')
    .description('print the public port for a port binding')
    .argument('<service>').argument('<private_port>')
    .option('--protocol <proto>', 'tcp or udp', 'tcp')
    .option('--index <n>', 'index of the container if the service has multiple replicas', '1')
    .action(act(() => import('./commands/compose/port.js')));
  const composeImages = (name: 'pull' | 'build' | 'images'): Loader => async () => ({ default: (await import('./commands/compose/images.js'))[name] });
  compose.command('pull')
    .description('pull service images')
    .argument('[service...]')
    .option('-q, --quiet', 'pull without printing progress information')
    .option('--ignore-pull-failures', 'pull what it can and ignores images with pull failures')
    .option('--include-deps', 'also pull services declared as dependencies')
    .option('--policy <policy>', 'apply pull policy: missing or always')
    .action(act(composeImages('pull')));
  compose.command('build')
    .description('build or rebuild services')
    .argument('[service...]')
    .option('--no-cache', 'do not use cache when building the image')
    .option('--pull', 'always attempt to pull a newer version of the image')
    .option('--build-arg <K=V>', 'set build-time variables for services (repeatable)', collect)
    .option('--with-dependencies', 'also build dependencies (transitively)')
    .option('-q, --quiet', "don't print anything to stdout")
    .option('--progress <type>', 'auto, plain, tty or quiet', 'auto')
    .action(act(composeImages('build')));
  compose.command('images')
    .description('list images used by the created containers')
    .argument('[service...]')
    .option('-q, --quiet', 'only display ids')
    .option('--format <format>', "'table' or 'json'")
    .action(act(composeImages('images')));
  compose.command('wait')
    .description('block until the containers of the services stop')
    .argument('<service...>')
    .option('--down-project', 'drops the project once the containers stopped')
    .action(act(() => import('./commands/compose/wait.js')));

  return program;
}

/** The context of a `berth` process: its own stdio, cwd, environment, signals and terminal. */
export function processContext(packageRoot: string): CliContext {
  const stdout = process.stdout;
  const roots = resolveRoots(process.env);
  const terminal: Terminal = {
    isTTY: (stream) => (stream === 'stdin' ? process.stdin.isTTY === true : stream === 'stdout' ? stdout.isTTY === true : process.stderr.isTTY === true),
    size: () => {
      const tty = stdout.isTTY ? stdout : process.stderr.isTTY ? process.stderr : undefined;
      return tty && tty.rows > 0 && tty.columns > 0 ? { rows: tty.rows, columns: tty.columns } : undefined;
    },
    onResize: (listener) => {
      const handler = (): void => {
        const size = terminal.size();
        if (size) listener(size);
      };
      process.on('SIGWINCH', handler);
      return () => { process.off('SIGWINCH', handler); };
    },
    setRaw: () => {
      if (!process.stdin.isTTY) return () => {};
      process.stdin.setRawMode(true);
      return () => { process.stdin.setRawMode(false); };
    },
  };
  return {
    stdout,
    stderr: process.stderr,
    // process.stdin is a getter that builds a stream (and may put a tty in flowing mode): only
    // commands that read stdin touch it.
    get stdin() { return process.stdin; },
    env: process.env,
    cwd: process.cwd(),
    terminal,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => { process.off(signal, handler); };
    },
    exit: (code) => process.exit(code),
    clock: realClock,
    async connect(opts = {}) {
      const { connectEngine } = await import('../client/client.js');
      return connectEngine({ roots, packageRoot, env: process.env, ...(opts.autoStart !== undefined ? { autoStart: opts.autoStart } : {}) });
    },
    roots,
    packageRoot,
    nodePath: process.execPath,
  };
}

/** Parses `argv` (the arguments after `berth`) and runs the command; resolves with its exit code. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  let exitCode = 0;
  const program = createProgram(ctx, (code) => { exitCode = code; });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // commander already printed its one line (or the help/version); docker's usage error is 125
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 125;
    }
    return renderError(err, ctx);
  }
  return exitCode;
}

/** Entry point, called by bin/berth with the package's root directory. */
export async function main(packageRoot: string): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), processContext(packageRoot));
}

/**
 * The one place that maps an error to a message and an exit code (Docker's: 125 for berth's own
 * failure, the container's code when it carries one, 1 for a failed dependency, 130 for an
 * interrupt, 15 for a compose file error). Only an InternalError (or a non-berth error) is a bug.
 */
function renderError(err: unknown, ctx: CliContext): number {
  if (err instanceof BerthError) {
    ctx.stderr.write(`Error: ${err.message}\n`);
    const details = err.details as { exitCode?: number } | undefined;
    if (typeof details?.exitCode === 'number') return details.exitCode;
    switch (err.code) {
      case 'SPEC': return 15;
      case 'DEPENDENCY_FAILED': return 1;
      case 'CANCELLED': return 130;
      case 'INTERNAL':
        ctx.stderr.write('This is a bug in berth. Please report it with the command you ran and this output:\n');
        ctx.stderr.write(`${err.stack ?? ''}\n`);
        return 125;
      default: return 125;
    }
  }
  ctx.stderr.write(`Error: internal error: ${(err as Error)?.message ?? String(err)}\n`);
  ctx.stderr.write('This is a bug in berth. Please report it with the command you ran and this output:\n');
  ctx.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  return 125;
}
