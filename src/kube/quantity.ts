// Compose's units → Kubernetes quantities and whole seconds.

const UNITS: readonly [string, number][] = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];

/** Bytes as a quantity: the largest binary suffix that divides it exactly ("512Mi"), else bytes. */
export function bytesQuantity(bytes: number): string {
  const b = Math.max(0, Math.round(bytes));
  for (const [suffix, size] of UNITS) if (b >= size && b % size === 0) return `${b / size}${suffix}`;
  return String(b);
}

/** CPUs as a quantity: whole CPUs as an integer, else millicores (at least 1m). */
export function cpuQuantity(cpus: number): string {
  if (Number.isInteger(cpus)) return String(cpus);
  return `${Math.max(1, Math.round(cpus * 1000))}m`;
}

/** Milliseconds as whole seconds for a probe or grace period: rounded up, at least `min`. */
export function seconds(ms: number, min = 1): number {
  return Math.max(min, Math.ceil(ms / 1000));
}

/** A storage size as a user writes it ("10Gi", "500M", "1G") → a Kubernetes quantity, or undefined. */
export function storageQuantity(s: string): string | undefined {
  const t = s.trim();
  if (/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(t)) return t;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtpe])i?b?$/i.exec(t);
  if (m) return `${m[1]}${m[2]!.toUpperCase() === 'K' ? 'Ki' : `${m[2]!.toUpperCase()}i`}`;
  return undefined;
}
