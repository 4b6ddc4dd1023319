// The engine's methods, one per verb. engine/controller.ts implements it; engine/server.ts
// exposes it over the unix socket; api/client.ts gives the CLI the same shape on the other side.
// Streaming methods take an `emit` callback and an AbortSignal (the client went away / Ctrl-C).
import type {
  UpRequest, DownRequest, StopOptions, KillOptions, ServicesOptions, LogsOptions,
  ContainerSummary, ProjectSummary, EngineEvent, LogLine,
} from './types.js';

export interface EngineInfo {
  readonly version: string;
  readonly apiVersion: number;
  readonly pid: number;
  readonly root: string;
}

export interface EngineApi {
  info(): EngineInfo;
  /** resolves with docker compose's exit code for the verb */
  up(req: UpRequest, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<number>;
  down(projectName: string, req: DownRequest, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<number>;
  start(projectName: string, opts: ServicesOptions, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<number>;
  stop(projectName: string, opts: StopOptions, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<number>;
  restart(projectName: string, opts: StopOptions, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<number>;
  kill(projectName: string, opts: KillOptions, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<number>;
  pause(projectName: string, opts: ServicesOptions, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<number>;
  unpause(projectName: string, opts: ServicesOptions, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<number>;
  ps(projectName: string, opts: { readonly all: boolean; readonly services: readonly string[] }): Promise<ContainerSummary[]>;
  ls(opts: { readonly all: boolean }): Promise<ProjectSummary[]>;
  /** resolves when not following, or when every followed container has stopped, or on abort */
  logs(projectName: string, opts: LogsOptions, emit: (line: LogLine) => void, signal: AbortSignal): Promise<void>;
  /** the live event feed, until abort */
  events(emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<void>;
  /** stops the engine itself (containers keep running: live restore) */
  shutdown(): Promise<void>;
}
