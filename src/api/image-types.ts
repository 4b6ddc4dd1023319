// The image verbs' part of the engine contract: pull, push, build, tag, save, history, prune,
// commit, login, and the compose verbs that pull and build (compose pull/build/images). Data
// only, like types.ts (which re-exports these and puts the progress events in EngineEvent).
import type { Project } from '../spec/model.js';

/**
 * Registry credentials the client read from its own docker config.json (`auths`), by registry
 * domain ("docker.io", "localhost:5000"). The engine never reads a user's config file: it uses
 * what the client sends for the request and keeps nothing (docker's X-Registry-Auth).
 */
export type RegistryAuth = Readonly<Record<string, { readonly username: string; readonly password: string }>>;

/** `docker pull` */
export interface ImagePullRequest {
  readonly reference: string;
  /** "linux/amd64", "linux/arm64/v8"; default: this host's */
  readonly platform?: string;
  readonly auth: RegistryAuth;
}

export interface ImagePullResult {
  readonly id: string;
  /** "docker.io/library/busybox:latest": what `docker pull` prints last */
  readonly canonical: string;
  readonly digest: string;
  /** false: the image was up to date */
  readonly downloaded: boolean;
}

/** `docker push REF` */
export interface ImagePushRequest {
  readonly auth: RegistryAuth;
}

/** `docker build`: the engine reads the context directory itself (one host, one filesystem). */
export interface ImageBuildRequest {
  /** absolute path of the build context */
  readonly contextDir: string;
  /** -f: the Dockerfile's path, absolute or relative to the context (default <context>/Dockerfile) */
  readonly dockerfile?: string;
  /** dockerfile_inline, or `-f -` (the client read stdin) */
  readonly dockerfileText?: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly tags: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly noCache: boolean;
  /** --pull: pull every FROM image again, even when the store has it */
  readonly pull: boolean;
  readonly auth: RegistryAuth;
  /** --network: RUN steps' network (default, none, host or a network's name) */
  readonly network?: string;
  /** --add-host "name:ip" (ip may be host-gateway) */
  readonly extraHosts?: readonly string[];
  /** --allow: entitlements ("network.host") */
  readonly entitlements?: readonly string[];
  /** --shm-size, bytes */
  readonly shmSize?: number;
  /** --cache-from, --cache-to (type=local paths absolute) */
  readonly cacheFrom?: readonly string[];
  readonly cacheTo?: readonly string[];
  /** --build-context NAME=VALUE: an absolute directory or docker-image://REF */
  readonly buildContexts?: Readonly<Record<string, string>>;
}

export interface ImageBuildResult {
  readonly id: string;
  readonly tags: readonly string[];
  /** steps that ran, and steps answered from the build cache */
  readonly ran: number;
  readonly cached: number;
  readonly warnings: readonly string[];
}

/** `docker tag SOURCE TARGET` */
export interface ImageTagRequest { readonly target: string }

/** One row of `docker history`, newest first. */
export interface ImageHistoryRow {
  /** the image id on the top row, "<missing>" below */
  readonly id: string;
  readonly created: string;
  readonly createdBy: string;
  readonly size: number;
  readonly comment: string;
}

/** `docker image prune [-a]` */
export interface ImagePruneOptions { readonly all: boolean }
export interface ImagePruneResult {
  /** "untagged: …", "deleted: sha256:…" */
  readonly lines: readonly string[];
  readonly spaceReclaimed: number;
}

/** `docker commit CONTAINER [REPOSITORY[:TAG]]` */
export interface ContainerCommitOptions {
  readonly reference?: string;
  /** -m */
  readonly message?: string;
  /** -a */
  readonly author?: string;
  /** -c: Dockerfile instructions applied to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, …) */
  readonly changes: readonly string[];
  /** docker commit pauses (freezes) a running container while its layer is read; --pause=false does not */
  readonly pause: boolean;
}

/** `docker login`: the engine checks the credentials against the registry; the client stores them. */
export interface RegistryLoginRequest {
  /** "localhost:5000", "https://index.docker.io/v1/"; absent: Docker Hub */
  readonly server?: string;
  readonly username: string;
  readonly password: string;
}

export interface RegistryLoginResult {
  /** the registry domain the credentials are for ("docker.io", "localhost:5000") */
  readonly domain: string;
}

/** `pull_policy` values as `--pull` overrides them at `up` and `run`. */
export type PullOverride = 'always' | 'missing' | 'never' | 'build';

/** `compose pull [SERVICE…]` */
export interface ProjectPullRequest {
  readonly project: Project;
  /** empty: every service with an image */
  readonly services: readonly string[];
  readonly ignorePullFailures: boolean;
  /** --include-deps: the named services' dependencies too */
  readonly includeDeps: boolean;
  /** --policy missing: only images the store lacks */
  readonly policy?: 'always' | 'missing';
  readonly auth: RegistryAuth;
}

/** `compose build [SERVICE…]` */
export interface ProjectBuildRequest {
  readonly project: Project;
  /** empty: every service with a build section */
  readonly services: readonly string[];
  readonly noCache: boolean;
  readonly pull: boolean;
  /** --build-arg, over each service's build.args */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** --with-dependencies */
  readonly withDependencies: boolean;
  readonly auth: RegistryAuth;
}

/** One row of `compose images`. */
export interface ProjectImageRow {
  readonly container: string;
  readonly service: string;
  readonly repository: string;
  readonly tag: string;
  readonly id: string;
  readonly size: number;
}

/**
 * Progress of image work, streamed like the other events (principle 13): one per layer of a pull
 * or push (a bar per layer on a TTY), docker's lines about a whole image, build steps and their
 * output. `resourceId` names the pull ("pull:busybox:latest"), push or build step ("build:app:3").
 */
export type ImageProgressEvent =
  | {
    readonly kind: 'layer'; readonly resourceId: string;
    /** 12 hex digits of the blob digest */
    readonly id: string;
    readonly status: 'waiting' | 'already exists' | 'downloading' | 'retrying' | 'verifying' | 'extracting' | 'pull complete'
      | 'preparing' | 'pushing' | 'pushed' | 'layer already exists' | 'mounted';
    readonly current?: number; readonly total?: number; readonly text?: string; readonly time: string;
  }
  | { readonly kind: 'message'; readonly resourceId: string; readonly text: string; readonly time: string }
  | {
    readonly kind: 'step'; readonly resourceId: string;
    /** "[app 2/5] RUN make" */
    readonly name: string;
    readonly status: 'started' | 'cached' | 'done' | 'failed' | 'skipped';
    readonly seconds?: number; readonly time: string;
  }
  | { readonly kind: 'output'; readonly resourceId: string; readonly stream: 'stdout' | 'stderr'; readonly text: string; readonly time: string };

/** The images of some services made ready as `up` makes them (pull_policy, builds): what `compose run` does first. */
export interface ProjectPrepareRequest {
  readonly project: Project;
  readonly services: readonly string[];
  readonly pull?: PullOverride;
  readonly build: boolean;
  readonly noBuild: boolean;
  readonly auth: RegistryAuth;
}
