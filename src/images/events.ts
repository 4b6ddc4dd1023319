// Progress of image work as an event stream (principle 13): pull, push and build emit these; the
// CLI's renderers draw them (a bar per layer on a TTY, plain lines otherwise). Discriminated on
// `kind`; every event names the resource it is about.

/** One layer (or the config blob) of a pull or push. `id` is the short digest docker shows. */
export interface LayerProgress {
  readonly kind: 'layer';
  /** "pull:busybox:latest", "push:localhost:5000/app:v1" */
  readonly resourceId: string;
  /** 12 hex digits of the blob digest */
  readonly id: string;
  readonly status:
    | 'waiting' | 'already exists' | 'downloading' | 'retrying' | 'verifying' | 'extracting' | 'pull complete'
    | 'preparing' | 'pushing' | 'pushed' | 'layer already exists' | 'mounted';
  /** bytes done and the total, when known */
  readonly current?: number;
  readonly total?: number;
  /** "Mounted from library/busybox", "connection reset, resuming at 1.2 MB" */
  readonly text?: string;
}

/** A line about the whole image: "Pulling from library/busybox", "Digest: sha256:…", "Status: …". */
export interface ImageMessage {
  readonly kind: 'message';
  readonly resourceId: string;
  readonly text: string;
}

/** One build step: started, its output, cached, done, failed. */
export interface BuildStep {
  readonly kind: 'step';
  /** "build:<stage>:<index>" */
  readonly resourceId: string;
  /** "[stage 2/5] RUN make" */
  readonly name: string;
  readonly status: 'started' | 'cached' | 'done' | 'failed' | 'skipped';
  /** seconds, for done */
  readonly seconds?: number;
}

/** A chunk of a RUN step's output (stdout and stderr as the json-file log records them). */
export interface BuildOutput {
  readonly kind: 'output';
  readonly resourceId: string;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

export type ImageEvent = LayerProgress | ImageMessage | BuildStep | BuildOutput;

export type EventSink = (event: ImageEvent) => void;

export const noEvents: EventSink = () => undefined;

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
