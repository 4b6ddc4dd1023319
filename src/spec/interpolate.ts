// Phase 2, interpolate: ${VAR} substitution in every string value (never in keys), then the
// type casts compose applies at known paths (a string "true" under `tty` becomes a boolean), so
// that variables can fill numeric and boolean fields.
import { quoteShort, type SpecIssue } from './errors.js';
import { MAX_INTERPOLATION_DEPTH } from './limits.js';
import { adopt, isMap, issueAt, newMap, type Key, type Sources, type Tree } from './tree.js';

export type Lookup = (name: string) => string | undefined;

export class TemplateError extends Error {
  constructor(readonly kind: 'syntax' | 'required', message: string, readonly variable = '') { super(message); }
}

const NAME_START = /[_a-zA-Z]/;
const NAME_CHAR = /[_a-zA-Z0-9]/;

/**
 * Substitutes one string as the compose spec says. `onUnset` hears about variables that were
 * unset and had no default (they become ''). Throws TemplateError, also for operands nested
 * deeper than MAX_INTERPOLATION_DEPTH (`${A:-${A:-...}}` 5,000 deep overflowed the stack).
 */
export function substitute(s: string, lookup: Lookup, onUnset?: (name: string) => void, depth = 0): string {
  if (!s.includes('$')) return s;
  if (depth > MAX_INTERPOLATION_DEPTH) {
    throw new TemplateError('syntax', `variable references nested more than ${MAX_INTERPOLATION_DEPTH} levels deep`);
  }
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== '$') { out += c; i++; continue; }
    const n = s[i + 1];
    if (n === '$') { out += '$'; i += 2; continue; }
    if (n === '{') {
      const end = closingBrace(s, i + 2);
      if (end === TOO_DEEP) throw new TemplateError('syntax', `variable references nested more than ${MAX_INTERPOLATION_DEPTH} levels deep`);
      if (end < 0) throw new TemplateError('syntax', `invalid interpolation format in ${quoteShort(s)}: "\${" without a closing "}"`);
      out += braced(s.slice(i + 2, end), s, lookup, onUnset, depth);
      i = end + 1;
      continue;
    }
    if (n !== undefined && NAME_START.test(n)) {
      let j = i + 1;
      while (j < s.length && NAME_CHAR.test(s[j]!)) j++;
      const name = s.slice(i + 1, j);
      const v = lookup(name);
      if (v === undefined) onUnset?.(name);
      out += v ?? '';
      i = j;
      continue;
    }
    // not a variable reference: kept as written
    out += '$';
    i++;
  }
  return out;
}

const TOO_DEEP = -2;
/**
 * Index of the "}" closing a "${" whose body starts at `from`, honouring nested "${...}" and
 * "$$"; -1 when there is none, TOO_DEEP when operands nest deeper than the bound (refused
 * whatever the variables' values, so that a file does not load only while A is set).
 */
function closingBrace(s: string, from: number): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '$' && s[i + 1] === '$') { i++; continue; }
    if (c === '$' && s[i + 1] === '{') { if (++depth > MAX_INTERPOLATION_DEPTH) return TOO_DEEP; i++; continue; }
    if (c === '}') { if (depth === 0) return i; depth--; }
  }
  return -1;
}

function braced(body: string, whole: string, lookup: Lookup, onUnset: ((name: string) => void) | undefined, depth: number): string {
  let j = 0;
  if (!NAME_START.test(body[0] ?? '')) throw new TemplateError('syntax', `invalid interpolation format in ${quoteShort(whole)}: ${quoteShort('${' + body + '}')} does not start with a variable name`);
  while (j < body.length && NAME_CHAR.test(body[j]!)) j++;
  const name = body.slice(0, j);
  const rest = body.slice(j);
  const v = lookup(name);
  if (rest === '') {
    if (v === undefined) onUnset?.(name);
    return v ?? '';
  }
  const op = rest.startsWith(':') ? rest.slice(0, 2) : rest.slice(0, 1);
  const arg = rest.slice(op.length);
  const sub = (): string => substitute(arg, lookup, onUnset, depth + 1);
  switch (op) {
    case ':-': return v === undefined || v === '' ? sub() : v;
    case '-': return v === undefined ? sub() : v;
    case ':+': return v === undefined || v === '' ? '' : sub();
    case '+': return v === undefined ? '' : sub();
    case ':?':
      if (v === undefined || v === '') throw new TemplateError('required', `required variable ${name} is missing a value${arg ? `: ${sub()}` : ''}`, name);
      return v;
    case '?':
      if (v === undefined) throw new TemplateError('required', `required variable ${name} is missing a value${arg ? `: ${sub()}` : ''}`, name);
      return v;
    default:
      throw new TemplateError('syntax', `invalid interpolation format in ${quoteShort(whole)}: ${quoteShort('${' + body + '}')} uses an operator compose does not support (only :- - :? ? :+ +)`);
  }
}

// ---- type casts after interpolation (compose applies these to every string at the path) ----

type Cast = 'bool' | 'int' | 'float';
const S = 'services.*.';
const CASTS: ReadonlyArray<readonly [string, Cast]> = [
  ...(['cpu_count', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpu_shares', 'mem_swappiness',
    'oom_score_adj', 'pids_limit', 'scale', 'healthcheck.retries', 'deploy.replicas', 'deploy.update_config.parallelism',
    'deploy.rollback_config.parallelism', 'deploy.restart_policy.max_attempts', 'deploy.resources.limits.pids',
    'ports.*.target', 'ulimits.*', 'ulimits.*.hard', 'ulimits.*.soft', 'blkio_config.weight',
    'blkio_config.weight_device.*.weight'] as const).map((p) => [S + p, 'int'] as const),
  ...(['cpu_percent', 'cpus', 'deploy.update_config.max_failure_ratio', 'deploy.rollback_config.max_failure_ratio'] as const)
    .map((p) => [S + p, 'float'] as const),
  ...(['init', 'oom_kill_disable', 'privileged', 'read_only', 'stdin_open', 'tty', 'attach', 'healthcheck.disable',
    'build.no_cache', 'build.pull', 'build.privileged', 'volumes.*.read_only', 'volumes.*.volume.nocopy',
    'volumes.*.bind.create_host_path', 'depends_on.*.required', 'depends_on.*.restart', 'env_file.*.required',
    'develop.watch.*.initial_sync', 'develop.watch.*.exec.privileged', 'post_start.*.privileged', 'pre_stop.*.privileged'] as const).map((p) => [S + p, 'bool'] as const),
  ...(['networks', 'volumes', 'secrets', 'configs'] as const).map((t) => [`${t}.*.external`, 'bool'] as const),
  ['networks.*.internal', 'bool'], ['networks.*.attachable', 'bool'], ['networks.*.enable_ipv6', 'bool'], ['networks.*.enable_ipv4', 'bool'],
];

interface CastNode { cast?: Cast; children: Map<string, CastNode> }
const castRoot: CastNode = { children: new Map() };
for (const [p, c] of CASTS) {
  let n = castRoot;
  for (const seg of p.split('.')) {
    let next = n.children.get(seg);
    if (!next) { next = { children: new Map() }; n.children.set(seg, next); }
    n = next;
  }
  n.cast = c;
}

function castChild(n: CastNode | undefined, key: Key): CastNode | undefined {
  if (!n) return undefined;
  return n.children.get(String(key)) ?? n.children.get('*');
}

export function toBool(s: string): boolean | undefined {
  const l = s.toLowerCase();
  if (l === 'true' || l === 'yes' || l === 'y' || l === 'on') return true;
  if (l === 'false' || l === 'no' || l === 'n' || l === 'off') return false;
  return undefined;
}

function doCast(c: Cast, s: string): Tree | undefined {
  const t = s.trim();
  if (c === 'bool') return toBool(t);
  if (c === 'int') return /^[+-]?\d+$/.test(t) ? Number(t) : undefined;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : undefined;
}

const CAST_NAMES: Record<Cast, string> = { bool: 'a boolean (true/false)', int: 'an integer', float: 'a number' };

export interface InterpolateResult { readonly tree: Tree; readonly issues: SpecIssue[]; readonly unset: Set<string> }

/** Interpolates every string value of a file's tree and applies the casts. Pure. */
export function interpolateTree(tree: Tree, lookup: Lookup, sources: Sources): InterpolateResult {
  const issues: SpecIssue[] = [];
  const unset = new Set<string>();
  const onUnset = (n: string): void => { unset.add(n); };
  const walk = (v: Tree, path: Key[], cn: CastNode | undefined): Tree => {
    if (typeof v === 'string') {
      let s: string;
      try { s = substitute(v, lookup, onUnset); } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        issues.push(e.kind === 'required'
          ? issueAt(sources, tree, path, `variable ${e.variable} to be set`, 'it unset or empty', e.message)
          : issueAt(sources, tree, path, 'a valid interpolation (escape a literal $ as $$)', quoteShort(v), e.message));
        return v;
      }
      if (cn?.cast) {
        const r = doCast(cn.cast, s);
        if (r === undefined) { issues.push(issueAt(sources, tree, path, CAST_NAMES[cn.cast], quoteShort(s))); return s; }
        return r;
      }
      return s;
    }
    if (Array.isArray(v)) {
      const out = v.map((x, i) => { path.push(i); const r = walk(x, path, castChild(cn, i)); path.pop(); return r; });
      return adopt(out, v);
    }
    if (isMap(v)) {
      const o = newMap();
      for (const k of Object.keys(v)) {
        path.push(k);
        o[k] = walk(v[k]!, path, castChild(cn, k));
        path.pop();
      }
      return adopt(o, v);
    }
    return v;
  };
  const out = walk(tree, [], castRoot);
  return { tree: out, issues, unset };
}
