// The one HTTP door of the registry client: node:http and node:https with keep-alive agents,
// a deadline for the response head and an idle timeout on the body, redirects followed by the
// caller (blob GETs redirect to object storage; Authorization must not follow to another host).
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { BerthError } from '../../lib/errors.js';

/** A transport failure: the connection was refused, reset or timed out (worth a retry). */
export class TransportError extends BerthError {
  constructor(message: string, readonly retryable: boolean) {
    super('SYS', message);
    this.name = 'TransportError';
  }
}

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: URL;
  readonly headers?: OutgoingHttpHeaders;
  /** a buffer, or a stream (then headers must carry Content-Length) */
  readonly body?: Buffer | Readable;
  readonly signal?: AbortSignal;
  /** ms until the response head arrives, and of silence on the socket afterwards */
  readonly timeoutMs?: number;
}

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

export const DEFAULT_TIMEOUT_MS = 60_000;

/** What a network error code means to a user ("connection refused (ECONNREFUSED)"). */
const NET_WORDS: Record<string, string> = {
  ECONNREFUSED: 'cannot reach the registry: connection refused',
  ENOTFOUND: 'cannot reach the registry: host name not found',
  EAI_AGAIN: 'cannot reach the registry: host name lookup failed (no DNS?)',
  ENETUNREACH: 'cannot reach the registry: network unreachable',
  EHOSTUNREACH: 'cannot reach the registry: host unreachable',
  ETIMEDOUT: 'cannot reach the registry: connection timed out',
  ECONNRESET: 'the registry closed the connection',
};

function netWords(err: NodeJS.ErrnoException): string {
  const words = err.code !== undefined ? NET_WORDS[err.code] : undefined;
  return words ? `${words} (${err.code})` : (err.code ?? err.message);
}

/**
 * Sends one request and resolves with the response head; the body is the returned stream
 * (the caller must consume or destroy it). Errors before the head are TransportErrors.
 */
export function send(req: HttpRequest): Promise<IncomingMessage> {
  const secure = req.url.protocol === 'https:';
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const where = `${req.method} ${req.url.origin}${req.url.pathname}`;
    const out = (secure ? httpsRequest : httpRequest)(req.url, {
      method: req.method,
      headers: { 'User-Agent': 'berth', ...req.headers },
      agent: secure ? httpsAgent : httpAgent,
      signal: req.signal,
      timeout: timeoutMs,
    });
    out.on('timeout', () => out.destroy(new TransportError(`${where}: no answer within ${timeoutMs} ms`, true)));
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof BerthError) { reject(err); return; }
      if (err.name === 'AbortError') { reject(err); return; }
      const retryable = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN'].includes(err.code ?? '');
      reject(new TransportError(`${where}: ${netWords(err)}${tlsHint(err)}`, retryable));
    });
    out.on('response', (res) => {
      // idle timeout on the body too: a stalled transfer fails rather than hangs
      const socket = res.socket;
      if (socket) {
        const onTimeout = () => res.destroy(new TransportError(`${where}: transfer stalled for ${timeoutMs} ms`, true));
        socket.setTimeout(timeoutMs);
        socket.on('timeout', onTimeout);
        // keep-alive sockets are reused: take the listener off when this response is done
        res.once('close', () => { socket.off('timeout', onTimeout); socket.setTimeout(0); });
      }
      resolve(res);
    });
    if (req.body === undefined) out.end();
    else if (Buffer.isBuffer(req.body)) out.end(req.body);
    else req.body.pipe(out);
  });
}

function tlsHint(err: NodeJS.ErrnoException): string {
  if (/CERT|SSL|TLS/.test(err.code ?? '')) return ' (for a registry without TLS, add it to BERTH_INSECURE_REGISTRIES)';
  if (err.code === 'EPROTO') return ' (the registry may speak plain HTTP: add it to BERTH_INSECURE_REGISTRIES)';
  return '';
}

/** Reads a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(res: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.destroy();
    throw new BerthError('INVALID_ARGUMENT', `${what}: ${declared} bytes is more than the ${limit}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res) {
      total += (chunk as Buffer).length;
      if (total > limit) {
        res.destroy();
        throw new BerthError('INVALID_ARGUMENT', `${what}: more than the ${limit}-byte limit`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new TransportError(`${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, true);
  }
  return Buffer.concat(chunks);
}

/** Discards a body so the connection can be reused. */
export function drain(res: IncomingMessage): void {
  res.resume();
}
