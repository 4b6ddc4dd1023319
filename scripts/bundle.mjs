// Bundles the CLI (dist/src/cli/main.js and every module it reaches, third-party ones included)
// into dist/cli/: one small entry chunk plus one lazily loaded chunk per verb. Node's start-up
// cost grows with the number of module files it resolves and compiles; a bundle keeps `berth`
// close to the cost of `node` itself. koffi stays external (native, CommonJS, loaded on demand).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist/cli', { recursive: true, force: true });
await build({
  entryPoints: ['dist/src/cli/main.js'],
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  external: ['koffi'],
  // yaml's ESM build (the same code as its CommonJS one) lets esbuild leave out what the CLI
  // does not call: a cold `berth config` compiles and initializes less (bench/config.ts)
  alias: { yaml: './node_modules/yaml/browser/dist/index.js' },
  // CommonJS dependencies (commander, ajv's runtime) call require(): give the ESM bundle one.
  banner: { js: "import{createRequire as __berthRequire}from'node:module';const require=__berthRequire(import.meta.url);" },
  logLevel: 'warning',
});
