// Where the shared corpus is (relative to the repo: ../shared/compose-corpus) and its files.
// A newcomer's clone has no ../shared: the corpus tests are skipped there. Under CI=true they
// fail instead, so that CI can never pass them by skipping.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const corpusRoot = `${repoRoot}/../shared/compose-corpus`;
export const awesomeRoot = `${corpusRoot}/awesome-compose`;
export const officialSchemaPath = `${corpusRoot}/schema/compose-spec.json`;

/**
 * For `test(name, { skip: corpusMissing() }, ...)`: false when the corpus is there; a reason to
 * skip when it is not; and under CI=true it throws, failing the test file.
 */
export function corpusMissing(path = awesomeRoot): false | string {
  if (existsSync(path)) return false;
  if (process.env['CI'] === 'true') throw new Error(`the shared compose corpus is required under CI=true and is missing: ${path}`);
  return `corpus not found at ${path}`;
}

export function corpusFiles(): string[] {
  if (!existsSync(awesomeRoot)) return [];
  return readdirSync(awesomeRoot).sort().flatMap((d) => {
    const f = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'].map((n) => `${awesomeRoot}/${d}/${n}`).find((p) => existsSync(p));
    return f ? [f] : [];
  });
}
