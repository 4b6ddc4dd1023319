// The desired-state store: the project model each `up` was given, kept under
// <BERTH_ROOT>/projects/<name>.json (written atomically) so that the supervisor, `start`,
// `restart` and a restarted engine all plan against what the user last asked for. The engine is
// the only writer, so the store keeps what it read in memory.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../spec/model.js';
import { readJson, writeFileAtomic, CorruptFile } from '../lib/atomic.js';

export interface StoredProject {
  readonly project: Project;
  /** `up --scale` overrides, kept so that a later plan (start, restart) scales the same way */
  readonly scale: Readonly<Record<string, number>>;
  /** a detached watch (`watch -d`, `up -d --watch`) the engine keeps running, and starts again after a restart (engine/watch.ts) */
  readonly watch?: StoredWatch;
}

/** What a detached watch was asked for; the caller's registry credentials are never stored. */
export interface StoredWatch {
  /** the services named (empty: every service with develop.watch rules) */
  readonly services: readonly string[];
  /** --prune */
  readonly prune: boolean;
  /** when it was asked for (RFC 3339) */
  readonly since: string;
}

export class ProjectStore {
  private readonly dir: string;
  /** projects that exist only: a look-up of a name that has none adds nothing (memory stays bounded by the projects there are) */
  private readonly cache = new Map<string, StoredProject>();
  /** the text of each project's file as this engine last wrote or read it: a save of the same text writes nothing */
  private readonly texts = new Map<string, string>();

  constructor(root: string, private readonly log: (line: string) => void = () => {}) {
    this.dir = join(root, 'projects');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /**
   * The stored project, or undefined when there is none — or when its file cannot be read (a
   * corrupt file is logged, naming it, and treated as absent: the project's containers still
   * carry everything `down`, `ps` and `stop` need in their labels, and the next `up` rewrites it).
   */
  load(name: string): StoredProject | undefined {
    const hit = this.cache.get(name);
    if (hit) return hit;
    let stored: StoredProject | undefined;
    try {
      stored = readJson<StoredProject>(this.file(name));
    } catch (err) {
      this.log(`project ${name}: ${(err as Error).message}; ignored until the next up rewrites it`);
      return undefined;
    }
    if (stored === undefined) return undefined;
    if (typeof stored !== 'object' || stored === null || typeof stored.project !== 'object' || stored.project === null || typeof stored.project.services !== 'object') {
      this.log(`project ${name}: ${new CorruptFile(this.file(name), 'not a stored project').message}; ignored until the next up rewrites it`);
      return undefined;
    }
    this.cache.set(name, stored);
    this.texts.set(name, fileText(stored));
    return stored;
  }

  /**
   * Writes the project's file (atomically, durably), unless it already holds exactly this: every
   * no-op `up` saves the model it was given, and an fsync'd rewrite of the same bytes is most of
   * what such an `up` would cost. The engine is the only writer of these files, so what it last
   * wrote or read is what they hold.
   */
  save(stored: StoredProject): void {
    const name = stored.project.name;
    const text = fileText(stored);
    if (this.texts.get(name) !== text) {
      this.texts.delete(name);
      writeFileAtomic(this.file(name), text);
      this.texts.set(name, text);
    }
    this.cache.set(name, stored);
  }

  remove(name: string): void {
    this.texts.delete(name);
    rmSync(this.file(name), { force: true });
    this.cache.delete(name);
  }

  /** The names of every stored project, sorted. */
  names(): string[] {
    try {
      return readdirSync(this.dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
    } catch {
      return [];
    }
  }
}

/** A stored project as its file holds it (what writeJsonAtomic writes). */
function fileText(stored: StoredProject): string {
  return JSON.stringify(stored, null, 2) + '\n';
}
