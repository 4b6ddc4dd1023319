// Durations as Go writes them ("1m30s", "500ms", "1h"), held in milliseconds in the model.
import { FormError } from './form-error.js';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1m30s" → 90000. A bare number is taken as seconds only when it is 0. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') {
    if (v === 0) return 0;
    throw new FormError('a duration like 30s or 1m30s', `number ${v}`, 'a duration needs a unit (ns, us, ms, s, m, h)');
  }
  const s = v.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let sign = 1, i = 0, total = 0, parts = 0;
  if (s[0] === '-' || s[0] === '+') { sign = s[0] === '-' ? -1 : 1; i = 1; }
  re.lastIndex = i;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m) throw new FormError('a duration like 30s or 1m30s', JSON.stringify(v));
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    parts++;
  }
  if (parts === 0) throw new FormError('a duration like 30s or 1m30s', JSON.stringify(v));
  return sign * total;
}

/** 90000 → "1m30s" (Go's time.Duration.String). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let ns = Math.round(Math.abs(ms) * 1e6);
  let out: string;
  if (ns < 1e9) {
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${trim(ns / 1e3)}µs`;
    else out = `${trim(ns / 1e6)}ms`;
  } else {
    const h = Math.floor(ns / 3.6e12); ns -= h * 3.6e12;
    const m = Math.floor(ns / 6e10); ns -= m * 6e10;
    const sec = trim(ns / 1e9);
    out = (h ? `${h}h` : '') + (h || m ? `${m}m` : '') + `${sec}s`;
  }
  return (neg ? '-' : '') + out;
}
function trim(n: number): string { return String(Number(n.toFixed(9))); }
