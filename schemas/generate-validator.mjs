#!/usr/bin/env node
// Compiles schemas/compose.schema.json ahead of time with ajv's standalone code generation into
// src/spec/generated/compose-validator.ts, so that `berth config` never compiles the schema at
// start-up. Run after editing the schema: `node schemas/generate-validator.mjs`. A unit test
// (src/spec/validate.test.ts) fails when the generated module is out of date.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateValidatorSource } from './validator-source.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'compose.schema.json'), 'utf8'));
const out = join(root, 'src', 'spec', 'generated', 'compose-validator.ts');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, generateValidatorSource(schema));
process.stdout.write(`wrote ${out}\n`);
