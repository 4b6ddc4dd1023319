// A real terminal for tests: a detached tmux session, typed into and read back as a person at a
// terminal would (tty.test.ts, warm-tty.test.ts).
import { spawnSync } from 'node:child_process';
import { eventually, type TestRoots } from './env.js';

export const haveTmux = spawnSync('tmux', ['-V']).status === 0;

export class TmuxSession {
  constructor(readonly name: string, private readonly roots: TestRoots) {}

  tmux(...args: string[]): string {
    const r = spawnSync('tmux', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** The screen as text, once it matches `pattern` (the screen is in the error otherwise). */
  async shows(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    let screen = '';
    try {
      return await eventually(() => {
        screen = this.screen();
        return pattern.test(screen) ? screen : undefined;
      }, timeoutMs, `the screen to show ${pattern}`);
    } catch (err) {
      throw new Error(`${(err as Error).message}:\n${screen}`);
    }
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** A new session of `columns`×`rows` running `command` (sh -c), with the roots' BERTH_* variables. */
  start(command: string, columns = 100, rows = 30): void {
    this.kill(); // a previous test's session, if it failed
    this.tmux('new-session', '-d', '-s', this.name, '-x', String(columns), '-y', String(rows), `env ${this.envWords()} ${command}`);
  }

  /** The BERTH_* variables of the roots, as `K=V` words for env(1). */
  envWords(extra: Readonly<Record<string, string>> = {}): string {
    return Object.entries({ ...this.roots.env, ...extra }).filter(([k]) => k.startsWith('BERTH_')).map(([k, v]) => `${k}=${v}`).join(' ');
  }

  send(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }
}
