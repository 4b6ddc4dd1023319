// Pre-made network sandboxes (issue 13, src/network/pool.ts, docs/networking.md "The sandbox
// pool"). Intent: a bridge-mode container that takes a pre-made namespace cannot be told from one
// whose namespace was made for it — same interfaces, addresses, routes, /etc/hosts, resolv.conf and
// names through 127.0.0.11 — no member is ever given to two containers, the pool refills behind
// the runs and leaks nothing after many of them, empties with the engine's stop, and an engine
// SIGKILLed at a seeded moment of a burst leaves nothing the next engine's repair does not clean.
// BERTH_NETNS_POOL=0 keeps none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { seededRandom } from '../helpers/seeded.js';
import { berthOk, eventually, leftovers, networkLeftovers, poolNamespaces, removeAllContainers, repoRoot, stopEngine, tearDownRoots, type TestRoots, warmAndColdRoots } from '../helpers/env.js';

const SIZE = 2; // the default: as many as warm slots (BERTH_SLOTS, default 2)

let roots: TestRoots;
let cold: TestRoots;

before(async () => { ({ roots, cold } = await warmAndColdRoots('BERTH_NETNS_POOL')); });
after(() => tearDownRoots(roots, cold));

const mounted = (): Set<string> => new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? ''));

function serving(r: TestRoots): string[] {
  try { return readFileSync(join(r.run, 'network', 'netd', 'serving'), 'utf8').trim().split(',').filter((x) => x !== ''); } catch { return []; }
}

/** Waits until the pool of `r` holds `size` members, each mounted and served by berth-netd; returns their namespace files. */
function fullPool(r: TestRoots, size = SIZE): Promise<string[]> {
  return eventually(() => {
    const members = poolNamespaces(r);
    const m = mounted();
    const served = new Set(serving(r));
    return members.length === size && members.every((p) => m.has(p) && served.has(`pool-${p.split('/').pop()}`)) ? members : false;
  }, 30_000, 'the sandbox pool to be full');
}

/** The namespace file each sandbox record names, by container id. */
function sandboxNetns(r: TestRoots): Map<string, string> {
  const dir = join(r.run, 'network', 'sandboxes');
  const out = new Map<string, string>();
  let files: string[] = [];
  try { files = readdirSync(dir).filter((f) => f.endsWith('.json')); } catch { /* none */ }
  for (const f of files) out.set(f.slice(0, -5), JSON.parse(readFileSync(join(dir, f), 'utf8')).netns);
  return out;
}

async function inspect(r: TestRoots, ref: string): Promise<any> {
  return JSON.parse(await berthOk(r, ['inspect', ref]))[0];
}

/** What a container sees of its network, with what differs between two engines by design (addresses, MAC, names, index numbers) replaced by placeholders. */
async function view(r: TestRoots, name: string): Promise<string> {
  const c = await inspect(r, name);
  const s = c.NetworkSettings;
  const out = await berthOk(r, ['exec', name, 'sh', '-c', [
    'ip -o link | sed "s/^[0-9]*: //"', 'ip -o addr', 'ip route', 'ip -6 -o addr', 'cat /etc/hosts', 'cat /etc/resolv.conf',
    `nslookup ${name} 127.0.0.11 | grep -A1 "^Name"`, 'cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6',
    // the resolver's sockets in the namespace: 127.0.0.11:53, udp and tcp (listening)
    'grep -c " 0B00007F:0035 " /proc/net/udp', 'grep " 0B00007F:0035 " /proc/net/tcp | grep -c " 0A "',
  ].join('; echo --; ')]);
  const subnet = s.IPAddress.split('.').slice(0, 2).join('.');
  return out
    .replaceAll(s.IPAddress, '<ip>').replaceAll(s.Gateway, '<gw>').replaceAll(`${subnet}.0.0`, '<net>').replaceAll(`${subnet}.255.255`, '<bcast>')
    .replaceAll(s.MacAddress, '<mac>').replaceAll(c.Config.Hostname, '<hostname>').replace(/@if\d+/g, '@if<n>');
}

test('a default-network container takes a pre-made sandbox and sees exactly what one with a namespace made for it sees', async () => {
  // the pool warms on the first bridge-mode sandbox (this engine has no network yet)
  await berthOk(roots, ['run', '--rm', 'bb', 'true']);
  const idle = await fullPool(roots);
  await berthOk(roots, ['run', '-d', '--name', 'pooled', 'bb', 'sleep', '300']);
  await berthOk(cold, ['run', '-d', '--name', 'pooled', 'bb', 'sleep', '300']);
  const warm = await inspect(roots, 'pooled');
  assert.ok(idle.includes(warm.NetworkSettings.SandboxKey), `the container took an idle member (${warm.NetworkSettings.SandboxKey} of ${idle.join(', ')})`);
  assert.equal(warm.NetworkSettings.SandboxID, warm.NetworkSettings.SandboxKey.split('/').pop());
  assert.ok(!poolNamespaces(roots).includes(warm.NetworkSettings.SandboxKey), 'a taken member is no longer the pool\'s');
  const coldKey = (await inspect(cold, 'pooled')).NetworkSettings.SandboxKey;
  assert.equal(coldKey, join(cold.run, 'network', 'netns', (await inspect(cold, 'pooled')).Id), 'BERTH_NETNS_POOL=0: a namespace of its own');
  assert.deepEqual(poolNamespaces(cold), [], 'BERTH_NETNS_POOL=0 keeps no pool');
  const [a, b] = [await view(roots, 'pooled'), await view(cold, 'pooled')];
  assert.equal(a, b);
  assert.match(a, /eth0.*inet <ip>\/16/);
  assert.match(a, /Name:\s+pooled\nAddress:?\s+(1: )?<ip>/);
  assert.match(a, /nameserver 127\.0\.0\.11/);
  assert.match(a, /--\n1\n--\n1\n?$/, 'the resolver listens on 127.0.0.11:53, udp and tcp');
  await berthOk(roots, ['rm', '-f', 'pooled']);
  await berthOk(cold, ['rm', '-f', 'pooled']);
  assert.ok(!mounted().has(warm.NetworkSettings.SandboxKey), 'the taken namespace went with its container');
  await fullPool(roots);
});

test('no pre-made namespace is ever given to two containers (a burst of concurrent creates, pool or not)', async () => {
  const before = await fullPool(roots);
  const n = 6;
  const ids = (await Promise.all(Array.from({ length: n }, () => berthOk(roots, ['run', '-d', 'bb', 'sleep', '300'])))).map((s) => s.trim());
  const keys = await Promise.all(ids.map(async (id) => (await inspect(roots, id)).NetworkSettings.SandboxKey as string));
  assert.equal(new Set(keys).size, n, `six namespace files for six containers: ${keys.join(' ')}`);
  // and six namespaces (an nsfs file's inode is its namespace)
  assert.equal(new Set(keys.map((k) => statSync(k).ino)).size, n, 'six distinct namespaces');
  assert.ok(keys.filter((k) => before.includes(k)).length === Math.min(SIZE, n), 'the idle members were taken, each once');
  const pool = await fullPool(roots);
  assert.deepEqual(pool.filter((p) => keys.includes(p)), [], 'no member of the refilled pool is a container\'s');
  const records = sandboxNetns(roots);
  for (const [i, id] of ids.entries()) assert.equal(records.get(id), keys[i], 'the sandbox record names the namespace the container joined');
  await berthOk(roots, ['rm', '-f', ...ids]);
  const m = mounted();
  assert.deepEqual(keys.filter((k) => m.has(k)), [], 'every taken namespace is gone with its container');
});

test('many runs leak nothing: after a seeded mix of runs only the pool is left, and the engine\'s stop empties it', async () => {
  const seed = Number(process.env.BERTH_TEST_SEED ?? Date.now() % 100_000);
  const random = seededRandom(seed);
  for (let i = 0; i < 16; i++) {
    const pick = random();
    if (pick < 0.6) await berthOk(roots, ['run', '--rm', 'bb', 'true']);
    else if (pick < 0.8) await berthOk(roots, ['run', '--rm', '--network', 'none', 'bb', 'true']);
    else { const id = (await berthOk(roots, ['run', '-d', 'bb', 'sleep', '300'])).trim(); await berthOk(roots, ['rm', '-f', id]); }
  }
  await fullPool(roots);
  assert.deepEqual(sandboxNetns(roots), new Map(), `no sandbox record is left (seed ${seed})`);
  assert.deepEqual(leftovers(roots), [], `nothing but the engine's own is left (seed ${seed})`);
  const links = readdirSync('/sys/class/net').filter((l) => l.startsWith(`vt${roots.netTag}`));
  assert.deepEqual(links, [], 'no veth is left');
  const netns = readdirSync(join(roots.run, 'network', 'netns')).map((f) => join(roots.run, 'network', 'netns', f)).sort();
  assert.deepEqual(netns, poolNamespaces(roots).sort(), 'the only namespace files are the idle pool\'s');
  await stopEngine(roots);
  assert.deepEqual(poolNamespaces(roots), [], 'the engine\'s stop empties the pool');
  assert.deepEqual(leftovers(roots, { withEngine: true }), []);
  assert.deepEqual(networkLeftovers(roots), []);
});

test('an engine SIGKILLed during a burst of runs leaves nothing that the next engine\'s repair does not clean', async () => {
  const seed = Number(process.env.BERTH_TEST_SEED ?? Date.now() % 100_000);
  const random = seededRandom(seed);
  for (let round = 0; round < 3; round++) {
    // an engine with a network (the pool warms at its start) and a full pool
    await berthOk(roots, ['run', '--rm', 'bb', 'true']);
    const idle = await fullPool(roots);
    const enginePid = Number(readFileSync(join(roots.run, 'engine.pid'), 'utf8').trim());
    const delay = Math.floor(random() * 400);
    const runs = Array.from({ length: 3 }, () => {
      const child = spawn(join(repoRoot, 'bin', 'berth'), ['run', '-d', 'bb', 'sleep', '1000'], { env: roots.env, stdio: 'ignore' });
      return new Promise((resolve) => child.on('close', resolve));
    });
    await new Promise((r) => setTimeout(r, delay)); // the moment of the kill (seeded), not a wait for state
    process.kill(enginePid, 'SIGKILL');
    await Promise.all(runs);
    const what = `seed ${seed}, round ${round}, kill at ${delay} ms`;
    // the next engine (the first verb starts one; its start repairs before it answers)
    await berthOk(roots, ['ps']);
    const m = mounted();
    const records = sandboxNetns(roots);
    const named = new Set(records.values());
    const pool = new Set(poolNamespaces(roots));
    for (const p of idle) assert.ok(!m.has(p) || named.has(p) || pool.has(p), `${p}, idle when the engine died, is repaired away or a container's (${what})`);
    const files = readdirSync(join(roots.run, 'network', 'netns')).map((f) => join(roots.run, 'network', 'netns', f));
    for (const f of files) assert.ok(named.has(f) || pool.has(f), `namespace file ${f} is a sandbox's or the new engine's pool's (${what})`);
    const ids = new Set((await berthOk(roots, ['ps', '-aq', '--no-trunc'])).trim().split('\n').filter((l) => l !== ''));
    for (const id of records.keys()) assert.ok(ids.has(id), `sandbox ${id.slice(0, 12)} belongs to a container the engine knows (${what})`);
    const endpoints = readdirSync(join(roots.run, 'network', 'netd', 'endpoints')).filter((e) => !e.startsWith('.'));
    for (const e of endpoints) assert.ok(records.has(e) || pool.has(join(roots.run, 'network', 'netns', e.replace(/^pool-/, ''))), `resolver endpoint ${e} is a sandbox's or the pool's (${what})`);
    await removeAllContainers(roots);
    assert.deepEqual(leftovers(roots), [], what);
  }
  await stopEngine(roots);
  assert.deepEqual(leftovers(roots, { withEngine: true }), []);
  assert.deepEqual(networkLeftovers(roots), []);
});
