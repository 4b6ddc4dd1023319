// The requests the volumes worker (worker.ts) answers, shared with worker-client.ts. Data only.
import type { ImageLayers } from './copy-up.js';
import type { ContainerFilesystem } from './view.js';
import type { CpOptions } from './cp.js';

export type WorkerRequest =
  /** copy-up.ts's copyUp: answers a CopyUpOutcome */
  | { readonly op: 'copyup'; readonly root: string; readonly volume: string; readonly image: ImageLayers; readonly target: string }
  /** `cp HOST CONTAINER:PATH`: answers CopyStats */
  | { readonly op: 'cp-to'; readonly scratchDir: string; readonly fs: ContainerFilesystem; readonly hostSrc: string; readonly containerDest: string; readonly opts: CpOptions }
  /** `cp CONTAINER:PATH HOST`: answers CopyStats */
  | { readonly op: 'cp-from'; readonly scratchDir: string; readonly fs: ContainerFilesystem; readonly containerSrc: string; readonly hostDest: string; readonly opts: CpOptions }
  /** `cp CONTAINER:PATH -`: the tar stream on stdout; answers { bytes } */
  | { readonly op: 'tar-from'; readonly scratchDir: string; readonly fs: ContainerFilesystem; readonly src: string; readonly opts: CpOptions }
  /** `cp - CONTAINER:DIR`: the tar stream from stdin; answers CopyStats */
  | { readonly op: 'tar-to'; readonly scratchDir: string; readonly fs: ContainerFilesystem; readonly dest: string; readonly opts: CpOptions }
  /** diff.ts's containerDiff: answers DiffEntry[] */
  | { readonly op: 'diff'; readonly upperDir: string; readonly lowerDirs: readonly string[] };
