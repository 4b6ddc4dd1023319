import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { applyChanges, applyMetadata, durationNs } from './metadata.js';
import { parseDockerfile } from './dockerfile.js';

const ins = (line: string) => parseDockerfile(`FROM scratch\n${line}`).stages[0].instructions[0];

test('config instructions: shell form through SHELL, ENTRYPOINT clears an inherited CMD, HEALTHCHECK durations', () => {
  const base = { Cmd: ['sh'], Env: ['A=1'], Shell: ['/bin/bash', '-c'] };
  assert.deepEqual(applyMetadata(base, ins('CMD echo $A'), new Map(), '\\', 'x', false)?.config.Cmd, ['/bin/bash', '-c', 'echo $A']);
  assert.equal(applyMetadata(base, ins('ENTRYPOINT ["app"]'), new Map(), '\\', 'x', false)?.config.Cmd, null);
  assert.deepEqual(applyMetadata(base, ins('ENTRYPOINT ["app"]'), new Map(), '\\', 'x', true)?.config.Cmd, ['sh']);
  const hc = applyMetadata({}, ins('HEALTHCHECK --interval=1m30s --retries=2 CMD ["curl", "-f", "x"]'), new Map(), '\\', 'x', false)?.config.Healthcheck;
  assert.deepEqual(hc, { Test: ['CMD', 'curl', '-f', 'x'], Interval: 90e9, Retries: 2 });
  assert.deepEqual(applyMetadata({}, ins('EXPOSE 80 8000-8001/udp'), new Map(), '\\', 'x', false)?.config.ExposedPorts, { '80/tcp': {}, '8000/udp': {}, '8001/udp': {} });
  assert.equal(applyMetadata({}, ins('RUN true'), new Map(), '\\', 'x', false), undefined);
  assert.equal(durationNs('250ms', 'x'), 250e6);
  assert.throws(() => durationNs('5 seconds', 'df:3'), /df:3: invalid duration/);
});

test('commit --change applies Dockerfile lines to a config; others are refused', () => {
  const out = applyChanges({ Env: ['HOME=/root'], WorkingDir: '/srv' }, ['ENV PORT=8080', 'CMD ["serve", "--port", "8080"]', 'WORKDIR app', 'LABEL v=$PORT'], parseDockerfile);
  assert.deepEqual(out, { Env: ['HOME=/root', 'PORT=8080'], WorkingDir: '/srv/app', Cmd: ['serve', '--port', '8080'], Labels: { v: '8080' } });
  assert.throws(() => applyChanges({}, ['RUN rm -rf /'], parseDockerfile), /--change 1: "RUN rm -rf \/": only CMD/);
});
