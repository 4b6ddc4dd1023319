// `berth engine`: the long-lived process of one BERTH_ROOT. bin/berth calls engineMain(); a
// client starts it the same way in the background (client/client.ts), with stdout and stderr
// appended to <BERTH_RUN>/engine.log. Read in lifecycle order:
//
//   1. claim <BERTH_RUN>/berth.sock (server.ts); losing the race to another engine is a Conflict,
//      and this process exits before it builds a controller;
//   2. build the controller, write <BERTH_RUN>/engine.pid atomically, serve;
//   3. on SIGTERM, SIGINT, SIGHUP or POST /v1/shutdown: refuse new requests, end the running
//      ones, api.shutdown(), remove the pid file, stop listening (which removes the socket), exit
//      0. Containers keep running: their supervisors are separate processes (live restore).
//      A second signal during that exits at once; the socket left behind is recognised as dead.
import { readFileSync, unlinkSync } from 'node:fs';
import type { Roots } from '../lib/paths.js';
import { resolveRoots } from '../lib/paths.js';
import { writeFileAtomic, checkPrivateDir } from '../lib/atomic.js';
import { Conflict } from '../lib/errors.js';
import type { EngineApi } from '../api/engine-api.js';
import { enginePaths } from '../api/codec.js';
import { startServer, type EngineServer } from './server.js';
import { idleWatch } from './idle.js';
import { realClock } from '../lib/clock.js';
import { lazySys } from '../sys/index.js';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * How long the engine must have been asked nothing before it hands free malloc memory back
 * (malloc_trim): long enough that a burst of commands (a script, the soak's up/down) never pays
 * for it between two of them, short enough that an engine left alone shrinks within seconds.
 */
export const IDLE_TRIM_MS = 2_000;

/**
 * What the engine does once it is idle: malloc_trim(0), logged with the RSS before and after.
 * BERTH_IDLE_TRIM=0 in the engine's environment leaves the trim out (the line is still logged:
 * to measure without it).
 */
function trimWhenIdle(env: NodeJS.ProcessEnv, log: (line: string) => void): ReturnType<typeof idleWatch> {
  const mib = (b: number): string => (b / 1048576).toFixed(1);
  return idleWatch({
    clock: realClock,
    quietMs: IDLE_TRIM_MS,
    log,
    onIdle: () => {
      const before = process.memoryUsage.rss();
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) gc();
      if (env.BERTH_IDLE_TRIM === '0') { log(`idle: RSS ${mib(before)} MiB${gc ? `, ${mib(process.memoryUsage.rss())} after gc` : ''}`); return; }
      lazySys.mallocTrim();
      log(`idle: RSS ${mib(before)} MiB, ${mib(process.memoryUsage.rss())} after ${gc ? 'gc and ' : ''}malloc_trim`);
    },
  });
}

export type EngineExtension = (host: { readonly roots: Roots; readonly packageRoot: string; readonly api: EngineApi; readonly log: (line: string) => void; readonly busy: () => () => void }) => Promise<ExtensionHandle>;
export interface ExtensionHandle {
  /** stop taking new work and end (abort) the work in progress */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs the engine until it is asked to stop; resolves with the process exit code. `api` may be a
 * factory: it is then called only once this process owns the socket, so an engine that loses the
 * start-up race never builds a controller. Throws Conflict when another engine already serves
 * these roots.
 */
export async function runEngine(
  roots: Roots,
  api: EngineApi | (() => EngineApi | Promise<EngineApi>),
  log: (line: string) => void,
  extras: { readonly packageRoot: string; readonly extensions: readonly EngineExtension[] } = { packageRoot: '', extensions: [] },
): Promise<number> {
  const paths = enginePaths(roots.run);
  checkPrivateDir(roots.run); // a foreign BERTH_RUN is refused before anything is written in it
  let engine: EngineApi | undefined;
  const handles: ExtensionHandle[] = [];
  let stopping: Promise<void> | undefined;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => { finish = resolve; });
  const idle = trimWhenIdle(process.env, log);

  const started = startServer({
    socketPath: paths.socket,
    busy: idle.busy,
    // Called once this process owns the socket, before any request is answered: so a client
    // that got an answer always finds the pid file.
    api: async () => {
      engine = typeof api === 'function' ? await api() : api;
      writeFileAtomic(paths.pidFile, `${process.pid}\n`, 0o644);
      return engine;
    },
    log,
    onShutdown: () => stop('shutdown requested'),
    onLostSocket: () => stop(`"${paths.socket}" was removed or taken over`),
  });

  function stop(why: string): void {
    stopping ??= (async () => {
      // A signal during start-up waits for the server, so that it is closed too.
      let server: EngineServer;
      try { server = await started; } catch { return; }
      log(`stopping: ${why}`);
      idle.close();
      let code = 0;
      try {
        await Promise.all([server.drain(), ...handles.map((h) => h.drain())]);
        await Promise.all(handles.map((h) => h.close()));
        await engine?.shutdown();
      } catch (err) {
        log(`shutdown failed: ${(err as Error)?.stack ?? String(err)}`);
        code = 1;
      }
      removePidFileIfOurs(paths.pidFile);
      await server.close();
      log('stopped');
      finish(code);
    })();
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      removePidFileIfOurs(paths.pidFile);
      process.exit(1);
    }
    stop(signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  // Last resort for an exit that skips stop() (an uncaught exception): no stale pid file.
  const onExit = (): void => removePidFileIfOurs(paths.pidFile);
  process.on('exit', onExit);

  try {
    await started;
    const served = engine;
    if (served && !stopping) {
      for (const extend of extras.extensions) {
        try {
          handles.push(await extend({ roots, packageRoot: extras.packageRoot, api: served, log, busy: idle.busy }));
        } catch (err) {
          log(`an extension did not start (the engine serves without it): ${(err as Error)?.stack ?? String(err)}`);
        }
      }
    }
    return await finished;
  } finally {
    idle.close();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('exit', onExit);
  }
}

/** Removes the pid file only when it names this process: a losing engine must not remove the winner's. */
function removePidFileIfOurs(pidFile: string): void {
  try {
    if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(pidFile);
  } catch { /* absent */ }
}

/**
 * Entry point for `bin/berth engine`: foreground, logging to stderr; only this decides the exit
 * code. (`berth engine status|stop|--install-unit|--help` are CLI verbs: bin/berth sends them to
 * the CLI, which talks to this process over the socket.)
 */
export async function engineMain(packageRoot: string, args: readonly string[] = [], extensions: readonly EngineExtension[] = []): Promise<void> {
  if (args.length > 0) {
    process.stderr.write(`berth engine: unexpected argument "${args[0]}"\n`);
    process.exitCode = 125;
    return;
  }
  const log = (line: string): void => { process.stderr.write(`${new Date().toISOString()} engine[${process.pid}] ${line}\n`); };
  const roots = resolveRoots(process.env);
  try {
    const code = await runEngine(roots, async () => {
      const { createEngine } = await import('./engine.js');
      return createEngine({ roots, packageRoot, env: process.env, log });
    }, log, { packageRoot, extensions });
    // Whatever the controller still holds (timers, watchers) must not keep a stopped engine alive.
    process.exit(code);
  } catch (err) {
    if (err instanceof Conflict) {
      log(`not starting: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    log(`failed: ${(err as Error)?.stack ?? String(err)}`);
    process.exitCode = 1;
  }
}
