// The engine checks every project it is sent (api/project-check.ts). A project the loader made
// must pass that check unchanged: every file of the corpus, the examples, and a file that uses
// every kind of key. When the model gains a field the check does not know, the field is dropped
// by the check and this test names it (and the compiler already refuses a Shape without it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject, SpecError } from '../../src/spec/index.js';
import { checkProject } from '../../src/api/project-check.js';
import { InvalidArgument } from '../../src/lib/errors.js';
import { repoRoot } from '../helpers/env.js';
import { corpusFiles } from './corpus-files.js';

const EVERY_KIND = `
name: everything
x-top: { anchors: [1, 2, { deep: true }] }
services:
  web:
    image: nginx:1.27
    build:
      context: .
      dockerfile: Dockerfile
      args: { A: "1", B: null }
      target: prod
      labels: { l: v }
      shm_size: 64m
      extra_hosts: ["a:127.0.0.1"]
      tags: ["web:dev"]
      cache_from: ["web:cache"]
      no_cache: true
    container_name: the-web
    command: ["nginx", "-g", "daemon off;"]
    entrypoint: /docker-entrypoint.sh
    environment: { A: "1", UNSET: null }
    labels: { tier: web }
    annotations: { a: b }
    ports: ["8080:80", "127.0.0.1:8443:443/tcp", { target: 53, protocol: udp, mode: host }]
    expose: ["9000"]
    volumes:
      - ./html:/usr/share/nginx/html:ro
      - data:/data
      - type: tmpfs
        target: /cache
        tmpfs: { size: 1m, mode: 0o755 }
    tmpfs: [/run]
    depends_on:
      db: { condition: service_healthy, restart: true }
      init: { condition: service_completed_successfully, required: false }
    healthcheck: { test: ["CMD", "true"], interval: 10s, timeout: 3s, retries: 2, start_period: 1s, start_interval: 500ms }
    restart: on-failure:3
    stop_signal: SIGQUIT
    stop_grace_period: 20s
    user: "1000:1000"
    working_dir: /srv
    hostname: web
    domainname: example.org
    init: true
    tty: true
    stdin_open: true
    read_only: true
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    security_opt: [no-new-privileges]
    sysctls: { net.core.somaxconn: "1024" }
    extra_hosts: ["host.docker.internal:host-gateway"]
    dns: [1.1.1.1]
    dns_search: [example.org]
    dns_opt: [use-vc]
    devices: ["/dev/fuse:/dev/fuse:rwm"]
    group_add: [audio]
    networks:
      front: { aliases: [www], ipv4_address: 172.30.0.10, priority: 10 }
    ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 512 }
    mem_limit: 256m
    memswap_limit: 512m
    cpus: 0.5
    cpu_shares: 512
    pids_limit: 100
    shm_size: 64m
    logging: { driver: json-file, options: { max-size: 10m } }
    secrets: [token]
    configs: [conf]
    develop:
      watch:
        - { path: ./src, action: sync, target: /srv/src, ignore: [node_modules] }
    deploy:
      labels: { d: e }
    x-custom: { any: [thing] }
  db:
    image: postgres:16
    scale: 2
    healthcheck: { test: "pg_isready", disable: false }
  init:
    image: busybox
    profiles: [setup]
  debug:
    image: busybox
    profiles: [debug]
networks:
  front:
    driver: bridge
    ipam: { config: [{ subnet: 172.30.0.0/24, gateway: 172.30.0.1 }] }
    internal: true
    labels: { n: m }
volumes:
  data: { driver_opts: { type: tmpfs, device: tmpfs } }
secrets:
  token: { file: ./token.txt }
configs:
  conf: { content: "key=value" }
`;

/** What crosses the socket: the project as JSON. */
const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

async function check(files: readonly string[], cwd: string): Promise<'ok' | 'unsupported'> {
  let project;
  try {
    project = (await loadProject({ files: [...files], env: { HOME: '/home/user' }, cwd, profiles: ['setup'] })).project;
  } catch (e) {
    if (e instanceof SpecError) return 'unsupported';
    throw e;
  }
  const sent = json(project);
  assert.deepEqual(json(checkProject(sent, 'project')), sent, `${files.join(',')}: the engine's check changed the project`);
  return 'ok';
}

test('a file with every kind of key passes the engine\'s check unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-check-'));
  try {
    writeFileSync(join(dir, 'compose.yaml'), EVERY_KIND);
    writeFileSync(join(dir, 'token.txt'), 's3cret');
    assert.equal(await check([join(dir, 'compose.yaml')], dir), 'ok');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the examples and the corpus pass the engine\'s check unchanged', async (t) => {
  const examples = readdirSync(join(repoRoot, 'examples'), { withFileTypes: true }).filter((d) => d.isDirectory())
    .map((d) => join(repoRoot, 'examples', d.name, 'compose.yaml')).filter((f) => existsSync(f));
  let ok = 0;
  for (const f of [...examples, ...corpusFiles()]) if ((await check([f], f.slice(0, f.lastIndexOf('/')))) === 'ok') ok++;
  t.diagnostic(`${ok} projects checked`);
  assert.ok(ok >= examples.length);
});

test('a project of the wrong shape is refused naming the path; unknown keys are dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-check-'));
  try {
    writeFileSync(join(dir, 'compose.yaml'), 'name: p\nservices:\n  web:\n    image: bb\n');
    const project = json((await loadProject({ files: [join(dir, 'compose.yaml')], env: {}, cwd: dir })).project) as Record<string, any>;
    const bad = (mutate: (p: Record<string, any>) => void): unknown => { const p = json(project) as Record<string, any>; mutate(p); return p; };
    assert.throws(() => checkProject(bad((p) => { p.services.web.depends_on = { db: { condition: 'eventually', restart: false, required: true } }; }), 'project'),
      (e: unknown) => e instanceof InvalidArgument && /^project\.services\.web\.depends_on\.db\.condition: expected "service_started" or/.test(e.message));
    assert.throws(() => checkProject(bad((p) => { p.services.web.name = 'other'; }), 'project'), /project\.services\.web\.name: expected "web"/);
    assert.throws(() => checkProject(bad((p) => { delete p.services.web.environment; }), 'project'), /project\.services\.web\.environment: expected an object, got undefined/);
    assert.throws(() => checkProject(bad((p) => { p.services = { __proto__: 1 }; p.services = JSON.parse('{"__proto__": {}}'); }), 'project'), /__proto__/);
    const extra = checkProject(bad((p) => { p.surprise = 1; p.services.web.surprise = 2; }), 'project') as unknown as Record<string, any>;
    assert.equal(extra.surprise, undefined);
    assert.equal(extra.services.web.surprise, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
