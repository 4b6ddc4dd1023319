// `berth convert` (and `berth compose convert`): the compose project → Kubernetes manifests.
// Loads the project as `berth config` does, answers the converter's questions about the host
// (bind-mounted files, secret and config files, env files, variables), and prints the manifests
// or writes one file per object into a directory. What cannot be mapped is printed as warnings.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { CliContext } from '../context.js';
import { InvalidArgument, fromNodeError } from '../../lib/errors.js';
import { writeFileAtomic } from '../../lib/atomic.js';
import { loadProjectWith } from '../project.js';
import { parseDotenv } from '../../spec/dotenv.js';
import { nodeFileSource } from '../../spec/files.js';
import type { FileSource } from '../../spec/load.js';
import type { Project } from '../../spec/model.js';
import { convertProject } from '../../kube/convert.js';
import { DEFAULT_OPTIONS, MAX_OBJECT_DATA, findingText, type ConvertOptions, type Host, type HostFile, type PublishType } from '../../kube/options.js';
import { GENERATED_MARK, renderFiles, renderStream, type Format } from '../../kube/render.js';

export interface ConvertFlags {
  file?: string[]; projectName?: string; projectDirectory?: string; envFile?: string[]; profile?: string[];
  output?: string; namespace?: string; format?: Format; controller?: 'deployment' | 'statefulset'; kustomize?: boolean;
  networkPolicies?: boolean; serviceType?: string; volumeSize?: string; storageClass?: string;
  waitImage?: string; kubectlImage?: string; clusterDomain?: string;
}

/** Directory listings beyond this many entries are cut (a bind-mounted directory as a ConfigMap). */
const MAX_LISTED = 1000;
/** Env files larger than this are not read for secret values. */
const MAX_ENV_FILE = 1024 * 1024;

const SERVICE_TYPES: Record<string, PublishType> = { loadbalancer: 'LoadBalancer', nodeport: 'NodePort', clusterip: 'ClusterIP' };

function inside(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith('..' + sep) && r !== '..' && !r.startsWith('/'));
}

function readBounded(path: string, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally { closeSync(fd); }
}

/**
 * The converter's view of this host. Bind-mounted files are read only inside the project
 * directory, so a compose file cannot copy /etc/shadow into a ConfigMap; files named by
 * `secrets:`/`configs:` are read wherever they are, as compose mounts them. Only regular files
 * are read, at most 1 MiB each (a FIFO or device is never opened).
 */
export function nodeHost(project: Project, env: NodeJS.ProcessEnv, envFiles: readonly string[], files: FileSource = nodeFileSource): Host {
  // env files are read as the loader reads them: bounded, regular files only, as the caller
  const dotenvFile = (path: string): ReadonlyMap<string, string> | undefined => {
    const text = files.read(path);
    return text === undefined || Buffer.byteLength(text) > MAX_ENV_FILE ? undefined : parseDotenv(text, (k) => env[k]);
  };
  const declared = new Set<string>();
  for (const f of [...Object.values(project.secrets), ...Object.values(project.configs)]) if (f.file) declared.add(f.file);
  let dotenv: ReadonlyMap<string, string> | undefined;
  const textDecoder = new TextDecoder('utf-8', { fatal: true });
  // a file mounted by many services is read once per conversion
  const seen = new Map<string, HostFile>();
  const file = (path: string): HostFile => {
    const known = seen.get(path);
    if (known) return known;
    const f = look(path);
    seen.set(path, f);
    return f;
  };
  const look = (path: string): HostFile => {
    let st;
    try { st = statSync(path); } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
      throw fromNodeError(e, 'stat', path);
    }
    if (st.isDirectory()) return { kind: 'directory' };
    if (!st.isFile()) return { kind: 'other', reason: 'not a regular file' };
    if (!declared.has(path) && !inside(project.working_dir, path)) return { kind: 'other', reason: 'outside the project directory: convert copies only project files into ConfigMaps' };
    if (st.size > MAX_OBJECT_DATA) return { kind: 'file', size: st.size };
    let buf: Buffer;
    // one byte more than stat said: a file that grew since is seen as too large, not cut
    try { buf = readBounded(path, Math.min(st.size, MAX_OBJECT_DATA) + 1); } catch (e) { throw fromNodeError(e, 'read', path); }
    if (buf.length > MAX_OBJECT_DATA) return { kind: 'file', size: buf.length };
    let text: string | undefined;
    try { text = textDecoder.decode(buf); } catch { text = undefined; }
    return { kind: 'file', size: buf.length, ...(text !== undefined ? { text } : {}), base64: buf.toString('base64') };
  };
  return {
    file,
    list: (path) => {
      try { return readdirSync(path).slice(0, MAX_LISTED); } catch { return undefined; }
    },
    envFile: (path) => {
      try { return dotenvFile(path); } catch { return undefined; }
    },
    variable: (name) => {
      if (env[name] !== undefined) return env[name];
      if (dotenv === undefined) {
        const merged = new Map<string, string>();
        const files = envFiles.length > 0 ? envFiles.map((f) => resolve(project.working_dir, f)) : [join(project.working_dir, '.env')];
        for (const f of files) {
          try { for (const [k, v] of dotenvFile(f) ?? []) merged.set(k, v); } catch { /* refused (not a regular file, too large): nothing from it */ }
        }
        dotenv = merged;
      }
      return dotenv.get(name);
    },
  };
}

function optionsFrom(flags: ConvertFlags): Partial<ConvertOptions> {
  let publishType: PublishType | undefined;
  if (flags.serviceType !== undefined) {
    publishType = SERVICE_TYPES[flags.serviceType.toLowerCase()];
    if (!publishType) throw new InvalidArgument(`--service-type ${JSON.stringify(flags.serviceType)}: expected loadbalancer, nodeport or clusterip`);
  }
  return {
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    ...(flags.controller !== undefined ? { controller: flags.controller } : {}),
    ...(publishType ? { publishType } : {}),
    networkPolicies: flags.networkPolicies === true,
    ...(flags.volumeSize !== undefined ? { volumeSize: flags.volumeSize } : {}),
    ...(flags.storageClass !== undefined ? { storageClass: flags.storageClass } : {}),
    waitImage: flags.waitImage ?? DEFAULT_OPTIONS.waitImage,
    kubectlImage: flags.kubectlImage ?? DEFAULT_OPTIONS.kubectlImage,
    clusterDomain: flags.clusterDomain ?? DEFAULT_OPTIONS.clusterDomain,
  };
}

/** Files of an earlier run that this run did not write again (only files berth wrote itself). */
function staleFiles(dir: string, keep: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (keep.has(name) || !/\.(yaml|json)$/.test(name)) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (!st.isFile() || st.size > 4 * MAX_OBJECT_DATA) continue;
      const text = readFileSync(path, 'utf8');
      if (name.endsWith('.yaml') ? text.startsWith(GENERATED_MARK + '\n') : (JSON.parse(text) as { metadata?: { labels?: Record<string, string> } }).metadata?.labels?.['app.kubernetes.io/managed-by'] === 'berth') out.push(name);
    } catch { /* unreadable or not JSON: not ours */ }
  }
  return out;
}

export default async function convert(flags: ConvertFlags, _args: string[], ctx: CliContext): Promise<number> {
  const format: Format = flags.format ?? 'yaml';
  const toDir = flags.output !== undefined && flags.output !== '-';
  if (flags.kustomize && !toDir) throw new InvalidArgument('--kustomize writes a kustomization.yaml beside the manifests: give a directory with -o DIR');
  const options = optionsFrom(flags);
  const { project, warnings } = await loadProjectWith(flags, ctx);
  // the loader's own warnings name keys berth does not support; the converter reports those too
  for (const w of warnings) if (!/not supported by berth/.test(w)) ctx.stderr.write(`warning: ${w}\n`);
  const conversion = convertProject(project, options, nodeHost(project, ctx.env, flags.envFile ?? [], ctx.files));
  for (const f of conversion.findings) ctx.stderr.write(`warning: ${findingText(f)}\n`);

  if (!toDir) {
    ctx.stdout.write(renderStream(conversion, format));
    return 0;
  }
  const dir = resolve(ctx.cwd, flags.output!);
  try { mkdirSync(dir, { recursive: true }); } catch (e) { throw fromNodeError(e, 'mkdir', dir); }
  const files = renderFiles(conversion, format, flags.kustomize === true, options.namespace);
  for (const f of files) writeFileAtomic(join(dir, f.name), f.text, { durable: false });
  const stale = staleFiles(dir, new Set(files.map((f) => f.name)));
  for (const name of stale) {
    try { unlinkSync(join(dir, name)); } catch (e) { throw fromNodeError(e, 'unlink', join(dir, name)); }
  }
  ctx.stderr.write(`wrote ${conversion.manifests.length} objects to ${flags.output}${stale.length > 0 ? ` (removed ${stale.length} left from an earlier run)` : ''}: kubectl apply ${flags.kustomize ? '-k' : '-f'} ${flags.output}\n`);
  return 0;
}

