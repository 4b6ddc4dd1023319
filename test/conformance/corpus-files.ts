// Where the shared corpus is (relative to the repo: ../shared/compose-corpus) and its files.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
export const corpusRoot = `${repo}../shared/compose-corpus`;
export const awesomeRoot = `${corpusRoot}/awesome-compose`;

export function corpusFiles(): string[] {
  if (!existsSync(awesomeRoot)) return [];
  return readdirSync(awesomeRoot).sort().flatMap((d) => {
    const f = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'].map((n) => `${awesomeRoot}/${d}/${n}`).find((p) => existsSync(p));
    return f ? [f] : [];
  });
}
