import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateTree } from './validate.js';
import { parseYaml } from './parse.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

test('the generated validator is up to date with schemas/compose.schema.json', async () => {
  const { generateValidatorSource } = (await import(`${repo}schemas/validator-source.mjs`)) as { generateValidatorSource: (s: unknown) => string };
  const schema = JSON.parse(readFileSync(`${repo}schemas/compose.schema.json`, 'utf8')) as unknown;
  const current = readFileSync(`${repo}src/spec/generated/compose-validator.ts`, 'utf8');
  assert.ok(current === generateValidatorSource(schema), 'run: node schemas/generate-validator.mjs');
});

function check(src: string) {
  const sources = new Map([['/c.yaml', src]]);
  return validateTree(parseYaml(src, '/c.yaml', sources)[0]!, sources);
}

test('valid files give no issues; x- extensions anywhere are allowed', () => {
  assert.deepEqual(check('x-common: &c {a: 1}\nservices:\n  web:\n    image: nginx\n    x-meta: 1\n    ports: ["80:80", {target: 81}]\nnetworks:\n  n: {}\nvolumes:\n  v:\n'), []);
});

test('one issue per place, the most specific one', () => {
  const i = check('services:\n  web:\n    image: [1]\n    ports:\n      - {target: 80, bogus: 1}\n    depends_on:\n      db: {condition: sometimes}\n    restart: 5\n    cap_add: [A, A]\n');
  const byPath = new Map(i.map((x) => [x.keyPath, x]));
  assert.match(byPath.get('services.web.image')!.expected, /string/);
  assert.match(byPath.get('services.web.ports[0].bogus')!.found, /unknown key "bogus"/);
  assert.match(byPath.get('services.web.depends_on.db.condition')!.expected, /service_healthy/);
  assert.match(byPath.get('services.web.restart')!.expected, /string/);
  assert.match(byPath.get('services.web.cap_add[1]')!.found, /duplicate/);
  assert.equal(byPath.get('services.web.ports[0].bogus')!.line, 5);
});

test('invalid service names and top-level keys', () => {
  const i = check('services:\n  "bad name":\n    image: x\nservice: {}\n');
  assert.ok(i.some((x) => x.keyPath === 'services["bad name"]'));
  assert.ok(i.some((x) => x.keyPath === 'service' && /did you mean "services"/.test(x.note ?? '')));
});
