// Test helpers for kube/: an in-memory Host, and one call from compose YAML text to manifests
// (through the real spec loader on in-memory files). Not part of the pure build (it loads spec).
import { load } from '../spec/load.js';
import { parseDotenv } from '../spec/dotenv.js';
import { memoryFiles } from '../spec/testing.js';
import type { Project } from '../spec/model.js';
import { type Conversion, convertProject } from './convert.js';
import type { ConvertOptions, Host, HostFile } from './options.js';
import { base64Text } from './base64.js';
import { renderStream } from './render.js';

export const PROJECT_DIR = '/p';

/** A host with these files (absolute paths; a value of `null` is a directory) and variables. */
export function memoryHost(files: Record<string, string | null> = {}, variables: Record<string, string> = {}): Host {
  const dirs = new Set<string>();
  for (const [p, v] of Object.entries(files)) {
    if (v === null) dirs.add(p);
    let d = p;
    while ((d = d.slice(0, d.lastIndexOf('/'))) !== '') dirs.add(d);
  }
  return {
    file: (path): HostFile => {
      const v = files[path];
      if (typeof v === 'string') return { kind: 'file', size: v.length, text: v, base64: base64Text(v) };
      if (v === null || dirs.has(path)) return { kind: 'directory' };
      return { kind: 'missing' };
    },
    list: (path) => (dirs.has(path) ? Object.keys(files).filter((p) => p.startsWith(path + '/') && !p.slice(path.length + 1).includes('/')).map((p) => p.slice(path.length + 1)) : undefined),
    envFile: (path) => (typeof files[path] === 'string' ? parseDotenv(files[path] as string) : undefined),
    variable: (name) => variables[name],
  };
}

/** Loads compose YAML (as /p/compose.yaml, with the other files beside it). */
export function projectOf(yaml: string, files: Record<string, string | null> = {}, env: Record<string, string> = {}): Project {
  const texts: Record<string, string> = { [`${PROJECT_DIR}/compose.yaml`]: yaml };
  for (const [p, v] of Object.entries(files)) if (typeof v === 'string') texts[p] = v;
  return load({ files: [`${PROJECT_DIR}/compose.yaml`], env, cwd: PROJECT_DIR }, memoryFiles(texts)).project;
}

export function convertYaml(yaml: string, options: Partial<ConvertOptions> = {}, files: Record<string, string | null> = {}, variables: Record<string, string> = {}): Conversion {
  return convertProject(projectOf(yaml, files, variables), options, memoryHost(files, variables));
}

/** The YAML stream `berth convert` prints, for golden comparisons. */
export function convertToText(yaml: string, options: Partial<ConvertOptions> = {}, files: Record<string, string | null> = {}): string {
  return renderStream(convertYaml(yaml, options, files), 'yaml');
}

/** The objects of one kind, by name. */
export function objectsOf<T = Record<string, unknown>>(c: Conversion, kind: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const m of c.manifests) if (m.object.kind === kind) out[m.object.metadata.name] = m.object as unknown as T;
  return out;
}
