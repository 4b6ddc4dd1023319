// Process spawning: the only place besides libc.ts that reaches the host's process table.
import { spawn } from 'node:child_process';
import { SysError } from '../lib/errors.js';

export interface Exit { readonly code: number | null; readonly signal: NodeJS.Signals | null }

/** Signals an attached foreground command forwards to its child (Docker's sig-proxy, plus SIGWINCH for -t). */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * Runs `file args` with this process's stdin/stdout/stderr, in its own session (so a terminal's
 * Ctrl-C reaches it once, through us), forwarding the signals we receive, until it exits.
 */
export function runAttached(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', env, detached: true });
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const sig of FORWARDED) {
      const h = (): void => { try { child.kill(sig); } catch { /* already gone */ } };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const done = (): void => { for (const [sig, h] of handlers) process.off(sig, h); };
    child.on('error', (err: NodeJS.ErrnoException) => { done(); reject(new SysError('execve', file, err.code ?? 'EUNKNOWN')); });
    child.on('exit', (code, signal) => { done(); resolve({ code, signal }); });
  });
}

/** Runs a command to completion, capturing its output (stdin closed). */
export function runCaptured(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Exit & { stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', (err: NodeJS.ErrnoException) => reject(new SysError('execve', file, err.code ?? 'EUNKNOWN')));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Is a process with this pid alive (and not a zombie we could reap)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends a signal; false when the process is already gone. */
export function signalProcess(pid: number, signal: number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new SysError('kill', String(pid), (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
  }
}
