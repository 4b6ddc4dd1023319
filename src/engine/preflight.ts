// Checks a verb makes before it touches the host, so that a request that cannot succeed fails
// at once, naming every problem, and leaves the host as it was (docker compose does the same
// for images). `up` makes its images ready first (project-images.ts: pulls and builds as
// pull_policy says); this check then finds every image present, or names those that are not.
// After planning, `plan()` checks what the plan's new containers need of the network: their
// external networks exist, and every port they publish is free (the error names the process
// holding it when it can be found) — so a port conflict creates nothing at all.
//
// To add a check: one function below that collects every problem of its kind and throws one
// error naming them all; call it from up() (and from images() callers) before any plan runs.
import type { Project } from '../spec/model.js';
import type { Plan } from '../plan/plan.js';
import { InvalidArgument, NotFound } from '../lib/errors.js';
import { resolveEach, type ImageStore } from '../images/store.js';
import { serviceImage } from './service-container.js';
import type { RecordedPort } from '../runtime/container.js';
import { checkServiceNetworking, servicePorts } from './service-network.js';
import { hostNetworkName, serviceNetworks } from '../plan/networks.js';
import { networkCreateRequest } from './network-runner.js';

/** What the checks need of the engine's networking. */
export interface NetworkChecks {
  /** throws the Conflict publishing would (ports of `releasing` containers count as free) */
  checkPorts(ports: readonly RecordedPort[], releasing: readonly string[]): Promise<void>;
  networkExists(name: string): boolean;
}

/** How to get an image into berth. */
export const IMAGE_HINT = 'pull it with `berth pull IMAGE`, build it with `berth build -t IMAGE DIR`, or load one with `berth load -i FILE` (a docker save archive)';

export interface ImageNeed {
  /** the service that needs it, for the message; absent for `run` */
  readonly service?: string;
  readonly image: string;
}

export interface Preflight {
  /** `up` of these services (scope with dependencies, as the planner computes it) */
  up(project: Project, services: readonly string[], scale: Readonly<Record<string, number>>): Promise<void>;
  /** every image named is in the store, or NotFound naming all the missing ones */
  images(needs: readonly ImageNeed[]): Promise<void>;
  /** `up`'s plan, before it runs: the networks and ports its new containers need */
  plan(project: Project, plan: Plan): Promise<void>;
}

export function preflight(images: () => Promise<ImageStore>, network?: NetworkChecks): Preflight {
  const checkImages = async (needs: readonly ImageNeed[]): Promise<void> => {
    if (needs.length === 0) return;
    const store = await images();
    const missing: ImageNeed[] = [];
    const resolve = resolveEach(store);
    for (const need of needs) {
      try {
        resolve(need.image);
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
        missing.push(need);
      }
    }
    if (missing.length === 0) return;
    const names = missing.map((m) => (m.service !== undefined ? `${m.image} (service ${m.service})` : m.image));
    throw new NotFound(`no such image${missing.length > 1 ? 's' : ''}: ${names.join(', ')}; ${IMAGE_HINT}`, { images: missing.map((m) => m.image) });
  };
  return {
    images: checkImages,
    async plan(project, plan) {
      if (!network) return;
      const created = new Set(plan.operations.filter((op) => op.kind === 'create' && op.resourceId.startsWith('service:')).map((op) => op.service));
      const missing = new Set<string>();
      for (const name of [...created].sort()) {
        for (const key of serviceNetworks(project.services[name]!)) {
          if (!project.networks[key]?.external) continue;
          const host = hostNetworkName(project, key);
          if (!network.networkExists(host)) missing.add(host);
        }
      }
      if (missing.size > 0) {
        throw new NotFound(`network${missing.size > 1 ? 's' : ''} ${[...missing].join(', ')} declared as external, but could not be found: create ${missing.size > 1 ? 'them' : 'it'} with \`berth network create\``);
      }
      // what berth cannot honour of the new containers' networking, before anything is made
      for (const name of [...created].sort()) checkServiceNetworking(project, project.services[name]!);
      // every network the plan creates can be made as the file describes it
      for (const op of plan.operations) if (op.kind === 'create' && op.resourceId.startsWith('network:')) networkCreateRequest(project, op.resourceId.slice('network:'.length));
      // one request per port of every replica the plan creates, checked together
      const ports: RecordedPort[] = [];
      for (const op of plan.operations) {
        if (op.kind !== 'create' || !op.resourceId.startsWith('service:')) continue;
        const service = project.services[op.service];
        if (service && (service.network_mode === undefined || service.network_mode === 'bridge')) ports.push(...servicePorts(service));
      }
      const releasing = plan.operations.filter((op) => op.kind === 'remove' && op.containerId !== undefined).map((op) => op.containerId!);
      await network.checkPorts(ports, releasing);
    },
    async up(project, services, scale) {
      const needs: ImageNeed[] = [];
      const noImage: string[] = [];
      for (const name of [...services].sort()) {
        const service = project.services[name];
        if (!service) continue;
        const replicas = Object.hasOwn(scale, name) ? scale[name]! : service.scale;
        if (replicas === 0) continue;
        if ((service.image === undefined || service.image === '') && !service.build) noImage.push(name);
        else needs.push({ service: name, image: serviceImage(project, service) });
      }
      if (noImage.length > 0) throw new InvalidArgument(`service${noImage.length > 1 ? 's' : ''} ${noImage.map((n) => `"${n}"`).join(', ')} ha${noImage.length > 1 ? 've' : 's'} neither an image nor a build section`);
      await checkImages(needs);
    },
  };
}
