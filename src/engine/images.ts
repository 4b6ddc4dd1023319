// Image verbs (`images`, `inspect` of an image, `load`, `import`, `rmi`) as the engine implements
// them, over the image store. Files are read by the engine from the absolute path the client
// resolved; the store verifies and extracts them (images/).
import { isAbsolute } from 'node:path';
import type { ImageImportRequest, ImageLoadRequest, ImageSummary } from '../api/types.js';
import { InvalidArgument } from '../lib/errors.js';
import type { ImageConfig, ImageRecord, ImageStore } from '../images/store.js';

type ImportConfig = Partial<Pick<ImageConfig, 'Cmd' | 'Entrypoint' | 'Env' | 'WorkingDir' | 'User' | 'StopSignal'>>;

/** The Dockerfile instructions `docker import --change` accepts that berth supports. */
export function applyChange(config: ImportConfig, change: string): ImportConfig {
  const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(change);
  if (!m) throw new InvalidArgument(`invalid --change: ${JSON.stringify(change)}: expected "INSTRUCTION arguments"`);
  const instruction = m[1]!.toUpperCase();
  const rest = m[2]!.trim();
  const command = (): string[] => {
    if (rest.startsWith('[')) {
      let parsed: unknown;
      try { parsed = JSON.parse(rest); } catch { parsed = undefined; }
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
    }
    return ['/bin/sh', '-c', rest];
  };
  switch (instruction) {
    case 'CMD': return { ...config, Cmd: command() };
    case 'ENTRYPOINT': return { ...config, Entrypoint: command() };
    case 'ENV': {
      const eq = rest.indexOf('=');
      const sp = rest.search(/\s/);
      const entry = eq > 0 && (sp < 0 || eq < sp) ? rest : sp > 0 ? `${rest.slice(0, sp)}=${rest.slice(sp).trim()}` : '';
      if (entry === '') throw new InvalidArgument('invalid --change: ENV needs KEY=VALUE');
      return { ...config, Env: [...(config.Env ?? []), entry] };
    }
    case 'WORKDIR': return { ...config, WorkingDir: rest };
    case 'USER': return { ...config, User: rest };
    case 'STOPSIGNAL': return { ...config, StopSignal: rest };
    default: throw new InvalidArgument(`invalid --change: ${instruction} is not supported (CMD, ENTRYPOINT, ENV, WORKDIR, USER, STOPSIGNAL are)`);
  }
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path)) throw new InvalidArgument(`${what} must be an absolute path, not "${path}"`);
  return path;
}

export function imageSummary(image: ImageRecord): ImageSummary {
  return { id: image.id, repoTags: [...image.repoTags], created: image.created, size: image.size };
}

export async function loadImages(store: ImageStore, req: ImageLoadRequest): Promise<{ messages: string[] }> {
  const { messages } = await store.load(absolute(req.path, 'the archive'));
  return { messages };
}

export async function importImage(store: ImageStore, req: ImageImportRequest): Promise<{ id: string }> {
  let config: ImportConfig = {};
  for (const c of req.changes) config = applyChange(config, c);
  const image = await store.import(absolute(req.path, 'the tarball'), req.reference, { config });
  return { id: image.id };
}
