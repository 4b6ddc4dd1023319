// Scenario: with the engine stopped, the image store's files (an image config, a layer's
// layer.json, a layer's content directory, repositories.json) and the engine's network and volume
// records are damaged — garbage, truncated, deleted — one object each, beside good ones. Intent:
// the next command either works around the damage or fails with a clear error naming the file;
// never a crash, never "internal error", and the good images, networks and volumes keep working;
// a damaged image is removable with `rmi -f`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoots, busyboxTarball, cleanupRoots, removeAllContainers, stopEngine, berth, berthOk, type TestRoots, type Result } from '../helpers/env.js';

let roots: TestRoots;

before(async () => {
  roots = makeRoots();
});

after(async () => {
  await removeAllContainers(roots);
  for (const v of (await berth(roots, ['volume', 'ls', '-q'])).stdout.split('\n').filter((l) => l !== '')) await berth(roots, ['volume', 'rm', '-f', v]);
  for (const n of ['goodnet', 'badnet']) await berth(roots, ['network', 'rm', n]);
  for (const i of (await berth(roots, ['images', '-q', '--no-trunc'])).stdout.split('\n').filter((l) => l !== '')) await berth(roots, ['rmi', '-f', i]);
  await cleanupRoots(roots);
});

type Damage = 'garbage' | 'truncate' | 'delete';

function damage(file: string, how: Damage): void {
  if (how === 'delete') { rmSync(file, { recursive: true }); return; }
  if (how === 'garbage') { writeFileSync(file, 'garbage\0{'); return; }
  const text = readFileSync(file);
  writeFileSync(file, text.subarray(0, Math.floor(text.length / 2)));
}

/** An image of its own (its own layer: busybox plus one file), imported as `ref`. */
async function importDistinct(ref: string): Promise<{ id: string; chainId: string }> {
  const dir = join(roots.dir, `img-${ref}`);
  mkdirSync(dir);
  const marker = join(dir, 'marker');
  writeFileSync(marker, `${ref}\n`);
  const file = await busyboxTarball(dir, { [`marker-${ref}`]: marker });
  await berthOk(roots, ['import', file, ref], { timeoutMs: 120_000 });
  const ins = JSON.parse(await berthOk(roots, ['image', 'inspect', ref]))[0] as { Id: string; RootFS: { Layers: string[] } };
  return { id: ins.Id, chainId: ins.RootFS.Layers[0]! };
}

const hex = (d: string): string => d.replace(/^sha256:/, '');

/** A clear failure: non-zero, names `file`, and is no "bug in berth". */
function assertClear(r: Result, file: string, what: string): void {
  assert.notEqual(r.code, 0, `${what}: fails`);
  assert.doesNotMatch(r.stderr, /internal error|bug in berth/i, `${what}: ${r.stderr}`);
  assert.ok(r.stderr.includes(file), `${what}: the error names ${file}: ${r.stderr}`);
}

test('a damaged image config, layer record or layer directory: the image fails clearly, is removable, and the others keep working', { timeout: 15 * 60_000 }, async () => {
  const good = await importDistinct('good');
  const cases: { ref: string; id: string; file: string; how: Damage }[] = [];
  const layerDb = join(roots.root, 'image', 'layerdb', 'sha256');
  for (const how of ['garbage', 'truncate'] as const) {
    const img = await importDistinct(`cfg-${how}`);
    cases.push({ ref: `cfg-${how}`, id: img.id, file: join(roots.root, 'image', 'imagedb', 'content', 'sha256', hex(img.id)), how });
  }
  for (const how of ['garbage', 'truncate', 'delete'] as const) {
    const img = await importDistinct(`layer-${how}`);
    cases.push({ ref: `layer-${how}`, id: img.id, file: join(layerDb, hex(img.chainId), 'layer.json'), how });
  }
  {
    const img = await importDistinct('content-delete');
    const meta = JSON.parse(readFileSync(join(layerDb, hex(img.chainId), 'layer.json'), 'utf8')) as { cacheId: string };
    cases.push({ ref: 'content-delete', id: img.id, file: join(roots.root, 'overlay2', meta.cacheId, 'diff'), how: 'delete' });
  }
  await stopEngine(roots);
  for (const c of cases) damage(c.file, c.how);

  // the good image is listed and runs; the damaged ones are not listed
  const listed = (await berthOk(roots, ['images', '--format', '{{.Repository}}'])).split('\n').filter((l) => l !== '');
  assert.ok(listed.includes('good'), `images lists the good one: ${listed.join(',')}`);
  for (const c of cases) assert.ok(!listed.includes(c.ref), `${c.ref} (${c.how}) is not listed as usable: ${listed.join(',')}`);
  assert.equal((await berthOk(roots, ['run', '--rm', 'good', 'cat', '/bin/marker-good'])).trim(), 'good');

  // each damaged one: run and inspect fail naming the file; rmi needs -f; rmi -f removes it
  for (const c of cases) {
    const what = `${c.ref} (${c.how} of ${c.file})`;
    assertClear(await berth(roots, ['run', '--rm', c.ref, 'true']), c.file, `run ${what}`);
    assertClear(await berth(roots, ['image', 'inspect', c.ref]), c.file, `image inspect ${what}`);
    const rmi = await berth(roots, ['rmi', c.ref]);
    assert.notEqual(rmi.code, 0, `rmi without -f of ${what}`);
    assert.match(rmi.stderr, /rmi -f/, `rmi ${what}: says how: ${rmi.stderr}`);
    const rmf = await berth(roots, ['rmi', '-f', c.ref]);
    assert.equal(rmf.code, 0, `rmi -f ${what}: ${rmf.stderr}`);
    assert.match(rmf.stdout, new RegExp(`Untagged: ${c.ref}`));
    assert.equal(existsSync(join(roots.root, 'image', 'imagedb', 'content', 'sha256', hex(c.id))), false, `${what}: its config is gone`);
    assert.equal((await berth(roots, ['image', 'inspect', c.ref])).code, 1, `${what}: no such image any more`);
  }
  // the good image is untouched: listed, runs, and the names are free again for a new import
  assert.equal((await berthOk(roots, ['run', '--rm', 'good', 'cat', '/bin/marker-good'])).trim(), 'good');
  assert.equal(JSON.parse(await berthOk(roots, ['image', 'inspect', 'good']))[0].Id, good.id);
  await importDistinct('cfg-garbage-again').then(() => berthOk(roots, ['tag', 'cfg-garbage-again', 'cfg-garbage']));
  assert.equal((await berthOk(roots, ['run', '--rm', 'cfg-garbage', 'cat', '/bin/marker-cfg-garbage-again'])).trim(), 'cfg-garbage-again');
});

test('a damaged repositories.json: every verb that needs a tag fails naming it, containers and ids keep working', async () => {
  const imgs = JSON.parse(await berthOk(roots, ['image', 'inspect', 'good']))[0] as { Id: string };
  const id = (await berthOk(roots, ['run', '-d', '--name', 'keeps', 'good', 'sleep', '1000'])).trim();
  await stopEngine(roots);
  const file = join(roots.root, 'image', 'repositories.json');
  const saved = readFileSync(file);
  damage(file, 'garbage');
  assertClear(await berth(roots, ['images']), file, 'images');
  assertClear(await berth(roots, ['run', '--rm', 'good', 'true']), file, 'run by tag');
  const tag = await berth(roots, ['tag', hex(imgs.Id), 'other']);
  assertClear(tag, file, 'tag');
  // nothing rewrote the damaged file (the tags in it are not lost for a repair by hand)
  assert.equal(readFileSync(file, 'utf8'), 'garbage\0{');
  // the running container is untouched
  const ps = await berthOk(roots, ['ps', '--no-trunc', '-q']);
  assert.ok(ps.includes(id), ps);
  writeFileSync(file, saved);
  assert.equal((await berthOk(roots, ['run', '--rm', 'good', 'cat', '/bin/marker-good'])).trim(), 'good');
  await berthOk(roots, ['rm', '-f', 'keeps']);
});

test('a damaged network record: the other networks and the engine keep working, the bad one fails naming its file and can be removed', async () => {
  await berthOk(roots, ['network', 'create', 'goodnet']);
  await berthOk(roots, ['network', 'create', 'badnet']);
  await stopEngine(roots);
  const dir = join(roots.root, 'network', 'networks');
  const file = join(dir, 'badnet.json');
  assert.ok(existsSync(file), `${readdirSync(dir).join(',')}`);
  damage(file, 'garbage');
  const ls = await berth(roots, ['network', 'ls', '--format', '{{.Name}}']);
  assert.equal(ls.code, 0, `network ls: ${ls.stderr}`);
  assert.match(ls.stdout, /goodnet/);
  assertClear(await berth(roots, ['network', 'inspect', 'badnet']), file, 'network inspect badnet');
  // a container on the good network runs
  const out = await berthOk(roots, ['run', '--rm', '--network', 'goodnet', 'good', 'cat', '/bin/marker-good'], { timeoutMs: 60_000 });
  assert.equal(out.trim(), 'good');
  // the damaged one can be removed, and its name made again
  const rm = await berth(roots, ['network', 'rm', 'badnet']);
  assert.equal(rm.code, 0, `network rm badnet: ${rm.stderr}`);
  assert.equal(existsSync(file), false);
  await berthOk(roots, ['network', 'create', 'badnet']);
  await berthOk(roots, ['network', 'rm', 'badnet', 'goodnet']);
});

test('a damaged volume record: the volume is not silently dropped or replaced, the error names the file, rm removes it', async () => {
  await berthOk(roots, ['volume', 'create', 'goodvol']);
  await berthOk(roots, ['volume', 'create', 'badvol']);
  await berthOk(roots, ['run', '--rm', '-v', 'badvol:/data', 'good', 'sh', '-c', 'echo precious > /data/f']);
  await stopEngine(roots);
  const file = join(roots.root, 'volumes', 'badvol', 'volume.json');
  damage(file, 'garbage');
  const ls = await berth(roots, ['volume', 'ls', '--format', '{{.Name}}']);
  assert.equal(ls.code, 0, `volume ls: ${ls.stderr}`);
  assert.match(ls.stdout, /goodvol/);
  assertClear(await berth(roots, ['volume', 'inspect', 'badvol']), file, 'volume inspect badvol');
  // neither a create nor a mount replaces it behind the user's back
  assertClear(await berth(roots, ['volume', 'create', 'badvol']), file, 'volume create badvol');
  assertClear(await berth(roots, ['run', '--rm', '-v', 'badvol:/data', 'good', 'cat', '/data/f']), file, 'run -v badvol');
  assert.equal(readFileSync(join(roots.root, 'volumes', 'badvol', '_data', 'f'), 'utf8'), 'precious\n', 'the data is still there');
  // the good volume works; the damaged one can be removed
  await berthOk(roots, ['run', '--rm', '-v', 'goodvol:/data', 'good', 'true']);
  const rm = await berth(roots, ['volume', 'rm', 'badvol']);
  assert.equal(rm.code, 0, `volume rm badvol: ${rm.stderr}`);
  assert.equal(existsSync(join(roots.root, 'volumes', 'badvol')), false);
  await berthOk(roots, ['volume', 'rm', 'goodvol']);
});

