// Watch's latency, end to end: a file written on the host until its new content is readable in a
// running container (read through the container's /proc/<pid>/root, the view its processes have).
// Not a test: it asserts nothing and prints medians, p95 and the targets of issue 11.
//   npm run bench:watch        (as root; BENCH_EDITS=N edits per action, default 100)
// Rows:
//   sync            one file edited; until the container reads the new content
//   sync+restart    the same with a real restart (runtime stop + start of the container, under
//                   berth-init, so SIGTERM ends it at once) until the content is readable and the
//                   container runs a new PID 1
//   branch switch   another process (as git is) rewrites 2,000 of 3,000 files, deletes 500 and
//                   creates 500 in new directories; until the container's tree equals the host's
//                   (checked in full after every sync the watcher reports)
// docker compose watch is the peer: measured only where `docker compose` (v2) answers.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { realClock } from '../src/lib/clock.js';
import { lazySys } from '../src/sys/index.js';
import { compileRules } from '../src/watch/rules.js';
import { ProjectWatch } from '../src/watch/session.js';
import type { WatchReport, WatchEffects } from '../src/watch/actions.js';
import type { WatchAction } from '../src/spec/model.js';
import { WatchHarness, hostListing, containerListing, listingDiff, helperPath } from '../test/integration/watch-harness.js';
import { median } from './measure.js';

const p95 = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

function watchFor(h: WatchHarness, src: string, id: string, action: WatchAction, effects: Partial<WatchEffects>, onReport: (r: WatchReport) => void): ProjectWatch {
  const project = compileRules({
    services: [{ name: 'web', dependsOn: {}, rules: [{ path: src, action, target: '/app', ignore: [], include: [], initial_sync: true }] }],
    pathKinds: new Map([[src, 'dir']]), ignoreFiles: new Map(), composeFiles: [],
  });
  return new ProjectWatch({
    sys: lazySys, clock: realClock, helperPath, project, onReport,
    effects: {
      replicas: async () => [h.replica(id)],
      restartService: async () => {}, execInService: async () => {}, rebuildService: async () => {}, recreate: async () => {},
      ...effects,
    },
  });
}

async function readableIn(h: WatchHarness, id: string, rel: string, want: string, alsoCheck: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const pid = h.replica(id).pid;
      if (readFileSync(`/proc/${pid}/root/app/${rel}`, 'utf8') === want && alsoCheck()) return;
    } catch { /* not there yet, or restarting */ }
    if (Date.now() > deadline) throw new Error(`${rel} never became ${JSON.stringify(want)}`);
    await tick();
  }
}

async function edits(action: 'sync' | 'sync+restart', n: number): Promise<number[]> {
  const h = await WatchHarness.create();
  let watch: ProjectWatch | undefined;
  try {
    const src = join(h.project, 'src');
    for (let d = 0; d < 10; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(src, `d${d}`, `f${f}.js`), `export default ${f};\n`);
    }
    const r = await h.start(['sleep', '1000000'], undefined, true);
    watch = watchFor(h, src, r.containerId, action, {
      restartService: async () => { await h.runtime.stop(r.containerId, 10); await h.runtime.startDetached(r.containerId); },
    }, () => {});
    await watch.start();
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const rel = `d${i % 10}/f${(i * 7) % 100}.js`;
      const content = `export default "${action} ${i}";\n`;
      const pidBefore = h.replica(r.containerId).pid;
      const t0 = performance.now();
      writeFileSync(join(src, rel), content);
      await readableIn(h, r.containerId, rel, content, action === 'sync' ? undefined : () => {
        try { return h.replica(r.containerId).pid !== pidBefore; } catch { return false; }
      });
      out.push(performance.now() - t0);
      await watch.settle();
    }
    return out;
  } finally {
    await watch?.stop();
    await h.cleanup();
  }
}

async function branchSwitch(): Promise<{ ms: number; batches: number; writerMs: number }> {
  const h = await WatchHarness.create();
  let watch: ProjectWatch | undefined;
  try {
    const src = join(h.project, 'src');
    for (let d = 0; d < 30; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(src, `d${d}`, `f${f}.js`), `export default ${d * 100 + f};\n`);
    }
    const r = await h.start(['sleep', '1000000']);
    let synced: (() => void) | undefined;
    let batches = 0;
    watch = watchFor(h, src, r.containerId, 'sync', {}, (rep) => {
      if (rep.kind === 'batch') batches++;
      if (rep.kind === 'synced') synced?.();
    });
    await watch.start();
    batches = 0;
    const t0 = performance.now();
    let matchedAt = 0;
    const matched = new Promise<void>((resolve) => {
      synced = () => {
        const at = performance.now();
        if (listingDiff(hostListing(src), containerListing(h.replica(r.containerId).pid, '/app')) === '') { matchedAt = at; synced = undefined; resolve(); }
      };
    });
    // the switch: 2,000 files rewritten, 5 directories (500 files) deleted, 5 new ones created
    const script = `const fs=require('fs');const s=${JSON.stringify(src)};
      for(let d=0;d<20;d++)for(let f=0;f<100;f++)fs.writeFileSync(s+'/d'+d+'/f'+f+'.js','export default "other branch '+d+'/'+f+'";\\n');
      for(let d=25;d<30;d++)fs.rmSync(s+'/d'+d,{recursive:true});
      for(let d=30;d<35;d++){fs.mkdirSync(s+'/d'+d);for(let f=0;f<100;f++)fs.writeFileSync(s+'/d'+d+'/f'+f+'.js','new '+f+'\\n')}`;
    const writerMs = await new Promise<number>((resolve, reject) => {
      const w0 = performance.now();
      const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
      child.on('exit', (code) => (code === 0 ? resolve(performance.now() - w0) : reject(new Error(`writer exited ${code}`))));
    });
    await Promise.race([matched, new Promise((_, reject) => setTimeout(() => reject(new Error('the trees never matched')), 60_000))]);
    return { ms: matchedAt - t0, batches, writerMs };
  } finally {
    await watch?.stop();
    await h.cleanup();
  }
}

async function main(): Promise<void> {
  const n = Number(process.env.BENCH_EDITS ?? 100);
  const rounds = Number(process.env.BENCH_RUNS ?? 3);
  const sync = await edits('sync', n);
  const restart = await edits('sync+restart', n);
  const switches: { ms: number; batches: number; writerMs: number }[] = [];
  for (let i = 0; i < rounds; i++) switches.push(await branchSwitch());
  const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  const line = (label: string, value: string, target: string): void => { process.stdout.write(`${label.padEnd(58)} ${value.padStart(12)}   ${target}\n`); };
  process.stdout.write(`watch latency (${n} edits per action; ${rounds} branch switches; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n`);
  line('sync: write → readable in the container, median', `${median(sync).toFixed(1)} ms`, 'target < 50 ms');
  line('sync: p95', `${p95(sync).toFixed(1)} ms`, 'target < 150 ms');
  line('sync+restart: write → readable, container restarted, median', `${median(restart).toFixed(1)} ms`, '');
  line('sync+restart: p95', `${p95(restart).toFixed(1)} ms`, '');
  line('branch switch (2,000 rewritten, 500 deleted, 500 new): median', `${median(switches.map((s) => s.ms)).toFixed(0)} ms`, 'target < 2000 ms');
  line('  the writer alone', `${median(switches.map((s) => s.writerMs)).toFixed(0)} ms`, '');
  line('  batches', switches.map((s) => s.batches).join(', '), '');
  process.stdout.write(compose.status === 0 ? 'docker compose is installed: not yet compared here\n' : 'docker compose watch: not measured (docker compose v2 is not installed on this machine)\n');
}

await main();
