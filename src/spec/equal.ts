// Deep equality of two loader trees, for the schema's `uniqueItems`. The generated validator
// imports this instead of ajv's runtime `equal` (fast-deep-equal), which calls `valueOf` on
// objects and so throws on the tree's prototype-less mappings (two long-form ports or volumes
// in one list crashed the loader). Pure; compares values as JSON would.

export function treeEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    // NaN never reaches a tree (YAML's .nan is kept as a string), so === is enough here
    return false;
  }
  const aList = Array.isArray(a), bList = Array.isArray(b);
  if (aList !== bList) return false;
  if (aList) {
    const x = a as unknown[], y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!treeEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const k of keys) {
    if (!Object.prototype.hasOwnProperty.call(y, k) || !treeEqual(x[k], y[k])) return false;
  }
  return true;
}

/** The generated validator reads the helper as `<module>.default` (ajv emits `require(...).default`). */
export default treeEqual;
