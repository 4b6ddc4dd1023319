// Phase 3, schema-validate: berth's own schema (schemas/compose.schema.json), compiled ahead of
// time by ajv into generated/compose-validator.ts. ajv's errors are turned into located issues:
// one per place, the most specific one, with what was expected and what was found.
import { validate as compiled } from './generated/compose-validator.js';
import { describe, type SpecIssue } from './errors.js';
import { getPath, issueAt, type Key, type Sources, type Tree } from './tree.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: { description?: string; properties?: Record<string, unknown>; type?: unknown; enum?: unknown[]; pattern?: string; minimum?: number; maximum?: number };
}

type ValidateFn = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
const validateFn = compiled as unknown as ValidateFn;

function toPath(instancePath: string, root: unknown): Key[] {
  if (instancePath === '') return [];
  const out: Key[] = [];
  let node: unknown = root;
  for (const raw of instancePath.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key: Key = Array.isArray(node) && /^\d+$/.test(seg) ? Number(seg) : seg;
    out.push(key);
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key as string] : undefined;
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean', object: 'a mapping', array: 'a list', null: 'null',
};
function typeWords(t: unknown): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => TYPE_WORDS[String(x)] ?? String(x)).join(' or ');
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) { bestD = d; best = c; }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!; prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Validates one file's (interpolated) tree. Returns [] when valid. Pure. */
export function validateTree(tree: Tree, sources: Sources): SpecIssue[] {
  if (validateFn(tree)) return [];
  const errors = validateFn.errors ?? [];
  const paths = errors.map((e) => e.instancePath);
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  const push = (i: SpecIssue): void => {
    const k = `${i.keyPath}\u0000${i.expected}`;
    if (!seen.has(k)) { seen.add(k); issues.push(i); }
  };
  const deeper = (p: string): boolean => paths.some((q) => q.length > p.length && q.startsWith(p + '/'));
  const specificAt = (p: string): boolean => errors.some((e) => e.instancePath === p && e.keyword !== 'type' && e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if');
  const unionDone = new Set<string>();
  for (const e of errors) {
    const path = toPath(e.instancePath, tree);
    const ps = e.parentSchema ?? {};
    switch (e.keyword) {
      case 'type':
      case 'oneOf':
      case 'anyOf': {
        if (deeper(e.instancePath) || specificAt(e.instancePath)) break;
        if (unionDone.has(e.instancePath)) break;
        // prefer the union's own description over a single branch's type
        const union = errors.find((x) => x.instancePath === e.instancePath && (x.keyword === 'oneOf' || x.keyword === 'anyOf'));
        const expected = union?.parentSchema?.description ?? ps.description ?? typeWords(ps.type ?? (e.params['type'] as unknown));
        const v = getPath(tree, path);
        unionDone.add(e.instancePath);
        push(issueAt(sources, tree, path, expected, describe(v)));
        break;
      }
      case 'additionalProperties': {
        const key = String(e.params['additionalProperty']);
        const known = Object.keys(ps.properties ?? {});
        const isNameMap = /mapping of \w+ names/.test(ps.description ?? '');
        if (isNameMap) {
          push(issueAt(sources, tree, [...path, key], 'a name made of letters, digits, ".", "_" and "-"', `${JSON.stringify(key)}`, undefined, true));
        } else {
          const hint = closest(key, known);
          push(issueAt(sources, tree, [...path, key], `a known key of ${ps.description ?? 'this mapping'} (or an x- extension)`, `unknown key ${JSON.stringify(key)}`,
            hint ? `did you mean ${JSON.stringify(hint)}?` : undefined, true));
        }
        break;
      }
      case 'required':
        push(issueAt(sources, tree, path, `key ${JSON.stringify(String(e.params['missingProperty']))} in ${ps.description ?? 'this mapping'}`, 'it missing'));
        break;
      case 'enum':
        push(issueAt(sources, tree, path, `one of ${(ps.enum ?? (e.params['allowedValues'] as unknown[]) ?? []).map((x) => JSON.stringify(x)).join(', ')}`, describe(getPath(tree, path))));
        break;
      case 'pattern':
        push(issueAt(sources, tree, path, ps.description ?? `a string matching /${String(e.params['pattern'])}/`, describe(getPath(tree, path))));
        break;
      case 'uniqueItems': {
        const i = Number(e.params['i']), j = Number(e.params['j']);
        push(issueAt(sources, tree, [...path, Math.max(i, j)], 'each item once in the list', `a duplicate of item [${Math.min(i, j)}]`));
        break;
      }
      case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
        push(issueAt(sources, tree, path, ps.description ?? `a number ${e.message ?? ''}`.trim(), describe(getPath(tree, path))));
        break;
      default:
        push(issueAt(sources, tree, path, ps.description ?? (e.message ?? 'a valid value'), describe(getPath(tree, path))));
    }
  }
  return issues;
}
