// Go templates as docker scripts use them, checked against what Go's text/template prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, formatRows, formatValue } from './template.js';
import { InvalidArgument } from '../../lib/errors.js';

const doc = {
  Id: 'abc123',
  Name: '/web',
  Args: ['-g', 'daemon off;'],
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0, Health: { Status: 'healthy' } },
  Config: { Labels: { tier: 'web', 'com.example.team': 'core' }, Cmd: ['nginx'], Env: ['A=1', 'B=<2>'] },
  HostConfig: { Memory: 67108864, CpuShares: 0, PidsLimit: null },
};
const render = (t: string, data: unknown = doc): string => compileTemplate(t).render(data);

test('fields, nested fields, map keys and the dot', () => {
  assert.equal(render('{{.State.Pid}}'), '4242');
  assert.equal(render('{{.Name}} {{.State.Status}}'), '/web running');
  assert.equal(render('{{.Config.Labels.tier}}'), 'web');
  assert.equal(render('{{.Config.Labels.missing}}'), '<no value>', 'a missing map key, as Go prints it');
  assert.equal(render('{{.HostConfig.PidsLimit}}'), '<nil>');
  assert.equal(render('{{.}}', 'plain'), 'plain');
  assert.equal(render('{{.Args}}'), '[-g daemon off;]');
  assert.equal(render('{{.Config.Labels}}'), 'map[com.example.team:core tier:web]');
});

test('json, index, len, join, lower/upper, printf and pipes', () => {
  assert.equal(render('{{json .Config.Cmd}}'), '["nginx"]');
  assert.equal(render('{{json .Config.Env}}'), '["A=1","B=\\u003c2\\u003e"]', 'json escapes < and > as Go does');
  assert.equal(render('{{index .Config.Labels "com.example.team"}}'), 'core');
  assert.equal(render('{{index .Args 1}}'), 'daemon off;');
  assert.equal(render('{{len .Args}}'), '2');
  assert.equal(render('{{join .Args ","}}'), '-g,daemon off;');
  assert.equal(render('{{.State.Status | upper}}'), 'RUNNING');
  assert.equal(render('{{printf "%s:%d" .Name .State.Pid}}'), '/web:4242');
  assert.equal(render('{{printf "%-6s|" .State.Status}}'), 'running|');
  assert.equal(render('{{(index .Config.Labels "tier") | upper}}'), 'WEB');
});

test('if / else if / else, with, range over lists and maps, variables', () => {
  assert.equal(render('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
  assert.equal(render('{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{else}}?{{end}}'), 'r');
  assert.equal(render('{{if and .State.Running (gt .State.Pid 1)}}ok{{end}}'), 'ok');
  assert.equal(render('{{with .State.Health}}{{.Status}}{{end}}'), 'healthy');
  assert.equal(render('{{with .Nothing}}yes{{else}}no{{end}}'), 'no');
  assert.equal(render('{{range .Args}}[{{.}}]{{end}}'), '[-g][daemon off;]');
  assert.equal(render('{{range $i, $a := .Args}}{{$i}}={{$a}}|{{end}}'), '0=-g|1=daemon off;|');
  assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}'), 'com.example.team:core tier:web ', 'maps in key order');
  assert.equal(render('{{range .Missing}}x{{else}}empty{{end}}'), 'empty');
  assert.equal(render('{{$n := .Name}}{{range .Args}}{{$n}}{{end}}'), '/web/web');
  assert.equal(render('{{range .Args}}{{$.Name}}{{end}}'), '/web/web', '$ is the root');
});

test('trim markers and comments', () => {
  assert.equal(render('a  {{- .Name -}}  b'), 'a/webb');
  assert.equal(render('{{/* a comment */}}x'), 'x');
  assert.equal(render('{{- range .Args }}\n{{ . }}\n{{- end }}'), '\n-g\ndaemon off;');
});

test('a method on the data is called with its arguments (ps .Label "key")', () => {
  const row = { Names: 'web', Label: (k: unknown) => ({ tier: 'web' } as Record<string, string>)[String(k)] ?? '' };
  assert.equal(render('{{.Names}}={{.Label "tier"}}', row), 'web=web');
});

test('errors are InvalidArgument with Go\'s words', () => {
  assert.throws(() => compileTemplate('{{.State.Pid'), (e: unknown) => e instanceof InvalidArgument && /unclosed action/.test(e.message));
  assert.throws(() => compileTemplate('{{if .X}}y'), /unexpected EOF/);
  assert.throws(() => compileTemplate('{{end}}'), /unexpected \{\{end\}\}/);
  assert.throws(() => render('{{nosuch .X}}'), /function "nosuch" not defined/);
  assert.throws(() => render('{{.Name.Inner}}'), /can't evaluate field Inner/);
});

test('formatRows: json lines, a template per row, and table TEMPLATE with headers aligned as tabwriter', () => {
  const rows = [{ ID: 'a1', Names: 'web' }, { ID: 'b22', Names: 'database' }];
  assert.equal(formatRows('json', rows, {}), '{"ID":"a1","Names":"web"}\n{"ID":"b22","Names":"database"}\n');
  assert.equal(formatRows('{{.Names}}', rows, {}), 'web\ndatabase\n');
  assert.equal(formatRows('table {{.ID}}\t{{.Names}}', rows, { ID: 'CONTAINER ID', Names: 'NAMES' }),
    'CONTAINER ID   NAMES\na1             web\nb22            database\n');
  assert.equal(formatValue(3.5), '3.5');
});
