// The warm CLI's socket, <BERTH_RUN>/berth-cli.sock (docs/warm-cli.md): what the launcher
// (native/cmd/launch.c, `bin/berth`) connects to. An engine extension (engine/main.ts): started
// once the engine owns berth.sock and answers, so exactly one engine serves it, and drained and
// closed with it. Access is berth.sock's: the same owner, group and mode (0660), checked by the
// kernel at connect; the caller's identity then comes from the socket (SO_PEERCRED).
//
// Every connection is paused on accept (pauseOnConnect): its first bytes carry the caller's
// descriptors, which only a recvmsg of our own receives (session.ts); Node reads the rest.
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineExtension, ExtensionHandle } from '../engine/main.js';
import { enginePaths } from '../api/codec.js';
import { nextTurn } from '../lib/coalesce.js';
import { callerSys } from '../sys/caller.js';
import { runSession } from './session.js';

export const CLI_SOCKET = 'berth-cli.sock';

/** How long drain() gives running commands after their sessions were aborted. */
const DRAIN_TIMEOUT_MS = 5_000;

export const warmCli: EngineExtension = async ({ roots, packageRoot, api, log, busy }) => {
  const socketPath = join(roots.run, CLI_SOCKET);
  const main = enginePaths(roots.run).socket;
  const { runCli } = await import('../cli/main.js');
  const version = packageVersion(packageRoot);
  const sys = callerSys();
  const sockets = new Set<Socket>();
  const running = new Set<Promise<void>>();
  let draining = false;

  const server: Server = createServer({ pauseOnConnect: true }, (socket) => {
    if (draining) { socket.destroy(); return; }
    sockets.add(socket);
    const release = busy();
    const work = runSession({ api, roots, packageRoot, version, sys, log, runCli }, socket)
      .catch((err: unknown) => { log(`warm cli: ${(err as Error)?.stack ?? String(err)}`); socket.destroy(); })
      .finally(() => { sockets.delete(socket); running.delete(work); release(); });
    running.add(work);
  });
  server.on('error', (err) => log(`warm cli: ${err.message}`));

  // Listen on a private name, give it berth.sock's owner, group and mode, then rename it over the
  // public one: the engine that owns berth.sock is the only one that gets here, so whatever
  // berth-cli.sock named before is a dead engine's.
  const privateName = join(roots.run, `.${CLI_SOCKET}.${process.pid}.tmp`);
  try { unlinkSync(privateName); } catch { /* absent */ }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(privateName, () => { server.off('error', reject); resolve(); });
  });
  let owned: { dev: number; ino: number };
  try {
    const model = statSync(main);
    chownSync(privateName, model.uid, model.gid);
    chmodSync(privateName, model.mode & 0o777);
    const st = statSync(privateName);
    owned = { dev: st.dev, ino: st.ino };
    renameSync(privateName, socketPath);
  } catch (err) {
    server.close();
    try { unlinkSync(privateName); } catch { /* absent */ }
    throw err;
  }
  log(`warm cli listening on "${socketPath}"`);
  // what the first command of each verb would pay otherwise: the verbs' modules, compiled once
  void warmUp(log);

  const handle: ExtensionHandle = {
    async drain() {
      draining = true;
      // a launcher that gets no STARTED falls back to the Node CLI, which waits for the next engine
      for (const s of sockets) s.destroy();
      await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS).unref())]);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        const st = statSync(socketPath);
        if (st.dev === owned.dev && st.ino === owned.ino) unlinkSync(socketPath);
      } catch { /* gone already */ }
    },
  };
  return handle;
};

/** Loads every verb's module in the background, so that the first warm `berth X` finds it compiled. */
async function warmUp(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const verbs = [
    'run', 'create', 'start', 'exec', 'ps', 'logs', 'stop', 'kill', 'rm', 'pause', 'inspect', 'images', 'load', 'import', 'rmi',
    'update', 'top', 'wait', 'stats', 'info', 'version', 'config', 'engine',
    'compose/up', 'compose/down', 'compose/ls', 'compose/ps', 'compose/logs', 'compose/lifecycle', 'compose/exec', 'compose/run',
    'compose/events', 'compose/top', 'compose/stats', 'compose/port', 'compose/wait',
  ];
  for (const verb of verbs) {
    try { await import(`../cli/commands/${verb}.js`); } catch (err) { log(`warm cli: preloading ${verb}: ${(err as Error).message}`); }
    await nextTurn(); // one module per turn: requests come first
  }
  try { await import('../spec/load.js'); } catch { /* loaded on first use then */ }
  log(`warm cli: verbs loaded in ${Date.now() - started} ms`);
}

function packageVersion(packageRoot: string): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
