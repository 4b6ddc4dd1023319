// Health checks with Docker's semantics (moby daemon/health.go; the Dockerfile HEALTHCHECK
// reference; the compose spec's healthcheck):
// - the status is `starting` until the first success; a success makes it `healthy` and resets the
//   failing streak; `retries` consecutive failures make it `unhealthy`; any exit code but 0 is a
//   failure (1 is the documented one, 2 is reserved);
// - a failure whose probe started inside the start period, while still `starting`, is logged but
//   not counted; a success inside it counts (`healthy`), and from then on failures count;
// - the first probe runs one interval after the container started, each next one an interval
//   after the previous one finished, so probes never overlap; while `starting` inside the start
//   period the interval is start_interval, capped by what is left of the start period (moby
//   PR #52317: the first regular probe is not pushed past the end of the start period);
// - a probe running longer than `timeout` is killed and logged with exit code -1 and
//   "Health check exceeded timeout (<timeout>)[: <output>]"; a probe that cannot run at all is
//   logged with -1 and the error's message;
// - the log keeps the last 5 results, each output at most 4096 bytes then "...".
// The monitor reads time only from the injected Clock and runs probes only through the injected
// probe, so its tests run on a ManualClock with a scripted probe.
import type { Clock } from '../lib/clock.js';
import type { Healthcheck } from '../spec/canonical/healthcheck.js';
import type { ImageConfig } from '../images/store.js';
import { formatDuration } from '../spec/canonical/duration.js';
import type { HealthcheckConfig } from '../runtime/state.js';

/** Docker's defaults (daemon/health.go), in milliseconds. */
export const HEALTH_DEFAULTS = {
  interval: 30_000,
  timeout: 30_000,
  startPeriod: 0,
  startInterval: 5_000,
  retries: 3,
} as const;

/** Results kept in the log (maxLogEntries). */
export const HEALTH_LOG_ENTRIES = 5;
/** Bytes of a probe's output kept (maxOutputLen); more is cut and "..." appended. */
export const HEALTH_MAX_OUTPUT = 4096;
/** CMD-SHELL's shell when the image sets none (Docker's getShell on Linux). */
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];
/**
 * The probe enforces `timeout` itself (execCaptured kills the command); the monitor cancels a
 * probe that has not returned this long after its timeout, so a wedged probe cannot stall it.
 */
export const PROBE_BACKSTOP_MS = 1_000;

/** The health check a container runs: every field resolved, durations in milliseconds. */
export interface ResolvedHealthcheck {
  /** ["CMD", argv…] or ["CMD-SHELL", command…] */
  readonly test: readonly string[];
  readonly interval: number;
  readonly timeout: number;
  readonly startPeriod: number;
  readonly startInterval: number;
  /** at least 1 */
  readonly retries: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry {
  /** RFC3339 (UTC, milliseconds) */
  readonly start: string;
  readonly end: string;
  readonly exitCode: number;
  readonly output: string;
}

/** Plain data (JSON round-trips): what inspect shows as State.Health and the engine persists. */
export interface HealthState {
  readonly status: HealthStatus;
  readonly failingStreak: number;
  /** oldest first, at most HEALTH_LOG_ENTRIES */
  readonly log: readonly HealthLogEntry[];
}

export interface ProbeResult {
  readonly exitCode: number;
  readonly output: string;
  readonly timedOut: boolean;
}

/** Runs `argv` in the container, killing it after `timeoutMs` or when `signal` aborts. */
export type Probe = (argv: readonly string[], timeoutMs: number, signal: AbortSignal) => Promise<ProbeResult>;

type ImageHealthcheck = NonNullable<ImageConfig['Healthcheck']>;

const NS_PER_MS = 1e6;

/**
 * The container's health check from the service's and the image's, as Docker merges them
 * (daemon/commit.go merge): the service's fields override the image's one by one, where a field
 * that is absent, or 0 (Docker's "inherit"), takes the image's; what neither sets takes Docker's
 * default. `disable: true` or a test of ["NONE"] (from either side, the service's first) means no
 * health check; so does an image test of [] with no service test.
 */
export function resolveHealthcheck(service: Healthcheck | undefined, image: ImageConfig['Healthcheck'] | undefined): ResolvedHealthcheck | undefined {
  if (service?.disable) return undefined;
  const img: ImageHealthcheck = image ?? {};
  const fromImage = (ns: number | undefined): number | undefined => (ns !== undefined && ns !== 0 ? ns / NS_PER_MS : undefined);
  const pick = (mine: number | undefined, theirs: number | undefined, fallback: number): number =>
    (mine !== undefined && mine !== 0 ? mine : theirs !== undefined && theirs !== 0 ? theirs : fallback);
  const test = service?.test && service.test.length > 0 ? service.test : img.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  if (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL') return undefined; // Docker: unknown type, no probe
  return {
    test: [...test],
    interval: pick(service?.interval, fromImage(img.Interval), HEALTH_DEFAULTS.interval),
    timeout: pick(service?.timeout, fromImage(img.Timeout), HEALTH_DEFAULTS.timeout),
    startPeriod: pick(service?.start_period, fromImage(img.StartPeriod), HEALTH_DEFAULTS.startPeriod),
    startInterval: pick(service?.start_interval, fromImage(img.StartInterval), HEALTH_DEFAULTS.startInterval),
    // Retries <= 0 runs as the default (handleProbeResult).
    retries: Math.max(0, pick(service?.retries, img.Retries, HEALTH_DEFAULTS.retries)) || HEALTH_DEFAULTS.retries,
  };
}

/**
 * The check a container is created with, in Docker's Config.Healthcheck form (durations in ns):
 * the user's (a service's healthcheck, or `run --health-*`) merged over the image's, as Docker
 * merges them at create; ["NONE"] when the user disabled it; undefined when neither has one.
 * The supervisor reads it back with resolveHealthcheck(undefined, config).
 */
export function healthcheckConfig(user: Healthcheck | undefined, image: ImageConfig['Healthcheck'] | undefined): HealthcheckConfig | undefined {
  if (user?.disable) return { Test: ['NONE'] };
  const r = resolveHealthcheck(user, image);
  if (!r) return undefined;
  return {
    Test: [...r.test],
    Interval: r.interval * NS_PER_MS,
    Timeout: r.timeout * NS_PER_MS,
    StartPeriod: r.startPeriod * NS_PER_MS,
    StartInterval: r.startInterval * NS_PER_MS,
    Retries: r.retries,
  };
}

/** The command a test runs: CMD's argv as given, CMD-SHELL's through the shell (["/bin/sh","-c"]). */
export function probeArgv(test: readonly string[], shell: readonly string[] = DEFAULT_SHELL): string[] {
  if (test[0] === 'CMD-SHELL') return [...shell, ...test.slice(1)];
  return test.slice(1);
}

/**
 * At most HEALTH_MAX_OUTPUT bytes (cut on a character boundary) then "...". An output already
 * limited that way (execCaptured's) is left as it is: only more than the limit plus the marker
 * is cut, so limiting twice changes nothing.
 */
export function limitOutput(output: string): string {
  if (Buffer.byteLength(output) <= HEALTH_MAX_OUTPUT + 3) return output;
  let bytes = 0;
  let end = 0;
  for (const ch of output) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > HEALTH_MAX_OUTPUT) break;
    bytes += n;
    end += ch.length;
  }
  return output.slice(0, end) + '...';
}

/** Docker's log text for a probe that ran out of time ("30s", "1m30s", "200ms" as Go prints them). */
export function timeoutOutput(timeoutMs: number, output: string): string {
  const head = `Health check exceeded timeout (${formatDuration(timeoutMs)})`;
  return output !== '' ? `${head}: ${output}` : head;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

export interface HealthMonitorOptions {
  readonly clock: Clock;
  /** receives the argv to run (probeArgv of the test) */
  readonly probe: Probe;
  /**
   * Called at start() with the initial state and after every probe result (Docker replicates the
   * state after each one, so inspect shows the new log entry); the status is new when it differs
   * from the previous call's — that is when Docker emits a health_status event. Must not throw.
   */
  readonly onChange: (status: HealthStatus, state: HealthState) => void;
  readonly check: ResolvedHealthcheck;
  /** the container's StartedAt, epoch ms: start period and the first interval count from it */
  readonly startedAt: number;
  /**
   * A persisted state to go on from (an engine restarted while the container kept running).
   * For a container that was (re)started, Docker keeps the log but resets status and streak:
   * pass `{ status: 'starting', failingStreak: 0, log: previous.log }`.
   */
  readonly initial?: HealthState;
  /** CMD-SHELL's shell: the image's SHELL when it has one */
  readonly shell?: readonly string[];
}

/**
 * Runs one container's health check: sleep, probe, record, until stop(). One probe at a time;
 * stop() cancels a pending sleep or a running probe, and a result arriving after it is dropped.
 */
export class HealthMonitor {
  private current: HealthState;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private failure: unknown;

  constructor(private readonly opts: HealthMonitorOptions) {
    const init = opts.initial;
    this.current = init
      ? { status: init.status, failingStreak: init.failingStreak, log: init.log.slice(-HEALTH_LOG_ENTRIES).map((e) => ({ ...e })) }
      : { status: 'starting', failingStreak: 0, log: [] };
  }

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    this.opts.onChange(this.current.status, this.state());
    this.loop = this.run(controller.signal).catch((err: unknown) => {
      if (!isAbort(err)) this.failure = err;
    });
  }

  stop(): void {
    this.controller?.abort();
  }

  /** Resolves once the loop has ended after stop() (a running probe has returned); rejects if it failed. */
  async stopped(): Promise<void> {
    await this.loop;
    if (this.failure !== undefined) throw this.failure;
  }

  /** A copy: plain data, safe to persist. */
  state(): HealthState {
    return { status: this.current.status, failingStreak: this.current.failingStreak, log: this.current.log.map((e) => ({ ...e })) };
  }

  /** Docker's getInterval: the wait before the next probe, from now. */
  private nextDelay(): number {
    const { interval, startPeriod, startInterval } = this.opts.check;
    const elapsed = this.opts.clock.now() - this.opts.startedAt;
    if (elapsed >= startPeriod || this.current.status !== 'starting') return interval;
    return Math.min(startInterval, startPeriod - elapsed);
  }

  private async run(signal: AbortSignal): Promise<void> {
    const argv = probeArgv(this.opts.check.test, this.opts.shell);
    for (;;) {
      await this.opts.clock.sleep(this.nextDelay(), signal);
      const start = this.opts.clock.now();
      const result = await this.probeOnce(argv, signal);
      if (result === undefined || signal.aborted) return;
      this.record(start, this.opts.clock.now(), result.exitCode, result.output);
    }
  }

  /** One probe, bounded by the backstop; undefined when stop() cancelled it. */
  private async probeOnce(argv: readonly string[], stopSignal: AbortSignal): Promise<{ exitCode: number; output: string } | undefined> {
    const { timeout } = this.opts.check;
    const probeAbort = new AbortController();
    const timerAbort = new AbortController();
    const onStop = (): void => probeAbort.abort();
    stopSignal.addEventListener('abort', onStop, { once: true });
    let backstopFired = false;
    void this.opts.clock.sleep(timeout + PROBE_BACKSTOP_MS, timerAbort.signal).then(() => {
      backstopFired = true;
      probeAbort.abort();
    }, () => undefined);
    try {
      const r = await this.opts.probe(argv, timeout, probeAbort.signal);
      if (stopSignal.aborted) return undefined;
      if (r.timedOut || backstopFired) return { exitCode: -1, output: timeoutOutput(timeout, limitOutput(r.output)) };
      return { exitCode: r.exitCode, output: limitOutput(r.output) };
    } catch (err) {
      if (stopSignal.aborted) return undefined;
      if (backstopFired) return { exitCode: -1, output: timeoutOutput(timeout, '') };
      return { exitCode: -1, output: limitOutput(err instanceof Error ? err.message : String(err)) };
    } finally {
      timerAbort.abort();
      stopSignal.removeEventListener('abort', onStop);
    }
  }

  /** Docker's handleProbeResult. */
  private record(start: number, end: number, exitCode: number, output: string): void {
    const { retries, startPeriod } = this.opts.check;
    const log = [...this.current.log, { start: iso(start), end: iso(end), exitCode, output }].slice(-HEALTH_LOG_ENTRIES);
    let { status, failingStreak } = this.current;
    if (exitCode === 0) {
      status = 'healthy';
      failingStreak = 0;
    } else if (!(status === 'starting' && start - this.opts.startedAt < startPeriod)) {
      failingStreak++;
      if (failingStreak >= retries) status = 'unhealthy';
    }
    this.current = { status, failingStreak, log };
    this.opts.onChange(status, this.state());
  }
}
