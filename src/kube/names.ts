// Compose names → Kubernetes names. A compose service, volume, network, secret or config name may
// hold upper case, `_` and `.`, start with a digit or be longer than 63 characters; a Kubernetes
// Service name must be a DNS-1035 label (lower case, `[a-z0-9-]`, starts with a letter, ≤ 63).
// Every name berth writes is such a label: it is valid for every kind (Service, Deployment,
// ConfigMap, PVC, container, volume, port) at once, so one rule serves all.
//
// The rules, in order of what matters to users:
// - a name that is already a valid label is kept as is, whatever else the project holds, so that
//   in-cluster DNS names match compose's (`db` stays `db`);
// - any other name becomes a readable label (`My_DB` → `my-db`), and when that label is taken in
//   the same table it gets a short stable hash of the original (`my-db-k3v9qz`): never a collision;
// - the original name is kept in the `berth/compose-name` annotation of every object made from it,
//   which is what makes the mapping reversible (`originalName`).

export const LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** the annotation that carries the compose name an object was made from */
export const NAME_ANNOTATION = 'berth/compose-name';

export function isLabel(s: string): boolean { return LABEL.test(s); }

/** FNV-1a over UTF-16 code units, 32 bits, as 6 base-36 digits. Stable across runs and hosts. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, '0').slice(-6);
}

/** The readable label for any string: lower case, other characters → '-', a letter first. */
export function readableLabel(s: string, max = 63): string {
  let t = s.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (!/^[a-z]/.test(t)) t = 'x-' + t;
  t = t.slice(0, max).replace(/-+$/, '');
  return t === '' ? 'x' : t;
}

function withHash(base: string, original: string, salt: number, max: number): string {
  const h = shortHash(salt === 0 ? original : `${original}#${salt}`);
  const stem = base.slice(0, max - h.length - 1).replace(/-+$/, '');
  return `${stem || 'x'}-${h}`;
}

/**
 * One namespace of names (one Kubernetes kind): every compose name gets one label, unique in the
 * table. Valid labels are reserved first, so the result does not depend on the order of names.
 */
export class NameTable {
  private readonly byOriginal = new Map<string, string>();
  private readonly taken = new Set<string>();
  constructor(private readonly max = 63) {}

  /** Assigns every name at once (valid ones first, the rest in sorted order). */
  assignAll(originals: Iterable<string>): this {
    const rest: string[] = [];
    for (const o of originals) {
      if (this.byOriginal.has(o)) continue;
      if (o.length <= this.max && isLabel(o) && !this.taken.has(o)) { this.byOriginal.set(o, o); this.taken.add(o); } else rest.push(o);
    }
    for (const o of [...new Set(rest)].sort()) this.assign(o);
    return this;
  }

  /** The label for a name, assigning one now if needed. */
  assign(original: string): string {
    const known = this.byOriginal.get(original);
    if (known !== undefined) return known;
    let name = original.length <= this.max && isLabel(original) ? original : readableLabel(original, this.max);
    for (let salt = 0; this.taken.has(name); salt++) name = withHash(readableLabel(original, this.max), original, salt, this.max);
    this.byOriginal.set(original, name);
    this.taken.add(name);
    return name;
  }

  /** Reserves a name used by something that is not a compose name (a helper object). */
  reserve(name: string): string { return this.assign(name); }

  has(name: string): boolean { return this.taken.has(name); }
}

/**
 * A label value: ≤ 63 characters, alphanumerics at both ends, `-_.` inside. Values that are
 * not valid are made readable and get a hash, so different inputs stay different.
 */
export function labelValue(s: string): string {
  if (s.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(s)) return s;
  const h = shortHash(s);
  const stem = s.replace(/[^-A-Za-z0-9_.]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63 - h.length - 1).replace(/[^A-Za-z0-9]+$/, '');
  return stem ? `${stem}-${h}` : h;
}

/** Whether a string can be a label or annotation key: `[prefix/]name`, a DNS subdomain prefix, a 63-character name. */
export function isQualifiedKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined, name = slash >= 0 ? k.slice(slash + 1) : k;
  return (prefix === undefined || (prefix.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix)))
    && /^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/.test(name);
}

/** A ConfigMap/Secret data key: `[-._a-zA-Z0-9]+`, ≤ 253. */
export function dataKey(s: string): string {
  if (/^[-._a-zA-Z0-9]{1,253}$/.test(s) && s !== '.' && s !== '..') return s;
  const t = s.replace(/[^-._a-zA-Z0-9]/g, '_').slice(0, 240);
  return `${t.replace(/^\.+$/, '_')}-${shortHash(s)}`;
}

/** The compose name an object was made from (the inverse of the mapping). */
export function originalName(object: { metadata: { name: string; annotations?: Readonly<Record<string, string>> } }): string {
  return object.metadata.annotations?.[NAME_ANNOTATION] ?? object.metadata.name;
}
