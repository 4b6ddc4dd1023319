// Scenario: the README's hot-reload example, as a newcomer runs it. examples/hot-reload is copied
// as it is (compose.yaml and site/) into a project directory; `berth up -d --watch` brings up
// busybox httpd with its port published on the host's loopback (HOT_RELOAD_PORT: a free port, so
// that two runs of the suite on one machine do not collide) and returns. Intent: curl from the host
// answers with site/index.html, and after every save of that file the answer changes to the new
// content — within a deadline, with no fixed sleep; `down` ends the watch and the service.
// The latency of each save → new answer is printed (median and max over the edits).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { berth, berthOk, cleanupRoots, eventually, importBusybox, makeRoots, removeAllContainers, repoRoot, type TestRoots } from '../helpers/env.js';
import { notifyHelpers } from '../helpers/watch.js';

let roots: TestRoots;
let dir: string;
let port: number;
let env: NodeJS.ProcessEnv;

/** A port free on 127.0.0.1 right now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** GET http://127.0.0.1:<port><path>: the body, or undefined when nothing answers yet. */
function fetchBody(path = '/'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 2_000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => { body += s; }).on('end', () => resolve(res.statusCode === 200 ? body : undefined)).on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

before(async () => {
  roots = makeRoots();
  await importBusybox(roots, 'busybox:latest');
  dir = join(roots.dir, 'hot-reload');
  mkdirSync(dir);
  cpSync(join(repoRoot, 'examples', 'hot-reload'), dir, { recursive: true });
  port = await freePort();
  env = { HOT_RELOAD_PORT: String(port) };
});

after(async () => {
  await berth(roots, ['down', '-f', join(dir, 'compose.yaml'), '-t', '1'], { env });
  await removeAllContainers(roots);
  await berthOk(roots, ['rmi', 'busybox:latest']);
  await cleanupRoots(roots);
});

test('examples/hot-reload: the HTTP answer must change the moment site/index.html is saved', async (t) => {
  const file = join(dir, 'compose.yaml');
  const up = await berth(roots, ['up', '-d', '--watch', '-f', file], { env, timeoutMs: 60_000 });
  assert.equal(up.code, 0, `stdout: ${up.stdout}\nstderr: ${up.stderr}`);
  assert.match(up.stdout, /Watch enabled for "web"/);
  const original = readFileSync(join(dir, 'site', 'index.html'), 'utf8');
  assert.equal(await eventually(async () => (await fetchBody()) === original || undefined, 30_000, 'httpd to answer with the example page'), true);

  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const content = `saved ${i} at ${process.hrtime.bigint()}\n`;
    const t0 = performance.now();
    writeFileSync(join(dir, 'site', 'index.html'), content);
    // polled back to back (each request is a fresh connection), so the latency is not rounded up
    // to a back-off step; the deadline fails the test
    for (;;) {
      if ((await fetchBody()) === content) break;
      assert.ok(performance.now() - t0 < 10_000, `edit ${i} not in the HTTP answer after 10 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
    latencies.push(performance.now() - t0);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  t.diagnostic(`save → new HTTP answer over ${sorted.length} edits: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`);

  // a new file is served too, and down ends the watch and the service
  writeFileSync(join(dir, 'site', 'about.html'), 'about\n');
  await eventually(async () => (await fetchBody('/about.html')) === 'about\n', 10_000, 'a new page to be served');
  await berthOk(roots, ['down', '-f', file, '-t', '1'], { env, timeoutMs: 60_000 });
  assert.deepEqual(notifyHelpers(dir), [], 'no berth-notify left after down');
  assert.equal(await fetchBody(), undefined, 'nothing answers after down');
});
