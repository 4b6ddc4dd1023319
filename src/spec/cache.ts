// A cache of loaded projects, so that the verbs run many times a day (up, ps, logs, down) do not
// parse YAML and validate a schema when nothing changed. An entry is valid only while every input
// the loader looked at is unchanged: each file it read (compared by content), each existence
// check it made, and each environment variable it read. A load that enumerated the whole
// environment, or read stdin, is not cached. Pure over a FileSource and an entry store.
import type { FileSource, LoadOptions, LoadResult } from './load.js';

// 2: implicit depends_on, composeEnv in the result, consistency in the key
const VERSION = 2;

type Read =
  | { readonly op: 'read'; readonly path: string; readonly content: string | null }
  | { readonly op: 'isFile' | 'isDir'; readonly path: string; readonly value: boolean };

interface Entry {
  readonly version: number;
  readonly reads: readonly Read[];
  readonly env: Readonly<Record<string, string | null>>;
  readonly result: LoadResult;
}

export interface EntryStore {
  read(path: string): string | undefined;
  write(dir: string, path: string, text: string): void;
}

/** The cache key: what the caller asked for (the inputs it names), not what was read. */
export function cacheKey(opts: LoadOptions): string {
  return JSON.stringify([VERSION, opts.cwd, opts.files ?? null, opts.projectName ?? null, opts.projectDirectory ?? null, opts.envFiles ?? null, opts.profiles ?? null, opts.consistency !== false]);
}

/** A FileSource and an environment that remember what the loader looked at. */
export function recording(fs: FileSource, env: LoadOptions['env']): { fs: FileSource; env: LoadOptions['env']; reads: Read[]; envReads: Record<string, string | null>; enumerated: () => boolean } {
  const reads: Read[] = [];
  const envReads: Record<string, string | null> = {};
  let enumerated = false;
  return {
    reads,
    envReads,
    enumerated: () => enumerated,
    fs: {
      read(path) { const content = fs.read(path); reads.push({ op: 'read', path, content: content ?? null }); return content; },
      isFile(path) { const value = fs.isFile(path); reads.push({ op: 'isFile', path, value }); return value; },
      isDir(path) { const value = fs.isDir(path); reads.push({ op: 'isDir', path, value }); return value; },
    },
    env: new Proxy(env, {
      get(target, key) {
        const value = Reflect.get(target, key) as string | undefined;
        if (typeof key === 'string') envReads[key] = value ?? null;
        return value;
      },
      has(target, key) {
        if (typeof key === 'string') envReads[key] = (Reflect.get(target, key) as string | undefined) ?? null;
        return Reflect.has(target, key);
      },
      ownKeys(target) { enumerated = true; return Reflect.ownKeys(target); },
      getOwnPropertyDescriptor(target, key) { enumerated = true; return Reflect.getOwnPropertyDescriptor(target, key); },
    }),
  };
}

/** The cached result when every input is as it was; undefined otherwise. */
export function lookup(text: string | undefined, fs: FileSource, env: LoadOptions['env']): LoadResult | undefined {
  if (text === undefined) return undefined;
  let entry: Entry;
  try { entry = JSON.parse(text) as Entry; } catch { return undefined; }
  if (entry.version !== VERSION) return undefined;
  for (const [name, value] of Object.entries(entry.env)) if ((env[name] ?? null) !== value) return undefined;
  for (const r of entry.reads) {
    let now: string | null | boolean;
    // a file that became unreadable (a FIFO now, too large) is a miss: the load reports it
    try { now = r.op === 'read' ? fs.read(r.path) ?? null : r.op === 'isFile' ? fs.isFile(r.path) : fs.isDir(r.path); } catch { return undefined; }
    if (now !== (r.op === 'read' ? r.content : r.value)) return undefined;
  }
  return entry.result;
}

export function entryText(reads: readonly Read[], env: Readonly<Record<string, string | null>>, result: LoadResult): string {
  return JSON.stringify({ version: VERSION, reads, env, result } satisfies Entry);
}
