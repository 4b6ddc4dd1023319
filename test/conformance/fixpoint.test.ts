// The fixpoint: for every compose file we have — the shared corpus, the examples, and every test
// fixture (test/**/compose.yaml) — `berth config` output fed back into `berth config` loads and
// prints byte-identical output, in YAML and in JSON. The printed form of a project is a compose
// file that means the same project.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../src/spec/index.js';
import { renderProject } from '../../src/spec/render.js';
import { awesomeRoot, corpusFiles, corpusMissing, repoRoot } from './corpus-files.js';

/** The environment every load sees: fixed, so that the printed text is too. */
const ENV = { HOME: '/home/user', FROM_SHELL: 'from-the-shell' };

function composeFilesUnder(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'node_modules') composeFilesUnder(p, out); }
    else if (/^(docker-)?compose\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

async function print(file: string, format: 'yaml' | 'json', profiles?: readonly string[]): Promise<{ text: string; profiles: readonly string[] }> {
  const dir = file.slice(0, file.lastIndexOf('/'));
  const { project } = await loadProject({ files: [file], env: ENV, cwd: dir, ...(profiles && profiles.length > 0 ? { profiles } : {}) });
  return { text: renderProject(project, format), profiles: project.enabled_profiles };
}

/**
 * Prints `file`, loads the printed text from another directory (with the profiles the first load
 * enabled: a .env's COMPOSE_PROFILES is not part of the printed file, as in docker compose),
 * prints again; returns the difference, or undefined.
 */
async function fixpoint(file: string, scratch: string): Promise<string | undefined> {
  for (const format of ['yaml', 'json'] as const) {
    let first: { text: string; profiles: readonly string[] };
    try { first = await print(file, format); } catch (e) { return `does not load: ${(e as Error).message}`; }
    const dir = mkdtempSync(join(scratch, 'p-'));
    const again = join(dir, `printed.${format}`);
    writeFileSync(again, first.text);
    let second: string;
    try { second = (await print(again, format, first.profiles)).text; } catch (e) { return `${format} output does not load again: ${(e as Error).message}\n---\n${first.text}`; }
    if (second !== first.text) return `${format} output is not a fixpoint\n--- first\n${first.text}\n--- second\n${second}`;
  }
  return undefined;
}

async function checkAll(label: string, files: readonly string[]): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'berth-fixpoint-'));
  try {
    const failures: string[] = [];
    for (const f of files) { const d = await fixpoint(f, scratch); if (d) failures.push(`${f}: ${d}`); }
    process.stdout.write(`# fixpoint, ${label}: ${files.length - failures.length}/${files.length} files print a fixpoint (YAML and JSON)\n`);
    assert.deepEqual(failures, []);
    return files.length;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

test('fixpoint: every file of the shared corpus', { skip: corpusMissing() }, async () => {
  const files = corpusFiles();
  assert.ok(files.length > 0, `no compose files under ${awesomeRoot}`);
  await checkAll('corpus', files);
});

test('fixpoint: every example and every test fixture', async () => {
  const files = [...composeFilesUnder(join(repoRoot, 'examples')), ...composeFilesUnder(join(repoRoot, 'test'))];
  assert.ok(files.length >= 10, `only ${files.length} files found`);
  await checkAll('examples and test fixtures', files);
});

test('fixpoint: the printed form of a fixture names the same project (spot checks)', async () => {
  const fx = join(repoRoot, 'test', 'conformance', 'fixtures');
  const dotenv = (await loadProject({ files: [join(fx, 'dotenv', 'compose.yaml')], env: ENV, cwd: join(fx, 'dotenv') })).project;
  assert.equal(dotenv.services['app']!.image, 'registry.test/app:1.0');
  assert.deepEqual(dotenv.services['app']!.environment, { GREETING: 'hello $USER', LITERAL: 'costs $5, ${NOT_A_VAR}', FROM_SHELL: 'from-the-shell', DECLARED_ONLY: null });
  assert.ok(dotenv.services['tool'], 'COMPOSE_PROFILES from .env enables the tools profile');
  assert.ok(existsSync(join(fx, 'kitchen-sink', 'compose.yaml')));
});

test('corpus tests skip where ../shared is absent, and fail instead under CI=true', () => {
  const saved = process.env['CI'];
  try {
    delete process.env['CI'];
    assert.match(String(corpusMissing('/nonexistent/compose-corpus')), /corpus not found/);
    process.env['CI'] = 'true';
    assert.throws(() => corpusMissing('/nonexistent/compose-corpus'), /required under CI=true/);
    assert.equal(corpusMissing(repoRoot), false);
  } finally {
    if (saved === undefined) delete process.env['CI']; else process.env['CI'] = saved;
  }
});
