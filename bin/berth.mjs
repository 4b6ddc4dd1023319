#!/usr/bin/env node
// berth's Node entry: `bin/berth` is the native launcher (native/cmd/launch.c), which hands a
// command to the running engine and runs this file when none answers (docs/warm-cli.md). Keeps
// start-up lean: a version check, then one dynamic import of the entry point the first argument
// asks for.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`berth: Node.js 20.19 or newer is required (this is ${process.versions.node})\n`);
  process.exit(1);
}
if (process.argv[2] === '--version' || process.argv[2] === '-v') {
  // Answered here so that the version costs no module loading at all.
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`berth version ${pkg.version}\n`);
} else if (process.argv[2] === 'engine' && process.argv.length === 3) {
  // `berth engine` alone runs the engine; `berth engine status|stop|--install-unit` are CLI verbs.
  // The daemon runs from the unbundled build (dist/src/), not the CLI bundle: it is long-lived,
  // so start-up cost matters less than loading exactly the modules it runs.
  const { fileURLToPath } = await import('node:url');
  const packageRoot = fileURLToPath(new URL('..', import.meta.url));
  const { warmEngineMain } = await import('../dist/src/warm/main.js');
  await warmEngineMain(packageRoot, process.argv.slice(3));
} else {
  const { fileURLToPath } = await import('node:url');
  const packageRoot = fileURLToPath(new URL('..', import.meta.url));
  const { main } = await import('../dist/cli/main.js');
  await main(packageRoot);
}
