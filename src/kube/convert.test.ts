// Golden tests, one per mapping rule: a small compose file in, the relevant part of the manifests
// out (as the YAML berth prints), and every conversion validated as an API server would
// (test/helpers/kube-validate.ts: the OpenAPI schemas of kubernetes-models plus the server's
// name, reference and consistency rules).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { validateObjects } from '../../test/helpers/kube-validate.js';
import type { Conversion } from './convert.js';
import { findingText } from './options.js';
import { renderFiles, renderStream } from './render.js';
import { convertYaml, memoryHost, objectsOf, projectOf } from './testing.js';
import { convertProject } from './convert.js';
import type { Container, Deployment, Job, NetworkPolicy, PersistentVolumeClaim, PodSpec, Service, StatefulSet, Workload } from './types.js';
import { toYaml } from './yaml.js';

type Files = Record<string, string | null>;

/** Converts, validates every object, and returns the conversion. */
function convert(yaml: string, options: Parameters<typeof convertYaml>[1] = {}, files: Files = {}, variables: Record<string, string> = {}): Conversion {
  const c = convertYaml(yaml, options, files, variables);
  const problems = validateObjects(c.manifests.map((m) => m.object), { external: ['PersistentVolumeClaim/outside', 'Secret/vault-key', 'ConfigMap/shared-config'] });
  assert.deepEqual(problems, [], `invalid objects:\n${problems.join('\n')}\n---\n${renderStream(c, 'yaml')}`);
  return c;
}
const workloads = (c: Conversion): Record<string, Workload> => ({ ...objectsOf<Workload>(c, 'Deployment'), ...objectsOf<Workload>(c, 'StatefulSet'), ...objectsOf<Workload>(c, 'Job'), ...objectsOf<Workload>(c, 'DaemonSet') });
const pod = (c: Conversion, name: string): PodSpec => workloads(c)[name]!.spec.template.spec;
const container = (c: Conversion, name: string): Container => pod(c, name).containers[0]!;
const findings = (c: Conversion): string[] => c.findings.map(findingText);
const golden = (value: unknown, want: string): void => assert.equal(toYaml(value), want.replace(/^\n/, ''));

test('image, command, entrypoint, environment, working_dir, tty: the container, with $(VAR) escaped', () => {
  const c = convert(`
services:
  web:
    image: nginx:1.25
    entrypoint: ["/docker-entrypoint.sh"]
    command: ["sh", "-c", "echo $$(date) $$HOME"]
    environment:
      GREETING: "cost: $$(price)"
      PLAIN: hello
      UNSET:
    working_dir: /srv
    tty: true
    stdin_open: true
    pull_policy: always
`);
  golden(container(c, 'web'), `
name: web
image: nginx:1.25
imagePullPolicy: Always
command:
- /docker-entrypoint.sh
args:
- sh
- "-c"
- "echo $$(date) $HOME"
workingDir: /srv
env:
- name: GREETING
  value: "cost: $$(price)"
- name: PLAIN
  value: hello
tty: true
stdin: true
`);
  assert.deepEqual(findings(c), []);
});

test('ports and expose: a ClusterIP Service on the container ports, and a LoadBalancer for published ports', () => {
  const c = convert(`
services:
  web:
    image: nginx
    ports: ["8080:80", "443:443", "127.0.0.1:9000:9000", "53:53/udp"]
    expose: ["3000"]
`);
  const services = objectsOf<Service>(c, 'Service');
  golden(services['web']!.spec, `
type: ClusterIP
selector:
  app.kubernetes.io/name: web
  app.kubernetes.io/part-of: p
ports:
- name: tcp-80
  port: 80
  targetPort: 80
  protocol: TCP
- name: tcp-443
  port: 443
  targetPort: 443
  protocol: TCP
- name: tcp-9000
  port: 9000
  targetPort: 9000
  protocol: TCP
- name: udp-53
  port: 53
  targetPort: 53
  protocol: UDP
- name: tcp-3000
  port: 3000
  targetPort: 3000
  protocol: TCP
`);
  golden(services['web-published']!.spec, `
type: LoadBalancer
selector:
  app.kubernetes.io/name: web
  app.kubernetes.io/part-of: p
ports:
- name: tcp-8080
  port: 8080
  targetPort: 80
  protocol: TCP
- name: tcp-443
  port: 443
  targetPort: 443
  protocol: TCP
- name: udp-53
  port: 53
  targetPort: 53
  protocol: UDP
`);
  assert.deepEqual(container(c, 'web').ports!.map((p) => `${p.containerPort}/${p.protocol}`), ['80/TCP', '443/TCP', '9000/TCP', '53/UDP', '3000/TCP']);
  assert.deepEqual(findings(c), ['services.web.ports[2]: published on the host\'s loopback (127.0.0.1) only: not exposed outside the cluster (kubectl port-forward reaches it)']);
});

test('published ports as NodePort (in range kept, out of range left to Kubernetes), or not at all with ClusterIP', () => {
  const yaml = 'services:\n  web:\n    image: nginx\n    ports: ["30080:80", "8080:8080"]\n';
  const c = convert(yaml, { publishType: 'NodePort' });
  const p = objectsOf<Service>(c, 'Service')['web-published']!;
  assert.equal(p.spec.type, 'NodePort');
  assert.deepEqual(p.spec.ports!.map((x) => x.nodePort), [30080, undefined]);
  assert.match(findings(c).join('\n'), /8080 is outside the NodePort range/);
  const none = convert(yaml, { publishType: 'ClusterIP' });
  assert.equal(objectsOf<Service>(none, 'Service')['web-published'], undefined);
  assert.match(findings(none).join('\n'), /not exposed outside the cluster \(service type ClusterIP\)/);
  const perService = convert('services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n    x-berth:\n      kubernetes:\n        service_type: NodePort\n');
  assert.equal(objectsOf<Service>(perService, 'Service')['web-published']!.spec.type, 'NodePort');
});

test('a service without ports gets a headless Service, so its name resolves to its pods as in compose', () => {
  const c = convert('services:\n  db:\n    image: postgres\n');
  golden(objectsOf<Service>(c, 'Service')['db']!.spec, `
clusterIP: None
selector:
  app.kubernetes.io/name: db
  app.kubernetes.io/part-of: p
`);
});

test('healthcheck → readiness probe (and a startup probe for start_period), exec as written', () => {
  const c = convert(`
services:
  db:
    image: postgres
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres"]
      interval: 5s
      timeout: 1500ms
      retries: 4
      start_period: 30s
      start_interval: 2s
  api:
    image: api
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost/health"]
  quiet:
    image: q
    healthcheck:
      disable: true
  inherits:
    image: i
    healthcheck:
      interval: 10s
`);
  golden({ readinessProbe: container(c, 'db').readinessProbe, startupProbe: container(c, 'db').startupProbe }, `
readinessProbe:
  exec:
    command:
    - /bin/sh
    - "-c"
    - pg_isready -U postgres
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 4
startupProbe:
  exec:
    command:
    - /bin/sh
    - "-c"
    - pg_isready -U postgres
  periodSeconds: 2
  timeoutSeconds: 2
  failureThreshold: 25
`);
  assert.deepEqual(container(c, 'api').readinessProbe, { exec: { command: ['curl', '-f', 'http://localhost/health'] }, periodSeconds: 30, timeoutSeconds: 30, failureThreshold: 3 });
  assert.equal(container(c, 'quiet').readinessProbe, undefined);
  assert.equal(container(c, 'inherits').readinessProbe, undefined);
  assert.deepEqual(findings(c), ["services.inherits.healthcheck: has no test: it inherits the image's HEALTHCHECK, which Kubernetes does not run; no probe written (add a test)"]);
});

test('resources: cpus, mem_limit, mem_reservation, cpu_shares and deploy.resources → limits and requests', () => {
  const c = convert(`
services:
  a:
    image: a
    cpus: 0.5
    mem_limit: 512m
    mem_reservation: 128m
    cpu_shares: 256
  b:
    image: b
    deploy:
      resources:
        limits: {cpus: "2", memory: 1G, pids: 100}
        reservations: {memory: 2G}
    ulimits: {nofile: 1024}
`);
  golden(container(c, 'a').resources, `
limits:
  cpu: 500m
  memory: 512Mi
requests:
  cpu: 250m
  memory: 128Mi
`);
  golden(container(c, 'b').resources, `
limits:
  cpu: "2"
  memory: 1Gi
requests:
  memory: 1Gi
`);
  assert.deepEqual(findings(c), [
    'services.b.mem_reservation: is above mem_limit; the request is lowered to the limit',
    'services.b.pids_limit: not mapped (Kubernetes sets pid limits per node, not per container)',
    'services.b.ulimits: not mapped (Kubernetes has no per-container rlimits; they come from the container runtime)',
  ]);
});

test('user, capabilities, privileged, read_only, security_opt, sysctls, group_add → security contexts', () => {
  const c = convert(`
services:
  app:
    image: app
    user: "1000:2000"
    cap_add: [NET_ADMIN, CAP_SYS_TIME]
    cap_drop: [ALL]
    privileged: true
    read_only: true
    security_opt: ["no-new-privileges:true", "seccomp:unconfined", "apparmor=my-profile", "label:type:spc_t", "seccomp:/etc/profile.json"]
    sysctls: {net.core.somaxconn: "1024", net.ipv4.tcp_syncookies: "1"}
    group_add: ["44", video]
`);
  golden(container(c, 'app').securityContext, `
runAsUser: 1000
runAsGroup: 2000
privileged: true
readOnlyRootFilesystem: true
capabilities:
  add:
  - NET_ADMIN
  - SYS_TIME
  drop:
  - ALL
allowPrivilegeEscalation: false
seccompProfile:
  type: Unconfined
appArmorProfile:
  type: Localhost
  localhostProfile: my-profile
seLinuxOptions:
  type: spc_t
`);
  golden(pod(c, 'app').securityContext, `
sysctls:
- name: net.core.somaxconn
  value: "1024"
- name: net.ipv4.tcp_syncookies
  value: "1"
supplementalGroups:
- 44
`);
  assert.deepEqual(findings(c), [
    'services.app.security_opt[4]: "seccomp:/etc/profile.json" not mapped (a seccomp profile file must be installed on the nodes: securityContext.seccompProfile type Localhost)',
    'services.app.sysctls: net.core.somaxconn must be allowed by the kubelet (--allowed-unsafe-sysctls) or the pod will not start',
    'services.app.group_add: group names (video) not mapped: Kubernetes takes numeric gids',
  ]);
  const named = convert('services:\n  db:\n    image: postgres\n    user: postgres\n');
  assert.deepEqual(findings(named), ['services.db.user: "postgres": Kubernetes runs as a numeric uid; not mapped (write the uid)']);
});

test('named volumes → PersistentVolumeClaims, and StatefulSets for the services that mount them', () => {
  const c = convert(`
services:
  db:
    image: postgres
    volumes: ["data:/var/lib/postgresql/data", "logs:/var/log/pg"]
  web:
    image: nginx
volumes:
  data:
    x-berth:
      kubernetes: {size: 20Gi, storage_class: fast-ssd}
  logs:
    labels: {berth.kubernetes.size: 500m}
  spare: {}
`);
  const claims = objectsOf<PersistentVolumeClaim>(c, 'PersistentVolumeClaim');
  golden(claims['data']!.spec, `
accessModes:
- ReadWriteOnce
resources:
  requests:
    storage: 20Gi
storageClassName: fast-ssd
`);
  assert.equal(claims['logs']!.spec.resources.requests.storage, '500Mi');
  assert.equal(claims['spare']!.spec.resources.requests.storage, '1Gi', 'an unused declared volume still gets its claim, at --volume-size');
  const db = workloads(c)['db'] as StatefulSet;
  assert.equal(db.kind, 'StatefulSet');
  assert.equal(db.spec.serviceName, 'db');
  golden({ volumeMounts: container(c, 'db').volumeMounts, volumes: pod(c, 'db').volumes }, `
volumeMounts:
- name: data
  mountPath: /var/lib/postgresql/data
- name: logs
  mountPath: /var/log/pg
volumes:
- name: data
  persistentVolumeClaim:
    claimName: data
- name: logs
  persistentVolumeClaim:
    claimName: logs
`);
  assert.equal(workloads(c)['web']!.kind, 'Deployment');
  const asDeployments = convert('services:\n  db:\n    image: postgres\n    volumes: ["data:/d"]\nvolumes:\n  data: {}\n', { controller: 'deployment' });
  const d = workloads(asDeployments)['db'] as Deployment;
  assert.equal(d.kind, 'Deployment');
  assert.deepEqual(d.spec.strategy, { type: 'Recreate' }, 'a Deployment with a claim never runs the old and new pod at once');
  assert.equal(workloads(convert('services:\n  w:\n    image: w\n', { controller: 'statefulset' }))['w']!.kind, 'StatefulSet');
});

test('a volume shared by two services asks for ReadWriteMany; an external one is referenced, not created', () => {
  const c = convert(`
services:
  a: {image: a, volumes: ["shared:/s", "ext:/e"]}
  b: {image: b, volumes: ["shared:/s:ro"]}
volumes:
  shared: {}
  ext: {external: true, name: outside}
`);
  const claims = objectsOf<PersistentVolumeClaim>(c, 'PersistentVolumeClaim');
  assert.deepEqual(claims['shared']!.spec.accessModes, ['ReadWriteMany']);
  assert.equal(claims['outside'], undefined);
  assert.deepEqual(pod(c, 'a').volumes!.find((v) => v.name === 'ext')!.persistentVolumeClaim, { claimName: 'outside' });
  assert.equal(container(c, 'b').volumeMounts![0]!.readOnly, true);
  assert.deepEqual(findings(c), [
    'volumes.ext.external: expects a PersistentVolumeClaim named outside to exist in the namespace',
    'volumes.shared: mounted by a, b: the claim asks for ReadWriteMany, which the storage class must support (or set x-berth.kubernetes.access_modes)',
  ]);
});

test('anonymous volumes, tmpfs and shm_size → emptyDirs', () => {
  const c = convert(`
services:
  app:
    image: app
    volumes: ["/cache", {type: tmpfs, target: /run/t, tmpfs: {size: 64m}}]
    tmpfs: ["/tmp:size=16m"]
    shm_size: 256m
`);
  golden(pod(c, 'app').volumes, `
- name: anonymous-0
  emptyDir: {}
- name: tmpfs-1
  emptyDir:
    medium: Memory
    sizeLimit: 64Mi
- name: tmpfs-2
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
- name: dshm
  emptyDir:
    medium: Memory
    sizeLimit: 256Mi
`);
  assert.deepEqual(container(c, 'app').volumeMounts!.map((m) => m.mountPath), ['/cache', '/run/t', '/tmp', '/dev/shm']);
  assert.match(findings(c)[0]!, /anonymous volume at \/cache becomes an emptyDir/);
});

test('bind mounts: a single file → ConfigMap; a directory → reported, or what x-berth.kubernetes.bind_mounts says', () => {
  const files: Files = { '/p/nginx.conf': 'server { listen 80; }\n', '/p/site': null, '/p/site/index.html': '<h1>hi</h1>', '/p/site/app.js': 'x()' };
  const c = convert(`
services:
  web:
    image: nginx
    volumes: ["./nginx.conf:/etc/nginx/nginx.conf:ro", "./site:/usr/share/nginx/html", "/var/run/docker.sock:/var/run/docker.sock"]
`, {}, files);
  const cm = objectsOf(c, 'ConfigMap')['web-nginx-conf']!;
  assert.deepEqual(cm['data'], { 'nginx.conf': 'server { listen 80; }\n' });
  golden(container(c, 'web').volumeMounts, `
- name: bind-0
  mountPath: /etc/nginx/nginx.conf
  readOnly: true
  subPath: nginx.conf
`);
  assert.deepEqual(findings(c), [
    'services.web.volumes[1]: the host directory /p/site has no cluster equivalent; not mapped (set x-berth.kubernetes.bind_mounts to hostPath, emptyDir, persistentVolumeClaim or configMap)',
    'services.web.volumes[2]: /var/run/docker.sock: the Docker socket does not exist on a cluster node; not mapped',
  ]);
  for (const [mapping, check] of [
    ['hostPath', (v: Record<string, unknown>) => assert.deepEqual(v['hostPath'], { path: '/p/site', type: 'Directory' })],
    ['emptyDir', (v: Record<string, unknown>) => assert.deepEqual(v['emptyDir'], {})],
    ['persistentVolumeClaim', (v: Record<string, unknown>) => assert.deepEqual(v['persistentVolumeClaim'], { claimName: 'web--usr-share-nginx-html' })],
    ['configMap', (v: Record<string, unknown>) => assert.deepEqual(v['configMap'], { name: 'web-site' })],
  ] as const) {
    const m = convert(`services:\n  web:\n    image: nginx\n    volumes: ["./site:/usr/share/nginx/html"]\n    x-berth:\n      kubernetes:\n        bind_mounts: ${mapping}\n`, {}, files);
    check(pod(m, 'web').volumes![0] as unknown as Record<string, unknown>);
    if (mapping === 'configMap') assert.deepEqual(objectsOf(m, 'ConfigMap')['web-site']!['data'], { 'app.js': 'x()', 'index.html': '<h1>hi</h1>' });
  }
});

test('configs and secrets → ConfigMaps and Secrets mounted at their targets', () => {
  const yaml = `
services:
  app:
    image: app
    configs: [settings, inline]
    secrets: [db_password, api_key, vault-key]
configs:
  settings: {file: ./settings.json}
  inline: {content: "debug=true"}
secrets:
  db_password: {file: ./db_password.txt}
  api_key: {environment: API_KEY}
  vault-key: {external: true}
`;
  const files: Files = { '/p/settings.json': '{"a":1}', '/p/db_password.txt': 's3cret' };
  const project = projectOf(yaml, files, { API_KEY: 'k-123' });
  // the long forms (target, mode), set on the model: what the loader gives for them
  const app = project.services['app']!;
  const withLongForms = { ...project, services: { app: { ...app,
    configs: [{ ...app.configs[0]!, target: '/etc/app/settings.json', mode: 0o440 }, app.configs[1]!],
    secrets: [app.secrets[0]!, { ...app.secrets[1]!, target: '/run/secrets/key' }, app.secrets[2]!] } } };
  const c = convertProject(withLongForms, {}, memoryHost(files, { API_KEY: 'k-123' }));
  assert.deepEqual(validateObjects(c.manifests.map((m) => m.object), { external: ['Secret/vault-key'] }), []);
  assert.deepEqual(objectsOf(c, 'ConfigMap')['settings']!['data'], { settings: '{"a":1}' });
  assert.deepEqual(objectsOf(c, 'ConfigMap')['inline']!['data'], { inline: 'debug=true' });
  const secrets = objectsOf(c, 'Secret');
  assert.equal(Buffer.from((secrets['db-password']!['data'] as Record<string, string>)['db_password']!, 'base64').toString(), 's3cret');
  assert.equal(Buffer.from((secrets['api-key']!['data'] as Record<string, string>)['api_key']!, 'base64').toString(), 'k-123');
  assert.equal((secrets['db-password']!['metadata'] as { annotations: Record<string, string> }).annotations['berth/compose-name'], 'db_password');
  golden(container(c, 'app').volumeMounts, `
- name: config-settings
  mountPath: /etc/app/settings.json
  subPath: settings
  readOnly: true
- name: config-inline
  mountPath: /inline
  subPath: inline
  readOnly: true
- name: secret-db-password
  mountPath: /run/secrets/db_password
  subPath: db_password
  readOnly: true
- name: secret-api-key
  mountPath: /run/secrets/key
  subPath: api_key
  readOnly: true
- name: secret-vault-key
  mountPath: /run/secrets/vault-key
  subPath: vault-key
  readOnly: true
`);
  assert.equal(pod(c, 'app').volumes!.find((v) => v.name === 'config-settings')!.configMap!.defaultMode, 0o440);
  assert.deepEqual(findings(c), ['secrets.vault-key.external: expects a Secret named vault-key with the key vault-key to exist in the namespace']);
});

test('a secret or config whose source is missing is reported once, and mounted from an object the user makes', () => {
  const c = convertYaml('services:\n  a: {image: a, secrets: [pw]}\n  b: {image: b, secrets: [pw]}\nsecrets:\n  pw: {file: ./pw.txt}\n', {}, {});
  assert.deepEqual(findings(c), ['secrets.pw.file: /p/pw.txt does not exist; not written: create the Secret pw (key pw) yourself']);
});

test('env values marked secret (env files or variable names) move to a Secret', () => {
  const c = convert(`
services:
  app:
    image: app
    env_file: [./app.env, ./secret.env]
    environment:
      TOKEN: from-environment
      PASSWORD: hunter2
    x-berth:
      kubernetes:
        secret_env_files: [./secret.env]
        secret_environment: [PASSWORD]
`, {}, { '/p/app.env': 'MODE=prod\n', '/p/secret.env': 'DB_PASS=p4ss\nTOKEN=from-file\n' });
  golden(container(c, 'app').env, `
- name: MODE
  value: prod
- name: DB_PASS
  valueFrom:
    secretKeyRef:
      name: app-env
      key: DB_PASS
- name: TOKEN
  value: from-environment
- name: PASSWORD
  valueFrom:
    secretKeyRef:
      name: app-env
      key: PASSWORD
`);
  const data = objectsOf(c, 'Secret')['app-env']!['data'] as Record<string, string>;
  assert.deepEqual(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])), { DB_PASS: 'p4ss', PASSWORD: 'hunter2' });
  assert.deepEqual(findings(c), ['services.app.environment: TOKEN from the secret env file is overridden in environment; the overriding value stays plain']);
});

test('depends_on conditions → init containers that wait; completed dependencies become Jobs', () => {
  const c = convert(`
services:
  web:
    image: web
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started, restart: true}
      migrate: {condition: service_completed_successfully}
  db:
    image: postgres
    expose: ["5432"]
    healthcheck: {test: "pg_isready"}
  cache:
    image: redis
  migrate:
    image: web
    command: ["migrate"]
`, { namespace: 'shop' });
  golden(pod(c, 'web').initContainers, `
- name: wait-db
  image: busybox:1.36
  command:
  - sh
  - "-c"
  - "until nc -z -w 2 db.$$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local 5432 >/dev/null 2>&1; do echo waiting for db; sleep 2; done"
- name: wait-cache
  image: busybox:1.36
  command:
  - sh
  - "-c"
  - "until nslookup cache.$$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local >/dev/null 2>&1; do echo waiting for cache; sleep 2; done"
- name: wait-migrate
  image: registry.k8s.io/kubectl:v1.33.0
  command:
  - kubectl
  - wait
  - "--for=condition=complete"
  - "--timeout=-1s"
  - job/migrate
`);
  assert.equal(pod(c, 'web').serviceAccountName, 'berth-wait');
  const job = workloads(c)['migrate'] as Job;
  assert.equal(job.kind, 'Job');
  assert.equal(job.spec.template.spec.restartPolicy, 'Never');
  assert.equal(job.spec.backoffLimit, 0);
  assert.deepEqual(objectsOf(c, 'Role')['berth-wait']!['rules'], [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }]);
  assert.deepEqual((objectsOf(c, 'RoleBinding')['berth-wait']!['subjects'] as unknown[])[0], { kind: 'ServiceAccount', name: 'berth-wait', namespace: 'shop' });
  assert.deepEqual(findings(c), ['services.web.depends_on.cache.restart: not mapped: Kubernetes does not restart web when cache is replaced']);
  const noNamespace = convert('services:\n  a:\n    image: a\n    depends_on: {j: {condition: service_completed_successfully}}\n  j: {image: j}\n');
  assert.match(findings(noNamespace).join('\n'), /pass --namespace/);
});

test('restart → restartPolicy where it can be expressed', () => {
  const c = convert(`
services:
  once: {image: x, restart: "on-failure:3", x-berth: {kubernetes: {controller: job}}}
  forever: {image: x, restart: always, x-berth: {kubernetes: {controller: job}}}
  svc: {image: x, restart: on-failure}
  scaled: {image: x, scale: 3, x-berth: {kubernetes: {controller: job}}}
`);
  const w = workloads(c);
  assert.deepEqual([(w['once'] as Job).spec.template.spec.restartPolicy, (w['once'] as Job).spec.backoffLimit], ['OnFailure', 3]);
  assert.deepEqual([(w['forever'] as Job).spec.template.spec.restartPolicy, (w['forever'] as Job).spec.backoffLimit], ['OnFailure', 6]);
  assert.deepEqual([(w['scaled'] as Job).spec.completions, (w['scaled'] as Job).spec.parallelism], [3, 3]);
  assert.equal(w['svc']!.kind, 'Deployment');
  assert.equal(w['svc']!.spec.template.spec.restartPolicy, undefined);
  assert.deepEqual(findings(c), [
    'services.forever.restart: always cannot be expressed by a Job: it restarts on failure, at most 6 times',
    'services.svc.restart: on-failure not mapped: a Deployment restarts its pods whatever the exit status (make it a Job with x-berth.kubernetes.controller: job)',
  ]);
});

test('pod settings: hostname, extra_hosts, dns, pid/ipc host, init, stop_grace_period, platform, scale', () => {
  const c = convert(`
services:
  app:
    image: app
    hostname: app-host
    extra_hosts: ["db.local=10.0.0.5", "cache.local:10.0.0.5", "gw=host-gateway"]
    dns: [1.1.1.1]
    dns_search: [corp.example]
    dns_opt: ["ndots:2", "edns0"]
    pid: host
    ipc: host
    init: true
    stop_grace_period: 1m30s
    stop_signal: SIGINT
    platform: linux/arm64
    scale: 3
`);
  const spec = pod(c, 'app');
  golden({ ...spec, containers: undefined }, `
terminationGracePeriodSeconds: 90
hostname: app-host
hostAliases:
- ip: "10.0.0.5"
  hostnames:
  - db.local
  - cache.local
dnsConfig:
  nameservers:
  - "1.1.1.1"
  searches:
  - corp.example
  options:
  - name: ndots
    value: "2"
  - name: edns0
hostPID: true
hostIPC: true
shareProcessNamespace: true
nodeSelector:
  kubernetes.io/os: linux
  kubernetes.io/arch: arm64
`);
  assert.equal((workloads(c)['app'] as Deployment).spec.replicas, 3);
  assert.deepEqual(findings(c), [
    'services.app.stop_signal: SIGINT not mapped: Kubernetes stops containers with SIGTERM (container stop signals are alpha in Kubernetes 1.33); make the image\'s STOPSIGNAL SIGINT',
    'services.app.extra_hosts[2]: gw=host-gateway: a pod has no Docker host gateway; not mapped',
  ]);
});

test('what has no cluster equivalent is a warning per service and a comment above its workload', () => {
  const c = convert(`
services:
  app:
    build: ./app
    network_mode: host
    devices: ["/dev/ttyUSB0:/dev/ttyUSB0"]
    container_name: my-app
    logging: {driver: syslog}
    runtime: runsc
`);
  assert.deepEqual(findings(c), [
    'services.app.build: no image name: the container uses p-app, the name compose gives the image it builds; build it, push it to a registry the cluster pulls from, and set image:',
    'services.app.container_name: not mapped: pods are named by their controller (the Service keeps the compose service name)',
    'services.app.network_mode: "host" has no cluster equivalent; not mapped (the pod gets the cluster network; hostNetwork: true would put it on the node\'s network)',
    'services.app.devices: /dev/ttyUSB0: host devices have no cluster equivalent; not mapped (a device plugin exposes devices as resources)',
    'services.app.logging: not mapped (logs go to the cluster\'s logging: kubectl logs)',
    'services.app.runtime: not supported by berth; not mapped',
  ]);
  const text = renderStream(c, 'yaml');
  const doc = text.split('---\n').find((d) => d.includes('kind: Deployment'))!;
  assert.match(doc, /^# berth convert: not mapped, or mapped differently:\n# {3}services\.app\.build: no image name/);
  assert.equal(doc.split('\n').filter((l) => l.startsWith('#   services.app.')).length, 6);
  const json = JSON.parse(renderStream(c, 'json')) as { kind: string; items: { kind: string; metadata: { annotations?: Record<string, string> } }[] };
  assert.equal(json.kind, 'List');
  assert.match(json.items.find((i) => i.kind === 'Deployment')!.metadata.annotations!['berth/notes']!, /services\.app\.devices/);
});

test('--network-policies: one policy per compose network, pods labelled per network, published ports open', () => {
  const c = convert(`
services:
  proxy: {image: nginx, ports: ["80:80"], networks: [front]}
  api: {image: api, networks: [front, back]}
  db: {image: pg, networks: [back]}
  tool: {image: t, network_mode: none}
networks:
  front: {}
  back: {internal: true}
`, { networkPolicies: true });
  const policies = objectsOf<NetworkPolicy>(c, 'NetworkPolicy');
  golden(policies['network-back']!.spec, `
podSelector:
  matchLabels:
    berth.network/back: "true"
    app.kubernetes.io/part-of: p
policyTypes:
- Ingress
- Egress
ingress:
- from:
  - podSelector:
      matchLabels:
        berth.network/back: "true"
        app.kubernetes.io/part-of: p
egress:
- to:
  - podSelector:
      matchLabels:
        berth.network/back: "true"
        app.kubernetes.io/part-of: p
- ports:
  - port: 53
    protocol: UDP
  - port: 53
    protocol: TCP
`);
  assert.deepEqual(policies['network-front']!.spec.policyTypes, ['Ingress']);
  assert.deepEqual(policies['proxy-published']!.spec.ingress, [{ ports: [{ port: 80, protocol: 'TCP' }] }]);
  const labels = (n: string): Record<string, string> => workloads(c)[n]!.spec.template.metadata.labels;
  assert.equal(labels('api')['berth.network/front'], 'true');
  assert.equal(labels('api')['berth.network/back'], 'true');
  assert.equal(labels('db')['berth.network/front'], undefined);
  assert.match(findings(c).join('\n'), /services\.tool\.network_mode: its pods are on no compose network/);
  assert.equal(Object.keys(objectsOf(convert('services:\n  a: {image: a}\n'), 'NetworkPolicy')).length, 0, 'no policies unless asked');
});

test('network aliases and link aliases get Services of their own', () => {
  const c = convert(`
services:
  db:
    image: pg
    expose: ["5432"]
    networks:
      default: {aliases: [database, db]}
  web:
    image: web
    links: ["db:postgres", "db"]
`);
  const services = objectsOf<Service>(c, 'Service');
  assert.deepEqual(Object.keys(services).sort(), ['database', 'db', 'postgres', 'web']);
  assert.deepEqual(services['postgres']!.spec, services['db']!.spec);
  assert.equal(services['database']!.metadata.annotations!['berth/alias-of'], 'db');
});

test('names that are not DNS labels become labels without collisions, and the annotation keeps the compose name', () => {
  const c = convert(`
services:
  My_App: {image: a, ports: ["80:80"]}
  my-app: {image: b}
  2fast: {image: c, volumes: ["Data_Vol:/d"]}
volumes:
  Data_Vol: {}
`);
  const services = objectsOf<Service>(c, 'Service');
  const names = Object.keys(services).sort();
  assert.ok(names.includes('my-app'), 'a valid name keeps itself');
  const mapped = names.find((n) => n.startsWith('my-app-') && n !== 'my-app-published')!;
  assert.match(mapped, /^my-app-[0-9a-z]{6}$/);
  assert.equal(services[mapped]!.metadata.annotations!['berth/compose-name'], 'My_App');
  assert.ok(services['x-2fast']);
  assert.ok(objectsOf(c, 'PersistentVolumeClaim')['data-vol']);
  const back = new Set(Object.values(workloads(c)).map((w) => w.metadata.annotations?.['berth/compose-name'] ?? w.metadata.name));
  assert.deepEqual([...back].sort(), ['2fast', 'My_App', 'my-app']);
});

test('--namespace: every object in it, and a Namespace object first', () => {
  const c = convert('services:\n  a: {image: a}\n', { namespace: 'team-a' });
  assert.equal(c.manifests[0]!.object.kind, 'Namespace');
  for (const m of c.manifests.slice(1)) assert.equal(m.object.metadata.namespace, 'team-a');
  assert.throws(() => convertYaml('services:\n  a: {image: a}\n', { namespace: 'Team_A' }), /--namespace "Team_A": expected a DNS label/);
  assert.throws(() => convertYaml('services:\n  a: {image: a}\n', { volumeSize: 'big' }), /--volume-size/);
});

test('deploy.mode global → DaemonSet; x-berth settings are checked', () => {
  const c = convert(`
services:
  agent: {image: agent, deploy: {mode: global}}
  odd: {image: x, x-berth: {kubernetes: {controller: pod, colour: blue}}}
`);
  assert.equal(workloads(c)['agent']!.kind, 'DaemonSet');
  assert.equal(workloads(c)['odd']!.kind, 'Deployment');
  assert.deepEqual(findings(c), [
    'services.odd.x-berth.kubernetes.colour: unknown setting (known: controller, service_type, bind_mounts, secret_env_files, secret_environment); ignored',
    'services.odd.x-berth.kubernetes.controller: expected one of deployment, statefulset, job, daemonset, found "pod"; ignored',
  ]);
});

test('files: one per object, a kustomization listing them, and the same bytes every time', () => {
  const yaml = 'services:\n  web: {image: nginx, ports: ["80:80"], volumes: ["d:/d"]}\nvolumes:\n  d: {}\n';
  const files = renderFiles(convert(yaml), 'yaml', true, 'ns');
  assert.deepEqual(files.map((f) => f.name), ['d-persistentvolumeclaim.yaml', 'web-service.yaml', 'web-published-service.yaml', 'web-statefulset.yaml', 'kustomization.yaml']);
  assert.deepEqual(parse(files.at(-1)!.text), { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: 'ns', resources: files.slice(0, -1).map((f) => f.name) });
  for (const f of files) assert.ok(f.text.startsWith('# Generated by berth convert.'), f.name);
  assert.equal(renderStream(convert(yaml), 'yaml'), renderStream(convert(yaml), 'yaml'));
  const stream = renderStream(convert(yaml), 'yaml');
  assert.equal(stream.split('---\n').length, 4);
});
