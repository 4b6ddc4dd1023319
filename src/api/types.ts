// The engine's contract: one options type per verb, the event and log records it streams, and
// the error body. Shared by the CLI (through client.ts) and the engine (server.ts). Data only.
import type { Project } from '../spec/model.js';
import type { ErrorBody } from '../lib/errors.js';

export const API_VERSION = 1;

export interface UpOptions {
  /** services named on the command line (with their dependencies unless noDeps); empty = all */
  readonly services: readonly string[];
  readonly noDeps: boolean;
  readonly forceRecreate: boolean;
  readonly noRecreate: boolean;
  readonly noStart: boolean;
  readonly removeOrphans: boolean;
  /** --scale svc=N, overriding the model's scale */
  readonly scale: Readonly<Record<string, number>>;
  /** --wait: return only once services are running/healthy */
  readonly wait: boolean;
  /** seconds; 0 = no limit */
  readonly waitTimeout: number;
}

export interface DownOptions {
  readonly removeOrphans: boolean;
  readonly volumes: boolean;
  /** seconds; undefined = each service's stop_grace_period */
  readonly timeout?: number;
}

export interface ServicesOptions {
  readonly services: readonly string[];
}

export interface StopOptions extends ServicesOptions {
  readonly timeout?: number;
}

export interface KillOptions extends ServicesOptions {
  readonly signal: string;
}

export interface LogsOptions extends ServicesOptions {
  readonly follow: boolean;
  /** last N lines per container; undefined = all */
  readonly tail?: number;
  /** RFC 3339 or epoch ms; only records at or after it */
  readonly since?: string;
}

/** Requests carrying the desired state also carry the project itself (the engine keeps it). */
export interface UpRequest { readonly project: Project; readonly options: UpOptions }
export interface DownRequest { readonly project?: Project; readonly options: DownOptions }

/** A container as `ps` shows it. */
export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly service: string;
  readonly number: number;
  readonly image: string;
  readonly command: string;
  readonly created: string;
  readonly state: string;
  /** Docker's status text: "Up 5 seconds (healthy)", "Exited (0) 3 seconds ago" */
  readonly status: string;
  readonly health: string;
  readonly exitCode: number;
  readonly ports: string;
}

export interface ProjectSummary {
  readonly name: string;
  /** "running(2), exited(1)" as docker compose ls prints it */
  readonly status: string;
  readonly configFiles: string;
}

/** Progress and state changes, streamed as NDJSON. */
export type EngineEvent =
  /** sent once before a plan runs: every resource it touches and how many operations it has */
  | { readonly kind: 'plan'; readonly resources: readonly { readonly resourceId: string; readonly operations: number }[]; readonly time: string }
  | { readonly kind: 'operation'; readonly resourceId: string; readonly status: 'started' | 'done' | 'failed' | 'waiting'; readonly text: string; readonly time: string }
  | { readonly kind: 'container'; readonly resourceId: string; readonly action: 'create' | 'start' | 'die' | 'stop' | 'kill' | 'destroy' | 'restart' | 'health_status' | 'oom'; readonly containerId: string; readonly attributes: Readonly<Record<string, string>>; readonly time: string }
  | { readonly kind: 'warning'; readonly text: string; readonly time: string }
  | { readonly kind: 'result'; readonly exitCode: number; readonly time: string }
  | { readonly kind: 'error'; readonly error: ErrorBody; readonly time: string };

/** One log line of one container, streamed as NDJSON. */
export interface LogLine {
  readonly service: string;
  readonly container: string;
  readonly stream: 'stdout' | 'stderr';
  readonly time: string;
  readonly line: string;
}
