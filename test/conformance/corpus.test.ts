// Conformance: every compose file of the shared corpus (docker/awesome-compose) must load, or
// fail only with a precise "not supported" message. Prints how many load.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { loadProject, SpecError } from '../../src/spec/index.js';
import { corpusFiles, corpusMissing } from './corpus-files.js';

test('awesome-compose corpus: every file loads (or fails only as unsupported)', { skip: corpusMissing() }, async (t) => {
  const files = corpusFiles();
  assert.ok(files.length > 0);
  const loaded: string[] = [], unsupported: string[] = [], failed: string[] = [];
  let warnings = 0;
  for (const f of files) {
    const dir = f.slice(0, f.lastIndexOf('/'));
    try {
      const r = await loadProject({ files: [f], env: { HOME: '/home/user' }, cwd: dir });
      assert.ok(Object.keys(r.project.services).length > 0, `${f}: no services`);
      for (const s of Object.values(r.project.services)) assert.ok(s.image !== undefined || s.build !== undefined, `${f}: ${s.name} has neither image nor build`);
      warnings += r.warnings.length;
      loaded.push(f);
    } catch (e) {
      if (e instanceof SpecError && e.issues.every((i) => /not supported/.test(i.found + (i.note ?? '')))) unsupported.push(`${f}: ${e.message}`);
      else failed.push(`${f}: ${(e as Error).message}`);
    }
  }
  t.diagnostic(`corpus: ${loaded.length}/${files.length} files load, ${unsupported.length} unsupported, ${failed.length} failed; ${warnings} warnings`);
  process.stdout.write(`# corpus: ${loaded.length}/${files.length} files load (${unsupported.length} unsupported: ${unsupported.join('; ') || 'none'})\n`);
  assert.deepEqual(failed, []);
});
