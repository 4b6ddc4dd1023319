// Checks a verb makes before it touches the host, so that a request that cannot succeed fails
// at once, naming every problem, and leaves the host as it was (docker compose does the same
// for images; the networking issue adds "every published port is free" here). `up` makes its
// images ready first (project-images.ts: pulls and builds as pull_policy says); this check then
// finds every image present, or names those that are not.
//
// To add a check: one function below that collects every problem of its kind and throws one
// error naming them all; call it from up() (and from images() callers) before any plan runs.
import type { Project } from '../spec/model.js';
import { InvalidArgument, NotFound } from '../lib/errors.js';
import type { ImageStore } from '../images/store.js';
import { serviceImage } from './service-container.js';

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
}

export function preflight(images: () => Promise<ImageStore>): Preflight {
  const checkImages = async (needs: readonly ImageNeed[]): Promise<void> => {
    if (needs.length === 0) return;
    const store = await images();
    const missing: ImageNeed[] = [];
    for (const need of needs) {
      try {
        store.resolve(need.image);
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
