// Signal names as users write them ("SIGTERM", "TERM", "15", "SIGRTMIN+3") → numbers.
import { InvalidArgument } from '../lib/errors.js';
import { SIGNALS } from './defaults.js';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

export function parseSignal(input: string): number {
  const text = input.trim().toUpperCase();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= SIGRTMAX) return n;
    throw new InvalidArgument(`invalid signal: ${input}`);
  }
  const name = text.startsWith('SIG') ? text.slice(3) : text;
  const known = SIGNALS[name];
  if (known !== undefined) return known;
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith('RTMIN') ? SIGRTMIN + off : SIGRTMAX - off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new InvalidArgument(`invalid signal: ${input}`);
}

export function signalName(n: number): string {
  for (const [name, value] of Object.entries(SIGNALS)) if (value === n && name !== 'IOT' && name !== 'POLL') return `SIG${name}`;
  return String(n);
}
