// One run reports every independent mistake of a project, each with its own file:line:col and key
// path, and nothing that only follows from another mistake (prune.ts, canonical/form-error.ts).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { load } from './load.js';
import { SpecError, type SpecIssue } from './errors.js';
import { memoryFiles } from './testing.js';

function problems(files: Record<string, string>, opts: { stdin?: string; files?: string[] } = {}): SpecIssue[] {
  try { load({ env: {}, cwd: '/p', ...opts }, memoryFiles(files)); } catch (e) { if (e instanceof SpecError) return [...e.issues]; throw e; }
  assert.fail('expected a SpecError');
}
/** "file:line:col keyPath", sorted, for comparing whole lists */
const where = (issues: readonly SpecIssue[]): string[] => issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.keyPath}`).sort();

const MAIN = [
  'services:', //                                   1
  '  web:', //                                      2
  '    image: nginx', //                            3
  '    ports:', //                                  4
  '      - "80:80:80:80"', //                       5
  '      - "8080:80"', //                           6
  '      - 70000', //                               7
  '    volumes:', //                                8
  '      - "a:b:c:d"', //                           9
  '      - "./ok:/ok"', //                         10
  '      - "./x:/y:bogus"', //                     11
  '    healthcheck:', //                           12
  '      test: ["CMD", "true"]', //                13
  '      interval: 1x', //                         14
  '      timeout: soon', //                        15
  '  db:', //                                      16
  '    image: postgres', //                        17
  '    mem_limit: lots', //                        18
  '    stop_grace_period: forever', //             19
  '    ulimits:', //                               20
  '      nofile: {soft: 10, hard: 5}', //          21
  '  api:', //                                     22
  '    image: api', //                             23
  '    restart: sometimes', //                     24
  '    deploy: {resources: {limits: {cpus: many}}}', // 25
  '  typo:', //                                    26
  '    image: x', //                               27
  '    prots: ["80"]', //                          28
  '    stop_grace_period: never', //               29
  '  bad:', //                                     30
  '    image: {x: 1}', //                          31
  '  child:', //                                   32
  '    extends: bad', //                           33
  '    tty: true', //                              34
  '  needs:', //                                   35
  '    image: ok', //                              36
  '    tty: "${NOPE:?must be set}"', //            37
  '    mem_reservation: heaps', //                 38
  'networks:', //                                  39
  '  front: {driver: 5}', //                       40
].join('\n') + '\n';
const OVERRIDE = 'services:\n  bad:\n    ports: ["81:81"]\n  web:\n    ports: ["90000:80"]\n';

test('every independent problem is reported in one run, each located', () => {
  const found = problems({ '/p/compose.yaml': MAIN, '/p/compose.override.yaml': OVERRIDE });
  const M = '/p/compose.yaml', O = '/p/compose.override.yaml';
  assert.deepEqual(where(found), [
    `${M}:5:9 services.web.ports[0]`, //           two bad ports of one list, and a third from the override
    `${M}:7:9 services.web.ports[2]`,
    `${O}:5:13 services.web.ports[3]`,
    `${M}:9:9 services.web.volumes[0]`, //         two bad volumes, the good one between them ignored
    `${M}:11:9 services.web.volumes[2]`,
    `${M}:14:17 services.web.healthcheck.interval`, // two bad durations of one healthcheck
    `${M}:15:16 services.web.healthcheck.timeout`,
    `${M}:18:16 services.db.mem_limit`, //          a bad size, a bad duration and a bad ulimit in one service
    `${M}:19:24 services.db.stop_grace_period`,
    `${M}:21:15 services.db.ulimits.nofile`,
    `${M}:24:14 services.api.restart`,
    `${M}:25:41 services.api.deploy.resources.limits.cpus`,
    `${M}:28:5 services.typo.prots`, //             a schema error does not hide the same service's bad duration
    `${M}:29:24 services.typo.stop_grace_period`,
    `${M}:31:12 services.bad.image`,
    `${M}:37:10 services.needs.tty`, //             an interpolation error does not hide a bad size
    `${M}:38:22 services.needs.mem_reservation`,
    `${M}:40:19 networks.front.driver`,
  ].sort());
  // nothing that only follows from another problem: "bad" is left out, so "child" (extends bad)
  // and the override's partial "bad" are not reported as lacking an image
  assert.ok(!found.some((i) => /image or a build|undefined service/.test(i.expected + i.found)), JSON.stringify(found, null, 1));
  // each problem has its own frame, from the file it is written in
  const over = found.find((i) => i.keyPath === 'services.web.ports[3]')!;
  assert.match(over.frame ?? '', /> 5 \|\s+ports: \["90000:80"\]/);
  assert.match(found.find((i) => i.keyPath === 'services.db.mem_limit')!.found, /lots/);
});

test('a project with only normalization problems reports all of them', () => {
  const found = problems({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    stop_grace_period: 1d\n  b:\n    image: x\n    shm_size: huge\n    devices: ["", "/dev/a:/dev/b:rwm:extra", "/dev/ok"]\n    extra_hosts: ["nohost", "a=1.2.3.4", "alsobad"]\n' });
  assert.deepEqual(where(found), [
    '/p/compose.yaml:4:24 services.a.stop_grace_period',
    '/p/compose.yaml:7:15 services.b.shm_size',
    '/p/compose.yaml:8:15 services.b.devices[0]',
    '/p/compose.yaml:8:19 services.b.devices[1]',
    '/p/compose.yaml:9:19 services.b.extra_hosts[0]',
    '/p/compose.yaml:9:42 services.b.extra_hosts[2]',
  ].sort());
});

test('a file that does not parse stops the project before normalization (no guesses)', () => {
  const found = problems({ '/p/compose.yaml': 'services:\n  a:\n    image: x\n    mem_limit: lots\n', '/p/compose.override.yaml': 'services: [\n' });
  assert.ok(found.every((i) => i.file === '/p/compose.override.yaml'), JSON.stringify(found));
});

test('a bad project name is reported with the other problems', () => {
  const found = problems({ '/p/compose.yaml': 'name: "Bad Name"\nservices:\n  a:\n    image: x\n    mem_limit: lots\n' });
  assert.deepEqual(where(found), ['/p/compose.yaml:1:7 name', '/p/compose.yaml:5:16 services.a.mem_limit']);
});
