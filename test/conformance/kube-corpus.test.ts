// Conformance: every compose file of the shared corpus (docker/awesome-compose) converts to
// Kubernetes objects that validate (OpenAPI schemas of kubernetes-models plus the API server's
// own rules, test/helpers/kube-validate.ts), or names what it cannot map; and the conversion is
// the same every time. Files are read from the corpus as `berth convert` reads them (nodeHost).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { loadProject } from '../../src/spec/index.js';
import { convertProject } from '../../src/kube/convert.js';
import { findingText } from '../../src/kube/options.js';
import { renderStream } from '../../src/kube/render.js';
import { nodeHost } from '../../src/cli/commands/convert.js';
import { validateObjects } from '../helpers/kube-validate.js';
import { awesomeRoot, corpusFiles } from './corpus-files.js';

test('awesome-compose corpus: every project converts to valid objects, or names what it cannot map', { skip: !existsSync(awesomeRoot) && `corpus not found at ${awesomeRoot}` }, async (t) => {
  const files = corpusFiles();
  assert.ok(files.length > 0);
  let objects = 0, findings = 0, clean = 0;
  const failures: string[] = [];
  for (const f of files) {
    const dir = f.slice(0, f.lastIndexOf('/'));
    const { project } = await loadProject({ files: [f], env: { HOME: '/home/user' }, cwd: dir });
    for (const options of [{}, { networkPolicies: true, namespace: 'corpus', publishType: 'NodePort' as const, controller: 'deployment' as const }]) {
      const host = nodeHost(project, { HOME: '/home/user' }, []);
      const c = convertProject(project, options, host);
      // objects a finding asks the user to create are expected to exist
      const external = c.findings.flatMap((x) => [...x.message.matchAll(/create the (Secret|ConfigMap) (\S+) /g)].map((m) => `${m[1]}/${m[2]}`));
      const problems = validateObjects(c.manifests.map((m) => m.object), { external });
      if (problems.length > 0) failures.push(`${f} ${JSON.stringify(options)}:\n  ${problems.join('\n  ')}`);
      // every service is there: a workload and a Service each
      for (const name of Object.keys(project.services)) {
        const annotated = (o: { metadata: { name: string; annotations?: Record<string, string> } }): string => o.metadata.annotations?.['berth/compose-name'] ?? o.metadata.name;
        const kinds = c.manifests.filter((m) => annotated(m.object) === name).map((m) => m.object.kind);
        if (!kinds.some((k) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(k)) || !kinds.includes('Service')) failures.push(`${f}: ${name} has ${kinds.join(', ')}`);
      }
      // every finding names where it comes from
      for (const x of c.findings) if (!x.scope && !x.key) failures.push(`${f}: a finding without a place: ${findingText(x)}`);
      assert.equal(renderStream(convertProject(project, options, host), 'yaml'), renderStream(c, 'yaml'), `${f}: not deterministic`);
      if (Object.keys(options).length === 0) {
        objects += c.manifests.length;
        findings += c.findings.length;
        if (c.findings.length === 0) clean += 1;
      }
    }
  }
  const summary = `kube corpus: ${files.length} projects → ${objects} objects, all valid; ${clean} converted with nothing to report, ${findings} findings in the rest`;
  t.diagnostic(summary);
  process.stdout.write(`# ${summary}\n`);
  assert.deepEqual(failures, []);
});

test('the validator itself rejects what an API server would', () => {
  const good = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
  };
  assert.deepEqual(validateObjects([good]), []);
  const bad = (label: string, patch: (o: typeof good & Record<string, unknown>) => void, want: RegExp): void => {
    const o = JSON.parse(JSON.stringify(good));
    patch(o);
    const problems = validateObjects([o]);
    assert.ok(problems.some((p) => want.test(p)), `${label}: ${problems.join('; ') || 'no problem found'}`);
  };
  bad('schema type', (o) => { (o.spec as Record<string, unknown>)['replicas'] = 'one'; }, /schema/);
  bad('name', (o) => { o.metadata.name = 'Web_1'; }, /metadata\.name/);
  bad('selector', (o) => { o.spec.selector.matchLabels.app = 'api'; }, /does not match/);
  bad('container name', (o) => { o.spec.template.spec.containers[0]!.name = 'Web'; }, /container name/);
  bad('undeclared volume', (o) => { (o.spec.template.spec.containers[0] as Record<string, unknown>)['volumeMounts'] = [{ name: 'x', mountPath: '/x' }]; }, /undeclared volume/);
  bad('missing claim', (o) => { (o.spec.template.spec as Record<string, unknown>)['volumes'] = [{ name: 'x', persistentVolumeClaim: { claimName: 'gone' } }]; }, /claim gone/);
  bad('restart policy', (o) => { (o.spec.template.spec as Record<string, unknown>)['restartPolicy'] = 'Never'; }, /restartPolicy/);
  bad('requests above limits', (o) => { (o.spec.template.spec.containers[0] as Record<string, unknown>)['resources'] = { limits: { cpu: '500m' }, requests: { cpu: '1' } }; }, /above limit/);
  bad('label value', (o) => { o.metadata = { ...o.metadata, labels: { a: 'x y' } } as typeof o.metadata; }, /label value/);
  assert.ok(validateObjects([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { selector: {}, ports: [{ port: 80 }, { port: 81 }] } }]).some((p) => /needs a name/.test(p)));
  assert.ok(validateObjects([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { type: 'ClusterIP', selector: {} } }]).some((p) => /ports required/.test(p)));
  assert.ok(validateObjects([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a' }, type: 'Opaque', data: { k: 'not base64!' } }]).some((p) => /base64/.test(p)));
});
