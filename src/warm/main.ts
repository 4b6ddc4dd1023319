// `berth engine` with the warm CLI (docs/warm-cli.md): the engine (engine/main.ts) plus the
// socket the launcher talks to. bin/berth.mjs calls this; the engine itself never imports the
// CLI. BERTH_WARM=0 in the engine's environment leaves the warm socket out (every launcher then
// falls back to the Node CLI).
import { engineMain } from '../engine/main.js';
import { warmCli } from './server.js';

export async function warmEngineMain(packageRoot: string, args: readonly string[]): Promise<void> {
  await engineMain(packageRoot, args, process.env.BERTH_WARM === '0' ? [] : [warmCli]);
}
