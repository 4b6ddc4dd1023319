// berth compose events [--json] [SERVICE…]: the engine's container events for this project, as
// they happen, until Ctrl-C. Plain lines as docker compose prints them, or one JSON object a line.
//   2026-11-24 08:40:07.123456 container start <id> (image=bb, name=demo-web-1)
//   {"time":"…","type":"container","action":"start","id":"…","service":"web","attributes":{…}}
import type { CliContext } from '../../context.js';
import type { EngineEvent } from '../../../api/types.js';
import { projectNameFor, type ProjectFlags } from '../../project.js';
import { abortOnInterrupt } from '../../engine.js';

interface EventsFlags extends ProjectFlags { json?: boolean }

type ContainerEvent = Extract<EngineEvent, { kind: 'container' }>;

export default async function events(flags: EventsFlags, args: string[], ctx: CliContext): Promise<number> {
  const projectName = await projectNameFor(flags, ctx);
  const api = await ctx.connect();
  const interrupt = abortOnInterrupt(ctx);
  try {
    // The containers the project has now (this also rejects unknown services, as ps does). A
    // container created later is recognised by its name; one with a container_name by asking again.
    const member = new Map<string, boolean>();
    for (const c of await api.ps(projectName, { all: true, services: [] })) member.set(c.id, true);
    if (args.length > 0) await api.ps(projectName, { all: true, services: args });
    const belongs = async (e: ContainerEvent, service: string, number: string): Promise<boolean> => {
      const known = member.get(e.containerId);
      if (known !== undefined) return known;
      const name = e.attributes.name ?? '';
      let ours = name === `${projectName}-${service}-${number}` || name.startsWith(`${projectName}-${service}-run-`);
      if (!ours) ours = (await api.ps(projectName, { all: true, services: [] })).some((c) => c.id === e.containerId);
      member.set(e.containerId, ours);
      return ours;
    };
    // Events are handled one after another, so that a lookup never reorders them.
    let queue = Promise.resolve();
    const handle = async (e: ContainerEvent): Promise<void> => {
      const [kind, service = '', number = ''] = e.resourceId.split(':');
      if (kind !== 'service' || !(await belongs(e, service, number))) return;
      if (args.length > 0 && !args.includes(service)) return;
      ctx.stdout.write(flags.json ? jsonLine(e, service) : plainLine(e));
    };
    await api.events((e) => {
      if (e.kind !== 'container') return;
      queue = queue.then(() => handle(e)).catch((err: Error) => { ctx.stderr.write(`Error: ${err.message}\n`); });
    }, interrupt.signal);
    await queue;
    return 0;
  } finally {
    interrupt.dispose();
    api.close();
  }
}

/** docker compose's Event.String(): local time to the microsecond, attributes sorted by key. */
function plainLine(e: ContainerEvent): string {
  const attributes = Object.keys(e.attributes).sort().map((k) => `${k}=${e.attributes[k]}`).join(', ');
  return `${localTime(e.time)} container ${e.action} ${e.containerId} (${attributes})\n`;
}

function jsonLine(e: ContainerEvent, service: string): string {
  return `${JSON.stringify({ time: e.time, type: 'container', action: e.action, id: e.containerId, service, attributes: e.attributes })}\n`;
}

/** "2006-01-02 15:04:05.000000" in local time; the engine's times carry milliseconds. */
function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}
