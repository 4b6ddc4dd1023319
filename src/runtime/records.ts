// Reading container directories without ever letting one bad directory stop the others. Each
// directory under <root>/containers is classified by what it holds (docs/crash-consistency.md):
//   record       a config.v2.json that parses and has the fields berth needs
//   corrupt      a config.v2.json that is empty, truncated, garbage or of the wrong shape
//   missing      no config.v2.json, but files of a container that was started (a deleted record)
//   creating     a `creating` marker whose process still lives: a create in progress
//   interrupted  a create that a crash interrupted (its creator is gone, or the directory is empty)
//   removing     a `removing` marker: a removal to finish
// A corrupt or missing record becomes a placeholder record (below) with a `problem`: the
// container shows as `dead` with the reason in `ps -a` and `inspect`, and `rm -f` removes it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJson } from '../lib/atomic.js';
import { processAlive } from '../sys/spawn.js';
import type { ContainerRecord } from './state.js';

export type BundleKind = 'record' | 'corrupt' | 'missing' | 'creating' | 'interrupted' | 'removing';

/** Files a create writes before its record (and the marker itself): a directory with only these was never started. */
const CREATE_TIME_FILES = new Set(['creating', 'hostname', 'hosts', 'resolv.conf', 'warnings']);

export interface RecordEntry {
  readonly id: string;
  readonly record: ContainerRecord;
  /** why the record is a placeholder (the file and what is wrong with it); absent for a good record */
  readonly problem?: string;
}

export const CONTAINER_ID = /^[0-9a-f]{64}$/;

/**
 * `creating` holds "<pid> <start time>": the pid alone could name another process by the time a
 * new engine looks (pids are reused); the start time (field 22 of /proc/<pid>/stat) cannot.
 */
export function processToken(pid: number = process.pid): string {
  return `${pid} ${processStartTime(pid) ?? 0}`;
}

export function tokenAlive(token: string): boolean {
  const [pidText, startText] = token.trim().split(' ');
  const pid = Number(pidText);
  if (!(pid > 0) || !processAlive(pid)) return false;
  // a marker written before tokens existed holds only the pid
  return startText === undefined || processStartTime(pid) === Number(startText);
}

function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/** What a container directory holds (see the header). Never throws. */
export function classifyBundle(bundle: string): { kind: BundleKind; record?: ContainerRecord; problem?: string } {
  let names: string[];
  try { names = readdirSync(bundle); } catch { return { kind: 'interrupted' }; }
  if (names.includes('removing')) return { kind: 'removing', record: tryRecord(bundle) };
  if (names.includes('config.v2.json')) {
    const file = join(bundle, 'config.v2.json');
    let record: ContainerRecord | undefined;
    try {
      record = readRecordFile(file);
    } catch (err) {
      return { kind: 'corrupt', problem: (err as Error).message };
    }
    const wrong = shapeProblem(record, bundle);
    if (wrong) return { kind: 'corrupt', problem: `"${file}" is corrupt: ${wrong}` };
    return { kind: 'record', record };
  }
  if (names.includes('creating')) {
    let token = '';
    try { token = readFileSync(join(bundle, 'creating'), 'utf8'); } catch { /* removed meanwhile */ }
    if (token !== '' && tokenAlive(token)) return { kind: 'creating' };
  }
  if (names.every((n) => CREATE_TIME_FILES.has(n) || n.startsWith('.'))) return { kind: 'interrupted' };
  return { kind: 'missing', problem: `"${join(bundle, 'config.v2.json')}" is missing` };
}

/**
 * Parsed records by path, reused while the file is the same: every look at a project's containers
 * (each no-op `up`, each look of the supervisor) would parse each record again. A record changes
 * only by an atomic rename (a new inode, size, mtime, ctime), and a record is kept only when its
 * file was already RACY_MS old when it was read — a file rewritten after that has a later mtime
 * whatever the filesystem's timestamp granularity (git's "racy" rule), so a kept record is never
 * stale. A file replaced between the stat and the read is kept under the old key: the next stat
 * differs, and it is read again.
 */
const parsedRecords = new Map<string, { readonly key: string; readonly record: ContainerRecord | undefined }>();
const RACY_MS = 1000;
const MAX_PARSED_RECORDS = 4096;

/** A removed container's parsed record goes with it (ids are never reused: it would only take room). */
export function forgetParsedRecord(bundle: string): void {
  parsedRecords.delete(join(bundle, 'config.v2.json'));
}

/** readJson of a record, through parsedRecords. */
function readRecordFile(file: string): ContainerRecord | undefined {
  let key: string;
  let mtimeMs: number;
  try {
    const st = statSync(file);
    key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    mtimeMs = st.mtimeMs;
  } catch {
    return readJson<ContainerRecord>(file);
  }
  const hit = parsedRecords.get(file);
  if (hit !== undefined && hit.key === key) return hit.record;
  parsedRecords.delete(file);
  const record = readJson<ContainerRecord>(file);
  if (Date.now() - mtimeMs > RACY_MS) {
    if (parsedRecords.size >= MAX_PARSED_RECORDS) parsedRecords.delete(parsedRecords.keys().next().value!);
    parsedRecords.set(file, { key, record });
  }
  return record;
}

function tryRecord(bundle: string): ContainerRecord | undefined {
  try {
    const r = readJson<ContainerRecord>(join(bundle, 'config.v2.json'));
    return r && shapeProblem(r, bundle) === undefined ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The fields every reader of a record relies on; a record without them is as bad as garbage. */
function shapeProblem(r: unknown, bundle: string): string | undefined {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not a JSON object';
  const o = r as Record<string, unknown>;
  const id = bundle.slice(bundle.lastIndexOf('/') + 1);
  if (o.id !== id) return `its id is not the directory's (${id.slice(0, 12)})`;
  for (const k of ['name', 'created', 'image', 'imageRef', 'path', 'cgroupName'] as const) if (typeof o[k] !== 'string') return `"${k}" is missing or not a string`;
  if (!Array.isArray(o.args)) return '"args" is missing';
  const config = o.config as Record<string, unknown> | undefined;
  if (typeof config !== 'object' || config === null) return '"config" is missing';
  if (typeof config.Labels !== 'object' || config.Labels === null) return '"config.Labels" is missing';
  for (const k of ['Env', 'Cmd', 'Entrypoint'] as const) if (!Array.isArray(config[k])) return `"config.${k}" is missing`;
  const host = o.hostConfig as Record<string, unknown> | undefined;
  if (typeof host !== 'object' || host === null) return '"hostConfig" is missing';
  if (typeof host.limits !== 'object' || host.limits === null) return '"hostConfig.limits" is missing';
  const layer = o.layer as Record<string, unknown> | undefined;
  if (typeof layer !== 'object' || layer === null || typeof layer.id !== 'string' || !Array.isArray(layer.lower)) return '"layer" is missing';
  return undefined;
}

/**
 * The record a container with an unreadable one is shown and removed with: its id, the cgroup and
 * layer every container of this id has, the name its claim holds (or a short id), no labels (so
 * no project plans with it).
 */
export function placeholderRecord(id: string, bundle: string, cgroupParent: string, name: string | undefined): ContainerRecord {
  let created = new Date(0).toISOString();
  try { created = statSync(bundle).mtime.toISOString(); } catch { /* gone */ }
  return {
    id,
    name: name ?? id.slice(0, 12),
    created,
    image: '',
    imageRef: '',
    path: '',
    args: [],
    config: {
      Hostname: id.slice(0, 12), User: '', Env: [], Cmd: [], Entrypoint: [], WorkingDir: '', Image: '', Labels: {},
      StopSignal: 'SIGKILL', StopTimeout: 0, Tty: false, OpenStdin: false,
    },
    hostConfig: { AutoRemove: false, Init: false, ShmSize: 0, limits: {}, RestartPolicy: { name: 'no', maximumRetryCount: 0 } },
    cgroupName: `${cgroupParent}/${id}`,
    layer: { id, lower: [] },
  };
}

/** The name claimed for `id` in names/ (a scan: only for placeholders, which are rare). */
export function claimedName(namesDir: string, id: string): string | undefined {
  let names: string[];
  try { names = readdirSync(namesDir); } catch { return undefined; }
  for (const n of names) {
    if (n.startsWith('.')) continue;
    try { if (readFileSync(join(namesDir, n), 'utf8') === id) return n; } catch { /* released meanwhile */ }
  }
  return undefined;
}
