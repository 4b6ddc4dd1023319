import { test } from 'node:test';
import assert from 'node:assert/strict';
import { securityOf, notYetApplied, limitsOf, containerName, createRequestFor, LABEL } from './service-container.js';
import { load } from '../spec/load.js';
import { memoryFiles } from '../spec/testing.js';
import type { ImageRecord } from '../images/store.js';

async function project(yaml: string) {
  return load({ files: ['/p/compose.yaml'], env: {}, cwd: '/p' }, memoryFiles({ '/p/compose.yaml': yaml })).project;
}

const image: ImageRecord = {
  id: 'sha256:' + 'a'.repeat(64), repoTags: ['bb:latest'], created: '', size: 0,
  config: { Env: ['PATH=/bin'], Cmd: ['sh'], WorkingDir: '/srv', Labels: { from: 'image' } },
  layers: [{ chainId: 'sha256:c1', diffId: 'sha256:d1', cacheId: 'c1', link: 'L1' }, { chainId: 'sha256:c2', diffId: 'sha256:d2', cacheId: 'c2', link: 'L2' }],
};

test('keys the runtime cannot apply yet are named, never dropped', async () => {
  const p = await project('services:\n  web:\n    image: bb\n    ports: ["8080:80"]\n    volumes: ["./data:/data"]\n    cap_add: [NET_ADMIN]\n    sysctls: {net.core.somaxconn: "1024"}\n');
  // cap_add and sysctls (runtime/security.ts), volumes (engine/volumes.ts) and ports (engine/networking.ts) are applied: not in the list
  assert.deepEqual(notYetApplied(p.services.web!), []);
  const plain = await project('services:\n  web:\n    image: bb\n');
  assert.deepEqual(notYetApplied(plain.services.web!), []);
});

test("resources become cgroup limits (cpus through Docker's quota conversion)", async () => {
  const p = await project('services:\n  web:\n    image: bb\n    cpus: 0.5\n    cpu_shares: 512\n    mem_limit: 64m\n    memswap_limit: 128m\n    pids_limit: 50\n    cpuset: "0"\n');
  assert.deepEqual(limitsOf(p.services.web!), { cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, cpusetCpus: '0', memory: 64 * 1024 * 1024, memorySwap: 128 * 1024 * 1024, pidsLimit: 50 });
});

test("a replica gets compose's name and labels, the image's defaults and the service's settings", async () => {
  const p = await project('name: demo\nservices:\n  web:\n    image: bb\n    command: ["echo", "hi"]\n    environment: {A: "1"}\n    labels: {team: core}\n    restart: on-failure:2\n    stop_grace_period: 3s\n    ulimits: {nofile: {soft: 100, hard: 200}}\n');
  const web = p.services.web!;
  assert.equal(containerName(p, web, 2), 'demo-web-2');
  const req = createRequestFor({ project: p, service: web, number: 2, image, overlayRoot: '/o', configHash: 'h'.repeat(64), hostEnv: {} });
  assert.equal(req.name, 'demo-web-2');
  assert.deepEqual(req.process.args, ['echo', 'hi']);
  assert.equal(req.process.cwd, '/srv');
  assert.ok(req.process.env.includes('A=1') && req.process.env.includes('PATH=/bin'));
  assert.ok(req.process.env.includes(`HOSTNAME=${req.id!.slice(0, 12)}`), 'HOSTNAME is the id prefix, as Docker sets it');
  assert.deepEqual(req.lowerDirs, ['/o/c2/diff', '/o/c1/diff'], 'top-most layer first');
  assert.equal(req.labels![LABEL.project], 'demo');
  assert.equal(req.labels![LABEL.service], 'web');
  assert.equal(req.labels![LABEL.number], '2');
  assert.equal(req.labels![LABEL.oneoff], 'False');
  assert.equal(req.labels!.team, 'core');
  assert.equal(req.labels!.from, 'image');
  assert.deepEqual(req.restartPolicy, { name: 'on-failure', maximumRetryCount: 2 });
  assert.equal(req.stopTimeout, 3);
  assert.deepEqual(req.ulimits, { nofile: { soft: 100, hard: 200 } });
});

test('the hardening keys become the runtime\'s privileges, checked', async () => {
  const p = await project('services:\n  web:\n    image: bb\n    cap_drop: [ALL]\n    cap_add: [net_bind_service]\n    privileged: false\n    read_only: true\n    security_opt: ["no-new-privileges:true"]\n    sysctls: {net.core.somaxconn: 1024}\n    group_add: [audio, 42]\n    devices: ["/dev/fuse:/dev/fuse:rw"]\n');
  const fakeHost = { readFile: () => { throw new Error('no file read'); }, statDevice: () => ({ type: 'c' as const, major: 10, minor: 229, mode: 0o666, uid: 0, gid: 0 }) };
  const sec = securityOf(p.services.web!, '/project', fakeHost);
  assert.deepEqual(sec.CapDrop, ['ALL']);
  assert.deepEqual(sec.CapAdd, ['net_bind_service']);
  assert.equal(sec.ReadonlyRootfs, true);
  assert.deepEqual(sec.SecurityOpt, ['no-new-privileges:true']);
  assert.deepEqual(sec.Sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(sec.GroupAdd, ['audio', '42']);
  assert.deepEqual(sec.Devices.map((d) => [d.PathInContainer, d.CgroupPermissions, d.major, d.minor]), [['/dev/fuse', 'rw', 10, 229]]);
  const bad = await project('services:\n  web:\n    image: bb\n    sysctls: {kernel.panic: 1}\n');
  assert.throws(() => securityOf(bad.services.web!, '/project', fakeHost), /sysctl "kernel.panic" is not allowed/);
});
