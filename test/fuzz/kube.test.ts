// Fuzz: generated compose models (odd names, every mount type, ports and ranges, health checks,
// dependency conditions, networks, aliases, resources, security options, x-berth settings, files
// present, missing, binary or too large) never crash the converter, and every object it writes is
// valid (test/helpers/kube-validate.ts); its YAML parses back to the same objects; it is
// deterministic. A fixed seed per round, so a failure names the round that reproduces it.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseAllDocuments } from 'yaml';
import type { Dependency, FileObject, Network, Project, Service, ServiceMount, Volume } from '../../src/spec/model.js';
import { testProject, testService } from '../../src/plan/testing.js';
import { convertProject } from '../../src/kube/convert.js';
import type { ConvertOptions, Host, HostFile } from '../../src/kube/options.js';
import { renderStream } from '../../src/kube/render.js';
import { validateObjects } from '../helpers/kube-validate.js';

class Random {
  constructor(private seed: number) {}
  int(n: number): number { this.seed = (this.seed * 1103515245 + 12345) & 0x7fffffff; return this.seed % n; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  chance(p: number): boolean { return this.int(1000) < p * 1000; }
  some<T>(xs: readonly T[], max = 3): T[] { return xs.length === 0 ? [] : Array.from({ length: this.int(max + 1) }, () => this.pick(xs)); }
  name(): string {
    const plain = ['web', 'db', 'api', 'cache', 'worker', 'proxy', 'queue', 'a', 'x1'];
    if (this.chance(0.6)) return this.pick(plain) + (this.chance(0.3) ? String(this.int(9)) : '');
    const alphabet = 'abzAZ09_.-';
    return Array.from({ length: 1 + this.int(this.chance(0.1) ? 90 : 10) }, () => alphabet[this.int(alphabet.length)]).join('').replace(/^[-_.]+/, 'n');
  }
}

function mount(r: Random, volumes: readonly string[]): ServiceMount {
  const target = '/' + r.pick(['data', 'etc/app', 'var/lib/x', 'cache', 'run/t', 'srv/www']) + (r.chance(0.3) ? `/${r.int(5)}` : '');
  switch (r.int(6)) {
    case 0: return { type: 'volume', target, read_only: r.chance(0.2), volume: { nocopy: false } };
    case 1: return { type: 'tmpfs', target, read_only: false, ...(r.chance(0.5) ? { tmpfs: { size: 1 + r.int(1 << 30) } } : {}) };
    case 2: return { type: 'bind', source: r.pick(['/p/conf.txt', '/p/dir', '/p/missing', '/p/big.bin', '/p/bin.dat', '/var/run/docker.sock', '/etc/hosts']), target, read_only: r.chance(0.5) };
    case 3: return { type: r.pick(['npipe', 'cluster', 'image'] as const), source: 'x', target, read_only: false };
    default: return volumes.length > 0 ? { type: 'volume', source: r.pick(volumes), target, read_only: r.chance(0.3), ...(r.chance(0.2) ? { volume: { nocopy: true, subpath: 'sub/dir' } } : {}) } : { type: 'volume', target, read_only: false };
  }
}

function generate(r: Random): Project {
  const names = [...new Set(Array.from({ length: 1 + r.int(6) }, () => r.name()))];
  const volumeNames = [...new Set(r.some(['data', 'Logs_1', 'shared', 'v.x', 'ext'], 4))];
  const networkNames = [...new Set(['default', ...r.some(['front', 'back', 'Int_Net'], 3)])];
  const volumes: Record<string, Volume> = Object.fromEntries(volumeNames.map((v) => [v, {
    name: v === 'ext' ? 'outside-claim' : `proj_${v}`, driver_opts: {}, external: v === 'ext', labels: (r.chance(0.3) ? { 'berth.kubernetes.size': r.pick(['5Gi', '500m', 'huge', '2G']) } : {}) as Record<string, string>,
    extensions: r.chance(0.3) ? { 'x-berth': { kubernetes: r.pick([{ size: '3Gi' }, { storage_class: 'fast' }, { access_modes: ['ReadWriteMany'] }, { access_modes: 'bad' }, 'oops']) } } : {},
  }]));
  const networks: Record<string, Network> = Object.fromEntries(networkNames.map((n) => [n, { name: `proj_${n}`, driver_opts: {}, external: false, internal: r.chance(0.3), attachable: false, labels: {}, extensions: {} }]));
  const fileObject = (name: string, kind: 'secret' | 'config'): FileObject => {
    const source = r.int(4);
    return { name, external: source === 0, labels: {}, extensions: {},
      ...(source === 1 ? { file: r.pick(['/p/conf.txt', '/p/missing', '/p/big.bin', '/p/bin.dat', '/home/u/secret']) } : {}),
      ...(source === 2 ? { environment: r.pick(['TOKEN', 'UNSET']) } : {}),
      ...(source === 3 && kind === 'config' ? { content: 'a=$(b)\n' } : source === 3 ? { file: '/p/conf.txt' } : {}) };
  };
  const secrets = Object.fromEntries(r.some(['db_pw', 'Key.1', 'tls'], 3).map((s) => [s, fileObject(s, 'secret')]));
  const configs = Object.fromEntries(r.some(['app_cfg', 'nginx'], 2).map((s) => [s, fileObject(s, 'config')]));
  const services = names.map((name, i): Service => {
    const others = names.filter((n) => n !== name);
    const depends: Record<string, Dependency> = {};
    for (const d of r.some(others.slice(0, i), 2)) depends[d] = { condition: r.pick(['service_started', 'service_healthy', 'service_completed_successfully'] as const), restart: r.chance(0.2), required: true };
    const nets = r.chance(0.2) ? {} : Object.fromEntries(r.some(networkNames, 2).map((n) => [n, { aliases: r.some(['alias1', 'Alias_2', name, 'db'], 2), ...(r.chance(0.1) ? { ipv4_address: '10.0.0.9' } : {}) }]));
    return testService(name, {
      ...(r.chance(0.8) ? { image: r.pick(['nginx', 'postgres:16', 'registry.example:5000/team/app@sha256:abc']) } : { image: undefined, build: { context: '/p', args: {}, labels: {}, extra_hosts: [], platforms: [], tags: [], cache_from: [], cache_to: [], no_cache: false, pull: false, additional_contexts: {}, secrets: [], ssh: [], privileged: false } }),
      command: r.chance(0.5) ? r.some(['sh', '-c', 'echo $(HOME) $$x', '$', '$$(', 'a\nb', ''], 4) : null,
      entrypoint: r.chance(0.2) ? r.some(['/init', '$(X)'], 2) : null,
      environment: Object.fromEntries(r.some(['A', 'B_2', 'weird.name', 'with space', 'PASS'], 4).map((k) => [k, r.chance(0.2) ? null : r.pick(['1', '$(A)', '', 'x\ny', 'é'])])),
      env_file: r.chance(0.3) ? [{ path: '/p/app.env', required: true }] : [],
      labels: r.chance(0.3) ? { 'com.example.team': 'core', 'odd key!': 'v' } : {},
      ports: r.some([
        { target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }, { target: 443, protocol: 'tcp', mode: 'ingress' },
        { target: 53, published: '53', protocol: 'udp', mode: 'ingress' }, { target: 9000, published: '9000-9005', host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' },
        { target: 5000, published: '31000', host_ip: '10.1.2.3', protocol: 'sctp', mode: 'host', name: 'Web_Port' }, { target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' },
      ] as const, 3),
      expose: r.some(['3000', '4000-4005/udp', '70000', 'abc', '1-200'], 2),
      volumes: Array.from({ length: r.int(4) }, () => mount(r, volumeNames)),
      tmpfs: r.some(['/tmp', '/run:size=10m', '/x:mode=1777'], 2),
      volumes_from: r.chance(0.2) ? [r.pick([...others, 'container:foo', 'gone'].map((x) => x + (r.chance(0.5) ? ':ro' : '')))] : [],
      depends_on: depends,
      links: r.chance(0.2) ? r.some(others.map((o) => `${o}:${r.pick(['alias1', 'lnk', 'Bad_Alias'])}`), 2) : [],
      ...(r.chance(0.5) ? { healthcheck: { disable: r.chance(0.1), ...(r.chance(0.8) ? { test: r.pick([['CMD', 'true'], ['CMD-SHELL', 'curl -f localhost || exit 1'], ['NONE'], ['CMD']]) } : {}), ...(r.chance(0.5) ? { interval: r.int(100_000), timeout: r.int(5000), retries: r.int(5), start_period: r.int(60_000), start_interval: r.int(3000) } : {}) } } : {}),
      restart: r.pick([{ name: 'no', max_attempts: 0 }, { name: 'always', max_attempts: 0 }, { name: 'on-failure', max_attempts: r.int(4) }, { name: 'unless-stopped', max_attempts: 0, delay: 5000 }] as const),
      resources: { ulimits: r.chance(0.1) ? { nofile: { soft: 1, hard: 2 } } : {}, ...(r.chance(0.5) ? { cpus: r.pick([0.001, 0.5, 2, 1.25]) } : {}), ...(r.chance(0.5) ? { mem_limit: r.int(1 << 30) + 1 } : {}), ...(r.chance(0.5) ? { mem_reservation: r.int(1 << 31) + 1 } : {}), ...(r.chance(0.3) ? { cpu_shares: r.int(4096) } : {}), ...(r.chance(0.2) ? { shm_size: 1 + r.int(1 << 28) } : {}), ...(r.chance(0.1) ? { pids_limit: 10, cpu_quota: 50000 } : {}) },
      scale: r.pick([0, 1, 1, 1, 3]),
      ...(r.chance(0.2) ? { deploy: { mode: r.pick(['global', 'replicated', 'replicated-job']), labels: { 'com.x': 'y' }, ...(r.chance(0.5) ? { placement: {} } : {}) } } : {}),
      ...(r.chance(0.2) ? { stop_grace_period: r.int(200_000), stop_signal: r.pick(['SIGTERM', 'SIGINT', '9']) } : {}),
      ...(r.chance(0.3) ? { user: r.pick(['1000', '1000:1000', 'www-data', 'app:staff', '0:root']) } : {}),
      ...(r.chance(0.2) ? { working_dir: '/srv' } : {}),
      ...(r.chance(0.2) ? { hostname: r.pick(['h1', 'Bad_Host', 'x'.repeat(70)]) } : {}),
      ...(r.chance(0.1) ? { domainname: 'example.com' } : {}),
      ...(r.chance(0.1) ? { init: r.chance(0.5) } : {}),
      ...(r.chance(0.1) ? { container_name: 'fixed' } : {}),
      ...(r.chance(0.1) ? { platform: r.pick(['linux/amd64', 'linux/arm64/v8', 'linux']) } : {}),
      ...(r.chance(0.1) ? { pull_policy: r.pick(['always', 'never', 'missing', 'build', 'daily']) } : {}),
      tty: r.chance(0.2), stdin_open: r.chance(0.2), privileged: r.chance(0.1), read_only: r.chance(0.2),
      cap_add: r.some(['NET_ADMIN', 'cap_sys_time', 'ALL'], 2), cap_drop: r.some(['ALL', 'MKNOD'], 1),
      security_opt: r.some(['no-new-privileges', 'no-new-privileges:false', 'seccomp=unconfined', 'apparmor:p', 'label:level:s0:c1', 'label:disable', 'junk'], 2),
      sysctls: r.chance(0.2) ? { 'net.core.somaxconn': '1024', 'net.ipv4.tcp_syncookies': '1' } : {},
      extra_hosts: r.some(['a=1.2.3.4', 'b=::1', 'gw=host-gateway', 'c=[fe80::1]'], 2),
      dns: r.some(['8.8.8.8'], 1), dns_search: r.some(['corp'], 1), dns_opt: r.some(['ndots:3', 'rotate'], 1),
      devices: r.chance(0.1) ? [{ source: '/dev/x', target: '/dev/x', permissions: 'rwm' }] : [],
      group_add: r.some(['44', 'video'], 2),
      networks: nets,
      ...(r.chance(0.1) ? { network_mode: r.pick(['host', 'none', `service:${names[0]}`, 'bridge']) } : {}),
      ...(r.chance(0.1) ? { pid: r.pick(['host', 'container:x']), ipc: r.pick(['host', 'shareable', 'service:x']) } : {}),
      ...(r.chance(0.1) ? { logging: { driver: 'syslog', options: {} } } : {}),
      secrets: r.some(Object.keys(secrets), 2).map((s) => ({ source: s, target: `/run/secrets/${s}`, ...(r.chance(0.3) ? { mode: 0o400, uid: '1' } : {}) })),
      configs: r.some(Object.keys(configs), 2).map((s) => ({ source: s, target: `/${s}` })),
      extensions: r.chance(0.3) ? { 'x-berth': { kubernetes: r.pick([{ controller: 'job' }, { controller: 'statefulset' }, { controller: 'daemonset' }, { service_type: 'NodePort' }, { bind_mounts: r.pick(['hostPath', 'emptyDir', 'persistentVolumeClaim', 'configMap', 'nfs']) }, { secret_env_files: ['./app.env', './other.env'], secret_environment: ['PASS', 'NOPE'] }, { unknown: 1 }, 5]) } } : {},
      unsupported: r.chance(0.1) ? { runtime: 'runsc' } : {},
    });
  });
  const project = testProject(r.pick(['proj', 'My_Project_', 'p'.repeat(70)]), services);
  return { ...project, working_dir: '/p', volumes, networks, secrets, configs };
}

const host: Host = {
  file: (path): HostFile => {
    if (path === '/p/conf.txt' || path.startsWith('/p/dir/')) return { kind: 'file', size: 9, text: 'k=v\n$(x)\n', base64: 'az12CiQoeCkK' };
    if (path === '/p/bin.dat') return { kind: 'file', size: 3, base64: 'AAEC' };
    if (path === '/p/big.bin') return { kind: 'file', size: 5 << 20 };
    if (path === '/p/dir') return { kind: 'directory' };
    if (path === '/etc/hosts') return { kind: 'other', reason: 'outside the project directory' };
    return { kind: 'missing' };
  },
  list: (path) => (path === '/p/dir' ? ['a.conf', 'Sub Dir', 'b.txt'] : undefined),
  envFile: (path) => (path === '/p/app.env' ? new Map([['A', '1'], ['PASS', 'x']]) : undefined),
  variable: (name) => (name === 'TOKEN' ? 't0k3n' : undefined),
};

test('generated compose models: no crash, valid objects, YAML that reads back, same output twice', () => {
  const rounds = 250;
  let objects = 0;
  for (let round = 0; round < rounds; round++) {
    const r = new Random(1000 + round);
    const project = generate(r);
    const options: Partial<ConvertOptions> = r.pick([{}, { networkPolicies: true }, { namespace: 'fuzz', controller: 'statefulset', publishType: 'NodePort' }, { controller: 'deployment', publishType: 'ClusterIP', storageClass: 'std', volumeSize: '2Gi' }]);
    let c;
    try { c = convertProject(project, options, host); } catch (e) {
      assert.fail(`round ${round}: the converter threw ${(e as Error).stack}\nproject: ${JSON.stringify(project).slice(0, 4000)}`);
    }
    const external = [
      'PersistentVolumeClaim/outside-claim',
      ...c.findings.flatMap((x) => [...x.message.matchAll(/(?:create the|expects a) (Secret|ConfigMap|PersistentVolumeClaim) (?:named )?(\S+) /g)].map((m) => `${m[1]}/${m[2]}`)),
    ];
    const problems = validateObjects(c.manifests.map((m) => m.object), { external });
    assert.deepEqual(problems, [], `round ${round}: invalid objects\n${problems.join('\n')}\n${renderStream(c, 'yaml').slice(0, 6000)}`);
    const text = renderStream(c, 'yaml');
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    assert.deepEqual(docs, c.manifests.map((m) => JSON.parse(JSON.stringify(m.object))), `round ${round}: YAML does not read back`);
    assert.equal(renderStream(convertProject(project, options, host), 'yaml'), text, `round ${round}: not deterministic`);
    for (const f of c.findings) assert.ok(f.message.length > 0 && !/undefined|\[object Object\]|NaN/.test(f.message), `round ${round}: finding ${JSON.stringify(f)}`);
    objects += c.manifests.length;
  }
  process.stdout.write(`# kube fuzz: ${rounds} generated projects, ${objects} objects, all valid\n`);
});
