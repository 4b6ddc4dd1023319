// Scenario: with the engine stopped, each kind of state file is damaged — garbage, truncated,
// deleted — in one container (or project) each, all at once. Intent: the next engine starts; one
// bad file never hides the others nor stops a verb; a container whose record or start record is
// unreadable shows in `ps -a` as dead with the file and the reason; state.json and name claims
// (which hold nothing that cannot be rebuilt) are repaired; `rm -f` removes every one of them
// with everything it had on the host; a damaged project file does not stop `compose ps`/`down`;
// and the engine keeps working afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, importBusybox, cleanupRoots, removeAllContainers, stopEngine, berth, berthOk, leftovers, eventually, type TestRoots } from '../helpers/env.js';

let roots: TestRoots;

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'bb');
});

after(async () => {
  await removeAllContainers(roots);
  await berth(roots, ['rmi', 'bb']);
  await cleanupRoots(roots);
});

type Damage = 'garbage' | 'truncate' | 'delete';
const DAMAGES: readonly Damage[] = ['garbage', 'truncate', 'delete'];

function damage(file: string, how: Damage): void {
  if (how === 'delete') { rmSync(file); return; }
  if (how === 'garbage') { writeFileSync(file, 'garbage\0{'); return; }
  const text = readFileSync(file);
  writeFileSync(file, text.subarray(0, Math.floor(text.length / 2)));
}

interface Row { ID: string; Names: string; State: string; Status: string }

async function psAll(): Promise<Row[]> {
  const out = await berthOk(roots, ['ps', '-a', '--no-trunc', '--format', 'json']);
  return out.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row);
}

function idOf(name: string): string {
  return readFileSync(join(roots.root, 'names', name), 'utf8');
}

/** Nothing of the container `id` left: directory, claim, cgroup, mount, supervisor. */
function assertGone(id: string, name: string): void {
  assert.equal(existsSync(join(roots.root, 'containers', id)), false, `${name}: its directory is gone`);
  assert.equal(existsSync(join(roots.root, 'overlay2', id)), false, `${name}: its layer directory is gone`);
  const claim = join(roots.root, 'names', name);
  assert.ok(!existsSync(claim) || readFileSync(claim, 'utf8') !== id, `${name}: its name claim is gone`);
  const left = leftovers(roots).filter((l) => l.includes(id));
  assert.deepEqual(left, [], `${name}: nothing on the host`);
}

test('garbage, truncation and deletion of each kind of state file: shown truthfully, repaired or removable, and the engine keeps working', { timeout: 10 * 60_000 }, async () => {
  // one running container per (file, damage), one stopped container per damage of its exit record
  const running = ['config.v2.json', 'started', 'state.json', 'name'] as const;
  const cases: { name: string; file: string; how: Damage; id: string }[] = [];
  for (const file of running) {
    for (const how of DAMAGES) {
      const name = `c-${file.replace(/\W/g, '')}-${how}`;
      const id = (await berthOk(roots, ['run', '-d', '--init', '--name', name, 'bb', 'sleep', '1000'])).trim();
      cases.push({ name, file, how, id });
    }
  }
  for (const how of DAMAGES) {
    const name = `x-exited-${how}`;
    const id = (await berthOk(roots, ['run', '-d', '--init', '--name', name, 'bb', 'sleep', '1000'])).trim();
    await berthOk(roots, ['stop', '-t', '0', name]);
    cases.push({ name, file: 'exited', how, id });
  }
  // a project per damage of its stored desired state
  const projects: { project: string; how: Damage; file: string }[] = [];
  for (const how of DAMAGES) {
    const project = `p${how}`;
    const dir = join(roots.dir, project);
    mkdirSync(dir);
    const file = join(dir, 'compose.yaml');
    writeFileSync(file, `name: ${project}\nservices:\n  s:\n    image: bb\n    init: true\n    command: ["sleep", "1000"]\n`);
    await berthOk(roots, ['compose', '-f', file, 'up', '-d'], { timeoutMs: 60_000 });
    projects.push({ project, how, file });
  }
  // (the state.json cases need one to damage: the supervisor writes it at the first health or
  // exit event; a container that has neither gets one from an update)
  for (const c of cases.filter((x) => x.file === 'state.json')) writeFileSync(join(roots.root, 'containers', c.id, 'state.json'), '{"restartCount":0}');

  await stopEngine(roots);
  for (const c of cases) {
    const path = c.file === 'name' ? join(roots.root, 'names', c.name) : join(roots.root, 'containers', c.id, c.file);
    damage(path, c.how);
  }
  for (const p of projects) damage(join(roots.root, 'projects', `${p.project}.json`), p.how);

  // a new engine starts, and every container is listed
  const rows = await psAll();
  const row = (id: string): Row | undefined => rows.find((r) => r.ID === id);
  for (const c of cases) {
    const r = row(c.id);
    assert.ok(r, `${c.name} (${c.file} ${c.how}) is listed by ps -a: ${JSON.stringify(rows)}`);
    const where = `${c.name}: ${JSON.stringify(r)}`;
    if (c.file === 'config.v2.json') {
      assert.equal(r.State, 'dead', where);
      assert.equal(r.Names, c.name, `${where}: a placeholder keeps the claimed name`);
      assert.ok(r.Status.includes(join(roots.root, 'containers', c.id, 'config.v2.json')), `${where}: the status names the file`);
      assert.match(r.Status, c.how === 'delete' ? /is missing/ : /is corrupt/, where);
    } else if (c.file === 'started' && c.how !== 'delete') {
      assert.equal(r.State, 'dead', where);
      assert.ok(r.Status.includes(join(roots.root, 'containers', c.id, 'started')), `${where}: the status names the file`);
    } else if (c.file === 'started') {
      // a deleted start record with processes in the cgroup: a lost supervisor, whose processes the
      // engine kills (one instance, always) and records as ended
      const st = await eventually(async () => (await psAll()).find((x) => x.ID === c.id)?.State === 'exited' && 'exited', 30_000, `${where}: reaped`);
      assert.equal(st, 'exited');
      const ins = JSON.parse(await berthOk(roots, ['inspect', c.id]))[0];
      assert.match(ins.State.Error, /supervisor lost/, where);
    } else if (c.file === 'exited' && c.how !== 'delete') {
      assert.equal(r.State, 'dead', where);
      assert.ok(r.Status.includes(join(roots.root, 'containers', c.id, 'exited')), `${where}: the status names the file`);
    } else if (c.file === 'exited') {
      assert.equal(r.State, 'exited', `${where}: an end nobody recorded`);
      assert.match(r.Status, /^Exited \(255\)/, where);
    } else {
      // state.json and the name claim hold nothing that cannot be rebuilt
      assert.equal(r.State, 'running', where);
      assert.equal(r.Names, c.name, where);
    }
  }
  // name claims were repaired: each damaged one names its container again, and blocks the name
  for (const c of cases.filter((x) => x.file === 'name')) {
    assert.equal(idOf(c.name), c.id, `${c.name}: the claim was restored`);
    const dup = await berth(roots, ['run', '-d', '--name', c.name, 'bb', 'true']);
    assert.notEqual(dup.code, 0, `${c.name}: the name stays taken`);
    assert.match(dup.stderr, /already in use/);
  }
  // inspect of every container answers (no "internal error")
  for (const c of cases) {
    const r = await berth(roots, ['inspect', c.id]);
    assert.equal(r.code, 0, `inspect ${c.name}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error|bug in berth/);
  }
  // damaged projects: compose ps and down still work from the containers' labels
  for (const p of projects) {
    const ps = await berth(roots, ['compose', '-p', p.project, 'ps', '-a', '--format', 'json']);
    assert.equal(ps.code, 0, `compose ps of ${p.project} (${p.how}): ${ps.stderr}`);
    assert.match(ps.stdout, new RegExp(`${p.project}-s-1`));
    const down = await berth(roots, ['compose', '-f', p.file, 'down', '-t', '0'], { timeoutMs: 60_000 });
    assert.equal(down.code, 0, `down of ${p.project} (${p.how}): ${down.stderr}`);
    assert.equal(existsSync(join(roots.root, 'projects', `${p.project}.json`)), false, `${p.project}: the damaged file went with down`);
  }
  // rm -f removes every container, dead ones included, with everything it had
  for (const c of cases) {
    const r = await berth(roots, ['rm', '-f', c.id], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `rm -f ${c.name} (${c.file} ${c.how}): ${r.stderr}`);
    assertGone(c.id, c.name);
  }
  // and the engine keeps working
  const id = (await berthOk(roots, ['run', '-d', '--name', 'after', 'bb', 'sleep', '1000'])).trim();
  assert.equal((await psAll()).find((r) => r.ID === id)?.State, 'running');
  await berthOk(roots, ['rm', '-f', 'after']);
  assert.deepEqual(readdirSync(join(roots.root, 'containers')).filter((n) => !n.startsWith('.')), []);
  assert.deepEqual(readdirSync(join(roots.root, 'names')).filter((n) => !n.startsWith('.')), []);
});

test('the engine log names each bad file', async () => {
  const id = (await berthOk(roots, ['run', '-d', '--name', 'logged', 'bb', 'sleep', '1000'])).trim();
  await stopEngine(roots);
  writeFileSync(join(roots.root, 'containers', id, 'config.v2.json'), 'garbage');
  await berthOk(roots, ['ps', '-a']);
  const log = readFileSync(join(roots.run, 'engine.log'), 'utf8');
  assert.ok(log.includes(`container ${id.slice(0, 12)} is dead: "${join(roots.root, 'containers', id, 'config.v2.json')}" is corrupt`), log);
  await berthOk(roots, ['rm', '-f', id]);
  assertGone(id, 'logged');
});
