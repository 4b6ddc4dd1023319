// Docker's restart decisions, pure: the caller passes the times and keeps the state.
//
// Verified against moby (restartmanager/restartmanager.go, container/container.go,
// daemon/daemon.go restore(), daemon/start.go, daemon/kill.go):
// - ShouldRestart(): policy "no" never restarts. A container stopped or killed through the API
//   never restarts, whatever the policy (kill.go marks HasBeenManuallyStopped and calls
//   ExitOnNext() = RestartManager().Cancel(); a cancelled manager answers "restart canceled").
//   Otherwise "always" restarts, "unless-stopped" restarts, "on-failure" restarts on a
//   non-zero exit code while restartCount < max (max 0 = no limit).
// - Back-off: the delay before a restart is 100 ms the first time and doubles with each
//   restart, capped at 1 minute; when the container ran 10 s or more before this exit, the
//   delay starts over at 100 ms. The delay is recomputed before the policy is consulted, as
//   moby does (it only matters when a restart follows).
// - RestartCount is never reset by the 10 s rule (only the delay is); it counts up on every
//   policy restart (daemon/monitor.go) and is reset by a user start (daemon/start.go:
//   ResetRestartManager(true), which also clears HasBeenManuallyStopped). So `on-failure:3`
//   gives up after 3 restarts in total, however far apart.
// - Daemon start (restore()): a container found not running is started when the daemon's
//   restart manager says so with HasBeenManuallyStopped as recorded, and it has been started
//   before (HasBeenStartedBefore): "always" comes back even after a user stop,
//   "unless-stopped" only when the user did not stop it. For "on-failure" berth follows the
//   documentation ("It doesn't restart the container if the daemon restarts") rather than the
//   code path (which would also start an on-failure container whose last exit was non-zero).
// deploy.restart_policy's delay and window are not used: Docker ignores them outside swarm.
import type { RestartPolicy } from '../spec/model.js';

/** first delay, ms */
export const INITIAL_BACKOFF_MS = 100;
/** cap of the delay, ms */
export const MAX_BACKOFF_MS = 60_000;
/** a run at least this long (ms) starts the back-off over */
export const BACKOFF_RESET_RUN_MS = 10_000;

export interface ExitedContainer {
  readonly exitCode: number;
  /** stop/kill through berth: no policy may undo it */
  readonly stoppedByUser: boolean;
  /** policy restarts so far (Docker's RestartCount) */
  readonly restartCount: number;
  /** epoch ms of the start of the run that just ended */
  readonly startedAt: number;
  /** epoch ms of its exit */
  readonly finishedAt: number;
}

export interface BackoffState {
  /** the delay used for the previous restart; 0 = none yet (a fresh container or a user start) */
  readonly backoffMs: number;
}

export type RestartDecision =
  | { readonly restart: false; readonly reason: string }
  | {
    readonly restart: true;
    /** wait this long before starting the container again */
    readonly delayMs: number;
    /** the BackoffState.backoffMs to pass for the next exit */
    readonly nextBackoffMs: number;
    /**
     * Always false: Docker keeps counting restarts across the 10 s back-off reset; only a
     * user start resets RestartCount (the engine does that, not this function).
     */
    readonly resetCount: boolean;
    /** true when this exit came after a run of 10 s or more, so the delay started over */
    readonly backoffReset: boolean;
  };

export function decideRestart(policy: RestartPolicy, c: ExitedContainer, state: BackoffState): RestartDecision {
  if (policy.name === 'no') return { restart: false, reason: 'restart policy is "no"' };
  if (c.stoppedByUser) return { restart: false, reason: 'stopped by the user' };

  const backoffReset = c.finishedAt - c.startedAt >= BACKOFF_RESET_RUN_MS;
  const previous = backoffReset ? 0 : state.backoffMs;
  const delayMs = previous <= 0 ? INITIAL_BACKOFF_MS : Math.min(previous * 2, MAX_BACKOFF_MS);

  switch (policy.name) {
    case 'always':
    case 'unless-stopped':
      break;
    case 'on-failure':
      if (policy.max_attempts > 0 && c.restartCount >= policy.max_attempts) {
        return { restart: false, reason: `maximum restart count ${policy.max_attempts} reached` };
      }
      if (c.exitCode === 0) return { restart: false, reason: 'exited with code 0' };
      break;
  }
  return { restart: true, delayMs, nextBackoffMs: delayMs, resetCount: false, backoffReset };
}

export interface StoppedAtEngineStart {
  /** it was running when the engine (or the host) went down, and is not running now */
  readonly wasRunning: boolean;
  readonly stoppedByUser: boolean;
  /** it has run at least once (a created-but-never-started container stays created);
   * default true */
  readonly startedBefore?: boolean;
}

/** Whether an engine start brings back a container it finds not running (Docker's daemon start). */
export function restartOnEngineStart(policy: RestartPolicy, c: StoppedAtEngineStart): { readonly restart: boolean; readonly reason: string } {
  const startedBefore = c.startedBefore ?? true;
  if (!startedBefore && !c.wasRunning) return { restart: false, reason: 'never started' };
  switch (policy.name) {
    case 'always':
      return { restart: true, reason: c.stoppedByUser ? 'restart policy "always" (even after a user stop)' : 'restart policy "always"' };
    case 'unless-stopped':
      return c.stoppedByUser
        ? { restart: false, reason: 'stopped by the user' }
        : { restart: true, reason: 'restart policy "unless-stopped"' };
    case 'on-failure':
      return { restart: false, reason: 'restart policy "on-failure" does not restart on engine start' };
    case 'no':
      return { restart: false, reason: 'restart policy is "no"' };
  }
}
