// Plain rendering of engine events, line by line, in docker compose's words:
//   " Container demo-web-1  Started", "WARN[0000] …". Used on every stream (TTY or not) for now.
import type { EngineEvent, LogLine } from '../../api/types.js';
import type { ChalkInstance } from 'chalk';
import { serviceColor } from './colors.js';

export function resourceLabel(projectName: string, resourceId: string): string {
  const [kind, service, number] = resourceId.split(':');
  if (kind === 'service' && service !== undefined && number !== undefined && number !== '0') return `Container ${projectName}-${service}-${number}`;
  if (kind === 'service' && service !== undefined) return `Service ${service}`;
  // a project network by its key: compose names it "<project>_<key>" (a network with its own
  // `name:` is shown under that default name too: the CLI does not load the file to render)
  if (kind === 'network' && service !== undefined) return `Network ${projectName}_${service}`;
  if (kind === 'volume') return `Volume ${resourceId.slice('volume:'.length)}`;
  return resourceId.includes(':') ? resourceId : `Container ${resourceId}`;
}

export function renderEvent(e: EngineEvent, projectName: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream, c: ChalkInstance): void {
  switch (e.kind) {
    case 'operation': {
      const label = resourceLabel(projectName, e.resourceId);
      const mark = e.status === 'done' ? c.green('✔') : e.status === 'failed' ? c.red('✘') : ' ';
      out.write(`${mark} ${label}  ${e.status === 'failed' ? c.red(e.text) : e.text}\n`);
      return;
    }
    case 'warning':
      err.write(`${c.yellow('WARN[0000]')} ${e.text}\n`);
      return;
    case 'error':
      err.write(`${c.red('Error:')} ${e.error.message}\n`);
      return;
    case 'watch':
      // a batch is announced by what it did; errors of a watch do not end it
      if (e.action === 'batch') return;
      if (e.action === 'error') err.write(`${c.red('watch error:')} ${e.text}\n`);
      else if (e.action === 'warning') err.write(`${c.yellow('WARN[0000]')} ${e.text}\n`);
      else out.write(`${c.cyan('⦿')} ${e.text}\n`);
      return;
    case 'container':
    case 'result':
    case 'plan':
      return;
  }
}

/** "web-1  | line" with one colour per service, prefixes padded to the longest name. */
export class LogPrinter {
  private readonly colorOf = new Map<string, (s: string) => string>();
  private width = 0;

  constructor(private readonly out: NodeJS.WritableStream, private readonly c: ChalkInstance, private readonly opts: { timestamps: boolean; prefix: boolean }) {}

  print(l: LogLine, projectName: string): void {
    const short = l.container.startsWith(`${projectName}-`) ? l.container.slice(projectName.length + 1) : l.container;
    let color = this.colorOf.get(l.service);
    if (!color) {
      color = serviceColor(this.c, this.colorOf.size);
      this.colorOf.set(l.service, color);
    }
    this.width = Math.max(this.width, short.length);
    const prefix = this.opts.prefix ? `${color(`${short.padEnd(this.width)}  |`)} ` : '';
    const time = this.opts.timestamps ? `${l.time} ` : '';
    const text = l.line.endsWith('\n') ? l.line : `${l.line}\n`;
    this.out.write(`${prefix}${time}${text}`);
  }
}
