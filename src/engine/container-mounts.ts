// The mount inputs of one container (engine/volumes.ts MountInputs): of a compose service's
// replica, from the model, or of a single container, from `run`'s flags. volumes_from looks the
// other container up; everything else is mapped by service-mounts.ts.
import type { Project, Service } from '../spec/model.js';
import type { ContainerCreateOptions } from '../api/types.js';
import { NotFound } from '../lib/errors.js';
import type { ImageRecord } from '../images/store.js';
import type { ContainerRuntime, ContainerView } from '../runtime/container.js';
import { normalizeTarget, type MountRequest } from '../volumes/mounts.js';
import type { ImageLayers } from '../volumes/copy-up.js';
import { flagMounts, parseVolumesFrom, serviceMounts, volumesFromRequests } from './service-mounts.js';
import type { EngineVolumes, MountInputs } from './volumes.js';
import { LABEL } from './service-container.js';

export function imageLayers(image: ImageRecord, overlayRoot: string): ImageLayers {
  return { overlayRoot, lowerLinks: [...image.layers].reverse().map((l) => l.link) };
}

interface ContainerSlot {
  readonly containerId: string;
  readonly bundle: string;
  readonly image: ImageRecord;
  readonly overlayRoot: string;
}

/** The first container of a service of the project (compose's volumes_from: SERVICE). */
function serviceContainer(runtime: ContainerRuntime, projectName: string, service: string): ContainerView | undefined {
  return runtime.list()
    .filter((v) => v.record.config.Labels[LABEL.project] === projectName && v.record.config.Labels[LABEL.service] === service && v.record.config.Labels[LABEL.oneoff] !== 'True')
    .sort((a, b) => Number(a.record.config.Labels[LABEL.number] ?? 0) - Number(b.record.config.Labels[LABEL.number] ?? 0))[0];
}

function withVolumesFrom(requests: readonly MountRequest[], entries: readonly { view: ContainerView; readOnly: boolean | undefined }[]): MountRequest[] {
  const own = new Set(requests.map((r) => normalizeTarget(r.target)));
  const out = [...requests];
  for (const e of entries) {
    for (const r of volumesFromRequests({ bundle: e.view.bundle, mounts: e.view.record.hostConfig.Mounts ?? [] }, e.readOnly, own)) {
      own.add(normalizeTarget(r.target));
      out.push(r);
    }
  }
  return out;
}

/** A compose service's replica: its volumes (the project's named ones made when missing), tmpfs, volumes_from, secrets, configs. */
export function serviceMountInputs(volumes: EngineVolumes, runtime: ContainerRuntime, project: Project, service: Service, slot: ContainerSlot, reuseAnonymous?: ReadonlyMap<string, string>): MountInputs {
  const { requests, grants } = serviceMounts(project, service);
  for (const m of service.volumes) if (m.type === 'volume' && m.source !== undefined) volumes.ensureProjectVolume(project, m.source);
  const from = service.volumes_from.map((entry) => {
    const v = parseVolumesFrom(entry, true);
    const view = v.service !== undefined ? serviceContainer(runtime, project.name, v.service) : runtime.find(v.ref);
    if (!view) throw new NotFound(`service "${service.name}": volumes_from "${entry}": service "${v.service}" has no container`);
    return { view, readOnly: v.readOnly };
  });
  return {
    containerId: slot.containerId, bundle: slot.bundle, projectDir: project.working_dir,
    ...(service.user !== undefined ? { user: service.user } : {}),
    image: imageLayers(slot.image, slot.overlayRoot), imageVolumes: Object.keys(slot.image.config.Volumes ?? {}),
    requests: withVolumesFrom(requests, from), grants,
    ...(reuseAnonymous ? { reuseAnonymous } : {}),
    labels: { [LABEL.project]: project.name },
  };
}

/** A single container: -v, --mount, --tmpfs and --volumes-from. */
export function flagMountInputs(runtime: ContainerRuntime, o: ContainerCreateOptions, slot: ContainerSlot): MountInputs {
  const cwd = o.cwd ?? '/';
  const flags = flagMounts(o, cwd, o.home);
  const from = (o.volumesFrom ?? []).map((entry) => {
    const v = parseVolumesFrom(entry, false);
    return { view: runtime.find(v.ref), readOnly: v.readOnly };
  });
  return {
    containerId: slot.containerId, bundle: slot.bundle, projectDir: cwd,
    ...(o.home !== undefined ? { home: o.home } : {}),
    ...(o.user !== undefined ? { user: o.user } : {}),
    image: imageLayers(slot.image, slot.overlayRoot), imageVolumes: Object.keys(slot.image.config.Volumes ?? {}),
    requests: withVolumesFrom(flags.requests, from), grants: [],
    volumeOptions: flags.volumeOptions,
  };
}
