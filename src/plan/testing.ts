// Builder fakes for plan/ tests: a complete Service / Project / ObservedContainer from the few
// fields a test cares about. Pure, like the rest of plan/.
import type { Dependency, DependsCondition, Project, Service } from '../spec/model.js';
import type { ObservedContainer } from './observed.js';
import type { ReconcileOptions } from './reconcile.js';

export function testService(name: string, fields: Partial<Service> = {}): Service {
  return {
    name, image: `${name}:latest`, command: null, entrypoint: null, environment: {}, env_file: [], labels: {}, annotations: {},
    ports: [], expose: [], volumes: [], tmpfs: [], volumes_from: [], depends_on: {}, links: [],
    restart: { name: 'no', max_attempts: 0 }, resources: { ulimits: {} }, scale: 1, tty: false, stdin_open: false,
    privileged: false, read_only: false, cap_add: [], cap_drop: [], security_opt: [], sysctls: {}, extra_hosts: [],
    dns: [], dns_search: [], dns_opt: [], devices: [], group_add: [], networks: {}, secrets: [], configs: [],
    profiles: [], extensions: {}, unsupported: {},
    ...fields,
  };
}

export function testProject(name: string, services: readonly Service[], disabled: readonly Service[] = []): Project {
  return {
    name, working_dir: '/srv/' + name, compose_files: ['/srv/' + name + '/compose.yaml'],
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    disabled_services: Object.fromEntries(disabled.map((s) => [s.name, s])),
    networks: {}, volumes: {}, secrets: {}, configs: {}, all_profiles: [], enabled_profiles: [], extensions: {}, unsupported: {},
  };
}

export function dep(condition: DependsCondition = 'service_started', more: Partial<Dependency> = {}): Dependency {
  return { condition, restart: false, required: true, ...more };
}

/** A container of `service` with number `number`, running, created from hash "h-<service>". */
export function testContainer(projectName: string, service: string, number: number, fields: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `${service}${number}`, name: `${projectName}-${service}-${number}`, service, number, configHash: `h-${service}`,
    oneoff: false, status: 'running', startedAt: 1_000, restartCount: 0, stoppedByUser: false,
    ...fields,
  };
}

/** "h-<service>" for every service: what testContainer's default label matches. */
export function testHashes(project: Project): Record<string, string> {
  return Object.fromEntries([...Object.keys(project.services), ...Object.keys(project.disabled_services)].map((n) => [n, `h-${n}`]));
}

export function upOptions(fields: Partial<ReconcileOptions> = {}): ReconcileOptions {
  return { services: [], noDeps: false, forceRecreate: false, noRecreate: false, noStart: false, removeOrphans: false, scale: {}, ...fields };
}
