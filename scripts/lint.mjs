// berth's lint: the import rules of STYLE.md, checked on the sources (src/**/*.ts, tests included
// only where noted), and run by .ci/run before the tests. Exits 1 and names every violation.
//   1. import boundaries: which folder of src/ may import which (RULES below);
//   2. no import cycles between modules (type-only imports count: they are coupling too);
//   3. one door per third-party library and Node facility (DOORS below);
//   4. no `console` outside cli/render/, and no `process` in CLI commands (they take a context).
// Node only, no dependency: imports are read with a regular expression over the source text,
// which the code base keeps simple (static `import … from '…'` and `import('…')`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
// a tree to check other than src/ (the lint's own test points it at a fixture)
const src = process.argv[2] ? resolve(process.argv[2]) : join(root, 'src');

/**
 * folder → the folders of src/ it may import (itself always). `type:` entries may be imported
 * with `import type` only. Files may narrow their folder (FILE_RULES).
 */
const RULES = {
  lib: [],
  sys: ['lib'],
  spec: ['lib'],
  plan: ['type:spec', 'lib/errors', 'lib/clock'],
  kube: ['type:spec', 'lib'],
  api: ['type:spec', 'lib/errors'],
  client: ['api', 'lib', 'sys/spawn'],
  runtime: ['sys', 'lib'],
  images: ['sys', 'lib'],
  network: ['sys', 'lib'],
  volumes: ['sys', 'lib'],
  build: ['images', 'runtime', 'sys', 'lib'],
  watch: ['sys', 'lib', 'type:spec'],
  engine: ['plan', 'runtime', 'images', 'build', 'network', 'volumes', 'watch', 'api', 'spec', 'lib', 'sys'],
  cli: ['api', 'client', 'spec', 'kube', 'lib'],
  // the warm CLI: the CLI's commands run inside the engine process for a launcher (docs/warm-cli.md)
  warm: ['cli', 'client', 'engine', 'api', 'spec', 'lib', 'sys/caller'],
};

/** Third-party packages and Node facilities, and the only places that may import them. */
const DOORS = {
  koffi: ['sys/'],
  'node:child_process': ['sys/'],
  yaml: ['spec/'],
  ajv: ['spec/'],
  chokidar: ['watch/notify.ts'],
  listr2: ['cli/render/'],
  chalk: ['cli/render/'],
  commander: ['cli/main.ts'],
  // the image store reads and writes layers; `cp` reads and writes the tar stream docker cp speaks
  tar: ['images/', 'volumes/cp.ts'],
};

/** Files whose tests or helpers may break a rule, and why. */
const EXEMPT = [
  // unit tests, and the builder fakes they share (testing.ts), may use fixtures from anywhere below src/
  (file) => file.endsWith('.test.ts') || file.endsWith('/testing.ts'),
];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** `import … from 'x'`, `export … from 'x'`, `import('x')`; whether it is type-only. */
function importsOf(text) {
  const found = [];
  const stmt = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(stmt)) found.push({ spec: m[4], typeOnly: m[2] !== undefined || /^\{\s*\}$/.test(m[3]) || /^\{(\s*type\s+[^,}]+,?)+\s*\}$/.test(m[3]) });
  const side = /^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(side)) found.push({ spec: m[1], typeOnly: false });
  const dynamic = /import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(dynamic)) found.push({ spec: m[1], typeOnly: /typeof\s+import\(|import\(\s*['"][^'"]+['"]\s*\)\.\w+[A-Z]/.test(text.slice(Math.max(0, m.index - 10), m.index + m[0].length + 40)) && text.slice(Math.max(0, m.index - 10), m.index).includes('type') });
  return found;
}

const rel = (file) => relative(src, file).split(sep).join('/');
const folderOf = (r) => r.split('/')[0];

const problems = [];
const files = walk(src);
const graph = new Map();

for (const file of files) {
  const r = rel(file);
  const text = readFileSync(file, 'utf8');
  const folder = folderOf(r);
  const exempt = EXEMPT.some((f) => f(r));
  const edges = [];
  for (const { spec, typeOnly } of importsOf(text)) {
    if (spec.startsWith('.')) {
      const target = rel(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      if (target.startsWith('..')) continue;
      edges.push(target);
      const to = folderOf(target);
      if (exempt || to === folder) continue;
      const allowed = RULES[folder];
      if (!allowed) { problems.push(`${r}: the folder "${folder}" has no import rule in scripts/lint.mjs`); continue; }
      const targetNoExt = target.replace(/\.ts$/, '');
      const ok = allowed.some((a) => {
        const typeRule = a.startsWith('type:');
        const name = typeRule ? a.slice(5) : a;
        const matches = name.includes('/') ? targetNoExt === name : to === name;
        return matches && (!typeRule || typeOnly);
      });
      if (!ok) problems.push(`${r}: imports ${target}${typeOnly ? ' (type only)' : ''}, but ${folder}/ may import only ${allowed.length > 0 ? allowed.join(', ') : 'nothing in src/'}`);
    } else if (!exempt) {
      const door = DOORS[spec] ?? DOORS[spec.split('/')[0]];
      if (door && !door.some((d) => (d.endsWith('/') ? r.startsWith(d) : r === d))) problems.push(`${r}: imports "${spec}", whose one door is ${door.join(', ')}`);
      if (folder === 'plan' && spec.startsWith('node:')) problems.push(`${r}: plan/ is pure and may not import "${spec}"`);
    }
  }
  graph.set(r, edges);
  if (!exempt) {
    if (/\bconsole\.\w+\(/.test(text) && !r.startsWith('cli/render/')) problems.push(`${r}: uses console (only cli/render/ writes to the terminal; commands write to their context)`);
    if (r.startsWith('cli/commands/') || r.startsWith('cli/render/') || ['cli/attach.ts', 'cli/engine.ts', 'cli/project.ts'].includes(r)) {
      const m = /\bprocess\.(stdin|stdout|stderr|env|cwd|exit|exitCode|on|off|once|kill|argv)\b/.exec(text);
      // the one exception: listr2's format() reads process.stdout.columns, which tty.ts sets to the
      // command's own terminal width for that synchronous call (docs/warm-cli.md)
      if (m && !(r === 'cli/render/tty.ts' && m[1] === 'stdout' && !/\bprocess\.stdout\.write\b/.test(text))) problems.push(`${r}: uses process.${m[1]}: a command takes its streams, environment, signals and exit from its CliContext`);
    }
  }
}

// cycles: Tarjan's strongly connected components over the module graph
let index = 0;
const stack = [];
const on = new Set();
const idx = new Map();
const low = new Map();
const cycles = [];
function strong(v) {
  idx.set(v, index); low.set(v, index); index++;
  stack.push(v); on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort());
  }
}
for (const v of graph.keys()) if (!idx.has(v)) strong(v);
for (const c of cycles) problems.push(`import cycle: ${c.join(' <-> ')}`);

if (problems.length > 0) {
  process.stderr.write(`lint: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`lint: ${files.length} files, import rules, doors and cycles: ok\n`);
