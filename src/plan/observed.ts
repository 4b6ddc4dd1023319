// What the planner sees of the host: data only, built by the engine from the container records
// and the shim files (engine/observe.ts). The planner never calls the runtime.

export type ObservedStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing' | 'dead';
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface ObservedContainer {
  readonly id: string;
  /** "<project>-<service>-<number>" for service containers */
  readonly name: string;
  /** label com.docker.compose.service */
  readonly service: string;
  /** label com.docker.compose.container-number */
  readonly number: number;
  /** label com.docker.compose.config-hash: the hash the container was created from */
  readonly configHash: string;
  /** label com.docker.compose.image: the id of the image the container was created from */
  readonly imageId?: string;
  /** label com.docker.compose.oneoff: `run` containers are never reconciled */
  readonly oneoff: boolean;
  readonly status: ObservedStatus;
  /** set once the container has exited */
  readonly exitCode?: number;
  /** absent when the container has no health check */
  readonly health?: HealthStatus;
  /** epoch ms; absent until first started */
  readonly startedAt?: number;
  /** epoch ms of the last exit */
  readonly finishedAt?: number;
  readonly restartCount: number;
  /** a user asked for stop/kill: restart policies must not undo it */
  readonly stoppedByUser: boolean;
}

/** A network on the host, as the planner sees it (from the network facility's records). */
export interface ObservedNetwork {
  /** its name on the host ("<project>_<key>", or the `name:` the file gave it) */
  readonly name: string;
  /** label com.docker.compose.project ('' for a network no project made) */
  readonly project: string;
  /** label com.docker.compose.network: its key in that project ('' when none) */
  readonly key: string;
  /** label com.docker.compose.config-hash: the hash of the config it was created from ('' when none) */
  readonly configHash?: string;
}

/** A volume the planner may create or remove: the project's, or one its model names. */
export interface ObservedVolume {
  /** its name on this host ("shop_db-data", or 64 hex for an anonymous volume) */
  readonly name: string;
  /** label com.docker.compose.project: the project that created it (absent: made by hand) */
  readonly project?: string;
  readonly anonymous: boolean;
  /** ids of the containers that use it, in any state */
  readonly users: readonly string[];
}

export interface ObservedState {
  readonly projectName: string;
  readonly containers: readonly ObservedContainer[];
  /** every network on the host (absent: the caller did not look; no network operation is planned) */
  readonly networks?: readonly ObservedNetwork[];
  /** the volumes labelled with the project and those its model names (absent: none observed) */
  readonly volumes?: readonly ObservedVolume[];
}
