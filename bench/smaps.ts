// The resident memory of a process by what holds it, from /proc/PID/smaps (not a test: a bench helper
// of soak.ts, and a sampler on its own):
//
//   node dist/bench/smaps.js PID [SECONDS]    one line now, or one every SECONDS until PID exits
//
// Kinds, each the Rss of its mappings (KiB):
//   brk     `[heap]`: glibc's main arena (the main thread's malloc)
//   arenas  glibc's other arenas: a 64 MiB-aligned anonymous reservation, its used head rw-p and
//           the rest ---p (one per thread that malloc'd: libuv's pool, the spawner worker, V8's
//           platform threads…)
//   code    V8's code pages: rwx/r-x anonymous mappings of a code range, with the rw header page of each
//   v8      V8's heap pages: anonymous and 256 KiB-aligned (new, old, map, large-object spaces; of
//           every isolate of the process — the spawner worker has its own)
//   stacks  thread stacks: rw-p after a one-page ---p guard, 1 MiB or more, and `[stack]`
//   anon    every other anonymous mapping (large mallocs of their own mmap, koffi's, node's)
//   file    binaries and libraries mapped from files
import { readFileSync, readdirSync } from 'node:fs';

export interface Kinds { brk: number; arenas: number; code: number; v8: number; stacks: number; anon: number; file: number; rss: number; threads: number }

interface Mapping { start: bigint; end: bigint; perm: string; path: string; rss: number }

const MiB64 = 64n << 20n;
const KiB256 = 256n << 10n;

function mappings(pid: number): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: BigInt(`0x${head[1]!}`), end: BigInt(`0x${head[2]!}`), perm: head[3]!, path: head[4]!, rss: 0 };
      out.push(cur);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && cur) cur.rss = Number(rss[1]);
  }
  return out;
}

export function kinds(pid: number): Kinds {
  const k: Kinds = { brk: 0, arenas: 0, code: 0, v8: 0, stacks: 0, anon: 0, file: 0, rss: 0, threads: readdirSync(`/proc/${pid}/task`).length };
  const m = mappings(pid);
  const size = (x: Mapping): bigint => x.end - x.start;
  for (let i = 0; i < m.length; i++) {
    const x = m[i]!;
    const next = m[i + 1];
    const prev = m[i - 1];
    k.rss += x.rss;
    if (x.path === '[heap]') k.brk += x.rss;
    else if (x.path === '[stack]') k.stacks += x.rss;
    else if (x.path !== '' && !x.path.startsWith('[')) k.file += x.rss;
    else if (x.path !== '') k.anon += x.rss; // [vdso], [vvar]…
    else if (x.perm === 'rwxp' || x.perm === 'r-xp') k.code += x.rss;
    // a code page's header: rw-p, then a ---p guard page, then the code
    else if (x.perm === 'rw-p' && next?.perm === '---p' && size(next) === 4096n && (m[i + 2]?.perm === 'rwxp' || m[i + 2]?.perm === 'r-xp') && next.end === m[i + 2]!.start) k.code += x.rss;
    // an arena: 64 MiB aligned, its unused tail reserved ---p right after it, 64 MiB in all
    else if (x.start % MiB64 === 0n && (x.end - x.start === MiB64 || (next?.perm === '---p' && next.start === x.end && next.end - x.start === MiB64))) k.arenas += x.rss;
    else if (x.perm === 'rw-p' && prev?.perm === '---p' && size(prev) === 4096n && prev.end === x.start && size(x) >= 1n << 20n) k.stacks += x.rss;
    else if (x.start % KiB256 === 0n) k.v8 += x.rss;
    else k.anon += x.rss;
  }
  return k;
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);

export function describe(k: Kinds): string {
  return `RSS ${mib(k.rss)} MiB = v8 heap pages ${mib(k.v8)} + code ${mib(k.code)} + brk ${mib(k.brk)} + arenas ${mib(k.arenas)} + stacks ${mib(k.stacks)} + other anon ${mib(k.anon)} + file ${mib(k.file)}; ${k.threads} threads`;
}

if (process.argv[1]?.endsWith('smaps.js')) {
  const pid = Number(process.argv[2]);
  const every = Number(process.argv[3] ?? 0) * 1000;
  const line = (): void => console.log(`${new Date().toISOString().slice(11, 19)} ${describe(kinds(pid))}`);
  line();
  if (every > 0) {
    const t = setInterval(() => {
      try { line(); } catch { clearInterval(t); }
    }, every);
  }
}
