// A YAML writer for manifests: JSON-shaped values (objects, arrays, strings, numbers, booleans,
// null) in block style, with comment lines. kube/ is pure and `yaml` enters berth through spec/
// only, and a manifest needs no more than this. `yaml.test.ts` parses every output back with the
// `yaml` library (random strings included) and requires the same value.
//
// Strings are written plain only when no YAML reader could take them for anything else (they
// start with a letter, `_` or `/`, hold no indicator and no leading, trailing or double space,
// and are not a YAML 1.1 boolean or null: kubectl's reader is YAML 1.1; or they are quantities),
// as a literal block when they span lines, and otherwise as JSON strings, which are valid YAML
// double-quoted scalars.

// words of safe characters, joined by single spaces or by colons that a character follows
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@=+-]*([ :][A-Za-z0-9_./@=+-]+)*$/;
// a Kubernetes quantity ("500m", "512Mi"): no YAML number has a letter suffix
const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)$/;
const KEYWORD = /^(y|yes|n|no|true|false|on|off|null)$/i;
// characters a literal block cannot hold as written: controls other than tab and newline, CR,
// the YAML 1.1 line breaks (NEL, LS, PS), BOM, and lone surrogates
// eslint-disable-next-line no-control-regex
const NOT_IN_BLOCK = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function scalar(s: string): string {
  return (PLAIN.test(s) && !KEYWORD.test(s)) || QUANTITY.test(s) ? s : JSON.stringify(s);
}

/** A multi-line string as a literal block (header + lines), or undefined when it cannot be one. */
function literal(s: string, indent: string): string | undefined {
  if (!s.includes('\n') || NOT_IN_BLOCK.test(s) || s.trim() === '') return undefined;
  const body = s.replace(/\n+$/, '');
  const trailing = s.length - body.length;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const lines = body.split('\n');
  // a first content line that starts with a space would be read as deeper indentation
  const first = lines.find((l) => l !== '') ?? '';
  const indicator = first.startsWith(' ') ? String(2) : '';
  const extra = chomp === '+' ? Array(trailing - 1).fill('') : [];
  const pad = indent + '  ';
  return `|${indicator}${chomp}\n` + [...lines, ...extra].map((l) => (l === '' ? '' : pad + l)).join('\n');
}

function isEmptyContainer(v: unknown): boolean {
  return Array.isArray(v) ? v.length === 0 : v !== null && typeof v === 'object' && Object.keys(v).length === 0;
}

function inline(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return scalar(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? '[]' : '{}';
}

function isBlock(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !isEmptyContainer(v);
}

function writeValue(v: unknown, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isBlock(item)) {
        const sub: string[] = [];
        writeValue(item, indent + '  ', sub);
        // the first line of the item goes after "- "
        out.push(`${indent}- ${sub[0]!.slice(indent.length + 2)}`, ...sub.slice(1));
      } else {
        out.push(`${indent}- ${typeof item === 'string' ? literal(item, indent) ?? inline(item) : inline(item)}`);
      }
    }
    return;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    if (isBlock(x)) {
      out.push(`${indent}${scalar(k)}:`);
      writeValue(x, Array.isArray(x) ? indent : indent + '  ', out);
    } else {
      out.push(`${indent}${scalar(k)}: ${typeof x === 'string' ? literal(x, indent) ?? inline(x) : inline(x)}`);
    }
  }
}

/** One YAML document (without the `---` separator), ending in a newline. */
export function toYaml(value: unknown, comments: readonly string[] = []): string {
  const out: string[] = comments.flatMap((c) => c.split('\n')).map((c) => (c === '' ? '#' : `# ${c}`));
  if (isBlock(value)) writeValue(value, '', out);
  else out.push(inline(value));
  return out.join('\n') + '\n';
}
