// The desired-state store: the project model each `up` was given, kept under
// <BERTH_ROOT>/projects/<name>.json (written atomically) so that the supervisor, `start`,
// `restart` and a restarted engine all plan against what the user last asked for. The engine is
// the only writer, so the store keeps what it read in memory.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../spec/model.js';
import { readJson, writeJsonAtomic } from '../lib/atomic.js';

export interface StoredProject {
  readonly project: Project;
  /** `up --scale` overrides, kept so that a later plan (start, restart) scales the same way */
  readonly scale: Readonly<Record<string, number>>;
}

export class ProjectStore {
  private readonly dir: string;
  private readonly cache = new Map<string, StoredProject | undefined>();

  constructor(root: string) {
    this.dir = join(root, 'projects');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  load(name: string): StoredProject | undefined {
    if (!this.cache.has(name)) this.cache.set(name, readJson<StoredProject>(this.file(name)));
    return this.cache.get(name);
  }

  save(stored: StoredProject): void {
    writeJsonAtomic(this.file(stored.project.name), stored);
    this.cache.set(stored.project.name, stored);
  }

  remove(name: string): void {
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
