// Runs every compiled test file under dist/ with node's own test runner. Unit tests sit beside
// their code (src/**/*.test.ts); tests that need root and a real kernel live in test/integration.
// Files run one at a time: integration tests create real containers and measure timings.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = [...walk('dist/src', []), ...walk('dist/test', [])].sort();
if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}
const run = (list, env) => spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...list], {
  stdio: 'inherit',
  env: { ...process.env, ...env },
}).status ?? 1;
// Every `berth` a test runs is the launcher (bin/berth): warm, served by the engine, unless
// BERTH_NO_WARM is set. The CLI's own files then run a second time with BERTH_NO_WARM=1, through
// the Node CLI, so that both paths pass the same assertions (docs/warm-cli.md).
const BOTH_WAYS = ['dist/test/e2e/verbs.test.js', 'dist/test/integration/cli.test.js', 'dist/test/integration/tty.test.js'];
let status = run(files);
const cold = process.env.BERTH_NO_WARM ? [] : files.filter((f) => BOTH_WAYS.includes(f));
if (cold.length > 0) {
  console.log(`\n# again through the Node CLI (BERTH_NO_WARM=1): ${cold.join(' ')}`);
  status = run(cold, { BERTH_NO_WARM: '1' }) || status;
}
process.exit(status);
