// The mapping from the compose model and from run's flags to the volumes facility's requests:
// what each key becomes, and the clear errors for what berth does not do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagMounts, parseVolumesFrom, serviceMounts, splitCsv, volumesFromRequests } from './service-mounts.js';
import { load } from '../spec/load.js';
import { memoryFiles } from '../spec/testing.js';
import { BerthError } from '../lib/errors.js';

async function project(yaml: string, env: Record<string, string> = {}) {
  return load({ files: ['/p/compose.yaml'], env, cwd: '/p' }, memoryFiles({ '/p/compose.yaml': yaml, '/p/token.txt': 'x' })).project;
}

test('a service: named volumes by their host name, binds against the project, tmpfs, secrets and configs', async () => {
  const p = await project([
    'services:', '  web:', '    image: bb', '    user: "1000"',
    '    volumes: ["data:/var/lib/data:ro", "./src:/src", "/anon", {type: tmpfs, target: /t, tmpfs: {size: 1m, mode: 0o700}}]',
    '    tmpfs: ["/run/x:size=64k"]',
    '    secrets: [token]',
    '    configs: [{source: app, target: /etc/app.conf, uid: "1000", mode: 0o440}]',
    'volumes:', '  data: {name: shared-data}',
    'secrets:', '  token: {file: ./token.txt}',
    'configs:', '  app: {content: "a=1"}',
  ].join('\n'));
  const { requests, grants } = serviceMounts(p, p.services.web!);
  assert.deepEqual(requests.map((r) => [r.type, r.target, 'source' in r ? r.source : undefined, r.readOnly]), [
    ['volume', '/var/lib/data', 'shared-data', true],
    ['bind', '/src', '/p/src', false],
    ['volume', '/anon', undefined, false],
    ['tmpfs', '/t', undefined, false],
    ['tmpfs', '/run/x', undefined, false],
  ]);
  assert.equal(requests[3]!.type === 'tmpfs' ? requests[3]!.size : 0, 1024 * 1024);
  assert.equal(requests[3]!.type === 'tmpfs' ? requests[3]!.mode : 0, 0o700);
  assert.deepEqual(grants.map((g) => [g.kind, g.name, g.target, g.content, g.uid, g.mode]), [
    ['secret', 'token', '/run/secrets/token', { file: '/p/token.txt' }, undefined, undefined],
    ['config', 'app', '/etc/app.conf', { data: 'a=1' }, 1000, 0o440],
  ]);
});

test('external secrets, a secret whose variable is unset and a non-numeric uid are clear errors', async () => {
  const ext = await project('services:\n  web:\n    image: bb\n    secrets: [s]\nsecrets:\n  s: {external: true}\n');
  assert.throws(() => serviceMounts(ext, ext.services.web!), (e: unknown) => e instanceof BerthError && e.code === 'UNSUPPORTED' && /external/.test(e.message));
  const unset = await project('services:\n  web:\n    image: bb\n    secrets: [s]\nsecrets:\n  s: {environment: NOPE}\n');
  assert.throws(() => serviceMounts(unset, unset.services.web!), /the variable "NOPE" is not set/);
  const set = await project('services:\n  web:\n    image: bb\n    secrets: [s]\nsecrets:\n  s: {environment: TOKEN}\n', { TOKEN: 'abc' });
  assert.deepEqual(serviceMounts(set, set.services.web!).grants[0]!.content, { data: 'abc' });
  const uid = await project('services:\n  web:\n    image: bb\n    configs: [{source: c, uid: app}]\nconfigs:\n  c: {content: x}\n');
  assert.throws(() => serviceMounts(uid, uid.services.web!), /must be a numeric id/);
});

test("run's -v, --mount and --tmpfs as Docker reads them", () => {
  const f = flagMounts({
    volumes: ['./d:/d:ro', '~/h:/h', 'named:/n', '/anon'],
    mounts: ['type=volume,src=v2,dst=/v2,volume-nocopy,volume-opt=type=tmpfs,volume-opt=device=tmpfs', 'type=bind,source=/etc,target=/e,readonly', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777'],
    tmpfs: ['/x:size=64k'],
  }, '/work', '/root');
  assert.deepEqual(f.requests.map((r) => [r.type, r.target, 'source' in r ? r.source : undefined, r.readOnly]), [
    ['bind', '/d', '/work/d', true], ['bind', '/h', '/root/h', false], ['volume', '/n', 'named', false], ['volume', '/anon', undefined, false],
    ['volume', '/v2', 'v2', false], ['bind', '/e', '/etc', true], ['tmpfs', '/t', undefined, false], ['tmpfs', '/x', undefined, false],
  ]);
  assert.deepEqual(f.volumeOptions.get('v2'), { type: 'tmpfs', device: 'tmpfs' });
  const bind = f.requests.find((r) => r.target === '/e');
  assert.equal(bind?.type === 'bind' && bind.createHostPath, false, "--mount never creates a bind source (Docker's rule)");
  assert.throws(() => flagMounts({ mounts: ['type=bind,target=/x'] }, '/', undefined), /a bind mount needs a source/);
  assert.throws(() => flagMounts({ mounts: ['type=volume,target=/x,volume-driver=nfs'] }, '/', undefined), /"local" driver only/);
  assert.throws(() => flagMounts({ mounts: ['type=npipe,target=/x'] }, '/', undefined), /type must be bind, volume or tmpfs/);
  assert.throws(() => flagMounts({ mounts: ['type=volume,target=/x,colour=red'] }, '/', undefined), /unknown key "colour"/);
  assert.throws(() => flagMounts({ volumes: ['/a:/b:bogus'] }, '/', undefined), /invalid -v/);
  assert.deepEqual(splitCsv('type=bind,"source=/a,b",target=/c'), ['type=bind', 'source=/a,b', 'target=/c']);
});

test('volumes_from: a service or a container, :ro making every mount read-only; never its secrets or tmpfs', () => {
  assert.deepEqual(parseVolumesFrom('db:ro', true), { ref: 'db', service: 'db', readOnly: true });
  assert.deepEqual(parseVolumesFrom('container:c1', true), { ref: 'c1' });
  assert.deepEqual(parseVolumesFrom('c1:rw', false), { ref: 'c1', readOnly: false });
  assert.throws(() => parseVolumesFrom(':ro', false), /invalid volumes_from/);
  const shared = volumesFromRequests({
    bundle: '/b',
    mounts: [
      { type: 'bind', kind: 'volume', name: 'v', source: '/root/volumes/v/_data', target: '/data', readonly: false },
      { type: 'bind', kind: 'bind', source: '/srv', target: '/srv', readonly: false },
      { type: 'bind', kind: 'bind', source: '/b/secrets/token', target: '/run/secrets/token', readonly: true },
      { type: 'tmpfs', kind: 'tmpfs', source: 'tmpfs', target: '/t', readonly: false },
      { type: 'bind', kind: 'bind', source: '/own', target: '/mine', readonly: false },
    ] as never,
  }, true, new Set(['/mine']));
  assert.deepEqual(shared.map((r) => [r.type, r.target, r.readOnly]), [['volume', '/data', true], ['bind', '/srv', true]]);
});
