// Claiming <BERTH_RUN>/berth.sock so that two engines racing for one BERTH_RUN end with exactly
// one listening (docs/engine-api.md, "Claiming the socket"):
//
//   1. listen on a private name (.berth.sock.<pid>.tmp), chmod it 0660;
//   2. link(2) the private name to berth.sock: link never replaces an existing file, so exactly
//      one of several racing engines wins, and the public path only ever names a socket that is
//      already accepting connections;
//   3. on EEXIST, ask what is there: a listener answers → Conflict (another engine runs);
//      ECONNREFUSED → a dead engine's file: move it aside, check it is still dead, remove it, and
//      retry the link.
import type { Server } from 'node:http';
import { createConnection } from 'node:net';
import { chmodSync, linkSync, lstatSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Conflict, fromNodeError } from '../lib/errors.js';

/** The device and inode of the socket this server listens on: how it recognises its own path. */
export interface OwnedSocket { readonly dev: number; readonly ino: number }

export async function claimSocket(server: Server, socketPath: string, log: (line: string) => void): Promise<OwnedSocket> {
  const dir = dirname(socketPath);
  prepareRunDir(dir);
  const privateName = join(dir, `.${basename(socketPath)}.${process.pid}.tmp`);
  try { unlinkSync(privateName); } catch { /* usually absent; a leftover of an earlier process with our pid otherwise */ }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(fromNodeError(err, 'listen', privateName));
    server.once('error', onError);
    server.listen(privateName, () => { server.off('error', onError); resolve(); });
  });
  try {
    chmodSync(privateName, 0o660);
    const st = statSync(privateName);
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(privateName, socketPath);
        return { dev: st.dev, ino: st.ino };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw fromNodeError(err, 'link', socketPath);
      }
      await removeIfDead(socketPath, log);
    }
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  } finally {
    // The public name is a hard link to the same socket; the private one is no longer needed.
    try { unlinkSync(privateName); } catch { /* gone already */ }
  }
}

/** mkdir -p BERTH_RUN (0711), and refuse one that another user owns or that others may write to. */
function prepareRunDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
  } catch (err) {
    throw fromNodeError(err, 'mkdir', dir);
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Conflict(`"${dir}" is not a directory`, { path: dir });
  const uid = process.getuid?.() ?? st.uid;
  if (st.uid !== uid) throw new Conflict(`"${dir}" belongs to uid ${st.uid}, not to the engine's user (uid ${uid})`, { path: dir });
  if ((st.mode & 0o022) !== 0) throw new Conflict(`"${dir}" is writable by its group or others (mode ${(st.mode & 0o7777).toString(8)}); remove that permission`, { path: dir });
}

type Probe = 'live' | 'dead' | 'absent';

/**
 * Is an engine serving on this unix socket? Connecting is not enough: for a moment after its
 * process died (even as a zombie), the kernel still accepts connections on a listening socket
 * and then resets them. So ask GET /v1/info and count any answer as live; a reset or a refusal
 * is dead; anything unclear (no answer within 2 s, EACCES…) counts as live, so that we never
 * remove a socket we could not prove dead.
 */
function probeSocket(path: string): Promise<Probe> {
  return new Promise((resolve) => {
    const conn = createConnection(path);
    let settled = false;
    const settle = (result: Probe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => settle('live'), 2_000);
    conn.once('connect', () => conn.write('GET /v1/info HTTP/1.1\r\nHost: engine\r\nConnection: close\r\n\r\n'));
    conn.once('data', () => settle('live'));
    conn.once('end', () => settle('dead'));
    conn.once('error', (err: NodeJS.ErrnoException) => {
      settle(err.code === 'ENOENT' ? 'absent' : err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'dead' : 'live');
    });
  });
}

async function removeIfDead(socketPath: string, log: (line: string) => void): Promise<void> {
  let st;
  try { st = lstatSync(socketPath); } catch { return; }
  if (!st.isSocket()) throw new Conflict(`"${socketPath}" exists and is not a socket; remove it if no engine is running`, { path: socketPath });
  const probe = await probeSocket(socketPath);
  if (probe === 'absent') return;
  if (probe === 'live') throw new Conflict(`another engine is running on "${socketPath}"`, { path: socketPath });
  // Dead. Another engine may be doing this same cleanup and have linked its live socket in the
  // meantime, so never unlink the public name: rename it to a private one, and check again there.
  const aside = `${socketPath}.dead.${process.pid}`;
  try { renameSync(socketPath, aside); } catch { return; }
  try {
    if ((await probeSocket(aside)) === 'live') {
      try { linkSync(aside, socketPath); } catch { /* a third engine took the name: it serves */ }
      throw new Conflict(`another engine is running on "${socketPath}"`, { path: socketPath });
    }
    log(`removed the socket of a dead engine at "${socketPath}"`);
  } finally {
    try { unlinkSync(aside); } catch { /* gone already */ }
  }
}

export function ownsPath(socketPath: string, owned: OwnedSocket): boolean {
  try {
    const st = statSync(socketPath);
    return st.dev === owned.dev && st.ino === owned.ino;
  } catch {
    return false;
  }
}

export async function stopListening(server: Server, socketPath: string, owned: OwnedSocket): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  // Only our own link: after a takeover the path is another engine's.
  if (ownsPath(socketPath, owned)) {
    try { unlinkSync(socketPath); } catch { /* gone already */ }
  }
}

