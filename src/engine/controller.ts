// PLACEHOLDER until the controller lands: the transport (engine/main.ts, engine/server.ts,
// api/client.ts) needs an EngineApi to serve. info() and shutdown() are real; every verb throws
// Unsupported. The controller's author replaces this whole file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Roots } from '../lib/paths.js';
import { Unsupported } from '../lib/errors.js';
import type { EngineApi, EngineInfo } from '../api/engine-api.js';
import { API_VERSION } from '../api/types.js';

export function createController(roots: Roots, packageRoot: string, _env: NodeJS.ProcessEnv): EngineApi {
  const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const info: EngineInfo = { version, apiVersion: API_VERSION, pid: process.pid, root: roots.root };
  const notYet = (verb: string) => async (): Promise<never> => { throw new Unsupported(`${verb} is not implemented yet`); };
  return {
    info: () => info,
    up: notYet('up'),
    down: notYet('down'),
    start: notYet('start'),
    stop: notYet('stop'),
    restart: notYet('restart'),
    kill: notYet('kill'),
    pause: notYet('pause'),
    unpause: notYet('unpause'),
    ps: notYet('ps'),
    ls: notYet('ls'),
    logs: notYet('logs'),
    events: notYet('events'),
    shutdown: async () => { /* nothing to stop yet */ },
  };
}
