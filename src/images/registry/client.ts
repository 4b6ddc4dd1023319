// A client for one repository on one registry (the OCI distribution API, /v2/). It negotiates
// auth the way docker does: a request goes out anonymously (or with the token already held);
// a 401 carries a WWW-Authenticate challenge; `Bearer realm=…,service=…` is answered by asking
// the realm for a token for this repository's scope (with the user's basic credentials when
// config.json has them), `Basic` by sending the credentials themselves; the request is then
// retried once. Tokens are kept per scope for the client's life.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { BerthError, InvalidArgument, NotFound } from '../../lib/errors.js';
import { send, readBody, drain, TransportError, type HttpRequest } from './http.js';
import { endpointFor, type RegistryHosts } from './hosts.js';
import { parseChallenge, type Credentials, type Challenge } from './credentials.js';

export type Action = 'pull' | 'push';

export interface ClientOptions {
  readonly hosts: RegistryHosts;
  /** looks up config.json credentials for a registry domain */
  readonly credentials: (domain: string) => Credentials | undefined;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** The registry said no: 401/403 after auth, or an error body (UNAUTHORIZED, DENIED…). */
export class RegistryError extends BerthError {
  constructor(message: string, readonly status: number) {
    super(status === 404 ? 'NOT_FOUND' : status === 401 || status === 403 ? 'INVALID_ARGUMENT' : 'SYS', message, { status });
    this.name = 'RegistryError';
  }
}

interface Authorization { readonly header: string | undefined }

export class RegistryClient {
  private base: URL | undefined;
  /** Authorization per scope string ("repository:a/b:pull"); undefined = anonymous works */
  private readonly auth = new Map<string, Authorization>();
  private challenge: Challenge | undefined;

  constructor(readonly domain: string, readonly repository: string, private readonly opts: ClientOptions) {}

  private scope(actions: readonly Action[], repository = this.repository): string {
    return `repository:${repository}:${actions.join(',')}`;
  }

  /** Finds the base URL that answers /v2/ (HTTPS first for an insecure registry), once. */
  private async baseUrl(): Promise<URL> {
    if (this.base) return this.base;
    const endpoint = endpointFor(this.domain, this.opts.hosts);
    let lastError: unknown;
    for (const base of endpoint.bases) {
      try {
        const res = await send({ method: 'GET', url: new URL('/v2/', base), signal: this.opts.signal, timeoutMs: this.opts.timeoutMs });
        drain(res);
        if (res.statusCode === 401) this.challenge = parseChallenge(String(res.headers['www-authenticate'] ?? ''));
        else if (res.statusCode !== 200) throw new RegistryError(`${this.domain}: GET /v2/ answered ${res.statusCode}: not a registry`, res.statusCode ?? 0);
        this.base = base;
        return base;
      } catch (err) {
        lastError = err;
        if (!(err instanceof TransportError)) throw err;
      }
    }
    throw lastError instanceof BerthError ? lastError : new TransportError(`${this.domain}: unreachable`, true);
  }

  /** Asks the token realm for a bearer token for `scopes`. */
  private async fetchToken(challenge: Challenge, scopes: readonly string[]): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.domain}: bearer challenge without a realm`, 401);
    let url: URL;
    try { url = new URL(realm); } catch { throw new RegistryError(`${this.domain}: bearer realm "${realm}" is not a URL`, 401); }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RegistryError(`${this.domain}: bearer realm "${realm}" is not http(s)`, 401);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const creds = this.opts.credentials(this.domain);
    const headers: OutgoingHttpHeaders = {};
    if (creds) headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const res = await send({ method: 'GET', url, headers, signal: this.opts.signal, timeoutMs: this.opts.timeoutMs });
    const body = await readBody(res, 1024 * 1024, `${this.domain}: token`);
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new RegistryError(`${this.domain}: ${creds ? 'the credentials in config.json were refused' : 'authentication required (berth login ' + this.domain + ')'}`, res.statusCode);
    }
    if (res.statusCode !== 200) throw new RegistryError(`${this.domain}: token server answered ${res.statusCode}`, res.statusCode ?? 0);
    let parsed: { token?: unknown; access_token?: unknown };
    try { parsed = JSON.parse(body.toString('utf8')) as typeof parsed; } catch { throw new RegistryError(`${this.domain}: token server sent no JSON`, 502); }
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') throw new RegistryError(`${this.domain}: token server sent no token`, 502);
    return token;
  }

  private async authorize(challenge: Challenge | undefined, scopes: readonly string[]): Promise<Authorization> {
    if (!challenge) return { header: undefined };
    if (challenge.scheme === 'bearer') return { header: `Bearer ${await this.fetchToken(challenge, scopes)}` };
    if (challenge.scheme === 'basic') {
      const creds = this.opts.credentials(this.domain);
      if (!creds) throw new RegistryError(`${this.domain}: authentication required (berth login ${this.domain})`, 401);
      return { header: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` };
    }
    throw new RegistryError(`${this.domain}: unsupported authentication scheme "${challenge.scheme}"`, 401);
  }

  /**
   * Sends a request to a /v2/ path (or an absolute URL the registry gave: upload locations),
   * authorising for `actions` on this repository (plus `extraScopes`), retrying once after a
   * 401. `body` may be a function so that a retry gets a fresh stream.
   */
  async request(method: HttpRequest['method'], pathOrUrl: string | URL, init: {
    headers?: OutgoingHttpHeaders;
    body?: Buffer | (() => Readable);
    actions: readonly Action[];
    extraScopes?: readonly string[];
    timeoutMs?: number;
  }): Promise<IncomingMessage> {
    const base = await this.baseUrl();
    const url = typeof pathOrUrl === 'string' ? new URL(pathOrUrl, base) : pathOrUrl;
    const scopes = [this.scope(init.actions), ...(init.extraScopes ?? [])];
    const key = scopes.join(' ');
    for (let attempt = 0; attempt < 2; attempt++) {
      let auth = this.auth.get(key);
      if (!auth && this.challenge) {
        auth = await this.authorize(this.challenge, scopes);
        this.auth.set(key, auth);
      }
      const headers: OutgoingHttpHeaders = { ...init.headers };
      // credentials go only to the registry's own origin
      if (auth?.header && url.origin === base.origin) headers.Authorization = auth.header;
      const body = typeof init.body === 'function' ? init.body() : init.body;
      const res = await send({ method, url, headers, body, signal: this.opts.signal, timeoutMs: init.timeoutMs ?? this.opts.timeoutMs });
      if (res.statusCode === 401 && attempt === 0) {
        drain(res);
        this.challenge = parseChallenge(String(res.headers['www-authenticate'] ?? '')) ?? this.challenge;
        if (!this.challenge) throw new RegistryError(`${this.domain}: 401 without a WWW-Authenticate challenge`, 401);
        this.auth.set(key, await this.authorize(this.challenge, scopes));
        continue;
      }
      return res;
    }
    throw new RegistryError(`${this.domain}: unauthorized`, 401);
  }

  /** Turns an error response into a RegistryError with the registry's own message. */
  async fail(res: IncomingMessage, what: string): Promise<never> {
    let detail = '';
    try {
      const body = await readBody(res, 64 * 1024, what);
      const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
      detail = (parsed.errors ?? []).map((e) => `${e.code ?? ''}${e.message ? `: ${e.message}` : ''}`).join('; ');
    } catch { /* not a JSON error body */ }
    const status = res.statusCode ?? 0;
    const text = detail !== '' ? detail : `HTTP ${status}`;
    if (status === 404) throw new NotFound(`${what}: not found (${text})`);
    if (status === 401 || status === 403) {
      const creds = this.opts.credentials(this.domain);
      throw new RegistryError(`${what}: ${text}${creds ? '' : ` (try berth login ${this.domain})`}`, status);
    }
    throw new RegistryError(`${what}: ${text}`, status);
  }

  /** GET a manifest by tag or digest. */
  async getManifest(reference: string, accept: string): Promise<{ bytes: Buffer; contentType: string | undefined; digestHeader: string | undefined }> {
    const what = `${this.domain}/${this.repository}:${reference}`;
    const res = await this.request('GET', `/v2/${this.repository}/manifests/${reference}`, { headers: { Accept: accept }, actions: ['pull'] });
    if (res.statusCode !== 200) await this.fail(res, `manifest ${what}`);
    const { MAX_MANIFEST_BYTES } = await import('./manifest.js');
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, `manifest ${what}`);
    const digestHeader = res.headers['docker-content-digest'];
    return { bytes, contentType: res.headers['content-type'], digestHeader: typeof digestHeader === 'string' ? digestHeader : undefined };
  }

  /**
   * GET a blob, from byte `offset` on. Follows redirects (without credentials to another
   * origin). Resolves with the response and whether the server honoured the range.
   */
  async getBlob(digest: string, offset: number): Promise<{ res: IncomingMessage; from: number }> {
    const headers: OutgoingHttpHeaders = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    let res = await this.request('GET', `/v2/${this.repository}/blobs/${digest}`, { headers, actions: ['pull'] });
    for (let hops = 0; res.statusCode !== undefined && [301, 302, 303, 307, 308].includes(res.statusCode); hops++) {
      drain(res);
      const location = res.headers.location;
      if (!location || hops >= 5) throw new RegistryError(`blob ${digest}: too many redirects`, res.statusCode);
      const next = new URL(location, (await this.baseUrl()));
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new InvalidArgument(`blob ${digest}: redirect to ${next.protocol}`);
      res = await send({ method: 'GET', url: next, headers, signal: this.opts.signal, timeoutMs: this.opts.timeoutMs });
    }
    if (res.statusCode === 206) {
      const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
      if (m && Number(m[1]) === offset) return { res, from: offset };
      drain(res);
      throw new RegistryError(`blob ${digest}: the registry answered a range request with ${String(res.headers['content-range'])}`, 206);
    }
    if (res.statusCode !== 200) await this.fail(res, `blob ${digest}`);
    return { res, from: 0 };
  }

  async getSmallBlob(digest: string, limit: number): Promise<Buffer> {
    const { res } = await this.getBlob(digest, 0);
    return readBody(res, limit, `blob ${digest}`);
  }

  /** Whether the repository holds a blob (HEAD). */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${this.repository}/blobs/${digest}`, { actions: ['pull', 'push'] });
    drain(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    return this.fail(res, `blob ${digest}`);
  }

  /** Cross-repository mount. True when mounted; otherwise returns the upload location the registry opened. */
  async mountBlob(digest: string, from: string): Promise<{ mounted: true } | { mounted: false; location: URL }> {
    const res = await this.request('POST', `/v2/${this.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, {
      actions: ['pull', 'push'], extraScopes: [this.scope(['pull'], from)], headers: { 'Content-Length': '0' },
    });
    drain(res);
    if (res.statusCode === 201) return { mounted: true };
    if (res.statusCode === 202) return { mounted: false, location: await this.location(res) };
    return this.fail(res, `mount ${digest} from ${from}`);
  }

  private async location(res: IncomingMessage): Promise<URL> {
    const location = res.headers.location;
    if (!location) throw new RegistryError(`${this.domain}: upload started without a Location`, res.statusCode ?? 0);
    return new URL(location, await this.baseUrl());
  }

  async startUpload(): Promise<URL> {
    const res = await this.request('POST', `/v2/${this.repository}/blobs/uploads/`, { actions: ['pull', 'push'], headers: { 'Content-Length': '0' } });
    drain(res);
    if (res.statusCode !== 202) return this.fail(res, `upload to ${this.domain}/${this.repository}`);
    return this.location(res);
  }

  /** Monolithic upload: PUT <location>?digest=… with the whole blob. */
  async putBlob(location: URL, digest: string, size: number, body: () => Readable): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.request('PUT', url, {
      actions: ['pull', 'push'],
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body,
      timeoutMs: 10 * 60_000,
    });
    if (res.statusCode !== 201) return this.fail(res, `upload of ${digest}`);
    drain(res);
  }

  async putManifest(reference: string, mediaType: string, bytes: Buffer): Promise<string | undefined> {
    const res = await this.request('PUT', `/v2/${this.repository}/manifests/${reference}`, {
      actions: ['pull', 'push'], headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) }, body: bytes,
    });
    if (res.statusCode !== 201) return this.fail(res, `manifest ${this.domain}/${this.repository}:${reference}`);
    drain(res);
    const d = res.headers['docker-content-digest'];
    return typeof d === 'string' ? d : undefined;
  }

  /** Checks that the configured credentials work (login): /v2/ with auth answers 200. */
  async checkLogin(): Promise<void> {
    await this.baseUrl();
    if (!this.challenge) return;
    const base = await this.baseUrl();
    // a bearer realm wants some scope; an empty one proves the credentials (docker login does this)
    const auth = this.challenge.scheme === 'bearer'
      ? { header: `Bearer ${await this.fetchToken(this.challenge, [])}` }
      : await this.authorize(this.challenge, []);
    const res = await send({ method: 'GET', url: new URL('/v2/', base), headers: auth.header ? { Authorization: auth.header } : {}, signal: this.opts.signal, timeoutMs: this.opts.timeoutMs });
    drain(res);
    if (res.statusCode === 401 || res.statusCode === 403) throw new RegistryError(`${this.domain}: login refused: wrong username or password`, res.statusCode);
    if (res.statusCode !== 200) throw new RegistryError(`${this.domain}: GET /v2/ answered ${res.statusCode}`, res.statusCode ?? 0);
  }
}
