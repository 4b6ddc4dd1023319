// A real registry (Debian's docker-registry: the CNCF distribution registry) on a loopback port,
// started by the test that needs it, with its own storage in a temp dir; optional htpasswd basic
// auth. Never anything but 127.0.0.1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export function haveRegistry(): boolean {
  return existsSync(REGISTRY_BIN);
}

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
}

/** A free loopback port (bound and released: the registry binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/', method: 'GET', timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
    req.on('timeout', () => { req.destroy(); resolve(0); });
    req.end();
  });
}

/**
 * Starts a registry. `users`: htpasswd basic auth. `token`: the registry's own bearer-token auth
 * (realm, service, issuer and the certificate whose key signs the tokens).
 */
export async function startRegistry(opts: { users?: Record<string, string>; token?: { realm: string; service: string; issuer: string; certFile: string } } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  let auth = '';
  if (opts.users) {
    const file = join(dir, 'htpasswd');
    for (const [user, password] of Object.entries(opts.users)) {
      const r = spawnSync('htpasswd', ['-Bb', ...(existsSync(file) ? [] : ['-c']), file, user, password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    }
    auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${file}\n`;
  }
  if (opts.token) {
    auth = `auth:\n  token:\n    realm: ${opts.token.realm}\n    service: ${opts.token.service}\n    issuer: ${opts.token.issuer}\n    rootcertbundle: ${opts.token.certFile}\n`;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, 'config.yml');
    writeFileSync(config, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`);
    const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    let exited = false;
    const gone = new Promise<void>((resolve) => child.on('exit', () => { exited = true; resolve(); }));
    const deadline = Date.now() + 20_000;
    while (!exited && Date.now() < deadline) {
      const status = await probe(port);
      if (status === 200 || status === 401) {
        return {
          host: `127.0.0.1:${port}`, port, dir,
          async stop() {
            if (!exited) child.kill('SIGTERM');
            await gone;
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited) { child.kill('SIGKILL'); await gone; }
    if (!/address already in use/.test(stderr)) throw new Error(`docker-registry did not start: ${stderr}`);
  }
  throw new Error('docker-registry: no free port after 5 attempts');
}
