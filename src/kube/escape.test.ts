// $(VAR) escaping: Kubernetes' expansion (written here from its documented semantics and the
// cases of its own test table) of the escaped string gives back the original, whatever it holds.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { escapeExpansion } from './escape.js';

/** Kubernetes' expansion of command, args and env values ($$ → $, $(NAME) → value when defined). */
function expand(input: string, vars: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) { out += input[i]; continue; }
    const next = input[i + 1];
    if (next === '$') { out += '$'; i++; continue; }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) { out += '$('; i++; continue; }
      const name = input.slice(i + 2, close);
      out += name in vars ? vars[name] : `$(${name})`;
      i = close;
      continue;
    }
    out += '$' + next;
    i++;
  }
  return out;
}

test('the expansion model agrees with Kubernetes\' own cases', () => {
  const vars = { VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' };
  const cases: [string, string][] = [
    ['$(VAR_A)', 'A'], ['$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'], ['f000-$$VAR_A', 'f000-$VAR_A'], ['$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['$(VAR_DNE)', '$(VAR_DNE)'], ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'], ['$$$$$$$(VAR_A)', '$$$A'], ['$VAR_A)', '$VAR_A)'],
    ['${VAR_A}', '${VAR_A}'], ['$(VAR_B)_______$(A', 'B_______$(A'], ['$(VAR_A)foobarzab$', 'Afoobarzab$'], ['--$($($($($--', '--$($($($($--'],
    ['$?_boo_$!', '$?_boo_$!'], ['foo$(VAR_EMPTY)bar', 'foobar'], ['$(foo$$var)', '$(foo$$var)'],
  ];
  for (const [input, want] of cases) assert.equal(expand(input, vars), want, input);
});

test('escaped values expand to themselves', () => {
  const vars = { HOME: '/root', A: 'x' };
  const fixed = ['$(HOME)', '$$', '$', 'a$', '$$(A)', 'echo $HOME', '${A}', '$(', '$$$(A)', 'price: 5$', 'sh -c "echo $(date)"', ''];
  for (const s of fixed) assert.equal(expand(escapeExpansion(s), vars), s, s);
  let seed = 7;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 5000; i++) {
    const s = Array.from({ length: rnd(10) }, () => '$()AH x'[rnd(7)]).join('');
    assert.equal(expand(escapeExpansion(s), vars), s, JSON.stringify(s));
  }
  assert.equal(escapeExpansion('echo $HOME'), 'echo $HOME', 'a $ before a name is left alone');
  assert.equal(escapeExpansion('$(date)'), '$$(date)');
});
