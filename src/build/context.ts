// The build context: a directory on the host, seen through its .dockerignore. COPY and ADD read
// only files the ignore rules let through; their content (not their mtimes) goes into the build
// cache key, so touching a file does not bust the cache and editing one does.
import { lstatSync, readdirSync, readFileSync, existsSync, readlinkSync, createReadStream, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { InvalidArgument, NotFound, fromNodeError } from '../lib/errors.js';
import { compileIgnore, ignoreFileCandidates, patternRegExp, type IgnoreMatcher } from './dockerignore.js';

const SMALL_FILE = 4 * 1024 * 1024;

export interface ContextEntry {
  /** "dir/file", relative to the context root */
  readonly rel: string;
  readonly stat: Stats;
}

export class BuildContext {
  private entries: ContextEntry[] | undefined;
  /** content hashes by rel path, valid while size, mtime and inode match */
  private readonly hashes = new Map<string, { key: string; hash: string }>();

  constructor(readonly dir: string, readonly ignore: IgnoreMatcher, readonly ignoreFile: string | undefined) {}

  /** Every entry the ignore rules let through (walked once, sorted). */
  list(): readonly ContextEntry[] {
    if (this.entries) return this.entries;
    const out: ContextEntry[] = [];
    const walk = (rel: string) => {
      const abs = rel === '' ? this.dir : join(this.dir, rel);
      let names: string[];
      try { names = readdirSync(abs); } catch (err) { throw fromNodeError(err, 'readdir', abs); }
      for (const name of names.sort()) {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        const stat = lstatSync(join(abs, name));
        const excluded = this.ignore.excludes(childRel);
        if (stat.isDirectory()) {
          if (excluded && this.ignore.canSkipDirectory(childRel)) continue;
          if (!excluded) out.push({ rel: childRel, stat });
          walk(childRel);
        } else if (!excluded) {
          out.push({ rel: childRel, stat });
        }
      }
    };
    walk('');
    this.entries = out;
    return out;
  }

  /**
   * The context entries a COPY/ADD source names: an exact path, or a pattern with * ? [ ] (and
   * **). A source that names nothing is an error naming the instruction.
   */
  match(source: string, where: string): ContextEntry[] {
    const cleaned = posix.normalize(source.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (cleaned.startsWith('..')) throw new InvalidArgument(`${where}: "${source}" is outside the build context`);
    const all = this.list();
    if (cleaned === '.' || cleaned === '') return [{ rel: '', stat: lstatSync(this.dir) }];
    if (!/[*?[]/.test(cleaned)) {
      const hit = all.find((e) => e.rel === cleaned);
      if (!hit) throw new NotFound(`${where}: "${source}" not found in the build context${existsSync(join(this.dir, cleaned)) ? ' (excluded by .dockerignore)' : ''}`);
      return [hit];
    }
    const re = patternRegExp(cleaned, where);
    const hits = all.filter((e) => re.test(e.rel));
    if (hits.length === 0) throw new NotFound(`${where}: no file in the build context matches "${source}"`);
    // a directory hit brings its subtree; drop entries already under another hit
    return hits.filter((e) => !hits.some((h) => h !== e && h.stat.isDirectory() && e.rel.startsWith(`${h.rel}/`)));
  }

  /** Entries under a directory entry (the dir itself excluded), in walk order. */
  below(dirRel: string): ContextEntry[] {
    return this.list().filter((e) => dirRel === '' || e.rel.startsWith(`${dirRel}/`));
  }

  private async hashFile(e: ContextEntry): Promise<string> {
    const key = `${e.stat.size}:${e.stat.mtimeMs}:${e.stat.ino}`;
    const known = this.hashes.get(e.rel);
    if (known && known.key === key) return known.hash;
    const hash = createHash('sha256');
    const abs = join(this.dir, e.rel);
    // small files in one read: a stream per file costs more than the hashing
    if (e.stat.size <= SMALL_FILE) hash.update(readFileSync(abs));
    else for await (const chunk of createReadStream(abs)) hash.update(chunk as Buffer);
    const hex = hash.digest('hex');
    this.hashes.set(e.rel, { key, hash: hex });
    return hex;
  }

  /** A digest of what the sources hold: names, types, modes, link targets and file contents. */
  async digest(sources: readonly ContextEntry[]): Promise<string> {
    const h = createHash('sha256');
    for (const s of sources) {
      const entries = s.stat.isDirectory() ? [s, ...this.below(s.rel)] : [s];
      for (const e of entries) {
        const mode = e.stat.mode & 0o7777;
        if (e.stat.isFile()) h.update(`f ${e.rel} ${mode} ${await this.hashFile(e)}\n`);
        else if (e.stat.isSymbolicLink()) h.update(`l ${e.rel} ${readlinkSync(join(this.dir, e.rel))}\n`);
        else if (e.stat.isDirectory()) h.update(`d ${e.rel} ${mode}\n`);
      }
    }
    return h.digest('hex');
  }
}

/** Opens a context: reads <dockerfile>.dockerignore or .dockerignore (first that exists). */
export function openContext(dir: string, dockerfilePath: string | undefined): BuildContext {
  let st: Stats;
  try { st = lstatSync(dir); } catch (err) { throw new NotFound(`build context "${dir}" does not exist (${(err as NodeJS.ErrnoException).code})`); }
  if (!st.isDirectory()) throw new InvalidArgument(`build context "${dir}" is not a directory`);
  for (const file of ignoreFileCandidates(dir, dockerfilePath)) {
    if (!existsSync(file)) continue;
    return new BuildContext(dir, compileIgnore(readFileSync(file, 'utf8'), file), file);
  }
  return new BuildContext(dir, compileIgnore(''), undefined);
}
