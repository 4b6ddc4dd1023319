// The lint (scripts/lint.mjs) fails on each kind of violation it exists for, naming it, and
// passes on berth's own sources: run against fixture trees written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../helpers/env.js';

const lint = (dir?: string) => spawnSync(process.execPath, [join(repoRoot, 'scripts', 'lint.mjs'), ...(dir ? [dir] : [])], { encoding: 'utf8' });

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lint-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('berth\'s own sources pass the lint', () => {
  const r = lint();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /import rules, doors and cycles: ok/);
});

test('each kind of violation fails the lint and is named', () => {
  const dir = tree({
    'lib/errors.ts': 'export class E {}\n',
    'engine/engine.ts': "import { E } from '../lib/errors.js';\nexport const x = E;\n",
    // the CLI reaching into the engine instead of through the api
    'cli/commands/run.ts': "import { x } from '../../engine/engine.js';\nexport default x;\n",
    // plan/ touching Node
    'plan/plan.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
    // a third-party library through a second door
    'engine/ui.ts': "import chalk from 'chalk';\nexport const c = chalk;\n",
    // the engine importing the client
    'client/client.ts': "export const connect = 1;\n",
    'engine/uses-client.ts': "import { connect } from '../client/client.js';\nexport const y = connect;\n",
    // a cycle, even through types
    'runtime/a.ts': "import type { B } from './b.js';\nexport interface A { b?: B }\n",
    'runtime/b.ts': "import type { A } from './a.js';\nexport interface B { a?: A }\n",
    // a command using process and console
    'cli/commands/ps.ts': "export default () => { console.log('x'); return process.exitCode; };\n",
  });
  try {
    const r = lint(dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cli\/commands\/run\.ts: imports engine\/engine\.ts, but cli\/ may import only api, client, spec, kube, lib/);
    assert.match(r.stderr, /plan\/plan\.ts: plan\/ is pure and may not import "node:fs"/);
    assert.match(r.stderr, /engine\/ui\.ts: imports "chalk", whose one door is cli\/render\//);
    assert.match(r.stderr, /engine\/uses-client\.ts: imports client\/client\.ts/);
    assert.match(r.stderr, /import cycle: runtime\/a\.ts <-> runtime\/b\.ts/);
    assert.match(r.stderr, /cli\/commands\/ps\.ts: uses console/);
    assert.match(r.stderr, /cli\/commands\/ps\.ts: uses process\.exitCode/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
