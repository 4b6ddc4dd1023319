// Checks of the image verbs' request bodies (image-types.ts), as requests.ts checks the others:
// a malformed body is a 400 naming its path before any verb sees it.
import type {
  ContainerCommitOptions, ImageBuildRequest, ImagePullRequest, ImagePushRequest, ImageTagRequest, ImagePruneOptions, ProjectBuildRequest,
  ProjectPrepareRequest, ProjectPullRequest, PullOverride, RegistryAuth, RegistryLoginRequest,
} from './image-types.js';
import { bool, body, count, flag, literal, nonEmpty, object, optional, record, required, str, stringList as list, withDefault, type Check } from './check.js';
import { checkProject } from './project-check.js';

/** What a pull or build may be told about credentials: user and password per registry domain. */
const auth: Check<RegistryAuth> = withDefault(record(object<{ username: string; password: string }>({ username: required(str), password: required(str) })), {});

export const pullOverride: Check<PullOverride> = literal('always', 'missing', 'never', 'build');

export const imagePullRequest = body(object<ImagePullRequest>({ reference: required(nonEmpty), platform: optional(nonEmpty), auth }));
export const imagePushRequest = body(object<ImagePushRequest>({ auth }));
export const imageTagRequest = body(object<ImageTagRequest>({ target: required(nonEmpty) }));
export const imagePruneOptions = body(object<ImagePruneOptions>({ all: flag }));

export const imageBuildRequest = body(object<ImageBuildRequest>({
  contextDir: required(nonEmpty),
  dockerfile: optional(nonEmpty),
  dockerfileText: optional(str),
  buildArgs: withDefault(record(str), {}),
  target: optional(nonEmpty),
  tags: list,
  labels: withDefault(record(str), {}),
  noCache: flag,
  pull: flag,
  auth,
  network: optional(nonEmpty),
  extraHosts: list,
  entitlements: list,
  shmSize: optional(count),
  cacheFrom: list,
  cacheTo: list,
  buildContexts: withDefault(record(str), {}),
}));

export const containerCommitOptions = body(object<ContainerCommitOptions>({
  reference: optional(nonEmpty),
  message: optional(str),
  author: optional(str),
  changes: list,
  pause: withDefault(bool, true),
}));

export const registryLoginRequest = body(object<RegistryLoginRequest>({ server: optional(str), username: required(str), password: required(str) }));

export const projectPullRequest = body(object<ProjectPullRequest>({
  project: required(checkProject),
  services: list,
  ignorePullFailures: flag,
  includeDeps: flag,
  policy: optional(literal('always', 'missing')),
  auth,
}));

export const projectBuildRequest = body(object<ProjectBuildRequest>({
  project: required(checkProject),
  services: list,
  noCache: flag,
  pull: flag,
  buildArgs: withDefault(record(str), {}),
  withDependencies: flag,
  auth,
}));

export const projectPrepareRequest = body(object<ProjectPrepareRequest>({
  project: required(checkProject),
  services: list,
  pull: optional(pullOverride),
  build: flag,
  noBuild: flag,
  auth,
}));

export { auth as registryAuth };
